//! The exact request of every Klarna Payments operation (insta snapshots), and every body we emit
//! validates against Klarna's Payments v1 OpenAPI schema.
mod support;

use klarna_hpp_core::http::Request;
use klarna_hpp_core::kp::{
    AcquiringChannel, Attachment, CancelAuthorization, CreateCustomerToken, CreateOrder,
    CreateOrderRequest, CreateSession, Customer, CustomerTokenRequest, CustomerType, IntendedUse,
    Intent, KpMerchantUrls, ReadSession, SessionCreate, SessionUpdate, UpdateSession,
    WidgetOptions,
};
use klarna_hpp_core::model::{
    Address, OrderLine, OrderLineType, ProductIdentifiers, Subscription, SubscriptionInterval,
};
use klarna_hpp_core::{
    Api, AuthorizationToken, BaseUrl, Credentials, Environment, Error, Operation, Region,
    ValidationError, ValidationProblem,
};
use serde_json::Value;

fn api() -> Api {
    Api::new(
        BaseUrl::klarna(Region::Eu, Environment::Playground),
        Credentials::new("DemoMerchant", "DemoPassword"),
    )
}

/// Method and URI, headers sorted by name, then the body as pretty JSON (keys sorted).
fn render(req: &Request<Vec<u8>>) -> String {
    let mut out = format!("{} {}\n", req.method(), req.uri());
    let mut headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                v.to_str().expect("ascii header").to_owned(),
            )
        })
        .collect();
    headers.sort();
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\n"));
    }
    if !req.body().is_empty() {
        let body: Value = serde_json::from_slice(req.body()).expect("JSON body");
        out.push('\n');
        out.push_str(&serde_json::to_string_pretty(&body).expect("pretty"));
        out.push('\n');
    }
    out
}

fn body(req: &Request<Vec<u8>>) -> Value {
    serde_json::from_slice(req.body()).expect("JSON body")
}

fn lines() -> Vec<OrderLine> {
    let mut shoe = OrderLine::new("Running shoe", 2, 12_500)
        .kind(OrderLineType::Physical)
        .reference("AD6654412")
        .tax_rate(2_500)
        .discount(2_500);
    shoe.quantity_unit = Some("pcs".into());
    shoe.product_url = Some("https://shop.example/shoe".into());
    shoe.image_url = Some("https://shop.example/shoe.png".into());
    let mut ids = ProductIdentifiers::default();
    ids.brand = Some("shoe-brand".into());
    ids.category_path = Some("Shoes > Running".into());
    ids.global_trade_item_number = Some("4912345678904".into());
    shoe.product_identifiers = Some(ids);
    let shipping = OrderLine::new("Shipping", 1, 4_900)
        .kind(OrderLineType::ShippingFee)
        .tax_rate(2_500);
    let mut club = OrderLine::new("Runners' club", 1, 9_900)
        .kind(OrderLineType::Digital)
        .tax_rate(600);
    club.subscription = Some(Subscription::new(
        "Runners' club",
        SubscriptionInterval::Month,
        1,
    ));
    let voucher = OrderLine::new("Voucher", 1, -1_000)
        .kind(OrderLineType::Discount)
        .tax_rate(2_500);
    vec![shoe, shipping, club, voucher]
}

fn address() -> Address {
    let mut a = Address::default();
    a.given_name = Some("Adam".into());
    a.family_name = Some("Andersson".into());
    a.email = Some("adam@example.com".into());
    a.street_address = Some("Sveavägen 46".into());
    a.postal_code = Some("111 34".into());
    a.city = Some("Stockholm".into());
    a.phone = Some("+46701234567".into());
    a.country = Some("SE".into());
    a
}

fn customer() -> Customer {
    let mut c = Customer::default();
    c.date_of_birth = Some("1978-12-31".into());
    c.kind = Some(CustomerType::Person);
    c
}

