//! Klarna's leniency (issue 12, item 1): what Klarna's servers accept although the OpenAPI
//! schemas are stricter — `null` on an optional member is its absence, enum values in another
//! letter case, the scalar coercions Klarna performs — and what it still refuses, with its
//! error shape. The table is in `docs/emulator.md`.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

mod support;

use serde_json::{json, Value};
use support::*;

fn o(order: &str, tail: &str) -> String {
    format!("/ordermanagement/v1/orders/{order}{tail}")
}

/// A KP session body with `null` on optional members at every depth.
fn kp_body_with_nulls() -> Value {
    let mut b = kp_body();
    b["merchant_reference2"] = Value::Null;
    b["merchant_data"] = Value::Null;
    b["shipping_address"] = Value::Null;
    b["billing_address"]["title"] = Value::Null;
    b["billing_address"]["street_address2"] = Value::Null;
    b["order_lines"][0]["image_url"] = Value::Null;
    b["order_lines"][0]["total_discount_amount"] = Value::Null;
    b["order_lines"][1]["reference"] = Value::Null;
    b["customer"]["gender"] = Value::Null;
    b
}

#[tokio::test(flavor = "multi_thread")]
async fn null_is_absent_in_kp_bodies() {
    let sim = start().await;
    let api = Api::new(&sim);
    let kp = api.kp_session(&kp_body_with_nulls()).await;
    let read = api.get(&format!("/payments/v1/sessions/{kp}")).await;
    assert_eq!(read.status, 200, "{}", read.text);
    assert!(
        read.body.get("merchant_reference2").is_none(),
        "dropped, not stored as null"
    );
    assert!(read.body["billing_address"].get("title").is_none());

    // Update with nulls: a null member leaves the stored value as it was.
    let r = api
        .post(
            &format!("/payments/v1/sessions/{kp}"),
            &json!({"merchant_reference1": null, "locale": null, "merchant_reference2": "REF-2"}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let read = api.get(&format!("/payments/v1/sessions/{kp}")).await;
    assert_eq!(read.body["merchant_reference1"], "ORDER-1");
    assert_eq!(read.body["merchant_reference2"], "REF-2");

    // Create order through the KP API with nulls as well.
    let (_, hpp) = api.checkout(json!({})).await;
    let token = sim
        .consumer(&hpp)
        .pay()
        .unwrap()
        .authorization_token
        .unwrap();
    let mut body = order_body();
    body["merchant_urls"] = Value::Null;
    body["order_lines"][0]["product_url"] = Value::Null;
    body["auto_capture"] = Value::Null;
    let r = api
        .post(&format!("/payments/v1/authorizations/{token}/order"), &body)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn null_is_absent_in_hpp_bodies() {
    let sim = start().await;
    let api = Api::new(&sim);
    let kp = api.kp_session(&kp_body()).await;
    let r = api
        .post(
            "/hpp/v1/sessions",
            &json!({
                "payment_session_url": api.kp_url(&kp),
                "merchant_urls": {"success": "https://shop.example/ok", "back": null, "status_update": null},
                "options": {"logo_url": null, "page_title": null, "payment_method_category": null,
                            "payment_method_categories": ["PAY_LATER"], "place_order_mode": null},
                "profile_id": null
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let hpp = r.body["session_id"].as_str().unwrap();
    let r = api
        .post(
            &format!("/hpp/v1/sessions/{hpp}/distribution"),
            &json!({"method": "email", "template": null,
                    "contact_information": {"email": "test@example.com", "phone": null, "access_id": null}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn null_is_absent_in_om_bodies() {
    let sim = start().await;
    let api = Api::new(&sim);
    let order = api.order(&sim).await;
    let r = api
        .post(
            &o(&order, "/captures"),
            &json!({"captured_amount": 2900, "description": null, "reference": null,
                    "order_lines": null, "shipping_info": null, "shipping_delay": null}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = api
        .post(
            &o(&order, "/refunds"),
            &json!({"refunded_amount": 100, "description": null, "reference": null, "order_lines": null}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = api
        .patch(
            &o(&order, "/merchant-references"),
            &json!({"merchant_reference1": "NEW", "merchant_reference2": null}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = api
        .post(
            &o(&order, "/shipping-info"),
            &json!({"shipping_info": [{"shipping_company": "DHL", "tracking_number": null, "return_tracking_uri": null}]}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let read = api.get(&o(&order, "")).await;
    assert_eq!(read.body["merchant_reference1"], "NEW");
    assert_eq!(read.body["captured_amount"], 2900);
    assert_eq!(read.body["refunded_amount"], 100);
}

#[tokio::test(flavor = "multi_thread")]
async fn enum_case_as_klarna_reads_it() {
    let sim = start().await;
    let api = Api::new(&sim);
    // KP enums are lower case (intent) or upper case (acquiring_channel) in the spec.
    let mut b = kp_body();
    b["intent"] = json!("BUY");
    b["acquiring_channel"] = json!("ecommerce");
    let kp = api.kp_session(&b).await;
    let read = api.get(&format!("/payments/v1/sessions/{kp}")).await;
    assert_eq!(read.body["intent"], "buy", "stored in the spec's spelling");
    assert_eq!(read.body["acquiring_channel"], "ECOMMERCE");
    // HPP: options (as before) and the distribution enums.
    let hpp = api
        .hpp_session(
            &kp,
            json!({"options": {"place_order_mode": "place_order", "purchase_type": "Buy"}}),
        )
        .await;
    let hpp = hpp["session_id"].as_str().unwrap();
    let r = api
        .post(
            &format!("/hpp/v1/sessions/{hpp}/distribution"),
            &json!({"method": "EMAIL", "template": "instore_purchase",
                    "contact_information": {"email": "test@example.com"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    // A value that is no enum member in any case stays refused.
    let mut b = kp_body();
    b["intent"] = json!("purchase");
    api.post("/payments/v1/sessions", &b)
        .await
        .assert_error(400, "BAD_VALUE");
}

#[tokio::test(flavor = "multi_thread")]
async fn scalar_coercions_klarna_performs() {
    let sim = start().await;
    let api = Api::new(&sim);
    let mut b = kp_body();
    b["order_amount"] = json!("62400");
    b["order_lines"][0]["quantity"] = json!("1");
    b["order_lines"][0]["unit_price"] = json!(59500.0);
    b["merchant_reference1"] = json!(12345);
    let kp = api.kp_session(&b).await;
    let read = api.get(&format!("/payments/v1/sessions/{kp}")).await;
    assert_eq!(read.body["order_amount"], 62400, "stored as the integer");
    assert_eq!(read.body["order_lines"][0]["quantity"], 1);
    assert_eq!(read.body["order_lines"][0]["unit_price"], 59500);
    assert_eq!(read.body["merchant_reference1"], "12345");

    let order = api.order(&sim).await;
    let r = api
        .post(&o(&order, "/captures"), &json!({"captured_amount": "2900"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let read = api.get(&o(&order, "")).await;
    assert_eq!(read.body["captured_amount"], 2900);
}

#[tokio::test(flavor = "multi_thread")]
async fn still_refused_with_klarnas_codes() {
    let sim = start().await;
    let api = Api::new(&sim);
    // null on a required member is a missing member.
    let mut b = kp_body();
    b["order_amount"] = Value::Null;
    let r = api.post("/payments/v1/sessions", &b).await;
    r.assert_error(400, "BAD_VALUE");
    assert!(r.text.contains("Bad value: order_amount"), "{}", r.text);
    // A fraction is no amount; nor is text that is not a number; nor a null order line.
    for bad in [json!(62400.5), json!("62400.0"), json!("sixty")] {
        let mut b = kp_body();
        b["order_amount"] = bad;
        api.post("/payments/v1/sessions", &b)
            .await
            .assert_error(400, "BAD_VALUE");
    }
    let mut b = kp_body();
    b["order_lines"] = json!([null]);
    api.post("/payments/v1/sessions", &b)
        .await
        .assert_error(400, "BAD_VALUE");
    // Amount arithmetic is still Klarna's.
    let mut b = kp_body();
    b["order_amount"] = json!("62401");
    let r = api.post("/payments/v1/sessions", &b).await;
    r.assert_error(400, "BAD_VALUE");
    assert!(r.text.contains("Bad value: order_amount"), "{}", r.text);
    // Both category options at once, after nulls are dropped.
    let kp = api.kp_session(&kp_body()).await;
    api.post(
        "/hpp/v1/sessions",
        &json!({"payment_session_url": api.kp_url(&kp),
                "options": {"payment_method_category": "PAY_LATER", "payment_method_categories": ["PAY_NOW"], "logo_url": null}}),
    )
    .await
    .assert_error(400, "CONSTRAINT_VIOLATION");
    // A malformed merchant URL.
    api.post(
        "/hpp/v1/sessions",
        &json!({"payment_session_url": api.kp_url(&kp), "merchant_urls": {"success": "not a url", "back": null}}),
    )
    .await
    .assert_error(400, "CONSTRAINT_VIOLATION");
    // Numbers outside an integer field's format, with the family's code and the field's path;
    // a large number in a free-form member is no integer field.
    for (bad, field) in [
        ("9223372036854775808", "order_amount"),
        ("1e30", "order_amount"),
        ("-1e300", "order_tax_amount"),
    ] {
        let mut text = kp_body().to_string();
        text = text.replacen(
            &format!("\"{field}\":{}", kp_body()[field]),
            &format!("\"{field}\":{bad}"),
            1,
        );
        let r = api
            .send(
                "POST",
                "/payments/v1/sessions",
                Some(text.into_bytes()),
                &[],
            )
            .await;
        r.assert_error(400, "BAD_VALUE");
        assert!(
            r.text.contains(&format!("Bad value: {field}")),
            "{}",
            r.text
        );
    }
    let mut b = kp_body();
    b["merchant_data"] = json!("{}");
    b["attachment"] = json!({"content_type": "application/vnd.klarna.internal.emd-v2+json",
                             "body": "{}", "extra": 18446744073709551615u64});
    let r = api.post("/payments/v1/sessions", &b).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // OM: a null body member that is required.
    let order = api.order(&sim).await;
    api.post(&o(&order, "/captures"), &json!({"captured_amount": null}))
        .await
        .assert_error(422, "UNPROCESSABLE_ENTITY");
    let r = api
        .send(
            "POST",
            &o(&order, "/captures"),
            Some(br#"{"captured_amount": 1e30}"#.to_vec()),
            &[],
        )
        .await;
    r.assert_error(422, "UNPROCESSABLE_ENTITY");
    assert_eq!(api.get(&o(&order, "")).await.body["captured_amount"], 0);
}
