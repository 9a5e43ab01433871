//! No panic on any amount (issue 12, item 3): a property test sends extreme amounts (int64's
//! ends, −1, 0, numbers outside int64) and many order lines to every endpoint that takes money —
//! KP create/update session and create order, OM update authorization, capture and refund —
//! over loopback. Every request gets an answer (a panic would close the connection), every
//! answer body validates against Klarna's schemas (the support client checks each one), and the
//! order read afterwards still validates.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

mod support;

use proptest::prelude::*;
use serde_json::{json, Value};
use support::*;

/// An amount as JSON text: inside int64 or outside it.
fn amount() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop_oneof![
            Just(i64::MIN), Just(i64::MIN + 1), Just(-1i64), Just(0i64), Just(1i64),
            Just(i64::MAX), Just(i64::MAX - 1), Just(1i64 << 53), Just(62400i64),
            Just(1000i64), Just(CAP), Just(CAP + 1),
        ].prop_map(|n| n.to_string()),
        2 => any::<i64>().prop_map(|n| n.to_string()),
        1 => prop_oneof![
            Just("9223372036854775808".to_owned()),
            Just("-9223372036854775809".to_owned()),
            Just("18446744073709551615".to_owned()),
            Just("1e30".to_owned()),
            Just("-1e300".to_owned()),
            Just("100.0".to_owned()),
            Just("0.5".to_owned()),
            Just("\"9223372036854775807\"".to_owned()),
        ],
    ]
}

/// One of these, as JSON text.
fn pick(values: &'static [i64]) -> impl Strategy<Value = String> {
    prop::sample::select(values).prop_map(|n| n.to_string())
}

const MIN: i64 = i64::MIN;
const MAX: i64 = i64::MAX;
const CAP: i64 = 100_000_000; // the OM schemas' maximum for amounts

/// One order line with extreme numbers: mostly values each field's schema allows (so that the
/// request reaches the arithmetic), sometimes anything.
fn line() -> impl Strategy<Value = String> {
    let fields = prop_oneof![
        12 => (
            pick(&[0, 1, 2, MAX]),
            pick(&[MIN, MIN + 1, -1, 0, 1, CAP]),
            pick(&[MIN, MIN + 1, -1, 0, 1, CAP, 62400]),
            pick(&[0, 2500, 10_000]),
            pick(&[MIN, -1, 0, 1, CAP]),
            pick(&[0, 1, CAP]),
        ),
        1 => (amount(), amount(), amount(), amount(), amount(), amount()),
    ];
    fields.prop_map(|(q, unit, total, rate, tax, discount)| {
        format!(
            r#"{{"name":"x","quantity":{q},"unit_price":{unit},"total_amount":{total},"tax_rate":{rate},"total_tax_amount":{tax},"total_discount_amount":{discount}}}"#
        )
    })
}

/// A few lines, or many copies of one (up to 3,000).
fn lines() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::collection::vec(line(), 0..5).prop_map(|l| format!("[{}]", l.join(","))),
        1 => (line(), 100usize..3000).prop_map(|(l, n)| format!("[{}]", vec![l; n].join(","))),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    order_amount: String,
    tax_amount: String,
    lines: String,
    money: String,
}

fn case() -> impl Strategy<Value = Case> {
    (amount(), amount(), lines(), amount()).prop_map(|(order_amount, tax_amount, lines, money)| {
        Case {
            order_amount,
            tax_amount,
            lines,
            money,
        }
    })
}

fn kp_text(c: &Case) -> String {
    format!(
        r#"{{"purchase_country":"SE","purchase_currency":"SEK","locale":"sv-SE","order_amount":{},"order_tax_amount":{},"order_lines":{}}}"#,
        c.order_amount, c.tax_amount, c.lines
    )
}

async fn post_text(api: &Api, method: &str, path: &str, body: String) -> Resp {
    let r = api.send(method, path, Some(body.into_bytes()), &[]).await;
    assert!(r.status < 500, "{method} {path}: {} {}", r.status, r.text);
    r
}

