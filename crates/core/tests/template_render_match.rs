//! `UrlTemplate::render` and `UrlTemplate::matches`: examples, every error, and the round-trip
//! invariant for arbitrary values.

use klarna_hpp_core::template::{Placeholder, TemplateError, UrlTemplate, Values};
use proptest::prelude::*;

const SUCCESS: &str =
    "https://shop.example/return?sid={{session_id}}&token={{authorization_token}}";

fn t(s: &str) -> UrlTemplate {
    UrlTemplate::parse(s).expect("valid template")
}

#[test]
fn renders_percent_encoded_values() {
    let v = Values::new()
        .with_session_id("39a1c773-0f6e-4e49-9bb1-8f2f6e0a3c11")
        .with_authorization_token("a b&c/d?e%f=g+h~i.j_k-l{m}ä");
    assert_eq!(
        t(SUCCESS).render(&v).unwrap(),
        "https://shop.example/return?sid=39a1c773-0f6e-4e49-9bb1-8f2f6e0a3c11\
         &token=a%20b%26c%2Fd%3Fe%25f%3Dg%2Bh~i.j_k-l%7Bm%7D%C3%A4"
    );
}

#[test]
fn render_encodes_an_unreserved_delimiter_inside_values() {
    let v = Values::new().with_order_id("a.b-c");
    assert_eq!(
        t("https://s.example/{{order_id}}.html").render(&v).unwrap(),
        "https://s.example/a%2Eb-c.html"
    );
    assert_eq!(
        t("https://s.example/{{order_id}}-x").render(&v).unwrap(),
        "https://s.example/a.b%2Dc-x"
    );
}

#[test]
fn render_ignores_unused_values_and_reports_missing_ones() {
    let template = t(SUCCESS);
    let full = Values::new()
        .with_session_id("s")
        .with_authorization_token("t")
        .with_order_id("o");
    assert_eq!(
        template.render(&full).unwrap(),
        "https://shop.example/return?sid=s&token=t"
    );
    assert_eq!(
        template.render(&Values::new().with_session_id("s")),
        Err(TemplateError::MissingValue {
            placeholder: Placeholder::AuthorizationToken
        })
    );
    assert_eq!(
        t("https://s.example/").render(&Values::new()).unwrap(),
        "https://s.example/"
    );
}

#[test]
fn matches_absolute_and_origin_form() {
    let template = t(SUCCESS);
    let expected = Values::new()
        .with_session_id("s-1")
        .with_authorization_token("tok/2");
    for url in [
        "https://shop.example/return?sid=s-1&token=tok%2F2",
        "HTTPS://SHOP.Example/return?sid=s-1&token=tok%2f2",
        "/return?sid=s-1&token=tok%2F2",
    ] {
        assert_eq!(template.matches(url).unwrap(), expected, "{url}");
    }
    let uri: http::Uri = "/return?sid=s-1&token=tok%2F2".parse().unwrap();
    assert_eq!(template.matches_uri(&uri).unwrap(), expected);
    let uri: http::Uri = "https://shop.example/return?sid=s-1&token=tok%2F2"
        .parse()
        .unwrap();
    assert_eq!(template.matches_uri(&uri).unwrap(), expected);
}

#[test]
fn origin_form_of_an_empty_path() {
    let template = t("https://shop.example?s={{session_id}}");
    assert_eq!(
        template.matches("/?s=x").unwrap(),
        Values::new().with_session_id("x")
    );
    assert_eq!(
        template.matches("https://shop.example?s=x").unwrap(),
        Values::new().with_session_id("x")
    );
    let bare = t("https://shop.example");
    assert_eq!(bare.matches("/").unwrap(), Values::new());
    assert_eq!(bare.matches("https://shop.example").unwrap(), Values::new());
}

#[test]
fn matches_klarna_rendered_raw_values() {
    // Klarna substitutes UUIDs unencoded; a '-' delimiter must still split correctly.
    let template = t("https://shop.example/orders/{{order_id}}-confirmed?s={{session_id}}");
    let url =
        "https://shop.example/orders/a1a8f727-1b2c-4d5e-8f90-0123456789ab-confirmed?s=39a1c773";
    let v = template.matches(url).unwrap();
    assert_eq!(
        v.order_id.as_deref(),
        Some("a1a8f727-1b2c-4d5e-8f90-0123456789ab")
    );
    assert_eq!(v.session_id.as_deref(), Some("39a1c773"));
}

