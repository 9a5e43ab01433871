//! Order Management requests: the exact bytes of every operation (insta snapshots), every body
//! against its schema in Klarna's OM OpenAPI, and the validation that stops a request.
// Tests may unwrap (house rules); clippy only exempts `#[test]` bodies, not helpers.
#![allow(clippy::unwrap_used)]

mod support;

use klarna_hpp_core::http::Request;
use klarna_hpp_core::model::{Address, OrderLine, OrderLineType};
use klarna_hpp_core::om::*;
use klarna_hpp_core::{
    Api, BaseUrl, Credentials, Environment, Error, Operation, Region, ValidationError,
    ValidationProblem, IDEMPOTENCY_KEY_HEADER,
};
use serde_json::Value;

const ORDER: &str = "f3392f8b-6116-4073-ab96-e330819e2c07";
const CAPTURE: &str = "4ba29b50-be7b-44f5-a492-113e6a865e22";
const REFUND: &str = "b2cb4f2e-2781-4359-80ad-555735ebb8d8";
const KEY: &str = "2d4a5f5e-0000-4000-8000-000000000001";

fn api() -> Api {
    Api::new(
        BaseUrl::klarna(Region::Eu, Environment::Playground),
        Credentials::new("DemoMerchant", "DemoPassword"),
    )
}

fn key() -> Option<IdempotencyKey> {
    Some(IdempotencyKey::new(KEY).unwrap())
}

/// Method, URI, sorted headers, pretty body.
fn render(req: &Request<Vec<u8>>) -> String {
    let mut out = format!("{} {}\n", req.method(), req.uri());
    let mut headers: Vec<String> = req
        .headers()
        .iter()
        .map(|(name, value)| format!("{name}: {}", value.to_str().unwrap()))
        .collect();
    headers.sort();
    for h in headers {
        out.push_str(&h);
        out.push('\n');
    }
    out.push('\n');
    if req.body().is_empty() {
        out.push_str("(no body)\n");
    } else {
        let v: Value = serde_json::from_slice(req.body()).unwrap();
        out.push_str(&serde_json::to_string_pretty(&v).unwrap());
        out.push('\n');
    }
    out
}

fn body(req: &Request<Vec<u8>>) -> Value {
    serde_json::from_slice(req.body()).unwrap()
}

fn lines() -> Vec<OrderLine> {
    vec![
        OrderLine::new("Running shoes", 1, 10_000)
            .kind(OrderLineType::Physical)
            .reference("SHOE-42")
            .tax_rate(2_500),
        OrderLine::new("Shipping", 1, 500)
            .kind(OrderLineType::ShippingFee)
            .tax_rate(2_500),
    ]
}

fn shipping() -> Vec<ShippingInfo> {
    vec![ShippingInfo::new()
        .shipping_company("DHL US")
        .shipping_method(ShippingMethod::Home)
        .tracking_number("63456415674545679874")
        .tracking_uri("https://shipping.example/findmypackage?63456415674545679874")]
}

fn address() -> Address {
    let mut a = Address::default();
    a.given_name = Some("Klara".into());
    a.family_name = Some("Joyce".into());
    a.email = Some("klara.joyce@klarna.com".into());
    a.street_address = Some("Apartment 10".into());
    a.street_address2 = Some("1 Safeway".into());
    a.postal_code = Some("12345".into());
    a.city = Some("Knoxville".into());
    a.region = Some("TN".into());
    a.phone = Some("1-555-555-5555".into());
    a.country = Some("us".into());
    a
}

fn capture_request() -> CaptureRequest {
    CaptureRequest::new(10_500)
        .description("Shipped in full")
        .reference("capture-1")
        .order_lines(lines())
        .shipping_info(shipping())
        .shipping_delay(0)
}

fn refund_request() -> RefundRequest {
    RefundRequest::new(10_000)
        .description("Shoes returned")
        .reference("refund-1")
        .order_lines(vec![lines().remove(0)])
}

fn update_authorization() -> UpdateAuthorizationRequest {
    UpdateAuthorizationRequest::new(10_500)
        .description("Removed the charger")
        .order_lines(lines())
}

