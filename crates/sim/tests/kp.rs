//! Klarna Payments v1 against the emulator over real HTTP: sessions, rules, lifetimes, orders
//! from authorization tokens (one order per token), authorization release, customer tokens.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

mod support;

use serde_json::{json, Value};
use support::*;

#[tokio::test(flavor = "multi_thread")]
async fn create_read_and_update_a_session() {
    let sim = start().await;
    let api = Api::new(&sim);
    let r = api.post("/payments/v1/sessions", &kp_body()).await;
    assert_eq!(r.status, 200);
    let id = r.body["session_id"].as_str().unwrap();
    assert!(r.body["client_token"].as_str().unwrap().starts_with("eyJ"));
    let ids: Vec<&str> = r.body["payment_method_categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["identifier"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["pay_now", "pay_later", "pay_over_time"]);

    let read = api.get(&format!("/payments/v1/sessions/{id}")).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body["status"], "incomplete");
    assert_eq!(read.body["order_amount"], 62400);
    assert_eq!(read.body["expires_at"], "2024-05-03T12:00:00.000Z", "48 h");
    assert!(
        read.body["customer"]
            .get("national_identification_number")
            .is_none(),
        "customer_read omits the national id"
    );

    sim.advance(hours(10));
    let mut update = kp_body();
    update["merchant_reference2"] = json!("REF-2");
    let u = api
        .post(&format!("/payments/v1/sessions/{id}"), &update)
        .await;
    assert_eq!(u.status, 204);
    assert_eq!(u.text, "");
    let read = api.get(&format!("/payments/v1/sessions/{id}")).await;
    assert_eq!(read.body["merchant_reference2"], "REF-2");
    assert_eq!(
        read.body["expires_at"], "2024-05-03T22:00:00.000Z",
        "48 h after the last update"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_are_checked() {
    let sim = start().await;
    let api = Api::new(&sim);
    let r = api
        .without_auth()
        .post("/payments/v1/sessions", &kp_body())
        .await;
    r.assert_error(401, "UNAUTHORIZED");
    assert!(r.header("www-authenticate").unwrap().starts_with("Basic"));
    api.with_auth("DemoMerchant", "wrong")
        .get("/hpp/v1/sessions/x")
        .await
        .assert_error(401, "UNAUTHORIZED");
    api.with_auth("someone", "DemoPassword")
        .get("/ordermanagement/v1/orders/x")
        .await
        .assert_error(401, "UNAUTHORIZED");
    // Klarna's documented example pair is the default.
    let r = api
        .send(
            "POST",
            "/payments/v1/sessions",
            Some(kp_body().to_string().into_bytes()),
            &[(
                "Authorization",
                "Basic RGVtb01lcmNoYW50OkRlbW9QYXNzd29yZA==",
            )],
        )
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_paths_and_methods() {
    let sim = start().await;
    let api = Api::new(&sim);
    api.get("/payments/v2/sessions")
        .await
        .assert_error(404, "NOT_FOUND");
    api.send("PUT", "/payments/v1/sessions", None, &[])
        .await
        .assert_error(405, "METHOD_NOT_ALLOWED");
}

async fn rejects(api: &Api, body: Value, field: &str) {
    let r = api.post("/payments/v1/sessions", &body).await;
    r.assert_error(400, "BAD_VALUE");
    let messages = r.body["error_messages"].to_string();
    assert!(
        messages.contains(&format!("Bad value: {field}")),
        "{field}: {messages}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn session_rules() {
    let sim = start().await;
    let api = Api::new(&sim);

    let mut b = kp_body();
    b.as_object_mut().unwrap().remove("order_amount");
    rejects(&api, b, "order_amount").await;

    let mut b = kp_body();
    b["purchase_currency"] = json!("KRONA");
    rejects(&api, b, "purchase_currency").await;

    let mut b = kp_body();
    b["order_lines"][0]["name"] = json!("");
    rejects(&api, b, "order_lines[0].name").await;

    let mut b = kp_body();
    b["order_lines"][1]["total_amount"] = json!(2901);
    rejects(&api, b, "order_lines[1].total_amount").await;

    let mut b = kp_body();
    b["order_lines"][0]["total_tax_amount"] = json!(11950);
    rejects(&api, b, "order_lines[0].total_tax_amount").await;

    let mut b = kp_body();
    b["order_amount"] = json!(62000);
    rejects(&api, b, "order_amount").await;

    let mut b = kp_body();
    b["order_tax_amount"] = json!(12000);
    rejects(&api, b, "order_tax_amount").await;

    let r = api
        .send(
            "POST",
            "/payments/v1/sessions",
            Some(b"{not json".to_vec()),
            &[],
        )
        .await;
    r.assert_error(400, "BAD_VALUE");

    // Within tolerance: ±1 per line on tax, ±lines on the order tax.
    let mut b = kp_body();
    b["order_lines"][0]["total_tax_amount"] = json!(11901);
    b["order_tax_amount"] = json!(12481);
    assert_eq!(api.post("/payments/v1/sessions", &b).await.status, 200);

    // US style: a sales_tax line, no tax_rate.
    let us = json!({"purchase_country": "US", "purchase_currency": "USD", "order_amount": 21000,
        "order_tax_amount": 1000, "order_lines": [
        {"name": "Shoes", "quantity": 1, "unit_price": 20000, "total_amount": 20000},
        {"type": "sales_tax", "name": "Sales tax", "quantity": 1, "unit_price": 1000, "total_amount": 1000}]});
    assert_eq!(api.post("/payments/v1/sessions", &us).await.status, 200);

    // Updates are checked against the merged session.
    let id = api.kp_session(&kp_body()).await;
    let r = api
        .post(
            &format!("/payments/v1/sessions/{id}"),
            &json!({"order_amount": 100}),
        )
        .await;
    r.assert_error(400, "BAD_VALUE");
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_expire_after_48_hours() {
    let sim = start().await;
    let api = Api::new(&sim);
    let id = api.kp_session(&kp_body()).await;
    sim.advance(hours(47));
    assert_eq!(
        api.get(&format!("/payments/v1/sessions/{id}")).await.status,
        200
    );
    sim.advance(hours(1));
    api.get(&format!("/payments/v1/sessions/{id}"))
        .await
        .assert_error(404, "NOT_FOUND");
    api.post(&format!("/payments/v1/sessions/{id}"), &kp_body())
        .await
        .assert_error(404, "NOT_FOUND");
    api.get("/payments/v1/sessions/not-a-uuid")
        .await
        .assert_error(404, "NOT_FOUND");
}

/// A KP session paid through HPP with place_order_mode NONE: (kp id, authorization token).
async fn authorized(api: &Api, sim: &klarna_hpp_sim::SimHandle, kp: Value) -> (String, String) {
    let kp_id = api.kp_session(&kp).await;
    let hpp = api.hpp_session(&kp_id, json!({})).await;
    let outcome = sim
        .consumer(hpp["session_id"].as_str().unwrap())
        .pay_with("pay_later")
        .unwrap();
    (kp_id, outcome.authorization_token.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn one_order_per_authorization_token() {
    let sim = start().await;
    let api = Api::new(&sim);
    let (kp, token) = authorized(&api, &sim, kp_body()).await;
    let body = order_body().to_string().into_bytes();
    let path = format!("/payments/v1/authorizations/{token}/order");
    let first = api.send("POST", &path, Some(body.clone()), &[]).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let order_id = first.body["order_id"].as_str().unwrap().to_owned();
    assert_eq!(first.body["fraud_status"], "ACCEPTED");
    assert_eq!(first.body["authorized_payment_method"]["type"], "invoice");

    // A byte-identical replay gets the same order.
    let replay = api.send("POST", &path, Some(body), &[]).await;
    assert_eq!(replay.status, 200);
    assert_eq!(replay.body["order_id"], order_id.as_str());

    // A different body is a conflict.
    let mut other = order_body();
    other["merchant_reference2"] = json!("different");
    api.post(&path, &other).await.assert_error(409, "BAD_VALUE");

    // The KP session is complete now; updates are refused.
    let read = api.get(&format!("/payments/v1/sessions/{kp}")).await;
    assert_eq!(read.body["status"], "complete");
    api.post(&format!("/payments/v1/sessions/{kp}"), &kp_body())
        .await
        .assert_error(404, "SESSION_COMPLETED");

    // The order exists in Order Management.
    let order = api
        .get(&format!("/ordermanagement/v1/orders/{order_id}"))
        .await;
    assert_eq!(order.status, 200);
    assert_eq!(order.body["status"], "AUTHORIZED");
    assert_eq!(order.body["order_amount"], 62400);
    assert_eq!(order.body["initial_payment_method"]["type"], "INVOICE");
}

#[tokio::test(flavor = "multi_thread")]
async fn order_data_must_match_the_session() {
    let sim = start().await;
    let api = Api::new(&sim);
    let (_, token) = authorized(&api, &sim, kp_body()).await;
    let path = format!("/payments/v1/authorizations/{token}/order");
    let mut b = order_body();
    b["purchase_currency"] = json!("EUR");
    let r = api.post(&path, &b).await;
    r.assert_error(409, "BAD_VALUE");
    assert!(r.text.contains("purchase_currency"));

    let mut more = order_body();
    more["order_amount"] = json!(72400);
    more["order_lines"][0]["unit_price"] = json!(69500);
    more["order_lines"][0]["total_amount"] = json!(69500);
    more["order_lines"][0]["total_tax_amount"] = json!(13900);
    more["order_tax_amount"] = json!(14480);
    api.post(&path, &more).await.assert_error(409, "BAD_VALUE");

    let mut bad = order_body();
    bad["order_amount"] = json!(1);
    api.post(&path, &bad).await.assert_error(400, "BAD_VALUE");

    // A lower amount is allowed.
    let less = json!({"purchase_country": "se", "purchase_currency": "sek", "order_amount": 59500,
        "order_tax_amount": 11900, "order_lines": [kp_body()["order_lines"][0].clone()], "auto_capture": true});
    let r = api.post(&path, &less).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let order = api
        .get(&format!(
            "/ordermanagement/v1/orders/{}",
            r.body["order_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(order.body["status"], "CAPTURED", "auto_capture");
    assert_eq!(order.body["captured_amount"], 59500);
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_live_60_minutes() {
    let sim = start().await;
    let api = Api::new(&sim);
    let (_, token) = authorized(&api, &sim, kp_body()).await;
    sim.advance(std::time::Duration::from_secs(60 * 60));
    let r = api
        .post(
            &format!("/payments/v1/authorizations/{token}/order"),
            &order_body(),
        )
        .await;
    r.assert_error(404, "NOT_FOUND");
    assert!(r.text.contains("Invalid authorization token"));
    api.post("/payments/v1/authorizations/nope/order", &order_body())
        .await
        .assert_error(404, "NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread")]
async fn cancel_authorization() {
    let sim = start().await;
    let api = Api::new(&sim);
    let (_, token) = authorized(&api, &sim, kp_body()).await;
    let r = api
        .delete(&format!("/payments/v1/authorizations/{token}"))
        .await;
    assert_eq!(r.status, 204);
    assert!(r.header("klarna-correlation-id").is_some());
    api.delete(&format!("/payments/v1/authorizations/{token}"))
        .await
        .assert_error(404, "NOT_FOUND");
    api.post(
        &format!("/payments/v1/authorizations/{token}/order"),
        &order_body(),
    )
    .await
    .assert_error(404, "NOT_FOUND");

    // After the order is placed, the token is consumed.
    let (_, token) = authorized(&api, &sim, kp_body()).await;
    let path = format!("/payments/v1/authorizations/{token}/order");
    assert_eq!(api.post(&path, &order_body()).await.status, 200);
    api.delete(&format!("/payments/v1/authorizations/{token}"))
        .await
        .assert_error(403, "INVALID_OPERATION");
}

#[tokio::test(flavor = "multi_thread")]
async fn customer_tokens_need_a_tokenize_intent() {
    let sim = start().await;
    let api = Api::new(&sim);
    let request = json!({"description": "Monthly box", "intended_use": "SUBSCRIPTION", "locale": "sv-SE",
        "purchase_country": "SE", "purchase_currency": "SEK"});
    let (_, token) = authorized(&api, &sim, kp_body()).await;
    api.post(
        &format!("/payments/v1/authorizations/{token}/customer-token"),
        &request,
    )
    .await
    .assert_error(403, "INVALID_OPERATION");

    let mut kp = kp_body();
    kp["intent"] = json!("buy_and_tokenize");
    let (_, token) = authorized(&api, &sim, kp).await;
    let path = format!("/payments/v1/authorizations/{token}/customer-token");
    let r = api.post(&path, &request).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let token_id = r.body["token_id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["customer"]["date_of_birth"], "1970-01-01");
    assert_eq!(
        api.post(&path, &request).await.body["token_id"],
        token_id.as_str()
    );
    let mut other = request.clone();
    other["description"] = json!("Other");
    api.post(&path, &other).await.assert_error(409, "BAD_VALUE");
    let mut invalid = request.clone();
    invalid["intended_use"] = json!("ONE_OFF");
    let (_, token) = authorized(&api, &sim, {
        let mut kp = kp_body();
        kp["intent"] = json!("tokenize");
        kp
    })
    .await;
    let path = format!("/payments/v1/authorizations/{token}/customer-token");
    api.post(&path, &invalid)
        .await
        .assert_error(400, "BAD_VALUE");
    // A tokenize-only authorization places no order.
    api.post(
        &format!("/payments/v1/authorizations/{token}/order"),
        &order_body(),
    )
    .await
    .assert_error(403, "INVALID_OPERATION");
}

#[tokio::test(flavor = "multi_thread")]
async fn cancelling_a_session_cancels_its_hpp_sessions() {
    let sim = start().await;
    let api = Api::new(&sim);
    let merchant = Merchant::start().await;
    let kp = api.kp_session(&kp_body()).await;
    let open = api
        .hpp_session(&kp, json!({"merchant_urls": merchant.urls()}))
        .await;
    let open = open["session_id"].as_str().unwrap().to_owned();
    let r = api.delete(&format!("/payments/v1/sessions/{kp}")).await;
    assert_eq!(r.status, 204);
    api.get(&format!("/payments/v1/sessions/{kp}"))
        .await
        .assert_error(404, "NOT_FOUND");
    assert_eq!(api.hpp_status(&open).await, "CANCELLED");
    eventually("CANCELLED callback", || {
        sim.callbacks().iter().any(|d| d.status == "CANCELLED")
    })
    .await;
    api.delete(&format!("/payments/v1/sessions/{kp}"))
        .await
        .assert_error(404, "NOT_FOUND");
}
