//! Decoding Klarna Payments answers: the spec's response examples, Klarna's documentation
//! examples, unknown enum values, error bodies and decode failures.
mod support;

use std::time::Duration;

use klarna_hpp_core::http::{Response, StatusCode};
use klarna_hpp_core::kp::{
    AuthorizedPaymentMethod, AuthorizedPaymentMethodType, CancelAuthorization, CreateCustomerToken,
    CreateOrder, CreateSession, CustomerType, FraudStatus, Intent, MerchantSession, Order,
    OrganizationEntityType, PaymentMethodCategory, ReadSession, SessionRead, SessionStatus,
    UpdateSession,
};
use klarna_hpp_core::{Error, Operation, Timestamp};
use serde_json::{json, Value};

fn response(status: u16, body: &[u8]) -> Response<Vec<u8>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(body.to_vec())
        .expect("valid response")
}

fn ok(body: &Value) -> Response<Vec<u8>> {
    response(200, &serde_json::to_vec(body).expect("JSON"))
}

fn api_error(err: Error) -> klarna_hpp_core::ApiError {
    match err {
        Error::Api(e) => e,
        other => panic!("expected an API error, got {other:?}"),
    }
}

// ---- the spec's response examples ------------------------------------------------------------

/// The spec's example of `schema`, with the required fields the spec gives no example for filled
/// in (the synthesizer leaves them out): `order.order_id` and `subscription`'s three fields.
fn spec_example(schema: &str) -> Value {
    let mut ex = support::example("payments", schema);
    if schema == "order" {
        assert!(
            ex.get("order_id").is_none(),
            "the spec gained an order_id example"
        );
        ex["order_id"] = json!("f3392f8b-6116-4073-ab96-e330819e2c07");
    }
    if let Some(lines) = ex.get_mut("order_lines").and_then(Value::as_array_mut) {
        for line in lines {
            if line.get("subscription") == Some(&json!({})) {
                line["subscription"] =
                    json!({"name": "Club", "interval": "MONTH", "interval_count": 1});
            }
        }
    }
    ex
}

#[test]
fn spec_merchant_session_example_decodes() {
    let ex = spec_example("merchant_session");
    let s = CreateSession::decode_response(&ok(&ex)).unwrap();
    assert_eq!(s.session_id, "0b1d9815-165e-42e2-8867-35bc03789e00");
    assert!(s.client_token.expose().starts_with("eyJ"));
    assert_eq!(s.payment_method_categories.len(), 1);
    let cat = &s.payment_method_categories[0];
    assert_eq!(cat.identifier, PaymentMethodCategory::Klarna);
    assert_eq!(cat.name.as_deref(), Some("Pay with Klarna"));
    assert!(cat.asset_urls.as_ref().unwrap().standard.is_some());
}

#[test]
fn spec_session_read_example_decodes() {
    let ex = spec_example("session_read");
    let s = ReadSession::decode_response(&ok(&ex)).unwrap();
    assert_eq!(s.status, Some(SessionStatus::Complete));
    assert_eq!(
        s.expires_at,
        Some(Timestamp::parse("2038-01-19T03:14:07.000Z").unwrap())
    );
    assert_eq!(s.intent, Some(Intent::Buy));
    assert_eq!(s.order_amount, Some(2000));
    assert_eq!(s.order_lines.len(), 1);
    assert_eq!(s.order_lines[0].name, "Running shoe");
    let c = s.customer.as_ref().unwrap();
    assert_eq!(c.kind, Some(CustomerType::Organization));
    assert_eq!(
        s.billing_address.as_ref().unwrap().country.as_deref(),
        Some("GB")
    );
}

#[test]
fn spec_order_example_decodes() {
    let ex = spec_example("order");
    let o = CreateOrder::decode_response(&ok(&ex)).unwrap();
    assert_eq!(o.order_id, "f3392f8b-6116-4073-ab96-e330819e2c07");
    assert!(o
        .redirect_url
        .unwrap()
        .starts_with("https://credit.klarna.com/"));
    // The synthesized `authorized_payment_method` is `{}` (no `type` example): read as absent.
    assert_eq!(o.authorized_payment_method, None);
}

#[test]
fn spec_customer_token_example_decodes() {
    let ex = spec_example("customer_token_creation_response");
    let t = CreateCustomerToken::decode_response(&ok(&ex)).unwrap();
    assert_eq!(t.token_id.expose(), "0b1d9815-165e-42e2-8867-35bc03789e00");
    assert_eq!(
        t.customer.unwrap().date_of_birth.as_deref(),
        Some("1978-12-31")
    );
    assert!(t.payment_method_reference.is_some());
}

