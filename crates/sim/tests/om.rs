//! Order Management v1 over real HTTP: every operation, Klarna's rules and the
//! `Klarna-Idempotency-Key` semantics.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

mod support;

use serde_json::json;
use support::*;

fn o(order: &str, tail: &str) -> String {
    format!("/ordermanagement/v1/orders/{order}{tail}")
}

#[tokio::test(flavor = "multi_thread")]
async fn read_an_order() {
    let sim = start().await;
    let api = Api::new(&sim);
    let order = api.order(&sim).await;
    let r = api.get(&o(&order, "")).await;
    assert_eq!(r.status, 200);
    let b = &r.body;
    assert_eq!(b["order_id"], order.as_str());
    assert_eq!(b["status"], "AUTHORIZED");
    assert_eq!(b["fraud_status"], "ACCEPTED");
    assert_eq!(b["order_amount"], 62400);
    assert_eq!(b["original_order_amount"], 62400);
    assert_eq!(b["remaining_authorized_amount"], 62400);
    assert_eq!(b["captured_amount"], 0);
    assert_eq!(b["purchase_currency"], "SEK");
    assert_eq!(b["created_at"], "2024-05-01T12:00:00.000Z");
    assert_eq!(b["expires_at"], "2024-05-29T12:00:00.000Z", "28 days");
    assert_eq!(b["customer"]["date_of_birth"], "1970-01-01");
    assert_eq!(b["captures"], json!([]));

    api.get(&o("not-a-uuid", ""))
        .await
        .assert_error(400, "INVALID_ORDER_ID");
    api.get(&o("0b1d9815-165e-42e2-8867-35bc03789e00", ""))
        .await
        .assert_error(404, "NO_SUCH_ORDER");
    let ack = api.post_empty(&o(&order, "/acknowledge")).await;
    assert_eq!(ack.status, 204);
}

#[tokio::test(flavor = "multi_thread")]
async fn captures_and_refunds() {
    let sim = start().await;
    let api = Api::new(&sim);
    let order = api.order(&sim).await;
    let first = api
        .post(
            &o(&order, "/captures"),
            &json!({"captured_amount": 59500, "description": "Power pack", "reference": "SHIP-1",
                "order_lines": [kp_body()["order_lines"][0].clone()],
                "shipping_info": [{"shipping_company": "Postnord", "shipping_method": "Home", "tracking_number": "123"}]}),
        )
        .await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(first.text, "", "no body");
    let capture_id = first.header("capture-id").unwrap().to_owned();
    assert_eq!(
        first.header("location").unwrap(),
        format!(
            "{}{}",
            api.base,
            o(&order, &format!("/captures/{capture_id}"))
        )
    );
    let b = api.get(&o(&order, "")).await.body;
    assert_eq!(b["status"], "PART_CAPTURED");
    assert_eq!(b["remaining_authorized_amount"], 2900);

    let c = api.get(first.header("location").unwrap()).await;
    assert_eq!(c.status, 200);
    assert_eq!(c.body["captured_amount"], 59500);
    assert_eq!(c.body["reference"], "SHIP-1");
    assert!(c.body["klarna_reference"].as_str().unwrap().ends_with("-1"));

    // Not beyond the remaining authorization.
    api.post(&o(&order, "/captures"), &json!({"captured_amount": 3000}))
        .await
        .assert_error(403, "CAPTURE_NOT_ALLOWED");
    api.post(&o(&order, "/captures"), &json!({"captured_amount": 0}))
        .await
        .assert_error(403, "CAPTURE_NOT_ALLOWED");
    api.post(
        &o(&order, "/captures"),
        &json!({"captured_amount": 2900, "order_lines": [kp_body()["order_lines"][0].clone()]}),
    )
    .await
    .assert_error(400, "BAD_VALUE");
    api.post(&o(&order, "/captures"), &json!({"captured_amount": -5}))
        .await
        .assert_error(422, "UNPROCESSABLE_ENTITY");
    api.post(&o(&order, "/captures"), &json!({"reference": "x"}))
        .await
        .assert_error(422, "UNPROCESSABLE_ENTITY");
    // No cancel after a capture.
    let r = api.post_empty(&o(&order, "/cancel")).await;
    r.assert_error(403, "CANCEL_NOT_ALLOWED");
    assert!(r.text.contains("previous captures"));

    let second = api
        .post(&o(&order, "/captures"), &json!({"captured_amount": 2900}))
        .await;
    assert_eq!(second.status, 201);
    let list = api.get(&o(&order, "/captures")).await;
    assert_eq!(list.body.as_array().unwrap().len(), 2);
    assert_eq!(api.get(&o(&order, "")).await.body["status"], "CAPTURED");

    // Refunds up to the captured amount.
    let refund = api
        .post(
            &o(&order, "/refunds"),
            &json!({"refunded_amount": 60000, "description": "Returned", "reference": "RMA-1"}),
        )
        .await;
    assert_eq!(refund.status, 201, "{}", refund.text);
    let refund_id = refund.header("refund-id").unwrap().to_owned();
    assert_eq!(
        refund.header("location").unwrap(),
        format!(
            "{}{}",
            api.base,
            o(&order, &format!("/refunds/{refund_id}"))
        )
    );
    let r = api.get(&o(&order, &format!("/refunds/{refund_id}"))).await;
    assert_eq!(r.body["refunded_amount"], 60000);
    assert_eq!(r.body["reference"], "RMA-1");
    api.post(&o(&order, "/refunds"), &json!({"refunded_amount": 2401}))
        .await
        .assert_error(403, "REFUND_NOT_ALLOWED");
    assert_eq!(
        api.post(&o(&order, "/refunds"), &json!({"refunded_amount": 2400}))
            .await
            .status,
        201
    );
    let b = api.get(&o(&order, "")).await.body;
    assert_eq!(b["refunded_amount"], 62400);
    assert_eq!(b["refunds"].as_array().unwrap().len(), 2);
    assert_eq!(
        b["captures"][0]["refunded_amount"], 59500,
        "refunds go to the oldest capture first"
    );
    assert_eq!(b["captures"][1]["refunded_amount"], 2900);
    assert_eq!(b["status"], "CAPTURED", "refunds do not change the status");

    api.get(&o(&order, "/refunds/0b1d9815-165e-42e2-8867-35bc03789e00"))
        .await
        .assert_error(404, "NOT_FOUND");
    api.get(&o(&order, "/captures/0b1d9815-165e-42e2-8867-35bc03789e00"))
        .await
        .assert_error(404, "NO_SUCH_CAPTURE");
}

