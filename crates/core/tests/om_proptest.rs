//! Order Management invariants: bodies and orders survive encode → decode unchanged; a capture
//! or refund either is refused with a validation error or emits a body its schema accepts; the
//! id of a created resource is recovered from any `Location`.
// Tests may unwrap (house rules); clippy only exempts `#[test]` bodies, not helpers.
#![allow(clippy::unwrap_used)]

mod support;

use klarna_hpp_core::http::Response;
use klarna_hpp_core::model::{Address, OrderLine, OrderLineType};
use klarna_hpp_core::om::*;
use klarna_hpp_core::{
    Api, BaseUrl, Credentials, Environment, Error, Operation, Region, Timestamp,
};
use proptest::prelude::*;
use serde_json::{json, Value};

fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("\\PC{{0,{max}}}")).unwrap()
}

fn opt_text(max: usize) -> impl Strategy<Value = Option<String>> {
    proptest::option::of(text(max))
}

fn timestamp() -> impl Strategy<Value = Timestamp> {
    (0i64..4_102_444_800_000).prop_map(|ms| Timestamp::from_unix_millis(ms).unwrap())
}

/// Known values, plus (when `unknown`) values that cannot be mistaken for known ones. Unknown
/// values are sent as given, so the schema-validity properties use known values only.
fn order_line_type(unknown: bool) -> impl Strategy<Value = OrderLineType> {
    let weight = u32::from(unknown);
    prop_oneof![
        3 => proptest::sample::select(OrderLineType::KNOWN.to_vec()),
        weight => "zz[a-z_]{1,8}".prop_map(|raw| raw.parse::<OrderLineType>().unwrap()),
    ]
}

fn order_line(unknown: bool) -> impl Strategy<Value = OrderLine> {
    (
        text(40),
        0i64..1_000,
        -1_000_000i64..1_000_000,
        proptest::option::of(order_line_type(unknown)),
        opt_text(20),
        proptest::option::of(0i64..10_000),
        proptest::option::of(0i64..1_000),
        opt_text(20),
    )
        .prop_map(
            |(name, quantity, unit_price, kind, reference, tax_rate, discount, data)| {
                let mut line = OrderLine::new(name, quantity, unit_price);
                line.kind = kind;
                line.reference = reference;
                line.tax_rate = tax_rate;
                line.total_discount_amount = discount;
                line.merchant_data = data;
                line
            },
        )
}

fn shipping_method(unknown: bool) -> impl Strategy<Value = ShippingMethod> {
    let weight = u32::from(unknown);
    prop_oneof![
        3 => proptest::sample::select(ShippingMethod::KNOWN.to_vec()),
        weight => "Zz[A-Za-z]{1,8}".prop_map(|raw| raw.parse::<ShippingMethod>().unwrap()),
    ]
}

fn shipping_info(unknown: bool) -> impl Strategy<Value = ShippingInfo> {
    (
        opt_text(30),
        proptest::option::of(shipping_method(unknown)),
        opt_text(30),
        opt_text(60),
        opt_text(30),
        opt_text(30),
        opt_text(60),
    )
        .prop_map(|(company, method, number, uri, rcompany, rnumber, ruri)| {
            let mut s = ShippingInfo::new();
            s.shipping_company = company;
            s.shipping_method = method;
            s.tracking_number = number;
            s.tracking_uri = uri;
            s.return_shipping_company = rcompany;
            s.return_tracking_number = rnumber;
            s.return_tracking_uri = ruri;
            s
        })
}

fn address() -> impl Strategy<Value = Address> {
    (
        opt_text(20),
        opt_text(20),
        opt_text(30),
        opt_text(10),
        opt_text(2),
    )
        .prop_map(|(given, family, street, postal, country)| {
            let mut a = Address::default();
            a.given_name = given;
            a.family_name = family;
            a.street_address = street;
            a.postal_code = postal;
            a.country = country;
            a
        })
}

fn capture_request(
    amount: impl Strategy<Value = i64>,
    unknown: bool,
) -> impl Strategy<Value = CaptureRequest> {
    (
        amount,
        opt_text(300),
        opt_text(300),
        proptest::collection::vec(order_line(unknown), 0..4),
        proptest::collection::vec(shipping_info(unknown), 0..3),
        proptest::option::of(-2i64..100),
    )
        .prop_map(|(amount, description, reference, lines, info, delay)| {
            let mut c = CaptureRequest::new(amount)
                .order_lines(lines)
                .shipping_info(info);
            c.description = description;
            c.reference = reference;
            c.shipping_delay = delay;
            c
        })
}

