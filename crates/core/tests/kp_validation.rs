//! Every validation problem the KP operations produce, through the public API: no request is
//! built, and the error names the JSON path of the field to fix.

use klarna_hpp_core::kp::{
    Attachment, CreateCustomerToken, CreateOrder, CreateOrderRequest, CreateSession, Customer,
    CustomerTokenRequest, CustomerType, IntendedUse, SessionCreate, SessionUpdate, UpdateSession,
    WidgetOptions,
};
use klarna_hpp_core::model::{
    Address, OrderLine, OrderLineType, Subscription, SubscriptionInterval,
};
use klarna_hpp_core::validate;
use klarna_hpp_core::{
    Api, AuthorizationToken, BaseUrl, Credentials, Environment, Error, Operation, Region,
    ValidationError, ValidationProblem,
};

fn api() -> Api {
    Api::new(
        BaseUrl::klarna(Region::Eu, Environment::Playground),
        Credentials::new("DemoMerchant", "DemoPassword"),
    )
}

fn line() -> OrderLine {
    OrderLine::new("Running shoe", 2, 5_000).tax_rate(2_500)
}

fn session() -> SessionCreate {
    SessionCreate::new(
        "SE",
        "SEK",
        vec![line(), OrderLine::new("Socks", 3, 990).tax_rate(2_500)],
    )
    .locale("sv-SE")
}

/// The validation error `CreateSession` refuses `s` with.
fn refuse(s: SessionCreate) -> ValidationError {
    match CreateSession::new(s).to_request(&api()) {
        Err(Error::Validation(e)) => e,
        Err(other) => panic!("expected a validation error, got {other:?}"),
        Ok(req) => panic!("expected a refusal, got a request to {}", req.uri()),
    }
}

