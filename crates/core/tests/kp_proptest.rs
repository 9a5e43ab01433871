//! Invariants of the KP bodies: encoding round-trips, bodies built from valid lines validate
//! (against our rules and Klarna's schema), a tampered line is refused by name, and nothing panics.
mod support;

use klarna_hpp_core::kp::{CreateOrderRequest, CreateSession, Intent, SessionCreate};
use klarna_hpp_core::model::{OrderLine, OrderLineType};
use klarna_hpp_core::validate;
use klarna_hpp_core::{
    Api, BaseUrl, Credentials, Environment, Error, Operation, Region, ValidationProblem,
};
use proptest::prelude::*;

fn api() -> Api {
    Api::new(
        BaseUrl::klarna(Region::Eu, Environment::Playground),
        Credentials::new("DemoMerchant", "DemoPassword"),
    )
}

fn kind() -> impl Strategy<Value = Option<OrderLineType>> {
    prop_oneof![
        Just(None),
        Just(Some(OrderLineType::Physical)),
        Just(Some(OrderLineType::Digital)),
        Just(Some(OrderLineType::ShippingFee)),
        Just(Some(OrderLineType::Surcharge)),
        // Unknown kinds pass through; `sales_tax` would switch to the US tax rule, so not that.
        "[a-z_]{3,12}"
            .prop_map(|s| Some(OrderLineType::parse(&s)).filter(|k| *k != OrderLineType::SalesTax)),
    ]
}

/// A valid line built the documented way: `OrderLine::new` + `tax_rate` (+ `discount`).
fn valid_line() -> impl Strategy<Value = OrderLine> {
    (
        "[A-Za-zåäö][A-Za-zåäö0-9 ]{0,30}",
        0i64..=100,
        0i64..=1_000_000,
        0i64..=10_000,
        kind(),
        proptest::option::of("[A-Z0-9-]{1,20}"),
        proptest::option::of("[a-z]{1,8}"),
    )
        .prop_flat_map(|(name, qty, price, rate, kind, reference, unit)| {
            (0..=qty * price).prop_map(move |discount| {
                let mut l = OrderLine::new(name.clone(), qty, price).tax_rate(rate);
                if discount > 0 {
                    l = l.discount(discount);
                }
                l.kind = kind.clone();
                l.reference = reference.clone();
                l.quantity_unit = unit.clone();
                l
            })
        })
}

/// A voucher line: negative price, with tax like the goods.
fn discount_line() -> impl Strategy<Value = OrderLine> {
    (1i64..=5_000, 0i64..=10_000).prop_map(|(amount, rate)| {
        OrderLine::new("Voucher", 1, -amount)
            .kind(OrderLineType::Discount)
            .tax_rate(rate)
    })
}

fn valid_session() -> impl Strategy<Value = SessionCreate> {
    (
        proptest::collection::vec(valid_line(), 1..=25),
        proptest::option::of(discount_line()),
        prop::sample::select(vec![
            ("SE", "SEK"),
            ("DE", "EUR"),
            ("GB", "GBP"),
            ("at", "eur"),
        ]),
        proptest::option::of(prop::sample::select(vec!["sv-SE", "de-DE", "en-GB", "en"])),
        proptest::option::of("[A-Za-z0-9-]{0,255}"),
        proptest::option::of(prop::sample::select(vec![
            Intent::Buy,
            Intent::BuyAndTokenize,
        ])),
    )
        .prop_map(
            |(mut lines, voucher, (country, currency), locale, reference, intent)| {
                lines.extend(voucher);
                let mut s = SessionCreate::new(country, currency, lines);
                s.locale = locale.map(str::to_owned);
                s.merchant_reference1 = reference;
                s.intent = intent;
                s
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn session_create_round_trips(s in valid_session()) {
        let bytes = serde_json::to_vec(&s).unwrap();
        let back: SessionCreate = serde_json::from_slice(&bytes).unwrap();
        prop_assert_eq!(back, s);
    }

    #[test]
    fn create_order_request_round_trips(s in valid_session(), capture in any::<Option<bool>>()) {
        let mut o = CreateOrderRequest::from_session(&s);
        o.auto_capture = capture;
        let bytes = serde_json::to_vec(&o).unwrap();
        let back: CreateOrderRequest = serde_json::from_slice(&bytes).unwrap();
        prop_assert_eq!(back, o);
    }

    #[test]
    fn sessions_from_valid_lines_validate(s in valid_session()) {
        prop_assume!(s.order_amount >= 0 && s.order_tax_amount.is_some_and(|t| t >= 0));
        prop_assert_eq!(s.order_amount, s.order_lines.iter().map(|l| l.total_amount).sum::<i64>());
        let request = CreateSession::new(s.clone()).to_request(&api());
        prop_assert!(request.is_ok(), "{:?}", request.err());
        prop_assert!(CreateOrderRequest::from_session(&s).validate().is_ok());
    }

    #[test]
    fn a_tampered_line_total_is_refused_by_name(
        s in valid_session(),
        index in any::<prop::sample::Index>(),
        delta in prop_oneof![-1_000i64..=-1, 1i64..=1_000],
    ) {
        prop_assume!(s.order_amount >= 0 && s.order_tax_amount.is_some_and(|t| t >= 0));
        let mut s = s;
        let i = index.index(s.order_lines.len());
        s.order_lines[i].total_amount += delta;
        match CreateSession::new(s).to_request(&api()) {
            Err(Error::Validation(e)) => {
                prop_assert_eq!(e.field, format!("order_lines[{i}].total_amount"));
                prop_assert!(matches!(
                    e.problem,
                    ValidationProblem::Mismatch { .. } | ValidationProblem::OutOfRange { .. }
                ), "{:?}", e.problem);
            }
            other => prop_assert!(false, "expected a refusal, got {:?}", other.map(|r| r.uri().clone())),
        }
    }

    #[test]
    fn validation_never_panics(
        qty in any::<i64>(),
        price in any::<i64>(),
        total in any::<i64>(),
        discount in any::<Option<i64>>(),
        rate in any::<Option<i64>>(),
        tax in any::<Option<i64>>(),
        sales_tax in any::<bool>(),
        order_amount in any::<i64>(),
        order_tax in any::<i64>(),
    ) {
        let mut l = OrderLine::new("x", qty, price);
        l.total_amount = total;
        l.total_discount_amount = discount;
        l.tax_rate = rate;
        l.total_tax_amount = tax;
        if sales_tax {
            l.kind = Some(OrderLineType::SalesTax);
        }
        let lines = vec![l.clone(), l];
        let _ = validate::order_lines(&lines, "order_lines");
        let _ = validate::amounts(order_amount, order_tax, &lines, "SE");
        let _ = validate::line_tax_matches(total, tax.unwrap_or(0), rate.unwrap_or(0));
        let s = SessionCreate::new("SE", "SEK", lines);
        let _ = CreateSession::new(s).to_request(&api());
    }
}

#[test]
fn generated_sessions_validate_against_the_schema() {
    // One compiled validator, many bodies: what our rules accept, Klarna's schema accepts.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let schema = support::validator("payments", "session_create");
    let mut runner = TestRunner::deterministic();
    let strategy = valid_session();
    let mut checked = 0;
    while checked < 64 {
        let s = strategy.new_tree(&mut runner).unwrap().current();
        let Ok(req) = CreateSession::new(s).to_request(&api()) else {
            continue; // a voucher larger than the goods: refused, not emitted
        };
        let body: serde_json::Value = serde_json::from_slice(req.body()).unwrap();
        let errors: Vec<String> = schema.iter_errors(&body).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{body}\n{errors:?}");
        checked += 1;
    }
}