#[tokio::test(flavor = "multi_thread")]
async fn refund_needs_a_capture_and_cancel_works_before_one() {
    let sim = start().await;
    let api = Api::new(&sim);
    let order = api.order(&sim).await;
    let r = api
        .post(&o(&order, "/refunds"), &json!({"refunded_amount": 100}))
        .await;
    r.assert_error(403, "REFUND_NOT_ALLOWED");
    assert!(r.text.contains("no captures"));
    api.post_empty(&o(&order, "/release-remaining-authorization"))
        .await
        .assert_error(403, "NOT_ALLOWED");
    assert_eq!(api.post_empty(&o(&order, "/cancel")).await.status, 204);
    let b = api.get(&o(&order, "")).await.body;
    assert_eq!(b["status"], "CANCELLED");
    assert_eq!(b["remaining_authorized_amount"], 0);
    api.post_empty(&o(&order, "/cancel"))
        .await
        .assert_error(403, "CANCEL_NOT_ALLOWED");
    api.post(&o(&order, "/captures"), &json!({"captured_amount": 100}))
        .await
        .assert_error(403, "CAPTURE_NOT_ALLOWED");
    api.patch(
        &o(&order, "/merchant-references"),
        &json!({"merchant_reference1": "x"}),
    )
    .await
    .assert_error(403, "NOT_ALLOWED");
    api.post_empty(&o(&order, "/extend-authorization-time"))
        .await
        .assert_error(403, "NOT_ALLOWED");
}

#[tokio::test(flavor = "multi_thread")]
async fn release_remaining_authorization() {
    let sim = start().await;
    let api = Api::new(&sim);
    let order = api.order(&sim).await;
    assert_eq!(
        api.post(&o(&order, "/captures"), &json!({"captured_amount": 10000}))
            .await
            .status,
        201
    );
    assert_eq!(
        api.post_empty(&o(&order, "/release-remaining-authorization"))
            .await
            .status,
        204
    );
    let b = api.get(&o(&order, "")).await.body;
    assert_eq!(b["status"], "CAPTURED");
    assert_eq!(b["remaining_authorized_amount"], 0);
    assert_eq!(b["order_amount"], 10000);
    assert_eq!(b["original_order_amount"], 62400);
    let r = api
        .post_empty(&o(&order, "/release-remaining-authorization"))
        .await;
    r.assert_error(403, "NOT_ALLOWED");
    assert!(r.text.contains("fully captured"));
    api.post(&o(&order, "/captures"), &json!({"captured_amount": 1}))
        .await
        .assert_error(403, "CAPTURE_NOT_ALLOWED");
}