async fn run(api: &Api, sim: &klarna_hpp_sim::SimHandle, order: &str, token: &str, c: &Case) {
    // KP: create session, update it, create an order from a live token.
    post_text(api, "POST", "/payments/v1/sessions", kp_text(c)).await;
    let kp = api.kp_session(&kp_body()).await;
    post_text(
        api,
        "POST",
        &format!("/payments/v1/sessions/{kp}"),
        kp_text(c),
    )
    .await;
    post_text(
        api,
        "POST",
        &format!("/payments/v1/authorizations/{token}/order"),
        kp_text(c),
    )
    .await;
    // OM: update authorization, capture, refund, on an order that may have captures.
    let o = |tail: &str| format!("/ordermanagement/v1/orders/{order}{tail}");
    post_text(
        api,
        "PATCH",
        &o("/authorization"),
        format!(
            r#"{{"order_amount":{},"order_lines":{}}}"#,
            c.order_amount, c.lines
        ),
    )
    .await;
    post_text(
        api,
        "POST",
        &o("/captures"),
        format!(
            r#"{{"captured_amount":{},"order_lines":{}}}"#,
            c.money, c.lines
        ),
    )
    .await;
    post_text(
        api,
        "POST",
        &o("/refunds"),
        format!(
            r#"{{"refunded_amount":{},"order_lines":{}}}"#,
            c.money, c.lines
        ),
    )
    .await;
    // Everything the order shows still validates (the support client checks the schema) and
    // its amounts are integers that add up.
    let read = api.get(&o("")).await;
    assert_eq!(read.status, 200);
    let b = &read.body;
    for key in [
        "order_amount",
        "captured_amount",
        "refunded_amount",
        "remaining_authorized_amount",
    ] {
        assert!(b[key].is_i64(), "{key} is an int64: {}", b[key]);
    }
    let captured = b["captured_amount"].as_i64().unwrap();
    let refunded = b["refunded_amount"].as_i64().unwrap();
    assert!((0..=captured).contains(&refunded), "{b}");
    assert!(captured <= b["order_amount"].as_i64().unwrap().max(captured));
    let _ = sim;
}

/// The case from issue 12: lines whose totals add up below int64 (`i64::MIN` and `-1` there;
/// `i64::MIN` itself is now outside the bounded range, so `−(2⁶³−1)` and `-2`), on a capture and
/// an authorization update, used to close the connection without an answer (a debug build's
/// overflow panic).
#[tokio::test(flavor = "multi_thread")]
async fn lines_adding_up_beyond_int64_get_an_answer() {
    let sim = start().await;
    let api = Api::new(&sim);
    let order = api.order(&sim).await;
    let lines = format!(
        r#"[{{"name":"a","quantity":1,"unit_price":{lowest},"total_amount":{lowest}}},{{"name":"b","quantity":1,"unit_price":-2,"total_amount":-2}}]"#,
        lowest = MIN + 1
    );
    let o = |tail: &str| format!("/ordermanagement/v1/orders/{order}{tail}");
    let capture = post_text(
        &api,
        "POST",
        &o("/captures"),
        format!(r#"{{"captured_amount":100,"order_lines":{lines}}}"#),
    )
    .await;
    capture.assert_error(400, "BAD_VALUE");
    let update = post_text(
        &api,
        "PATCH",
        &o("/authorization"),
        format!(r#"{{"order_amount":62400,"order_lines":{lines}}}"#),
    )
    .await;
    update.assert_error(400, "BAD_VALUE");
    let refund_lines = post_text(
        &api,
        "POST",
        &o("/refunds"),
        format!(r#"{{"refunded_amount":100,"order_lines":{lines}}}"#),
    )
    .await;
    assert!(refund_lines.status >= 400, "{}", refund_lines.text);
    let read = api.get(&o("")).await;
    assert_eq!(read.body["captured_amount"], 0);
    assert_eq!(read.body["order_amount"], 62400);
}

#[test]
fn extreme_amounts_never_panic_and_every_answer_validates() {
    // Debug builds of the nested request futures are large: a thread with room for them.
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(property)
        .unwrap()
        .join()
        .unwrap();
}

fn property() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt.block_on(start());
    let api = Api::new(&sim);
    // One order with a partial capture (so refunds have something to refund) and one live
    // authorization token per case batch.
    let order = rt.block_on(async {
        let order = api.order(&sim).await;
        let r = api
            .post(
                &format!("/ordermanagement/v1/orders/{order}/captures"),
                &json!({"captured_amount": 1000}),
            )
            .await;
        assert_eq!(r.status, 201);
        order
    });
    let mut config = ProptestConfig::with_cases(64);
    config.failure_persistence = None;
    proptest!(config, |(c in case())| {
        rt.block_on(async {
            let (_, hpp) = api.checkout(json!({})).await;
            let token = sim.consumer(&hpp).pay().unwrap().authorization_token.unwrap();
            Box::pin(run(&api, &sim, &order, &token, &c)).await;
        });
    });
    // The emulator is still up and consistent.
    rt.block_on(async {
        let r = api
            .get(&format!("/ordermanagement/v1/orders/{order}"))
            .await;
        assert_eq!(r.status, 200);
        let v: Value = r.body;
        assert!(v["captured_amount"].as_i64().unwrap() >= 1000);
    });
    rt.block_on(sim.shutdown());
}