fn full_session() -> SessionCreate {
    let mut urls = KpMerchantUrls::default();
    urls.confirmation = Some("https://shop.example/confirm/{session.id}".into());
    urls.authorization = Some("https://shop.example/kp/authorized".into());
    let mut options = WidgetOptions::default();
    options.color_border = Some("#FF9900".into());
    options.radius_border = Some("5px".into());
    let mut s = SessionCreate::new("SE", "SEK", lines())
        .locale("sv-SE")
        .intent(Intent::Buy)
        .acquiring_channel(AcquiringChannel::Ecommerce)
        .merchant_reference1("ON4711")
        .merchant_reference2("hdt53h-zdgg6-hdaff2")
        .merchant_data(r#"{"substore":"running"}"#)
        .merchant_urls(urls)
        .billing_address(address())
        .shipping_address(address())
        .customer(customer())
        .attachment(Attachment::emd(
            r#"{"customer_account_info":[{"unique_account_identifier":"adam"}]}"#,
        ));
    s.options = Some(options);
    s.custom_payment_method_ids = vec!["PROMO10".into()];
    s.design = Some("klarna".into());
    s
}

fn token() -> AuthorizationToken {
    AuthorizationToken::new("b4bd3423-24e3-4b05-9fa0-5e5a6a4f2bc3")
}

#[test]
fn session_amounts_come_from_lines() {
    let s = full_session();
    // 2×12500−2500 + 4900 + 9900 − 1000
    assert_eq!(s.order_amount, 36_300);
    // 4500 + 980 + 561 − 200
    assert_eq!(s.order_tax_amount, Some(5_841));
}

#[test]
fn create_session_request() {
    let req = CreateSession::new(full_session())
        .to_request(&api())
        .unwrap();
    insta::assert_snapshot!("create_session", render(&req));
    support::assert_valid("payments", "session_create", &body(&req));
}

#[test]
fn create_session_minimal_request() {
    let s = SessionCreate::new("US", "USD", vec![OrderLine::new("Mug", 1, 1_000)]);
    let req = CreateSession::new(s).to_request(&api()).unwrap();
    insta::assert_snapshot!("create_session_minimal", render(&req));
    support::assert_valid("payments", "session_create", &body(&req));
}

#[test]
fn twenty_line_session_validates_against_schema() {
    let lines: Vec<OrderLine> = (1..=20)
        .map(|i| {
            OrderLine::new(format!("Item {i}"), i, 1_000 + i * 37)
                .reference(format!("SKU-{i:04}"))
                .tax_rate(if i % 2 == 0 { 2_500 } else { 1_200 })
        })
        .collect();
    let s = SessionCreate::new("DE", "EUR", lines).locale("de-DE");
    let req = CreateSession::new(s).to_request(&api()).unwrap();
    let b = body(&req);
    assert_eq!(b["order_lines"].as_array().map(Vec::len), Some(20));
    support::assert_valid("payments", "session_create", &b);
}

#[test]
fn us_session_with_sales_tax_line_validates() {
    let lines = vec![
        OrderLine::new("Shoe", 1, 20_000).kind(OrderLineType::Physical),
        OrderLine::new("Sales tax", 1, 1_000).kind(OrderLineType::SalesTax),
    ];
    let s = SessionCreate::new("US", "USD", lines).locale("en-US");
    assert_eq!((s.order_amount, s.order_tax_amount), (21_000, Some(1_000)));
    let req = CreateSession::new(s).to_request(&api()).unwrap();
    support::assert_valid("payments", "session_create", &body(&req));
}

#[test]
fn read_session_request() {
    let req = ReadSession::new("0b1d9815-165e-42e2-8867-35bc03789e00")
        .to_request(&api())
        .unwrap();
    insta::assert_snapshot!("read_session", render(&req));
    assert!(req.body().is_empty());
}

#[test]
fn path_segments_are_percent_encoded() {
    let req = ReadSession::new("a b/../c?d").to_request(&api()).unwrap();
    assert_eq!(
        req.uri(),
        "https://api.playground.klarna.com/payments/v1/sessions/a%20b%2F..%2Fc%3Fd"
    );
    let req = CancelAuthorization::new(AuthorizationToken::new("t/1"))
        .to_request(&api())
        .unwrap();
    assert_eq!(
        req.uri(),
        "https://api.playground.klarna.com/payments/v1/authorizations/t%2F1"
    );
}

#[test]
fn empty_ids_are_refused() {
    let err = ReadSession::new("").to_request(&api()).unwrap_err();
    assert!(matches!(
        err,
        Error::Validation(ValidationError { ref field, problem: ValidationProblem::Empty }) if field == "session_id"
    ));
    let err = CancelAuthorization::new(AuthorizationToken::new(""))
        .to_request(&api())
        .unwrap_err();
    assert!(matches!(
        err,
        Error::Validation(ValidationError { ref field, problem: ValidationProblem::Empty }) if field == "authorization_token"
    ));
}

#[test]
fn update_session_request() {
    let mut update = SessionUpdate::with_lines(vec![
        OrderLine::new("Running shoe", 1, 12_500).tax_rate(2_500),
        OrderLine::new("Shipping", 1, 4_900)
            .kind(OrderLineType::ShippingFee)
            .tax_rate(2_500),
    ]);
    update.merchant_reference1 = Some("ON4712".into());
    update.shipping_address = Some(address());
    let req = UpdateSession::new("0b1d9815-165e-42e2-8867-35bc03789e00", update)
        .to_request(&api())
        .unwrap();
    insta::assert_snapshot!("update_session", render(&req));
    support::assert_valid("payments", "session", &body(&req));
}

#[test]
fn update_session_partial_request() {
    let mut update = SessionUpdate::default();
    update.locale = Some("en-SE".into());
    let req = UpdateSession::new("s1", update).to_request(&api()).unwrap();
    assert_eq!(body(&req), serde_json::json!({"locale": "en-SE"}));
    support::assert_valid("payments", "session", &body(&req));
}

#[test]
fn create_order_request() {
    let order = CreateOrderRequest::from_session(&full_session()).auto_capture(false);
    let req = CreateOrder::new(token(), order).to_request(&api()).unwrap();
    insta::assert_snapshot!("create_order", render(&req));
    support::assert_valid("payments", "create_order_request", &body(&req));
}

#[test]
fn create_order_copies_the_session() {
    let s = full_session();
    let o = CreateOrderRequest::from_session(&s);
    assert_eq!(o.order_lines, s.order_lines);
    assert_eq!(
        (o.order_amount, o.order_tax_amount),
        (s.order_amount, s.order_tax_amount)
    );
    assert_eq!(o.billing_address, s.billing_address);
    assert_eq!(o.merchant_urls, s.merchant_urls);
    assert_eq!(o.customer, s.customer);
    assert_eq!(o.locale.as_deref(), Some("sv-SE"));
    assert_eq!(o.auto_capture, None);
    // A session-only field such as `intent` has no place in the order.
    let b = serde_json::to_value(&o).unwrap();
    assert!(b.get("intent").is_none() && b.get("attachment").is_none());
}

#[test]
fn cancel_authorization_request() {
    let req = CancelAuthorization::new(token())
        .to_request(&api())
        .unwrap();
    insta::assert_snapshot!("cancel_authorization", render(&req));
    assert!(req.body().is_empty());
}

#[test]
fn create_customer_token_request() {
    let mut body_in = CustomerTokenRequest::new(
        "Monthly running club",
        IntendedUse::Subscription,
        "sv-SE",
        "SE",
        "SEK",
    );
    body_in.billing_address = Some(address());
    body_in.customer = Some(customer());
    let req = CreateCustomerToken::new(token(), body_in)
        .to_request(&api())
        .unwrap();
    insta::assert_snapshot!("create_customer_token", render(&req));
    support::assert_valid("payments", "customer_token_creation_request", &body(&req));
}

#[test]
fn operation_names_and_statuses() {
    use klarna_hpp_core::http::StatusCode;
    assert_eq!(CreateSession::NAME, "kp.create_session");
    assert_eq!(ReadSession::NAME, "kp.read_session");
    assert_eq!(UpdateSession::NAME, "kp.update_session");
    assert_eq!(CreateOrder::NAME, "kp.create_order");
    assert_eq!(CancelAuthorization::NAME, "kp.cancel_authorization");
    assert_eq!(CreateCustomerToken::NAME, "kp.create_customer_token");
    assert_eq!(CreateSession::DOCUMENTED_STATUS, StatusCode::OK);
    assert_eq!(UpdateSession::DOCUMENTED_STATUS, StatusCode::NO_CONTENT);
    assert_eq!(
        CancelAuthorization::DOCUMENTED_STATUS,
        StatusCode::NO_CONTENT
    );
    assert_eq!(CreateOrder::DOCUMENTED_STATUS, StatusCode::OK);
}

#[test]
fn debug_output_hides_customer_data_and_tokens() {
    let op = CreateOrder::new(token(), CreateOrderRequest::from_session(&full_session()));
    let s = format!("{op:?}");
    for secret in [
        "b4bd3423",
        "Adam",
        "adam@example.com",
        "1978-12-31",
        "Sveavägen",
    ] {
        assert!(!s.contains(secret), "{secret} leaks in {s}");
    }
    let s = format!("{:?}", full_session());
    assert!(
        !s.contains("unique_account_identifier"),
        "attachment body leaks: {s}"
    );
    assert!(
        s.contains("Running shoe"),
        "order lines are not customer data: {s}"
    );
}