fn merchant_references() -> MerchantReferences {
    MerchantReferences::new()
        .merchant_reference1("10001")
        .merchant_reference2("")
}

fn assert_body_valid(req: &Request<Vec<u8>>, schema: &str) {
    support::assert_valid("ordermanagement", schema, &body(req));
}

// ---------------------------------------------------------------- exact requests, one per op

macro_rules! snapshot {
    ($name:ident, $op:expr) => {
        #[test]
        fn $name() {
            let req = $op.to_request(&api()).unwrap();
            insta::assert_snapshot!(stringify!($name), render(&req));
        }
    };
}

snapshot!(get_order, GetOrder::new(ORDER));
snapshot!(acknowledge, Acknowledge::new(ORDER, key()));
snapshot!(
    update_authorization_request,
    UpdateAuthorization::new(ORDER, update_authorization(), key())
);
snapshot!(cancel_order, CancelOrder::new(ORDER, key()));
snapshot!(list_captures, ListCaptures::new(ORDER));
snapshot!(
    create_capture,
    CreateCapture::new(ORDER, capture_request(), key())
);
snapshot!(
    create_capture_minimal,
    CreateCapture::new(ORDER, CaptureRequest::new(10_500), None)
);
snapshot!(get_capture, GetCapture::new(ORDER, CAPTURE));
snapshot!(
    add_capture_shipping_info,
    AddCaptureShippingInfo::new(ORDER, CAPTURE, shipping(), key())
);
snapshot!(trigger_send_out, TriggerSendOut::new(ORDER, CAPTURE, key()));
snapshot!(
    extend_due_date,
    ExtendDueDate::new(ORDER, CAPTURE, 14, key())
);
snapshot!(
    get_extend_due_date_options,
    GetExtendDueDateOptions::new(ORDER, CAPTURE)
);
snapshot!(
    update_customer_details,
    UpdateCustomerDetails::new(ORDER, CustomerDetails::shipping(address()), key())
);
snapshot!(
    extend_authorization_time,
    ExtendAuthorizationTime::new(ORDER, key())
);
snapshot!(
    update_merchant_references,
    UpdateMerchantReferences::new(ORDER, merchant_references(), key())
);
snapshot!(
    create_refund,
    CreateRefund::new(ORDER, refund_request(), key())
);
snapshot!(get_refund, GetRefund::new(ORDER, REFUND));
snapshot!(
    release_remaining_authorization,
    ReleaseRemainingAuthorization::new(ORDER, key())
);
snapshot!(
    add_order_shipping_info,
    AddOrderShippingInfo::new(ORDER, shipping(), key())
);
snapshot!(
    ids_are_percent_encoded,
    GetCapture::new("order/../1", "capture id?")
);

// ---------------------------------------------------------------- bodies against the spec

#[test]
fn bodies_validate_against_their_spec_schemas() {
    let api = api();
    let cases: Vec<(Request<Vec<u8>>, &str)> = vec![
        (
            CreateCapture::new(ORDER, capture_request(), key())
                .to_request(&api)
                .unwrap(),
            "CaptureObject",
        ),
        (
            CreateCapture::new(ORDER, CaptureRequest::new(1), key())
                .to_request(&api)
                .unwrap(),
            "CaptureObject",
        ),
        (
            CreateRefund::new(ORDER, refund_request(), key())
                .to_request(&api)
                .unwrap(),
            "RefundObject",
        ),
        (
            CreateRefund::new(ORDER, RefundRequest::new(1), None)
                .to_request(&api)
                .unwrap(),
            "RefundObject",
        ),
        (
            UpdateAuthorization::new(ORDER, update_authorization(), key())
                .to_request(&api)
                .unwrap(),
            "Update_authorization",
        ),
        (
            UpdateMerchantReferences::new(ORDER, merchant_references(), key())
                .to_request(&api)
                .unwrap(),
            "Update_merchant_references",
        ),
        (
            UpdateCustomerDetails::new(ORDER, CustomerDetails::shipping(address()), key())
                .to_request(&api)
                .unwrap(),
            "UpdateConsumer",
        ),
        (
            ExtendDueDate::new(ORDER, CAPTURE, 14, key())
                .to_request(&api)
                .unwrap(),
            "ExtendDueDateRequest",
        ),
        // Both shipping-info operations take `#/components/requestBodies/UpdateShippingInfo`.
        (
            AddOrderShippingInfo::new(ORDER, shipping(), key())
                .to_request(&api)
                .unwrap(),
            "UpdateShippingInfo",
        ),
        (
            AddCaptureShippingInfo::new(ORDER, CAPTURE, shipping(), key())
                .to_request(&api)
                .unwrap(),
            "UpdateShippingInfo",
        ),
    ];
    for (req, schema) in &cases {
        assert_body_valid(req, schema);
    }
}