#[test]
fn plus_is_not_a_space_and_empty_values_match() {
    let template = t("https://s.example/?a={{session_id}}&b=1");
    assert_eq!(
        template.matches("/?a=x+y&b=1"),
        Err(TemplateError::Mismatch { at: 5 })
    );
    assert_eq!(
        template
            .matches("/?a=x%2By&b=1")
            .unwrap()
            .session_id
            .as_deref(),
        Some("x+y")
    );
    assert_eq!(
        template.matches("/?a=&b=1").unwrap().session_id.as_deref(),
        Some("")
    );
}

#[test]
fn query_order_is_as_rendered() {
    let template = t(SUCCESS);
    assert_eq!(
        template.matches("https://shop.example/return?token=t&sid=s"),
        Err(TemplateError::Mismatch { at: 28 })
    );
}

#[test]
fn extra_query_pairs_are_tolerated_only_after_a_query() {
    let template = t(SUCCESS);
    let v = template
        .matches("/return?sid=s&token=t&utm_source=mail&x")
        .unwrap();
    assert_eq!(
        v,
        Values::new()
            .with_session_id("s")
            .with_authorization_token("t")
    );
    // Anything else after the end does not match.
    assert_eq!(
        template.matches("/return?sid=s&token=t#frag"),
        Err(TemplateError::Mismatch { at: 21 })
    );
    assert_eq!(
        template.matches("/return?sid=s&token=t/x"),
        Err(TemplateError::Mismatch { at: 21 })
    );
    // No query in the template: nothing may follow.
    let path = t("https://s.example/done/{{session_id}}");
    assert_eq!(
        path.matches("/done/abc&x=1"),
        Err(TemplateError::Mismatch { at: 9 })
    );
    assert_eq!(
        path.matches("/done/abc?x=1"),
        Err(TemplateError::Mismatch { at: 9 })
    );
    // A fragment in the template: nothing may follow either.
    let frag = t("https://s.example/done?s={{session_id}}#top");
    assert_eq!(
        frag.matches("/done?s=a#top&x=1"),
        Err(TemplateError::Mismatch { at: 13 })
    );
}

#[test]
fn mismatches_report_where() {
    let template = t(SUCCESS);
    assert_eq!(
        template.matches("https://evil.example/return?sid=s&token=t"),
        Err(TemplateError::Mismatch { at: 8 })
    );
    assert_eq!(
        template.matches("http://shop.example/return?sid=s&token=t"),
        Err(TemplateError::Mismatch { at: 4 })
    );
    assert_eq!(
        template.matches("/retour?sid=s&token=t"),
        Err(TemplateError::Mismatch { at: 4 })
    );
    assert_eq!(
        template.matches("/return?sid=s"),
        Err(TemplateError::Mismatch { at: 13 })
    );
    assert_eq!(template.matches(""), Err(TemplateError::Mismatch { at: 0 }));
    // A value with a character that is neither unreserved nor escaped.
    assert_eq!(
        template.matches("/return?sid=s!x&token=t"),
        Err(TemplateError::Mismatch { at: 13 })
    );
}

#[test]
fn repeated_placeholders_must_agree() {
    let template = t("https://s.example/{{session_id}}/x?again={{session_id}}");
    assert_eq!(
        template
            .matches("/a%2Eb/x?again=a.b")
            .unwrap()
            .session_id
            .as_deref(),
        Some("a.b")
    );
    assert_eq!(
        template.matches("/abc/x?again=abd"),
        Err(TemplateError::Mismatch { at: 13 })
    );
}

#[test]
fn invalid_percent_encoding() {
    let template = t(SUCCESS);
    assert_eq!(
        template.matches("/return?sid=a%zz&token=t"),
        Err(TemplateError::InvalidPercentEncoding { at: 13 })
    );
    assert_eq!(
        template.matches("/return?sid=a&token=t%4"),
        Err(TemplateError::InvalidPercentEncoding { at: 21 })
    );
    // Escapes that decode to bytes that are not UTF-8.
    assert_eq!(
        template.matches("/return?sid=a&token=%FF%FE"),
        Err(TemplateError::InvalidPercentEncoding { at: 20 })
    );
    // Before an unreserved delimiter too.
    let dotted = t("https://s.example/{{order_id}}.html");
    assert_eq!(
        dotted.matches("/ab%g.html"),
        Err(TemplateError::InvalidPercentEncoding { at: 3 })
    );
}