#[test]
fn our_encodings_of_responses_validate_against_the_spec() {
    // The emulator serves these types: their encoding must satisfy the response schemas.
    let ex = spec_example("merchant_session");
    let s: MerchantSession = serde_json::from_value(ex).unwrap();
    support::assert_valid(
        "payments",
        "merchant_session",
        &serde_json::to_value(&s).unwrap(),
    );
    let ex = spec_example("session_read");
    let s: SessionRead = serde_json::from_value(ex).unwrap();
    support::assert_valid(
        "payments",
        "session_read",
        &serde_json::to_value(&s).unwrap(),
    );
    let mut o = Order::new("f3392f8b-6116-4073-ab96-e330819e2c07");
    o.fraud_status = Some(FraudStatus::Accepted);
    o.authorized_payment_method = Some(AuthorizedPaymentMethod::new(
        AuthorizedPaymentMethodType::Invoice,
    ));
    support::assert_valid("payments", "order", &serde_json::to_value(&o).unwrap());
}

// ---- Klarna's documentation examples ---------------------------------------------------------

#[test]
fn docs_create_session_response_decodes() {
    // Protocol reference §3.5.
    let body = br#"{"session_id":"0b1d9815-165e-42e2-8867-35bc03789e00","client_token":"eyJhbGciOiJSUzI1NiJ9.eyJzZXNzaW9uX2lkIjoiMGIxZDk4MTUifQ.sig",
 "payment_method_categories":[{"identifier":"klarna","name":"Pay with Klarna",
   "asset_urls":{"descriptive":"https://x.klarnacdn.net/payment-method/assets/badges/generic/klarna.svg","standard":"https://x.klarnacdn.net/payment-method/assets/badges/generic/klarna.svg"}}]}"#;
    let s = CreateSession::decode_response(&response(200, body)).unwrap();
    assert_eq!(s.session_id, "0b1d9815-165e-42e2-8867-35bc03789e00");
    assert_eq!(
        s.payment_method_categories[0].identifier,
        PaymentMethodCategory::Klarna
    );
    assert_eq!(
        format!("{:?}", s.client_token),
        "ClientToken([redacted])",
        "the client token never prints"
    );
}

#[test]
fn docs_order_with_string_payment_method_decodes() {
    // Klarna's create-order page shows the method as a bare string.
    let body = json!({
        "order_id": "3eaeb557-5e30-47f8-b840-b8d987f5945d",
        "redirect_url": "https://payments.klarna.com/redirect/...",
        "fraud_status": "ACCEPTED",
        "authorized_payment_method": "invoice"
    });
    let o = CreateOrder::decode_response(&ok(&body)).unwrap();
    assert_eq!(o.order_id, "3eaeb557-5e30-47f8-b840-b8d987f5945d");
    assert_eq!(o.fraud_status, Some(FraudStatus::Accepted));
    assert_eq!(
        o.authorized_payment_method,
        Some(AuthorizedPaymentMethod::new(
            AuthorizedPaymentMethodType::Invoice
        ))
    );
}

#[test]
fn spec_order_with_object_payment_method_decodes() {
    let body = json!({
        "order_id": "o1",
        "fraud_status": "PENDING",
        "authorized_payment_method": {"type": "fixed_amount", "number_of_installments": 3, "number_of_days": 30}
    });
    let o = CreateOrder::decode_response(&ok(&body)).unwrap();
    assert_eq!(o.fraud_status, Some(FraudStatus::Pending));
    let m = o.authorized_payment_method.unwrap();
    assert_eq!(m.kind, AuthorizedPaymentMethodType::FixedAmount);
    assert_eq!(m.number_of_installments, Some(3));
    assert_eq!(m.number_of_days, Some(30));
    // Encoding always writes the spec's object form.
    assert_eq!(
        serde_json::to_value(&m).unwrap(),
        json!({"type": "fixed_amount", "number_of_days": 30, "number_of_installments": 3})
    );
}

#[test]
fn odd_payment_method_shapes_never_fail_a_placed_order() {
    for odd in [
        json!(null),
        json!(42),
        json!([]),
        json!({"number_of_days": 14}),
    ] {
        let body = json!({"order_id": "o1", "authorized_payment_method": odd});
        let o = CreateOrder::decode_response(&ok(&body)).unwrap();
        assert_eq!(o.order_id, "o1");
        assert_eq!(o.authorized_payment_method, None, "for {odd}");
    }
}

// ---- forward compatibility --------------------------------------------------------------------

