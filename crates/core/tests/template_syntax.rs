//! `UrlTemplate::parse` and `check`: every syntax and placement error, triggered through the API.

use klarna_hpp_core::hpp::PlaceOrderMode;
use klarna_hpp_core::template::{
    Placeholder, TemplateError, UrlKind, UrlTemplate, MAX_PLACEHOLDERS,
};
use proptest::prelude::*;

fn err(template: &str) -> TemplateError {
    UrlTemplate::parse(template).expect_err(template)
}

#[test]
fn parses_klarna_examples() {
    // The spec's MerchantUrlsV1 examples.
    let success = UrlTemplate::parse(
        "https://example.com/success?sid=xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx&hppId={{session_id}}&token={{authorization_token}}",
    )
    .unwrap();
    assert_eq!(
        success.placeholders().collect::<Vec<_>>(),
        [Placeholder::SessionId, Placeholder::AuthorizationToken]
    );
    assert!(success.contains(Placeholder::AuthorizationToken));
    assert!(!success.contains(Placeholder::OrderId));
    assert_eq!(success.scheme(), "https");
    assert_eq!(success.host(), "example.com");
    assert!(success.is_https());

    let status = UrlTemplate::parse(
        "https://example.com/status_update?sid=xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx&secret=yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy&hppId={{session_id}}",
    )
    .unwrap();
    assert_eq!(
        status.placeholders().collect::<Vec<_>>(),
        [Placeholder::SessionId]
    );
}

#[test]
fn keeps_text_and_order() {
    let raw = "http://127.0.0.1:8080/r/{{order_id}}/x?a={{session_id}}&b={{order_id}}#f";
    let t = UrlTemplate::parse(raw).unwrap();
    assert_eq!(t.as_str(), raw);
    // `Display` is redacted like `Debug` (the query may carry a secret); the text is `as_str`.
    assert_eq!(
        t.to_string(),
        "http://127.0.0.1:8080/r/{{order_id}}/x?[redacted]"
    );
    assert_eq!(
        t.placeholders().collect::<Vec<_>>(),
        [
            Placeholder::OrderId,
            Placeholder::SessionId,
            Placeholder::OrderId
        ]
    );
    assert_eq!(t.host(), "127.0.0.1");
    assert!(!t.is_https());
    let parsed: UrlTemplate = raw.parse().unwrap();
    assert_eq!(parsed, t);
}

#[test]
fn hosts_ports_userinfo_and_case() {
    let t = UrlTemplate::parse("HTTPS://user:pw@Shop.Example:8443/x?s={{session_id}}").unwrap();
    assert_eq!(t.scheme(), "HTTPS");
    assert!(t.is_https());
    assert_eq!(t.host(), "Shop.Example");
    let t = UrlTemplate::parse("http://[::1]:3000/cb?s={{session_id}}").unwrap();
    assert_eq!(t.host(), "[::1]");
    let t = UrlTemplate::parse("https://shop.example").unwrap();
    assert_eq!(t.placeholders().count(), 0);
}

#[test]
fn unclosed() {
    assert_eq!(
        err("https://a.example/?s={{session_id"),
        TemplateError::Unclosed { at: 21 }
    );
    assert_eq!(
        err("https://a.example/?s={{session_id}"),
        TemplateError::Unclosed { at: 21 }
    );
}

#[test]
fn stray_close() {
    assert_eq!(
        err("https://a.example/?s=session_id}}"),
        TemplateError::StrayClose { at: 31 }
    );
}

#[test]
fn single_brace() {
    assert_eq!(
        err("https://a.example/?s={session.id}"),
        TemplateError::SingleBrace { at: 21 }
    );
    assert_eq!(
        err("https://a.example/?s=x}"),
        TemplateError::SingleBrace { at: 22 }
    );
    // A third closing brace after a placeholder.
    assert_eq!(
        err("https://a.example/?s={{session_id}}}"),
        TemplateError::SingleBrace { at: 35 }
    );
}

#[test]
fn nested_braces() {
    assert_eq!(
        err("https://a.example/?s={{{session_id}}}"),
        TemplateError::NestedBraces { at: 21 }
    );
    assert_eq!(
        err("https://a.example/?s={{a{{session_id}}"),
        TemplateError::NestedBraces { at: 21 }
    );
    assert_eq!(
        err("https://a.example/?s={{a}b}}"),
        TemplateError::NestedBraces { at: 21 }
    );
}