fn refund_request(
    amount: impl Strategy<Value = i64>,
    unknown: bool,
) -> impl Strategy<Value = RefundRequest> {
    (
        amount,
        opt_text(300),
        opt_text(300),
        proptest::collection::vec(order_line(unknown), 0..4),
    )
        .prop_map(|(amount, description, reference, lines)| {
            let mut r = RefundRequest::new(amount).order_lines(lines);
            r.description = description;
            r.reference = reference;
            r
        })
}

/// Mostly decodable items, and now and then one Klarna might send that this version cannot
/// read (`raw` must not decode as a `T`): kept raw, it must survive the round trip too.
fn items<T: Clone + std::fmt::Debug>(
    decoded: impl Strategy<Value = T>,
    raw: Value,
    max: usize,
) -> impl Strategy<Value = Vec<Item<T>>> {
    let item = prop_oneof![
        4 => decoded.prop_map(Item::Decoded),
        1 => Just(Item::Raw(raw)),
    ];
    proptest::collection::vec(item, 0..max)
}

fn raw_line() -> Value {
    json!({"name": "Cable", "quantity": 1, "note": "no unit_price nor total_amount"})
}

fn raw_shipping_info() -> Value {
    json!({"shipping_company": "UPS", "tracking_number": ["1Z", "999"]})
}

fn order_status() -> impl Strategy<Value = OrderStatus> {
    prop_oneof![
        proptest::sample::select(OrderStatus::KNOWN.to_vec()),
        "ZZ_[A-Z]{1,8}".prop_map(|raw| raw.parse::<OrderStatus>().unwrap()),
    ]
}

fn capture() -> impl Strategy<Value = Capture> {
    (
        text(36),
        any::<i64>(),
        proptest::option::of(timestamp()),
        opt_text(20),
        items(order_line(true), raw_line(), 2),
        any::<i64>(),
        items(shipping_info(true), raw_shipping_info(), 2),
        proptest::option::of(address()),
    )
        .prop_map(|(id, amount, at, reference, lines, refunded, info, addr)| {
            let mut c = Capture::new(id, amount);
            c.captured_at = at;
            c.klarna_reference = reference.clone();
            c.reference = reference;
            c.order_lines = lines;
            c.refunded_amount = refunded;
            c.shipping_info = info;
            c.shipping_address = addr;
            c
        })
}

fn refund() -> impl Strategy<Value = Refund> {
    (
        text(36),
        any::<i64>(),
        proptest::option::of(timestamp()),
        opt_text(20),
        items(order_line(true), raw_line(), 2),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(id, amount, at, description, lines, credit)| {
            let mut r = Refund::new(id, amount);
            r.refunded_at = at;
            r.description = description;
            r.order_lines = lines;
            r.credit_invoice = credit;
            r
        })
}

fn order() -> impl Strategy<Value = Order> {
    let amounts = proptest::array::uniform5(any::<i64>());
    let texts = (
        opt_text(2),
        opt_text(3),
        opt_text(5),
        opt_text(20),
        opt_text(20),
        opt_text(20),
        opt_text(10),
    );
    let people = (
        proptest::option::of((opt_text(10), opt_text(12))),
        proptest::option::of(address()),
        proptest::option::of(address()),
        proptest::option::of(timestamp()),
        proptest::option::of(timestamp()),
    );
    let lists = (
        items(order_line(true), raw_line(), 3),
        // A capture without its id, a refund without its id: kept raw, not fatal.
        items(
            capture(),
            json!({"captured_amount": 100, "description": "x"}),
            3,
        ),
        items(
            refund(),
            json!({"refunded_amount": 50, "refunded_at": "2024-03-05T15:17:40Z"}),
            2,
        ),
        items(shipping_info(true), raw_shipping_info(), 2),
    );
    let extra = (
        proptest::option::of(proptest::sample::select(vec!["ACCEPTED", "PENDING", "zz"])),
        proptest::option::of((opt_text(10), proptest::option::of(1i64..48))),
        proptest::option::of(text(10)),
    );
    (
        text(36),
        order_status(),
        amounts,
        texts,
        people,
        lists,
        extra,
    )
        .prop_map(|(id, status, amounts, texts, people, lists, extra)| {
            let mut o = Order::new(id, status);
            [
                o.order_amount,
                o.original_order_amount,
                o.captured_amount,
                o.refunded_amount,
                o.remaining_authorized_amount,
            ] = amounts;
            (
                o.purchase_country,
                o.purchase_currency,
                o.locale,
                o.merchant_reference1,
                o.merchant_reference2,
                o.merchant_data,
                o.klarna_reference,
            ) = texts;
            o.customer = people.0.map(|(dob, nin)| {
                let mut c = Customer::default();
                c.date_of_birth = dob;
                c.national_identification_number = nin;
                c
            });
            (
                o.billing_address,
                o.shipping_address,
                o.created_at,
                o.expires_at,
            ) = (people.1, people.2, people.3, people.4);
            (o.order_lines, o.captures, o.refunds, o.shipping_info) = lists;
            o.fraud_status = extra.0.map(|raw| raw.parse::<FraudStatus>().unwrap());
            o.initial_payment_method = extra.1.map(|(description, installments)| {
                let mut m = InitialPaymentMethod::default();
                m.kind = Some(PaymentMethodType::PayLaterInParts);
                m.description = description;
                m.number_of_installments = installments;
                m
            });
            o.selected_shipping_option = extra.2.map(|id| json!({"id": id, "price": 0}));
            o
        })
}