#[test]
fn unknown_enum_values_are_kept() {
    let body = json!({
        "order_id": "o1",
        "fraud_status": "UNDER_REVIEW",
        "authorized_payment_method": {"type": "crypto_later"}
    });
    let o = CreateOrder::decode_response(&ok(&body)).unwrap();
    assert_eq!(
        o.fraud_status,
        Some(FraudStatus::Unknown("UNDER_REVIEW".into()))
    );
    assert_eq!(
        o.authorized_payment_method.unwrap().kind,
        AuthorizedPaymentMethodType::Unknown("crypto_later".into())
    );

    let body = json!({
        "status": "expired",
        "intent": "subscribe_later",
        "acquiring_channel": "KIOSK",
        "customer": {"type": "government", "organization_entity_type": "COOPERATIVE"},
        "payment_method_categories": [{"identifier": "pay_in_parts"}, {"identifier": "PAY_NOW"}],
        "some_future_field": {"nested": true}
    });
    let s = ReadSession::decode_response(&ok(&body)).unwrap();
    assert_eq!(s.status, Some(SessionStatus::Unknown("expired".into())));
    assert_eq!(s.intent, Some(Intent::Unknown("subscribe_later".into())));
    assert_eq!(s.acquiring_channel.unwrap().as_str(), "KIOSK");
    let c = s.customer.unwrap();
    assert_eq!(c.kind, Some(CustomerType::Unknown("government".into())));
    assert_eq!(
        c.organization_entity_type,
        Some(OrganizationEntityType::Unknown("COOPERATIVE".into()))
    );
    assert_eq!(
        s.payment_method_categories[0].identifier,
        PaymentMethodCategory::Unknown("pay_in_parts".into())
    );
    // Case-insensitive, and re-encoded in the spec's spelling.
    assert_eq!(
        s.payment_method_categories[1].identifier,
        PaymentMethodCategory::PayNow
    );
    assert_eq!(
        serde_json::to_value(&s.payment_method_categories[1].identifier).unwrap(),
        json!("pay_now")
    );
}

#[test]
fn empty_session_read_decodes() {
    let s = ReadSession::decode_response(&ok(&json!({}))).unwrap();
    assert_eq!(s, SessionRead::default());
}

#[test]
fn no_content_operations_accept_any_2xx() {
    UpdateSession::decode_response(&response(204, b"")).unwrap();
    CancelAuthorization::decode_response(&response(204, b"")).unwrap();
    CancelAuthorization::decode_response(&response(200, b"{}")).unwrap();
}

// ---- errors -------------------------------------------------------------------------------------

#[test]
fn bad_value_error_body_becomes_api_error() {
    let body = json!({
        "error_code": "BAD_VALUE",
        "error_messages": ["Bad value: order_lines[3].total_tax_amount"],
        "correlation_id": "9b716595-5b16-467d-b7a6-063062fc00f8",
        "service_version": "SNAPSHOT",
        "unexpected": {"extra": [1, 2, 3]}
    });
    let resp = response(400, &serde_json::to_vec(&body).unwrap());
    let e = api_error(CreateSession::decode_response(&resp).unwrap_err());
    assert_eq!(e.operation, "kp.create_session");
    assert_eq!(e.status, StatusCode::BAD_REQUEST);
    assert_eq!(e.error_code.as_deref(), Some("BAD_VALUE"));
    assert_eq!(
        e.error_messages,
        ["Bad value: order_lines[3].total_tax_amount"]
    );
    assert_eq!(
        e.correlation_id.as_deref(),
        Some("9b716595-5b16-467d-b7a6-063062fc00f8")
    );
    assert_eq!(e.service_version.as_deref(), Some("SNAPSHOT"));
    assert!(!e.is_transient());
    assert_eq!(
        e.to_string(),
        "Klarna answered kp.create_session with HTTP 400 BAD_VALUE: Bad value: \
         order_lines[3].total_tax_amount (correlation id 9b716595-5b16-467d-b7a6-063062fc00f8)"
    );
}

#[test]
fn singular_error_message_is_collected() {
    let body = br#"{"error_code":"NOT_FOUND","error_message":"Invalid authorization token","correlation_id":"c-1"}"#;
    let e = api_error(CreateOrder::decode_response(&response(404, body)).unwrap_err());
    assert_eq!(e.operation, "kp.create_order");
    assert_eq!(e.error_code.as_deref(), Some("NOT_FOUND"));
    assert_eq!(e.error_messages, ["Invalid authorization token"]);
}

#[test]
fn conflict_on_create_order_is_an_api_error() {
    let body = br#"{"error_code":"BAD_VALUE","error_messages":["Not matching fields: [billing_address.postal_code]"]}"#;
    let e = api_error(CreateOrder::decode_response(&response(409, body)).unwrap_err());
    assert_eq!(e.status, StatusCode::CONFLICT);
    assert_eq!(
        e.error_messages,
        ["Not matching fields: [billing_address.postal_code]"]
    );
}