#[test]
fn empty_placeholder() {
    assert_eq!(
        err("https://a.example/?s={{}}"),
        TemplateError::EmptyPlaceholder { at: 21 }
    );
}

#[test]
fn unknown_placeholder() {
    assert_eq!(
        err("https://a.example/?r={{klarna_reference}}"),
        TemplateError::UnknownPlaceholder {
            name: "klarna_reference".into()
        }
    );
    // Names are exact: no trimming, no case folding, no KP dotted names.
    for name in [" session_id ", "SESSION_ID", "session.id", "profile_id"] {
        assert_eq!(
            err(&format!("https://a.example/?r={{{{{name}}}}}")),
            TemplateError::UnknownPlaceholder { name: name.into() }
        );
    }
    // Long names are cut in the error.
    let long = "x".repeat(500);
    match err(&format!("https://a.example/?r={{{{{long}}}}}")) {
        TemplateError::UnknownPlaceholder { name } => assert_eq!(name.len(), 64),
        other => panic!("{other:?}"),
    }
}

#[test]
fn invalid_character() {
    assert_eq!(
        err("https://a.example/a b"),
        TemplateError::InvalidCharacter { at: 19 }
    );
    assert_eq!(
        err("https://a.example/å"),
        TemplateError::InvalidCharacter { at: 18 }
    );
    assert_eq!(
        err("https://a.example/\"x\""),
        TemplateError::InvalidCharacter { at: 18 }
    );
    assert_eq!(
        err("https://a.example/\n"),
        TemplateError::InvalidCharacter { at: 18 }
    );
    // Non-ASCII inside an (unknown) placeholder name is reported as the unknown name.
    assert!(matches!(
        err("https://a.example/{{å}}"),
        TemplateError::UnknownPlaceholder { .. }
    ));
}

#[test]
fn invalid_percent_encoding_in_literal() {
    assert_eq!(
        err("https://a.example/%zz"),
        TemplateError::InvalidPercentEncoding { at: 18 }
    );
    assert_eq!(
        err("https://a.example/%4"),
        TemplateError::InvalidPercentEncoding { at: 18 }
    );
    assert!(UrlTemplate::parse("https://a.example/%7Bx%7d").is_ok());
}

#[test]
fn not_absolute() {
    for t in [
        "",
        "/return?s={{session_id}}",
        "shop.example/return",
        "ftp://shop.example/x",
        "mailto:a@b.example",
        "https:/shop.example",
        "https://",
        "https:///path",
        "https://:443/x",
        "https://user@/x",
        "https://shop.example:port/x",
        "https://shop.example:/x",
        "https://[::1/x",
        "/x?u=https://shop.example/{{session_id}}",
    ] {
        assert_eq!(err(t), TemplateError::NotAbsolute, "{t}");
    }
}

#[test]
fn placeholder_in_authority() {
    for t in [
        "https://{{session_id}}.shop.example/x",
        "https://shop.example{{session_id}}/x",
        "https://shop.example:{{session_id}}/x",
        "https://{{session_id}}@shop.example/x",
        "{{session_id}}://shop.example/x",
        "https://{{session_id}}",
    ] {
        assert_eq!(err(t), TemplateError::PlaceholderInAuthority, "{t}");
    }
}

#[test]
fn ambiguous_boundaries() {
    assert_eq!(
        err("https://a.example/{{session_id}}{{order_id}}"),
        TemplateError::Ambiguous { at: 32 }
    );
    assert_eq!(
        err("https://a.example/{{session_id}}%2Fx"),
        TemplateError::Ambiguous { at: 32 }
    );
    // An unreserved delimiter is fine: render encodes it inside values.
    assert!(UrlTemplate::parse("https://a.example/{{order_id}}.html").is_ok());
    assert!(UrlTemplate::parse("https://a.example/{{order_id}}-x").is_ok());
}

#[test]
fn too_many_placeholders() {
    let many: String = (0..=MAX_PLACEHOLDERS)
        .map(|i| format!("&p{i}={{{{session_id}}}}"))
        .collect();
    assert_eq!(
        err(&format!("https://a.example/?x=1{many}")),
        TemplateError::TooManyPlaceholders {
            max: MAX_PLACEHOLDERS
        }
    );
    let enough: String = (0..MAX_PLACEHOLDERS)
        .map(|i| format!("&p{i}={{{{session_id}}}}"))
        .collect();
    assert!(UrlTemplate::parse(&format!("https://a.example/?x=1{enough}")).is_ok());
}