#[tokio::test(flavor = "multi_thread")]
async fn update_authorization() {
    let sim = start().await;
    let api = Api::new(&sim);
    let order = api.order(&sim).await;
    assert_eq!(
        api.post(&o(&order, "/captures"), &json!({"captured_amount": 20000}))
            .await
            .status,
        201
    );
    let r = api
        .patch(
            &o(&order, "/authorization"),
            &json!({"order_amount": 10000}),
        )
        .await;
    r.assert_error(403, "NOT_ALLOWED");
    assert!(r.text.contains("cannot be less than the captured amount"));
    api.patch(
        &o(&order, "/authorization"),
        &json!({"order_amount": 30000, "order_lines": [kp_body()["order_lines"][1].clone()]}),
    )
    .await
    .assert_error(400, "BAD_VALUE");
    let line = json!({"name": "Smaller pack", "quantity": 1, "unit_price": 30000, "total_amount": 30000,
        "tax_rate": 2500, "total_tax_amount": 6000});
    let r = api
        .patch(
            &o(&order, "/authorization"),
            &json!({"order_amount": 30000, "description": "smaller", "order_lines": [line]}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let b = api.get(&o(&order, "")).await.body;
    assert_eq!(b["order_amount"], 30000);
    assert_eq!(b["remaining_authorized_amount"], 10000);
    assert_eq!(b["order_lines"][0]["name"], "Smaller pack");
    assert_eq!(
        api.patch(
            &o(&order, "/authorization"),
            &json!({"order_amount": 20000})
        )
        .await
        .status,
        204
    );
    let b = api.get(&o(&order, "")).await.body;
    assert_eq!(b["status"], "CAPTURED");
    assert!(
        b.get("order_lines").is_some_and(|l| l == &json!([])),
        "no lines sent: lines removed"
    );
    api.patch(
        &o(&order, "/authorization"),
        &json!({"order_amount": 20000}),
    )
    .await
    .assert_error(403, "NOT_ALLOWED");
    api.patch(&o(&order, "/authorization"), &json!({}))
        .await
        .assert_error(422, "UNPROCESSABLE_ENTITY");
}

#[tokio::test(flavor = "multi_thread")]
async fn authorization_expires_after_28_days_and_can_be_extended() {
    let sim = start().await;
    let api = Api::new(&sim);
    let order = api.order(&sim).await;
    sim.advance(hours(24 * 20));
    assert_eq!(
        api.post_empty(&o(&order, "/extend-authorization-time"))
            .await
            .status,
        204
    );
    assert_eq!(
        api.get(&o(&order, "")).await.body["expires_at"],
        "2024-06-18T12:00:00.000Z",
        "now + 28 days"
    );
    sim.advance(hours(24 * 28));
    let b = api.get(&o(&order, "")).await.body;
    assert_eq!(b["status"], "EXPIRED");
    let r = api
        .post(&o(&order, "/captures"), &json!({"captured_amount": 100}))
        .await;
    r.assert_error(403, "CAPTURE_NOT_ALLOWED");
    assert!(r.text.contains("expired"));
    api.post_empty(&o(&order, "/extend-authorization-time"))
        .await
        .assert_error(403, "NOT_ALLOWED");
    api.post_empty(&o(&order, "/cancel"))
        .await
        .assert_error(403, "CANCEL_NOT_ALLOWED");
    // Orders stay readable.
    sim.advance(hours(24 * 365));
    assert_eq!(api.get(&o(&order, "")).await.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn references_customer_details_and_shipping() {
    let sim = start().await;
    let api = Api::new(&sim);
    let order = api.order(&sim).await;
    let r = api
        .patch(
            &o(&order, "/merchant-references"),
            &json!({"merchant_reference1": "", "merchant_reference2": "NEW"}),
        )
        .await;
    assert_eq!(r.status, 204);
    let b = api.get(&o(&order, "")).await.body;
    assert!(b.get("merchant_reference1").is_none(), "empty clears");
    assert_eq!(b["merchant_reference2"], "NEW");

    let address = json!({"given_name": "Test", "family_name": "Person", "street_address": "Nygatan 2",
        "postal_code": "12345", "city": "Ankeborg", "country": "SE"});
    assert_eq!(
        api.patch(
            &o(&order, "/customer-details"),
            &json!({"shipping_address": address})
        )
        .await
        .status,
        204
    );
    assert_eq!(
        api.get(&o(&order, "")).await.body["shipping_address"]["street_address"],
        "Nygatan 2"
    );
    api.patch(
        &o(&order, "/customer-details"),
        &json!({"billing_address": address}),
    )
    .await
    .assert_error(403, "NOT_ALLOWED");

    let info = json!({"shipping_info": [{"shipping_company": "DHL", "shipping_method": "PickUpPoint", "tracking_number": "1"}]});
    assert_eq!(
        api.post(&o(&order, "/shipping-info"), &info).await.status,
        204
    );
    assert_eq!(
        api.get(&o(&order, "")).await.body["shipping_info"][0]["shipping_company"],
        "DHL"
    );
    api.post(&o(&order, "/shipping-info"), &json!({"shipping_info": []}))
        .await
        .assert_error(422, "UNPROCESSABLE_ENTITY");

    let cap = api
        .post(&o(&order, "/captures"), &json!({"captured_amount": 62400}))
        .await;
    let cid = cap.header("capture-id").unwrap().to_owned();
    let c = |tail: &str| o(&order, &format!("/captures/{cid}{tail}"));
    assert_eq!(api.post(&c("/shipping-info"), &info).await.status, 204);
    assert_eq!(
        api.get(&c("")).await.body["shipping_info"][0]["tracking_number"],
        "1"
    );
    assert_eq!(api.post_empty(&c("/trigger-send-out")).await.status, 204);
    let options = api.get(&c("/extend-due-date-options")).await;
    assert_eq!(options.status, 200);
    assert_eq!(options.body["currency"], "SEK");
    let days = options.body["options"][0]["number_of_days"].clone();
    assert_eq!(
        api.patch(&c("/extend-due-date"), &json!({"number_of_days": days}))
            .await
            .status,
        204
    );
    api.patch(&c("/extend-due-date"), &json!({"number_of_days": 3}))
        .await
        .assert_error(403, "NOT_ALLOWED");
    let bogus = o(&order, "/captures/0b1d9815-165e-42e2-8867-35bc03789e00");
    api.post_empty(&format!("{bogus}/trigger-send-out"))
        .await
        .assert_error(404, "NO_SUCH_CAPTURE");
    api.post(&format!("{bogus}/shipping-info"), &info)
        .await
        .assert_error(404, "NO_SUCH_CAPTURE");
}

#[tokio::test(flavor = "multi_thread")]
async fn idempotency_keys() {
    let sim = start().await;
    let api = Api::new(&sim);
    let order = api.order(&sim).await;
    let path = o(&order, "/captures");
    let first = api
        .post_idem(&path, &json!({"captured_amount": 1000}), "key-1")
        .await;
    assert_eq!(first.status, 201);
    // Same key and body: same response, no second capture. Another body with the same key on
    // the same operation and order is a conflict (issue 12: keys are scoped to operation,
    // resource and body), and runs nothing either.
    let again = api
        .post_idem(&path, &json!({"captured_amount": 1000}), "key-1")
        .await;
    let other_body = api
        .post_idem(&path, &json!({"captured_amount": 5000}), "key-1")
        .await;
    assert_eq!(again.status, 201);
    assert_eq!(again.header("capture-id"), first.header("capture-id"));
    assert_eq!(again.header("location"), first.header("location"));
    other_body.assert_error(409, "CONFLICT");
    let b = api.get(&o(&order, "")).await.body;
    assert_eq!(b["captured_amount"], 1000);
    assert_eq!(b["captures"].as_array().unwrap().len(), 1);
    let log = sim.requests();
    let replays = log.iter().filter(|r| r.idempotent_replay).count();
    assert_eq!(replays, 1);

    // Errors are replayed too.
    let refused = api
        .post_idem(&path, &json!({"captured_amount": 999999}), "key-2")
        .await;
    refused.assert_error(403, "CAPTURE_NOT_ALLOWED");
    let refused_again = api
        .post_idem(&path, &json!({"captured_amount": 999999}), "key-2")
        .await;
    assert_eq!(refused_again.status, 403);
    assert_eq!(
        refused_again.body["correlation_id"],
        refused.body["correlation_id"]
    );

    // A new key is a new capture; after 24 h an old key is new again.
    assert_eq!(
        api.post_idem(&path, &json!({"captured_amount": 1000}), "key-3")
            .await
            .status,
        201
    );
    sim.advance(hours(24));
    let later = api
        .post_idem(&path, &json!({"captured_amount": 1000}), "key-1")
        .await;
    assert_eq!(later.status, 201);
    assert_ne!(later.header("capture-id"), first.header("capture-id"));
    assert_eq!(api.get(&o(&order, "")).await.body["captured_amount"], 3000);

    // Reads ignore the header.
    let r = api
        .send(
            "GET",
            &o(&order, ""),
            None,
            &[("Klarna-Idempotency-Key", "key-3")],
        )
        .await;
    assert_eq!(r.status, 200);
}
