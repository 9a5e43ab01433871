//! KP single-brace templates (`{session.id}`, `{order.id}`).

use klarna_hpp_core::template::{KpUrlTemplate, Placeholder, TemplateError, Values};
use proptest::prelude::*;

#[test]
fn parses_and_renders_kp_examples() {
    let t =
        KpUrlTemplate::parse("https://shop.example/confirm?sid={session.id}&order_id={order.id}")
            .unwrap();
    assert_eq!(
        t.placeholders().collect::<Vec<_>>(),
        [Placeholder::SessionId, Placeholder::OrderId]
    );
    assert_eq!(
        t.as_str(),
        "https://shop.example/confirm?sid={session.id}&order_id={order.id}"
    );
    let url = t
        .render(&Values::new().with_session_id("kp-1").with_order_id("o/1"))
        .unwrap();
    assert_eq!(url, "https://shop.example/confirm?sid=kp-1&order_id=o%2F1");
    assert_eq!(
        t.render(&Values::new().with_session_id("kp-1")),
        Err(TemplateError::MissingValue {
            placeholder: Placeholder::OrderId
        })
    );
}

#[test]
fn kp_syntax_errors() {
    let err = |s: &str| KpUrlTemplate::parse(s).unwrap_err();
    assert_eq!(
        err("https://s.example/?a={session.id"),
        TemplateError::Unclosed { at: 21 }
    );
    assert_eq!(
        err("https://s.example/?a=x}"),
        TemplateError::StrayClose { at: 22 }
    );
    assert_eq!(
        err("https://s.example/?a={{session.id}}"),
        TemplateError::NestedBraces { at: 21 }
    );
    assert_eq!(
        err("https://s.example/?a={}"),
        TemplateError::EmptyPlaceholder { at: 21 }
    );
    assert_eq!(
        err("https://s.example/?a={checkout.order.id}"),
        TemplateError::UnknownPlaceholder {
            name: "checkout.order.id".into()
        }
    );
    // HPP names are not KP names.
    assert_eq!(
        err("https://s.example/?a={session_id}"),
        TemplateError::UnknownPlaceholder {
            name: "session_id".into()
        }
    );
    assert_eq!(
        err("https://{session.id}.s.example/"),
        TemplateError::PlaceholderInAuthority
    );
    assert_eq!(err("/confirm/{order.id}"), TemplateError::NotAbsolute);
    assert_eq!(
        err("https://s.example/ {order.id}"),
        TemplateError::InvalidCharacter { at: 18 }
    );
}

#[test]
fn kp_debug_hides_the_query() {
    let t = KpUrlTemplate::parse("https://s.example/push?secret=abc&sid={session.id}").unwrap();
    assert_eq!(
        format!("{t:?}"),
        r#"KpUrlTemplate("https://s.example/push?[redacted]")"#
    );
    // `Display` is redacted too; the text is `as_str`.
    assert_eq!(t.to_string(), "https://s.example/push?[redacted]");
    assert_eq!(
        t.as_str(),
        "https://s.example/push?secret=abc&sid={session.id}"
    );
}

proptest! {
    #[test]
    fn kp_parse_never_panics(s in any::<String>()) {
        let _ = KpUrlTemplate::parse(&s);
    }

    #[test]
    fn kp_render_keeps_literals_and_encodes_values(sid in any::<String>(), oid in any::<String>()) {
        let t = KpUrlTemplate::parse("https://s.example/{session.id}/x?o={order.id}").unwrap();
        let url = t.render(&Values::new().with_session_id(sid).with_order_id(oid)).unwrap();
        prop_assert!(url.starts_with("https://s.example/"));
        prop_assert!(url.contains("/x?o="));
        prop_assert!(url.bytes().all(|b| b.is_ascii_graphic()));
    }
}