#[test]
fn error_messages_name_the_problem() {
    assert_eq!(
        err("https://a.example/?r={{klarna_reference}}").to_string(),
        "unknown placeholder `klarna_reference`"
    );
    let t = UrlTemplate::parse("https://a.example/?t={{authorization_token}}").unwrap();
    let e = t.check(UrlKind::Cancel, &PlaceOrderMode::None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "{{authorization_token}} is not allowed in the cancel URL with place_order_mode NONE"
    );
}

#[test]
fn check_follows_the_placement_table() {
    use PlaceOrderMode::{CaptureOrder, PlaceOrder};
    let session = UrlTemplate::parse("https://a.example/?s={{session_id}}").unwrap();
    let token = UrlTemplate::parse("https://a.example/?t={{authorization_token}}").unwrap();
    let order = UrlTemplate::parse("https://a.example/?o={{order_id}}").unwrap();
    let plain = UrlTemplate::parse("https://a.example/ok").unwrap();
    let modes = [
        PlaceOrderMode::None,
        PlaceOrder,
        CaptureOrder,
        PlaceOrderMode::parse("FUTURE_MODE"),
    ];
    for kind in UrlKind::ALL {
        for mode in &modes {
            assert!(session.check(kind, mode).is_ok());
            assert!(plain.check(kind, mode).is_ok());

            let token_ok = kind == UrlKind::Success && *mode == PlaceOrderMode::None;
            assert_eq!(
                token.check(kind, mode).is_ok(),
                token_ok,
                "token {kind} {mode}"
            );
            if !token_ok {
                assert_eq!(
                    token.check(kind, mode),
                    Err(TemplateError::NotAllowed {
                        placeholder: Placeholder::AuthorizationToken,
                        kind,
                        mode: mode.clone()
                    })
                );
            }

            let order_ok = matches!(kind, UrlKind::Success | UrlKind::StatusUpdate)
                && matches!(mode, PlaceOrder | CaptureOrder);
            assert_eq!(
                order.check(kind, mode).is_ok(),
                order_ok,
                "order {kind} {mode}"
            );
        }
    }
}

#[test]
fn success_without_token_under_none_is_accepted() {
    let t = UrlTemplate::parse("https://a.example/thanks?s={{session_id}}").unwrap();
    assert!(t.check(UrlKind::Success, &PlaceOrderMode::None).is_ok());
}

#[test]
fn debug_hides_query_and_fragment() {
    let t = UrlTemplate::parse("https://a.example/cb?secret=s3cr3t&s={{session_id}}").unwrap();
    let debug = format!("{t:?}");
    assert_eq!(debug, r#"UrlTemplate("https://a.example/cb?[redacted]")"#);
}

#[test]
fn serde_parses_on_decode() {
    let t = UrlTemplate::parse("https://a.example/?s={{session_id}}").unwrap();
    let json = serde_json::to_string(&t).unwrap();
    assert_eq!(json, r#""https://a.example/?s={{session_id}}""#);
    assert_eq!(serde_json::from_str::<UrlTemplate>(&json).unwrap(), t);
    assert!(serde_json::from_str::<UrlTemplate>(r#""https://a.example/{{nope}}""#).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parse_never_panics(s in any::<String>()) {
        let _ = UrlTemplate::parse(&s);
    }

    #[test]
    fn parse_never_panics_on_url_like_input(
        s in r"(https?://)?[a-z{}.:/?&=%#\[\]@_0-9A-F-]{0,60}(\{\{(session_id|order_id|authorization_token|x)?\}?\}?)?[a-z{}/?&=%.-]{0,20}"
    ) {
        if let Ok(t) = UrlTemplate::parse(&s) {
            // Whatever parses renders and matches back.
            let values = klarna_hpp_core::template::Values::new()
                .with_session_id("s")
                .with_authorization_token("t")
                .with_order_id("o");
            let url = t.render(&values).unwrap();
            let back = t.matches(&url).unwrap();
            for p in t.placeholders() {
                prop_assert_eq!(back.get(p), values.get(p));
            }
        }
    }
}