#[test]
fn pathological_backtracking_is_bounded() {
    let template = t("https://s.example/{{session_id}}.{{order_id}}.{{authorization_token}}.end");
    let url = format!("/{}", ".".repeat(20_000));
    assert!(matches!(
        template.matches(&url),
        Err(TemplateError::Mismatch { .. })
    ));
    let ok = template.matches("/a.b.c.end").unwrap();
    assert_eq!(
        ok,
        Values::new()
            .with_session_id("a")
            .with_order_id("b")
            .with_authorization_token("c")
    );
}

#[test]
fn values_debug_redacts_the_token() {
    let v = Values::new()
        .with_session_id("s")
        .with_authorization_token("secret-token");
    let debug = format!("{v:?}");
    assert!(!debug.contains("secret-token"), "{debug}");
    assert!(debug.contains("[redacted]"), "{debug}");
    assert_eq!(v.get(Placeholder::SessionId), Some("s"));
    assert_eq!(
        Values::new()
            .with(Placeholder::OrderId, "o")
            .order_id
            .as_deref(),
        Some("o")
    );
}

/// Templates covering every delimiter kind: query separators, path slashes, unreserved
/// characters right after a placeholder, repeats, fragments.
const TEMPLATES: &[&str] = &[
    SUCCESS,
    "https://shop.example/return?sid={{session_id}}&order={{order_id}}&token={{authorization_token}}",
    "http://127.0.0.1:8080/cb/{{session_id}}/{{order_id}}",
    "https://s.example/{{order_id}}.html?s={{session_id}}",
    "https://s.example/o/{{order_id}}-{{session_id}}_{{authorization_token}}~x",
    "https://s.example/{{session_id}}a{{order_id}}Z{{authorization_token}}9",
    "https://s.example/{{session_id}}/again/{{session_id}}.{{session_id}}",
    "https://s.example/r?x=1#{{session_id}}",
    "https://s.example/r?a={{session_id}}",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn render_then_match_round_trips(
        index in 0..TEMPLATES.len(),
        session_id in any::<String>(),
        token in any::<String>(),
        order_id in "[&/?%{}#=.a-zA-Z0-9_~+ -]*",
    ) {
        let template = t(TEMPLATES[index]);
        let values = Values::new()
            .with_session_id(session_id)
            .with_authorization_token(token)
            .with_order_id(order_id);
        let url = template.render(&values).unwrap();
        let back = template.matches(&url).unwrap();
        for p in Placeholder::ALL {
            let expected = if template.contains(p) { values.get(p) } else { None };
            prop_assert_eq!(back.get(p), expected);
        }
        // The rendered URL is a valid URI.
        prop_assert!(url.parse::<http::Uri>().is_ok(), "{}", url);
    }

    #[test]
    fn generated_templates_round_trip(
        pieces in proptest::collection::vec(
            ("[a-zA-Z0-9/?&=.~_!$'()*+,;:@-]{1,6}", 0..3usize), 1..6),
        values in ("\\PC*", "\\PC*", "\\PC*"),
    ) {
        let mut raw = String::from("https://shop.example/");
        for (literal, placeholder) in &pieces {
            raw.push_str(&format!("{{{{{}}}}}", Placeholder::ALL[*placeholder].name()));
            raw.push_str(literal);
        }
        let template = t(&raw);
        let values = Values::new().with_session_id(values.0).with_authorization_token(values.1).with_order_id(values.2);
        let url = template.render(&values).unwrap();
        let back = template.matches(&url).unwrap();
        for p in template.placeholders() {
            prop_assert_eq!(back.get(p), values.get(p));
        }
    }

    #[test]
    fn matching_arbitrary_urls_never_panics(index in 0..TEMPLATES.len(), url in any::<String>()) {
        let template = t(TEMPLATES[index]);
        if let Ok(values) = template.matches(&url) {
            // Whatever matched renders to a URL that matches to the same values.
            let again = template.matches(&template.render(&values).unwrap()).unwrap();
            prop_assert_eq!(again, values);
        }
    }
}