#[test]
fn every_shipping_method_validates() {
    for method in ShippingMethod::KNOWN {
        let info = vec![ShippingInfo::new().shipping_method(method.clone())];
        let req = AddOrderShippingInfo::new(ORDER, info, None)
            .to_request(&api())
            .unwrap();
        assert_body_valid(&req, "UpdateShippingInfo");
    }
}

#[test]
fn writes_carry_the_key_and_reads_do_not() {
    let api = api();
    let writes: Vec<Request<Vec<u8>>> = vec![
        Acknowledge::new(ORDER, key()).to_request(&api).unwrap(),
        UpdateAuthorization::new(ORDER, update_authorization(), key())
            .to_request(&api)
            .unwrap(),
        CancelOrder::new(ORDER, key()).to_request(&api).unwrap(),
        CreateCapture::new(ORDER, capture_request(), key())
            .to_request(&api)
            .unwrap(),
        AddCaptureShippingInfo::new(ORDER, CAPTURE, shipping(), key())
            .to_request(&api)
            .unwrap(),
        TriggerSendOut::new(ORDER, CAPTURE, key())
            .to_request(&api)
            .unwrap(),
        ExtendDueDate::new(ORDER, CAPTURE, 14, key())
            .to_request(&api)
            .unwrap(),
        UpdateCustomerDetails::new(ORDER, CustomerDetails::shipping(address()), key())
            .to_request(&api)
            .unwrap(),
        ExtendAuthorizationTime::new(ORDER, key())
            .to_request(&api)
            .unwrap(),
        UpdateMerchantReferences::new(ORDER, merchant_references(), key())
            .to_request(&api)
            .unwrap(),
        CreateRefund::new(ORDER, refund_request(), key())
            .to_request(&api)
            .unwrap(),
        ReleaseRemainingAuthorization::new(ORDER, key())
            .to_request(&api)
            .unwrap(),
        AddOrderShippingInfo::new(ORDER, shipping(), key())
            .to_request(&api)
            .unwrap(),
    ];
    for req in &writes {
        assert_eq!(req.headers()[IDEMPOTENCY_KEY_HEADER], KEY, "{}", req.uri());
        assert!(matches!(req.method().as_str(), "POST" | "PATCH"));
    }
    let reads: Vec<Request<Vec<u8>>> = vec![
        GetOrder::new(ORDER).to_request(&api).unwrap(),
        ListCaptures::new(ORDER).to_request(&api).unwrap(),
        GetCapture::new(ORDER, CAPTURE).to_request(&api).unwrap(),
        GetExtendDueDateOptions::new(ORDER, CAPTURE)
            .to_request(&api)
            .unwrap(),
        GetRefund::new(ORDER, REFUND).to_request(&api).unwrap(),
    ];
    for req in &reads {
        assert_eq!(req.method(), "GET");
        assert!(req.headers().get(IDEMPOTENCY_KEY_HEADER).is_none());
        assert!(req.body().is_empty());
        assert!(req.headers().get("content-type").is_none());
    }
    // Without a key, a write sends no header at all.
    let req = CancelOrder::new(ORDER, None).to_request(&api).unwrap();
    assert!(req.headers().get(IDEMPOTENCY_KEY_HEADER).is_none());
}

