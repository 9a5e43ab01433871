//! `Klarna-Idempotency-Key` scoped like Klarna (issue 12, item 2): a key belongs to one
//! operation on one resource and one body; another operation or order never gets a foreign
//! answer, another body is a conflict, an empty key is refused, and a replay is the first
//! answer whole (status, `Location`, `Capture-Id` / `Refund-Id`, body).
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

mod support;

use serde_json::json;
use support::*;

fn o(order: &str, tail: &str) -> String {
    format!("/ordermanagement/v1/orders/{order}{tail}")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_used_on_another_order_or_operation_runs_there() {
    let sim = start().await;
    let api = Api::new(&sim);
    let a = api.order(&sim).await;
    let b = api.order(&sim).await;
    let c = api.order(&sim).await;
    let capture_a = api
        .post_idem(&o(&a, "/captures"), &json!({"captured_amount": 1000}), "K")
        .await;
    assert_eq!(capture_a.status, 201);

    // Cancel of B with the same key: B is cancelled, no capture Location from A.
    let cancel_b = api
        .send(
            "POST",
            &o(&b, "/cancel"),
            None,
            &[("Klarna-Idempotency-Key", "K")],
        )
        .await;
    assert_eq!(cancel_b.status, 204, "{}", cancel_b.text);
    assert_eq!(cancel_b.header("location"), None);
    assert_eq!(api.get(&o(&b, "")).await.body["status"], "CANCELLED");

    // Capture on C with the same key and the same body: a capture of C, with C's own id.
    let capture_c = api
        .post_idem(&o(&c, "/captures"), &json!({"captured_amount": 1000}), "K")
        .await;
    assert_eq!(capture_c.status, 201);
    assert_ne!(
        capture_c.header("capture-id"),
        capture_a.header("capture-id")
    );
    assert!(capture_c.header("location").unwrap().contains(&c));
    assert_eq!(api.get(&o(&c, "")).await.body["captured_amount"], 1000);

    // A refund on A with the key of A's capture is a refund.
    let refund_a = api
        .post_idem(&o(&a, "/refunds"), &json!({"refunded_amount": 100}), "K")
        .await;
    assert_eq!(refund_a.status, 201, "{}", refund_a.text);
    assert!(refund_a.header("refund-id").is_some());
    let read = api.get(&o(&a, "")).await.body;
    assert_eq!(read["captured_amount"], 1000);
    assert_eq!(read["refunded_amount"], 100);
    assert!(!sim.requests().iter().any(|r| r.idempotent_replay));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_key_with_another_body_is_a_conflict() {
    let sim = start().await;
    let api = Api::new(&sim);
    let order = api.order(&sim).await;
    let path = o(&order, "/captures");
    let first = api
        .post_idem(
            &path,
            &json!({"captured_amount": 1000, "reference": "R1"}),
            "K",
        )
        .await;
    assert_eq!(first.status, 201);
    let conflict = api
        .post_idem(
            &path,
            &json!({"captured_amount": 2000, "reference": "R1"}),
            "K",
        )
        .await;
    conflict.assert_error(409, "CONFLICT");
    assert_eq!(api.get(&o(&order, "")).await.body["captured_amount"], 1000);
    // The same JSON written another way is the same body: a replay.
    let same = api
        .send(
            "POST",
            &path,
            Some(b"{ \"reference\": \"R1\",\n  \"captured_amount\": 1000 }".to_vec()),
            &[("Klarna-Idempotency-Key", "K")],
        )
        .await;
    assert_eq!(same.status, 201);
    assert_eq!(same.header("capture-id"), first.header("capture-id"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_key_is_refused_and_runs_nothing() {
    let sim = start().await;
    let api = Api::new(&sim);
    let order = api.order(&sim).await;
    for key in ["", "   "] {
        for _ in 0..3 {
            let r = api
                .post_idem(
                    &o(&order, "/captures"),
                    &json!({"captured_amount": 100}),
                    key,
                )
                .await;
            r.assert_error(400, "BAD_VALUE");
            assert!(r.text.contains("Klarna-Idempotency-Key"), "{}", r.text);
            assert_eq!(r.header("capture-id"), None);
        }
    }
    let read = api.get(&o(&order, "")).await.body;
    assert_eq!(read["captured_amount"], 0);
    assert!(!sim.requests().iter().any(|r| r.idempotent_replay));
    // Without the header a capture runs.
    let r = api
        .post(&o(&order, "/captures"), &json!({"captured_amount": 100}))
        .await;
    assert_eq!(r.status, 201);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replay_is_the_first_answer_whole() {
    let sim = start().await;
    let api = Api::new(&sim);
    let order = api.order(&sim).await;
    let capture_body = json!({"captured_amount": 5000});
    let capture = api
        .post_idem(&o(&order, "/captures"), &capture_body, "cap")
        .await;
    let capture_again = api
        .post_idem(&o(&order, "/captures"), &capture_body, "cap")
        .await;
    let refund_body = json!({"refunded_amount": 700});
    let refund = api
        .post_idem(&o(&order, "/refunds"), &refund_body, "ref")
        .await;
    let refund_again = api
        .post_idem(&o(&order, "/refunds"), &refund_body, "ref")
        .await;
    for (first, again, id) in [
        (&capture, &capture_again, "capture-id"),
        (&refund, &refund_again, "refund-id"),
    ] {
        assert_eq!(first.status, 201, "{}", first.text);
        assert_eq!(again.status, first.status);
        assert!(first.header(id).is_some());
        assert_eq!(again.header(id), first.header(id));
        assert_eq!(again.header("location"), first.header("location"));
        assert_eq!(again.text, first.text);
    }
    let read = api.get(&o(&order, "")).await.body;
    assert_eq!(read["captured_amount"], 5000);
    assert_eq!(read["refunded_amount"], 700);
    let replays = sim
        .requests()
        .iter()
        .filter(|r| r.idempotent_replay)
        .count();
    assert_eq!(replays, 2);
}
