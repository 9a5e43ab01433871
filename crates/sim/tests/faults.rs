//! Fault injection over real HTTP: injected statuses, delays, and commit-then-drop, with the
//! retries a careful client makes.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

mod support;

use std::time::{Duration, Instant};

use klarna_hpp_sim::Fault;
use serde_json::{json, Value};
use support::*;

#[tokio::test(flavor = "multi_thread")]
async fn injected_status() {
    let sim = start().await;
    let api = Api::new(&sim);
    let (_, hpp) = api.checkout(json!({})).await;
    sim.add_fault(
        Fault::status("hpp.read_session", 503)
            .retry_after(2)
            .times(2),
    )
    .unwrap();
    let path = format!("/hpp/v1/sessions/{hpp}");
    for _ in 0..2 {
        let r = api.get(&path).await;
        r.assert_error(503, "TEMPORARILY_UNAVAILABLE");
        assert_eq!(r.header("retry-after"), Some("2"));
    }
    assert_eq!(api.get(&path).await.status, 200, "used up");
    let log = sim.requests();
    assert_eq!(
        log.iter()
            .filter(|r| r.fault.as_deref() == Some("status 503"))
            .count(),
        2
    );

    sim.add_fault(Fault::status("*", 429).error_code("SLOW_DOWN"))
        .unwrap();
    api.post("/payments/v1/sessions", &kp_body())
        .await
        .assert_error(429, "SLOW_DOWN");
    // No side effect happened.
    let stats: Value = reqwest::get(format!("{}/_sim/stats", api.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["kp_sessions"], 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn injected_delay() {
    let sim = start().await;
    let api = Api::new(&sim);
    sim.add_fault(Fault::delay("kp.create_session", 300))
        .unwrap();
    let started = Instant::now();
    assert_eq!(
        api.post("/payments/v1/sessions", &kp_body()).await.status,
        200
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dropped_capture_replayed_with_the_same_key_captures_once() {
    let sim = start().await;
    let api = Api::new(&sim);
    let order = api.order(&sim).await;
    sim.add_fault(Fault::drop_after_commit("om.create_capture"))
        .unwrap();
    let url = format!("{}/ordermanagement/v1/orders/{order}/captures", api.base);
    let body = json!({"captured_amount": 10000}).to_string();
    let lost = api
        .client
        .post(&url)
        .basic_auth(sim.username(), Some(sim.password()))
        .header("Content-Type", "application/json")
        .header("Klarna-Idempotency-Key", "capture-1")
        .body(body.clone())
        .send()
        .await;
    let err = lost.expect_err("the connection is closed without a response");
    assert!(!err.is_timeout(), "{err}");
    // The capture happened.
    let o = api
        .get(&format!("/ordermanagement/v1/orders/{order}"))
        .await;
    assert_eq!(o.body["captured_amount"], 10000);
    // The client retries with the same key: same answer, still one capture.
    let retry = api
        .post_idem(
            &format!("/ordermanagement/v1/orders/{order}/captures"),
            &json!({"captured_amount": 10000}),
            "capture-1",
        )
        .await;
    assert_eq!(retry.status, 201);
    let capture_id = retry.header("capture-id").unwrap();
    let o = api
        .get(&format!("/ordermanagement/v1/orders/{order}"))
        .await;
    assert_eq!(o.body["captured_amount"], 10000);
    assert_eq!(o.body["captures"].as_array().unwrap().len(), 1);
    assert_eq!(o.body["captures"][0]["capture_id"], capture_id);
    let log = sim.requests();
    let dropped = log
        .iter()
        .find(|r| r.fault.as_deref() == Some("drop after commit"))
        .unwrap();
    assert_eq!(dropped.status, None);
    assert_eq!(dropped.idempotency_key.as_deref(), Some("capture-1"));
    let replays: Vec<_> = log.iter().filter(|r| r.idempotent_replay).collect();
    assert_eq!(replays.len(), 1);
    assert_eq!(replays[0].status, Some(201));
    assert_eq!(replays[0].idempotency_key.as_deref(), Some("capture-1"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dropped_order_placement_replayed_byte_identically_returns_the_same_order() {
    let sim = start().await;
    let api = Api::new(&sim);
    let (_, hpp) = api.checkout(json!({})).await;
    let token = sim
        .consumer(&hpp)
        .pay()
        .unwrap()
        .authorization_token
        .unwrap();
    sim.add_fault(Fault::drop_after_commit("kp.create_order"))
        .unwrap();
    let path = format!("/payments/v1/authorizations/{token}/order");
    let body = order_body().to_string().into_bytes();
    let lost = api
        .client
        .post(format!("{}{path}", api.base))
        .basic_auth(sim.username(), Some(sim.password()))
        .header("Content-Type", "application/json")
        .body(body.clone())
        .send()
        .await;
    assert!(lost.is_err());
    let retry = api.send("POST", &path, Some(body), &[]).await;
    assert_eq!(retry.status, 200);
    let stats: Value = reqwest::get(format!("{}/_sim/stats", api.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["orders"], 1, "one order for the token");
}

#[tokio::test(flavor = "multi_thread")]
async fn faults_through_the_control_api() {
    let sim = start().await;
    let api = Api::new(&sim);
    let client = reqwest::Client::new();
    let faults = format!("{}/_sim/faults", api.base);
    let r = client
        .post(&faults)
        .json(&json!({"operation": "om.create_capture", "status": 500, "times": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = client
        .post(&faults)
        .json(&json!({"operation": "om.teleport", "status": 500}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(
        r.text().await.unwrap().contains("om.create_capture"),
        "lists the known operations"
    );
    let r = client
        .post(&faults)
        .json(&json!({"operation": "om.create_capture"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "a fault must ask for something");
    let list: Vec<Fault> = client
        .get(&faults)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].times, 2);
    assert_eq!(sim.faults(), list);
    let order = api.order(&sim).await;
    api.post(
        &format!("/ordermanagement/v1/orders/{order}/captures"),
        &json!({"captured_amount": 1}),
    )
    .await
    .assert_error(500, "INTERNAL_SERVER_ERROR");
    assert_eq!(sim.faults()[0].times, 1);
    assert_eq!(client.delete(&faults).send().await.unwrap().status(), 204);
    assert!(sim.faults().is_empty());
    let r = client
        .post(&faults)
        .json(&json!({"operation": "om.create_capture", "drop_after_commit": true, "delay_ms": 10}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert!(api
        .client
        .post(format!(
            "{}/ordermanagement/v1/orders/{order}/captures",
            api.base
        ))
        .basic_auth(sim.username(), Some(sim.password()))
        .header("Content-Type", "application/json")
        .body(r#"{"captured_amount": 1}"#)
        .send()
        .await
        .is_err());
    assert!(sim.add_fault(Fault::status("nope", 500)).is_err());
}