#[test]
fn empty_and_non_json_error_bodies_are_clear() {
    let e = api_error(UpdateSession::decode_response(&response(503, b"")).unwrap_err());
    assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(e.is_transient());
    assert_eq!(e.error_code, None);
    assert!(e.error_messages.is_empty());
    assert_eq!(
        e.to_string(),
        "Klarna answered kp.update_session with HTTP 503 (empty body)"
    );

    let html = b"<html><body>Bad gateway</body></html>";
    let resp = Response::builder()
        .status(502)
        .header("Klarna-Correlation-Id", "hdr-1")
        .header("Retry-After", "7")
        .body(html.to_vec())
        .unwrap();
    let e = api_error(ReadSession::decode_response(&resp).unwrap_err());
    assert_eq!(e.correlation_id.as_deref(), Some("hdr-1"));
    assert_eq!(e.retry_after, Some(Duration::from_secs(7)));
    assert_eq!(e.body, html.to_vec());
    assert_eq!(
        e.to_string(),
        "Klarna answered kp.read_session with HTTP 502 (non-JSON or unrecognised body, 37 bytes) \
         (correlation id hdr-1)"
    );
}

/// Found by the `decode_kp_om` fuzz target: an array was read as Klarna's error object by
/// position, its first element became the "error code", and `Display` printed it raw.
#[test]
fn error_values_from_any_body_are_never_shown() {
    let array = br#"[{"capture_id":"Jane Doe","amount":6999}]"#;
    let e = api_error(CreateSession::decode_response(&response(300, array)).unwrap_err());
    assert_eq!(e.error_code, None);
    assert_eq!(
        e.to_string(),
        "Klarna answered kp.create_session with HTTP 300 (non-JSON or unrecognised body, 41 bytes)"
    );
    // Objects are no codes or ids; quoted text inside a code or id is not shown either.
    let odd = br#"{"error_code":"BAD \"Jane\"","error_messages":[{"x":"Jane"},"Invalid email \"Jane\""],"correlation_id":"c \"Jane\""}"#;
    let e = api_error(CreateSession::decode_response(&response(400, odd)).unwrap_err());
    assert_eq!(e.error_code.as_deref(), Some("BAD \"Jane\""));
    assert_eq!(e.error_messages, ["Invalid email \"Jane\""]);
    let shown = e.to_string();
    assert!(!shown.contains("Jane"), "{shown}");
    // Nor in `Debug`, of the error or of the problem a checkout event carries.
    let debug = format!("{e:?}");
    assert!(
        !debug.contains("Jane") && debug.contains("BAD <value>"),
        "{debug}"
    );
    let problem = format!("{:?}", klarna_hpp_core::checkout::ApiProblem::from(&e));
    assert!(
        !problem.contains("Jane") && problem.contains("BAD <value>"),
        "{problem}"
    );
    assert_eq!(
        shown,
        "Klarna answered kp.create_session with HTTP 400 BAD <value>: Invalid email <value> \
         (correlation id c <value>)"
    );
}

#[test]
fn decode_failure_names_the_path() {
    let body = json!({
        "session_id": "s1",
        "client_token": "t",
        "payment_method_categories": [{"identifier": "klarna"}, {"identifier": 7}]
    });
    let resp = ok(&body);
    match CreateSession::decode_response(&resp).unwrap_err() {
        Error::Decode(d) => {
            assert_eq!(d.operation, "kp.create_session");
            assert_eq!(d.path, "payment_method_categories[1].identifier");
            assert_eq!(d.body, resp.body().clone());
        }
        other => panic!("expected a decode error, got {other:?}"),
    }

    // A missing required field (reported at its parent object), and a malformed timestamp.
    match CreateOrder::decode_response(&ok(&json!({"fraud_status": "ACCEPTED"}))).unwrap_err() {
        Error::Decode(d) => {
            assert_eq!(d.path, ".");
            assert!(d.message.starts_with("missing field"), "{}", d.message);
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    match ReadSession::decode_response(&ok(&json!({"expires_at": "tomorrow"}))).unwrap_err() {
        Error::Decode(d) => assert_eq!(d.path, "expires_at"),
        other => panic!("expected a decode error, got {other:?}"),
    }
}

#[test]
fn decode_failure_does_not_echo_customer_data() {
    let body = br#"{"customer":{"date_of_birth":{"secret":"1978-12-31"}}}"#;
    match ReadSession::decode_response(&response(200, body)).unwrap_err() {
        Error::Decode(d) => {
            assert_eq!(d.path, "customer.date_of_birth");
            assert!(!d.to_string().contains("1978"), "{d}");
            assert!(!format!("{d:?}").contains("1978"), "{d:?}");
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
}