/// A mutation of a valid value, the field it breaks, and how.
type Case<T> = (Box<dyn Fn(&mut T)>, &'static str, ValidationProblem);

fn at(field: &str, problem: ValidationProblem) -> ValidationError {
    ValidationError::new(field, problem)
}

#[test]
fn the_baseline_is_valid() {
    CreateSession::new(session()).to_request(&api()).unwrap();
}

// ---- one test per problem -------------------------------------------------------------------

#[test]
fn mismatch_order_amount() {
    let mut s = session();
    s.order_amount += 1;
    assert_eq!(
        refuse(s),
        at(
            "order_amount",
            ValidationProblem::Mismatch {
                expected: 12_970,
                actual: 12_971
            }
        )
    );
}

#[test]
fn empty_order_lines() {
    let mut s = session();
    s.order_lines.clear();
    s.order_amount = 0;
    s.order_tax_amount = Some(0);
    assert_eq!(refuse(s), at("order_lines", ValidationProblem::Empty));
}

#[test]
fn too_long_merchant_reference() {
    let s = session().merchant_reference1("x".repeat(256));
    assert_eq!(
        refuse(s),
        at(
            "merchant_reference1",
            ValidationProblem::TooLong { max: 255 }
        )
    );
}

#[test]
fn too_many_order_lines() {
    let s = SessionCreate::new("SE", "SEK", vec![OrderLine::new("Pin", 1, 10); 1001]);
    assert_eq!(
        refuse(s),
        at("order_lines", ValidationProblem::TooMany { max: 1000 })
    );
}

#[test]
fn pattern_purchase_country() {
    let mut s = session();
    s.purchase_country = "SWE".into();
    assert_eq!(
        refuse(s),
        at(
            "purchase_country",
            ValidationProblem::Pattern {
                expected: "two ASCII letters (ISO 3166-1 alpha-2)"
            }
        )
    );
}

#[test]
fn out_of_range_tax_rate() {
    let mut s = session();
    s.order_lines[1].tax_rate = Some(10_001);
    assert_eq!(
        refuse(s),
        at(
            "order_lines[1].tax_rate",
            ValidationProblem::OutOfRange {
                min: 0,
                max: 10_000,
                actual: 10_001
            }
        )
    );
}

#[test]
fn not_positive_amount() {
    // KP bodies allow zero amounts (tokenize-only sessions); OM captures and refunds use this.
    assert_eq!(
        validate::positive_amount("captured_amount", 0),
        Err(at(
            "captured_amount",
            ValidationProblem::NotPositive { actual: 0 }
        ))
    );
    assert!(validate::positive_amount("captured_amount", 1).is_ok());
}

#[test]
fn mutually_exclusive_tax_rate_with_sales_tax_line() {
    let lines = vec![
        OrderLine::new("Shoe", 1, 20_000).tax_rate(800),
        OrderLine::new("Sales tax", 1, 1_000).kind(OrderLineType::SalesTax),
    ];
    let s = SessionCreate::new("US", "USD", lines);
    assert_eq!(
        refuse(s),
        at(
            "order_lines[0].tax_rate",
            ValidationProblem::MutuallyExclusive {
                other: "a sales_tax order line (US style: tax only on the sales_tax line)"
            }
        )
    );
}

#[test]
fn overflow_in_line_arithmetic() {
    let mut l = OrderLine::new("Grain of sand", i64::MAX, 2);
    l.total_amount = 100;
    let s = SessionCreate::new("SE", "SEK", vec![l]);
    assert_eq!(
        refuse(s),
        at("order_lines[0].total_amount", ValidationProblem::Overflow)
    );
}

// ---- the rules, field by field ------------------------------------------------------------------

#[test]
fn line_total_must_follow_quantity_price_and_discount() {
    let mut s = session();
    s.order_lines[1].total_amount -= 10;
    assert_eq!(
        refuse(s),
        at(
            "order_lines[1].total_amount",
            ValidationProblem::Mismatch {
                expected: 2_970,
                actual: 2_960
            }
        )
    );
}

#[test]
fn line_tax_must_follow_tax_rate() {
    let mut s = session();
    s.order_lines[0].total_tax_amount = Some(2_500); // 25% of 10000 incl. tax is 2000
    assert_eq!(
        refuse(s),
        at(
            "order_lines[0].total_tax_amount",
            ValidationProblem::Mismatch {
                expected: 2_000,
                actual: 2_500
            }
        )
    );
    // ±1 is tolerated.
    let mut s = session();
    s.order_lines[0].total_tax_amount = Some(2_001);
    s.order_tax_amount = s.order_tax_amount.map(|t| t + 1);
    CreateSession::new(s).to_request(&api()).unwrap();
}

#[test]
fn order_tax_amount_must_be_the_sum_of_line_taxes() {
    let mut s = session();
    s.order_tax_amount = Some(0);
    assert_eq!(
        refuse(s),
        at(
            "order_tax_amount",
            ValidationProblem::Mismatch {
                expected: 2_594,
                actual: 0
            }
        )
    );
}

#[test]
fn us_style_tax_is_the_sales_tax_line() {
    let lines = vec![
        OrderLine::new("Shoe", 1, 20_000),
        OrderLine::new("Sales tax", 1, 1_000).kind(OrderLineType::SalesTax),
    ];
    let mut s = SessionCreate::new("US", "USD", lines);
    assert_eq!((s.order_amount, s.order_tax_amount), (21_000, Some(1_000)));
    CreateSession::new(s.clone()).to_request(&api()).unwrap();
    s.order_tax_amount = Some(0);
    assert_eq!(
        refuse(s),
        at(
            "order_tax_amount",
            ValidationProblem::Mismatch {
                expected: 1_000,
                actual: 0
            }
        )
    );
}

#[test]
fn discount_lines_may_be_negative() {
    let lines = vec![
        line(),
        OrderLine::new("Voucher", 1, -1_000)
            .kind(OrderLineType::Discount)
            .tax_rate(2_500),
    ];
    let s = SessionCreate::new("SE", "SEK", lines);
    assert_eq!((s.order_amount, s.order_tax_amount), (9_000, Some(1_800)));
    CreateSession::new(s).to_request(&api()).unwrap();
}

#[test]
fn negative_order_amount_is_out_of_range() {
    let s = SessionCreate::new("SE", "SEK", vec![OrderLine::new("Voucher", 1, -1_000)]);
    assert_eq!(
        refuse(s),
        at(
            "order_amount",
            ValidationProblem::OutOfRange {
                min: 0,
                max: i64::MAX,
                actual: -1_000
            }
        )
    );
}

#[test]
fn line_field_limits() {
    let cases: Vec<Case<OrderLine>> = vec![
        (
            Box::new(|l| l.name.clear()),
            "order_lines[0].name",
            ValidationProblem::Empty,
        ),
        (
            Box::new(|l| l.name = "n".repeat(256)),
            "order_lines[0].name",
            ValidationProblem::TooLong { max: 255 },
        ),
        (
            Box::new(|l| l.quantity_unit = Some("kilograms".into())),
            "order_lines[0].quantity_unit",
            ValidationProblem::TooLong { max: 8 },
        ),
        (
            Box::new(|l| l.quantity_unit = Some(String::new())),
            "order_lines[0].quantity_unit",
            ValidationProblem::Empty,
        ),
        (
            Box::new(|l| l.reference = Some("r".repeat(256))),
            "order_lines[0].reference",
            ValidationProblem::TooLong { max: 255 },
        ),
        (
            Box::new(|l| l.quantity = -1),
            "order_lines[0].quantity",
            ValidationProblem::OutOfRange {
                min: 0,
                max: i64::MAX,
                actual: -1,
            },
        ),
        (
            Box::new(|l| l.unit_price = 100_000_001),
            "order_lines[0].unit_price",
            ValidationProblem::OutOfRange {
                min: i64::MIN,
                max: 100_000_000,
                actual: 100_000_001,
            },
        ),
        (
            Box::new(|l| l.total_discount_amount = Some(-5)),
            "order_lines[0].total_discount_amount",
            ValidationProblem::OutOfRange {
                min: 0,
                max: i64::MAX,
                actual: -5,
            },
        ),
        (
            Box::new(|l| l.merchant_data = Some("d".repeat(1025))),
            "order_lines[0].merchant_data",
            ValidationProblem::TooLong { max: 1024 },
        ),
        (
            Box::new(|l| l.image_url = Some("u".repeat(1025))),
            "order_lines[0].image_url",
            ValidationProblem::TooLong { max: 1024 },
        ),
        (
            Box::new(|l| {
                let mut ids = klarna_hpp_core::model::ProductIdentifiers::default();
                ids.color = Some("c".repeat(65));
                l.product_identifiers = Some(ids);
            }),
            "order_lines[0].product_identifiers.color",
            ValidationProblem::TooLong { max: 64 },
        ),
        (
            Box::new(|l| {
                l.subscription = Some(Subscription::new("Club", SubscriptionInterval::Week, 0))
            }),
            "order_lines[0].subscription.interval_count",
            ValidationProblem::OutOfRange {
                min: 1,
                max: i64::MAX,
                actual: 0,
            },
        ),
    ];
    for (mutate, field, problem) in cases {
        let mut l = line();
        mutate(&mut l);
        let s = SessionCreate::new("SE", "SEK", vec![l]);
        assert_eq!(refuse(s), at(field, problem));
    }
}

#[test]
fn session_field_limits() {
    let cases: Vec<Case<SessionCreate>> = vec![
        (
            Box::new(|s| s.purchase_currency = "kr".into()),
            "purchase_currency",
            ValidationProblem::Pattern {
                expected: "three ASCII letters (ISO 4217)",
            },
        ),
        (
            Box::new(|s| s.locale = Some("sv_SE".into())),
            "locale",
            ValidationProblem::Pattern {
                expected: "a locale like en-US (letter pairs joined by -)",
            },
        ),
        (
            Box::new(|s| s.merchant_data = Some("d".repeat(6001))),
            "merchant_data",
            ValidationProblem::TooLong { max: 6000 },
        ),
        (
            Box::new(|s| {
                let mut u = klarna_hpp_core::kp::KpMerchantUrls::default();
                u.push = Some(format!("https://shop.example/{}", "p".repeat(2000)));
                s.merchant_urls = Some(u);
            }),
            "merchant_urls.push",
            ValidationProblem::TooLong { max: 2000 },
        ),
        (
            Box::new(|s| {
                let mut a = Address::default();
                a.postal_code = Some("12345678901".into());
                s.shipping_address = Some(a);
            }),
            "shipping_address.postal_code",
            ValidationProblem::TooLong { max: 10 },
        ),
        (
            Box::new(|s| {
                let mut a = Address::default();
                a.country = Some("Sweden".into());
                s.billing_address = Some(a);
            }),
            "billing_address.country",
            ValidationProblem::Pattern {
                expected: "two ASCII letters (ISO 3166-1 alpha-2)",
            },
        ),
        (
            Box::new(|s| {
                let mut c = Customer::default();
                c.last_four_ssn = Some("12a4".into());
                s.customer = Some(c);
            }),
            "customer.last_four_ssn",
            ValidationProblem::Pattern {
                expected: "4 or 9 digits",
            },
        ),
        (
            Box::new(|s| {
                let mut c = Customer::default();
                c.date_of_birth = Some("31/12/1978".into());
                s.customer = Some(c);
            }),
            "customer.date_of_birth",
            ValidationProblem::Pattern {
                expected: "a date YYYY-MM-DD",
            },
        ),
        (
            Box::new(|s| {
                let mut c = Customer::default();
                c.kind = Some(CustomerType::parse("government"));
                s.customer = Some(c);
            }),
            "customer.type",
            ValidationProblem::Pattern {
                expected: "person or organization",
            },
        ),
        (
            Box::new(|s| {
                let mut o = WidgetOptions::default();
                o.color_text = Some("#FF99".into());
                s.options = Some(o);
            }),
            "options.color_text",
            ValidationProblem::Pattern {
                expected: "a colour #RRGGBB",
            },
        ),
        (
            Box::new(|s| s.attachment = Some(Attachment::emd("not json"))),
            "attachment.body",
            ValidationProblem::Pattern {
                expected: "a JSON document serialized as a string",
            },
        ),
        (
            Box::new(|s| s.attachment = Some(Attachment::new("{}", ""))),
            "attachment.content_type",
            ValidationProblem::Empty,
        ),
    ];
    for (mutate, field, problem) in cases {
        let mut s = session();
        mutate(&mut s);
        assert_eq!(refuse(s), at(field, problem));
    }
}

#[test]
fn update_validates_what_is_present() {
    let token_free = |u: SessionUpdate| match UpdateSession::new("s1", u).to_request(&api()) {
        Err(Error::Validation(e)) => Err(e),
        Err(other) => panic!("unexpected {other:?}"),
        Ok(_) => Ok(()),
    };
    // Amount alone: nothing to compare with.
    let mut u = SessionUpdate::default();
    u.order_amount = Some(5);
    assert_eq!(token_free(u), Ok(()));
    // Amount and lines: compared.
    let mut u = SessionUpdate::with_lines(vec![line()]);
    u.order_amount = Some(5);
    assert_eq!(
        token_free(u),
        Err(at(
            "order_amount",
            ValidationProblem::Mismatch {
                expected: 10_000,
                actual: 5
            }
        ))
    );
    // Lines alone: each line is still checked.
    let mut u = SessionUpdate::default();
    let mut bad = line();
    bad.quantity = 3;
    u.order_lines = Some(vec![line(), bad]);
    assert_eq!(
        token_free(u),
        Err(at(
            "order_lines[1].total_amount",
            ValidationProblem::Mismatch {
                expected: 15_000,
                actual: 10_000
            }
        ))
    );
    let mut u = SessionUpdate::default();
    u.locale = Some("english".into());
    assert!(matches!(token_free(u), Err(ValidationError { ref field, .. }) if field == "locale"));
    let mut u = SessionUpdate::default();
    u.order_tax_amount = Some(-1);
    assert!(
        matches!(token_free(u), Err(ValidationError { ref field, .. }) if field == "order_tax_amount")
    );
}

#[test]
fn create_order_validates_like_create_session() {
    let mut o = CreateOrderRequest::from_session(&session());
    o.order_lines[0].name.clear();
    let err = CreateOrder::new(AuthorizationToken::new("tok"), o)
        .to_request(&api())
        .unwrap_err();
    assert!(matches!(
        err,
        Error::Validation(ValidationError { ref field, problem: ValidationProblem::Empty }) if field == "order_lines[0].name"
    ));
    let o = CreateOrderRequest::new("SE", "SEK", vec![line()]);
    CreateOrder::new(AuthorizationToken::new("tok"), o)
        .to_request(&api())
        .unwrap();
}

#[test]
fn customer_token_request_rules() {
    let refuse_token =
        |b: CustomerTokenRequest| match CreateCustomerToken::new(AuthorizationToken::new("tok"), b)
            .to_request(&api())
        {
            Err(Error::Validation(e)) => e,
            other => panic!("expected a refusal, got {other:?}"),
        };
    let ok = || CustomerTokenRequest::new("Club", IntendedUse::Subscription, "sv-SE", "SE", "SEK");
    let mut b = ok();
    b.description.clear();
    assert_eq!(refuse_token(b), at("description", ValidationProblem::Empty));
    let mut b = ok();
    b.description = "d".repeat(256);
    assert_eq!(
        refuse_token(b),
        at("description", ValidationProblem::TooLong { max: 255 })
    );
    let mut b = ok();
    b.locale = "sv-".into();
    assert_eq!(refuse_token(b).field, "locale");
    let mut b = ok();
    let mut a = Address::default();
    a.title = Some("t".repeat(21));
    b.billing_address = Some(a);
    assert_eq!(
        refuse_token(b),
        at(
            "billing_address.title",
            ValidationProblem::TooLong { max: 20 }
        )
    );
}

#[test]
fn amounts_function_directly() {
    let lines = vec![line(), OrderLine::new("Socks", 3, 990).tax_rate(2_500)];
    assert_eq!(validate::amounts(12_970, 2_594, &lines, "SE"), Ok(()));
    assert_eq!(
        validate::amounts(12_970, 2_594, &lines, "Sverige")
            .unwrap_err()
            .field,
        "purchase_country"
    );
    // Klarna tolerates ± one minor unit per line at order level (two lines here).
    assert_eq!(validate::amounts(12_970, 2_592, &lines, "SE"), Ok(()));
    assert_eq!(validate::amounts(12_970, 2_596, &lines, "SE"), Ok(()));
    assert_eq!(
        validate::amounts(12_970, 2_591, &lines, "SE")
            .unwrap_err()
            .field,
        "order_tax_amount"
    );
    // order_lines with another prefix, as OM uses it.
    let mut bad = lines.clone();
    bad[1].total_amount = 1;
    assert_eq!(
        validate::order_lines(&bad, "captures[0].order_lines")
            .unwrap_err()
            .field,
        "captures[0].order_lines[1].total_amount"
    );
    // Limits count characters, not bytes.
    assert!(validate::max_len("f", &"ö".repeat(255), 255).is_ok());
}

// ---- what is absent is missing, not zero ----------------------------------------------------

/// A create-order body without `order_tax_amount` (not required by Klarna's schema; Klarna
/// accepts it) is valid: the absent tax is not compared as a zero ("expected 175 (computed),
/// got 0"), and it is sent without one.
#[test]
fn a_create_order_without_order_tax_amount_is_accepted() {
    let o: CreateOrderRequest =
        serde_json::from_str(include_str!("fixtures/kp_create_order_no_tax.json")).unwrap();
    assert_eq!(o.order_tax_amount, None);
    let request = CreateOrder::new(AuthorizationToken::new("tok"), o.clone())
        .to_request(&api())
        .unwrap();
    let sent: serde_json::Value = serde_json::from_slice(request.body()).unwrap();
    assert!(sent.get("order_tax_amount").is_none(), "{sent}");
    // A session alike.
    let mut s = session();
    s.order_tax_amount = None;
    CreateSession::new(s).to_request(&api()).unwrap();
    // Present, it must still agree with the lines.
    let mut wrong = o;
    wrong.order_tax_amount = Some(0);
    match CreateOrder::new(AuthorizationToken::new("tok"), wrong).to_request(&api()) {
        Err(Error::Validation(e)) => assert_eq!(
            e,
            at(
                "order_tax_amount",
                ValidationProblem::Mismatch {
                    expected: 175,
                    actual: 0
                }
            )
        ),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// A taxed line without its `total_tax_amount` is what is missing when the order's tax does not
/// add up, not a zero to compare.
#[test]
fn a_taxed_line_without_its_tax_amount_is_missing() {
    let mut s = session();
    s.order_lines[1].total_tax_amount = None; // tax_rate 25% stays
    assert_eq!(
        refuse(s),
        at(
            "order_lines[1].total_tax_amount",
            ValidationProblem::Missing
        )
    );
    // When the sum still agrees (the order's tax leaves the line out), nothing is refused.
    let mut s = session();
    let line_tax = s.order_lines[1].total_tax_amount.take().unwrap();
    s.order_tax_amount = s.order_tax_amount.map(|t| t - line_tax);
    CreateSession::new(s).to_request(&api()).unwrap();
    // An untaxed line without a tax amount counts as zero, as Klarna sums it.
    let lines = vec![line(), OrderLine::new("Gift wrap", 1, 500)];
    let mut s = SessionCreate::new("SE", "SEK", lines);
    // (beyond Klarna's rounding tolerance of one minor unit per line)
    s.order_tax_amount = s.order_tax_amount.map(|t| t + 3);
    assert_eq!(
        refuse(s),
        at(
            "order_tax_amount",
            ValidationProblem::Mismatch {
                expected: 2_000,
                actual: 2_003
            }
        )
    );
}