fn api() -> Api {
    Api::new(
        BaseUrl::klarna(Region::Eu, Environment::Playground),
        Credentials::new("DemoMerchant", "DemoPassword"),
    )
}

fn roundtrip<T>(value: &T) -> T
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    let bytes = serde_json::to_vec(value).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

proptest! {
    #[test]
    fn capture_request_roundtrips(c in capture_request(any::<i64>(), true)) {
        prop_assert_eq!(roundtrip(&c), c);
    }

    #[test]
    fn refund_request_roundtrips(r in refund_request(any::<i64>(), true)) {
        prop_assert_eq!(roundtrip(&r), r);
    }

    #[test]
    fn order_roundtrips(o in order()) {
        prop_assert_eq!(roundtrip(&o), o.clone());
        // And through the operation's decoder, as a 200 response.
        let response = Response::builder().status(200).body(serde_json::to_vec(&o).unwrap()).unwrap();
        prop_assert_eq!(GetOrder::decode_response(&response).unwrap(), o);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn captures_are_refused_or_valid(c in capture_request(-10i64..200_000_000, false)) {
        thread_local! {
            static SCHEMA: jsonschema::Validator = support::validator("ordermanagement", "CaptureObject");
        }
        match CreateCapture::new("order-1", c, None).to_request(&api()) {
            Ok(req) => {
                let body: Value = serde_json::from_slice(req.body()).unwrap();
                let valid = SCHEMA.with(|v| v.is_valid(&body));
                prop_assert!(valid, "{}", body);
            }
            Err(Error::Validation(_)) => {}
            Err(other) => prop_assert!(false, "unexpected {:?}", other),
        }
    }

    #[test]
    fn refunds_are_refused_or_valid(r in refund_request(-10i64..200_000_000, false)) {
        thread_local! {
            static SCHEMA: jsonschema::Validator = support::validator("ordermanagement", "RefundObject");
        }
        match CreateRefund::new("order-1", r, None).to_request(&api()) {
            Ok(req) => {
                let body: Value = serde_json::from_slice(req.body()).unwrap();
                let valid = SCHEMA.with(|v| v.is_valid(&body));
                prop_assert!(valid, "{}", body);
            }
            Err(Error::Validation(_)) => {}
            Err(other) => prop_assert!(false, "unexpected {:?}", other),
        }
    }

    #[test]
    fn created_ids_come_back_from_the_location(
        id in "[A-Za-z0-9._~-]{1,40}",
        absolute in any::<bool>(),
        slash in any::<bool>(),
    ) {
        prop_assume!(id != "captures" && id != "refunds" && id != "." && id != "..");
        let root = if absolute { "https://api.klarna.com" } else { "" };
        let tail = if slash { "/" } else { "" };
        let capture = Response::builder()
            .status(201)
            .header("Location", format!("{root}/ordermanagement/v1/orders/o-1/captures/{id}{tail}"))
            .body(Vec::new())
            .unwrap();
        prop_assert_eq!(CreateCapture::decode_response(&capture).unwrap().capture_id, Some(id.clone()));
        let refund = Response::builder()
            .status(201)
            .header("Location", format!("{root}/ordermanagement/v1/orders/o-1/refunds/{id}{tail}"))
            .body(Vec::new())
            .unwrap();
        prop_assert_eq!(CreateRefund::decode_response(&refund).unwrap().refund_id, Some(id));
    }

    #[test]
    fn any_ids_build_a_request_or_a_validation_error(order_id in text(20), capture_id in text(20)) {
        match GetCapture::new(order_id.clone(), capture_id.clone()).to_request(&api()) {
            Ok(req) => {
                let path = req.uri().path();
                prop_assert_eq!(path.matches('/').count(), 6, "{}", path);
                prop_assert!(!order_id.is_empty() && !capture_id.is_empty());
            }
            Err(Error::Validation(v)) => prop_assert!(order_id.is_empty() || capture_id.is_empty(), "{:?}", v),
            Err(other) => prop_assert!(false, "unexpected {:?}", other),
        }
    }
}