#[test]
fn bodiless_posts_send_no_body_and_no_content_type() {
    let api = api();
    let posts = [
        Acknowledge::new(ORDER, key()).to_request(&api).unwrap(),
        CancelOrder::new(ORDER, key()).to_request(&api).unwrap(),
        TriggerSendOut::new(ORDER, CAPTURE, key())
            .to_request(&api)
            .unwrap(),
        ExtendAuthorizationTime::new(ORDER, key())
            .to_request(&api)
            .unwrap(),
        ReleaseRemainingAuthorization::new(ORDER, key())
            .to_request(&api)
            .unwrap(),
    ];
    for req in &posts {
        assert_eq!(req.method(), "POST");
        assert!(req.body().is_empty(), "{}", req.uri());
        assert!(req.headers().get("content-type").is_none(), "{}", req.uri());
    }
}

#[test]
fn operation_constants() {
    use klarna_hpp_core::http::StatusCode;
    assert_eq!(GetOrder::DOCUMENTED_STATUS, StatusCode::OK);
    assert_eq!(CreateCapture::DOCUMENTED_STATUS, StatusCode::CREATED);
    assert_eq!(CreateRefund::DOCUMENTED_STATUS, StatusCode::CREATED);
    assert_eq!(CancelOrder::DOCUMENTED_STATUS, StatusCode::NO_CONTENT);
    assert_eq!(CreateCapture::NAME, "om.create_capture");
    assert_eq!(UpdateAuthorization::NAME, "om.update_authorization");
}

// ---------------------------------------------------------------- validation stops the request

fn refused<O: Operation>(op: O) -> ValidationError {
    match op.to_request(&api()) {
        Err(Error::Validation(v)) => v,
        Err(other) => panic!("expected a validation error, got {other:?}"),
        Ok(req) => panic!(
            "expected a validation error, got a request to {}",
            req.uri()
        ),
    }
}

#[test]
fn zero_capture_is_not_positive() {
    let e = refused(CreateCapture::new(ORDER, CaptureRequest::new(0), key()));
    assert_eq!(e.field, "captured_amount");
    assert_eq!(e.problem, ValidationProblem::NotPositive { actual: 0 });
    assert_eq!(
        e.to_string(),
        "invalid `captured_amount`: must be positive, got 0"
    );
}

#[test]
fn amounts_are_bounded() {
    let e = refused(CreateCapture::new(
        ORDER,
        CaptureRequest::new(100_000_001),
        key(),
    ));
    assert_eq!(
        e.problem,
        ValidationProblem::OutOfRange {
            min: 1,
            max: 100_000_000,
            actual: 100_000_001
        }
    );
    let e = refused(CreateRefund::new(ORDER, RefundRequest::new(-5), key()));
    assert_eq!(e.field, "refunded_amount");
    assert_eq!(e.problem, ValidationProblem::NotPositive { actual: -5 });
    let e = refused(UpdateAuthorization::new(
        ORDER,
        UpdateAuthorizationRequest::new(-1),
        key(),
    ));
    assert_eq!(e.field, "order_amount");
    assert!(matches!(
        e.problem,
        ValidationProblem::OutOfRange { min: 0, .. }
    ));
    assert!(
        CreateCapture::new(ORDER, CaptureRequest::new(100_000_000), key())
            .to_request(&api())
            .is_ok()
    );
}

#[test]
fn texts_are_bounded() {
    let long = "x".repeat(256);
    let e = refused(CreateCapture::new(
        ORDER,
        CaptureRequest::new(1).description(long.clone()),
        key(),
    ));
    assert_eq!(
        (e.field.as_str(), e.problem),
        ("description", ValidationProblem::TooLong { max: 255 })
    );
    let e = refused(CreateRefund::new(
        ORDER,
        RefundRequest::new(1).reference(long.clone()),
        key(),
    ));
    assert_eq!(e.field, "reference");
    let e = refused(UpdateMerchantReferences::new(
        ORDER,
        MerchantReferences::new().merchant_reference2(long),
        key(),
    ));
    assert_eq!(
        (e.field.as_str(), e.problem),
        (
            "merchant_reference2",
            ValidationProblem::TooLong { max: 255 }
        )
    );
}

#[test]
fn order_lines_are_checked() {
    let mut bad = lines();
    bad[1].name = String::new();
    let e = refused(CreateCapture::new(
        ORDER,
        CaptureRequest::new(1).order_lines(bad),
        key(),
    ));
    assert_eq!(
        (e.field.as_str(), e.problem),
        ("order_lines[1].name", ValidationProblem::Empty)
    );
    let mut bad = lines();
    bad[0].name = "n".repeat(256);
    let e = refused(CreateRefund::new(
        ORDER,
        RefundRequest::new(1).order_lines(bad),
        key(),
    ));
    assert_eq!(e.field, "order_lines[0].name");
    let mut bad = lines();
    bad[0].quantity = -1;
    let e = refused(UpdateAuthorization::new(
        ORDER,
        UpdateAuthorizationRequest::new(1).order_lines(bad),
        key(),
    ));
    assert_eq!(e.field, "order_lines[0].quantity");
    let many = vec![OrderLine::new("x", 1, 1); 1001];
    let e = refused(CreateCapture::new(
        ORDER,
        CaptureRequest::new(1).order_lines(many),
        key(),
    ));
    assert_eq!(
        (e.field.as_str(), e.problem),
        ("order_lines", ValidationProblem::TooMany { max: 1000 })
    );
}

#[test]
fn shipping_info_is_checked() {
    let e = refused(AddOrderShippingInfo::new(ORDER, vec![], key()));
    assert_eq!(
        (e.field.as_str(), e.problem),
        ("shipping_info", ValidationProblem::Empty)
    );
    let e = refused(AddCaptureShippingInfo::new(
        ORDER,
        CAPTURE,
        vec![ShippingInfo::new(); 501],
        key(),
    ));
    assert_eq!(
        (e.field.as_str(), e.problem),
        ("shipping_info", ValidationProblem::TooMany { max: 500 })
    );
    let info = vec![
        ShippingInfo::new(),
        ShippingInfo::new().tracking_number("1".repeat(101)),
    ];
    let e = refused(AddOrderShippingInfo::new(ORDER, info, key()));
    assert_eq!(
        (e.field.as_str(), e.problem),
        (
            "shipping_info[1].tracking_number",
            ValidationProblem::TooLong { max: 100 }
        )
    );
    let info = vec![ShippingInfo::new().return_tracking_uri("u".repeat(1025))];
    let e = refused(CreateCapture::new(
        ORDER,
        CaptureRequest::new(1).shipping_info(info),
        key(),
    ));
    assert_eq!(e.field, "shipping_info[0].return_tracking_uri");
    let e = refused(CreateCapture::new(
        ORDER,
        CaptureRequest::new(1).shipping_delay(-1),
        key(),
    ));
    assert_eq!(e.field, "shipping_delay");
}

#[test]
fn due_date_days_must_be_positive() {
    let e = refused(ExtendDueDate::new(ORDER, CAPTURE, 0, key()));
    assert_eq!(
        (e.field.as_str(), e.problem),
        (
            "number_of_days",
            ValidationProblem::NotPositive { actual: 0 }
        )
    );
}

#[test]
fn customer_details_need_an_address() {
    let e = refused(UpdateCustomerDetails::new(
        ORDER,
        CustomerDetails::default(),
        key(),
    ));
    assert_eq!(e.problem, ValidationProblem::Missing);
}

#[test]
fn empty_ids_are_refused() {
    let e = refused(GetOrder::new(""));
    assert_eq!(
        (e.field.as_str(), e.problem),
        ("order_id", ValidationProblem::Empty)
    );
    let e = refused(TriggerSendOut::new(ORDER, "", key()));
    assert_eq!(e.field, "capture_id");
    let e = refused(GetRefund::new(ORDER, ""));
    assert_eq!(e.field, "refund_id");
}

#[test]
fn idempotency_key_is_checked_at_construction() {
    assert_eq!(
        IdempotencyKey::new("").unwrap_err().problem,
        ValidationProblem::Empty
    );
    assert!(matches!(
        IdempotencyKey::new("line\nbreak").unwrap_err().problem,
        ValidationProblem::Pattern { .. }
    ));
    assert_eq!(
        IdempotencyKey::new("k".repeat(256)).unwrap_err().problem,
        ValidationProblem::TooLong { max: 255 }
    );
}
