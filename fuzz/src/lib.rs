//! The checks the fuzz targets run on each input.
//!
//! `crates/core/tests/fuzz_corpus.rs` includes this file with `#[path]`, so `cargo test` replays
//! every committed corpus file through exactly the same code. Each check panics when an invariant
//! breaks (that is the finding) and returns what the input exercised, so the replay can also check
//! that the corpus covers the interesting paths.
#![allow(unreachable_pub, dead_code)]

#[path = "checkout/mod.rs"]
mod checkout;

use std::fmt::Debug;

use klarna_hpp_core::hpp::{
    CreateSession, DisableSession, Distribute, PlaceOrderMode, ReadSession, StatusCallback,
};
use klarna_hpp_core::http::{HeaderValue, Response, StatusCode};
use klarna_hpp_core::template::{KpUrlTemplate, Placeholder, UrlKind, UrlTemplate, Values};
use klarna_hpp_core::{kp, om, Error, Operation};
use serde::Serialize;

pub use self::checkout::input::CheckoutInput;
pub use self::checkout::seeds::seeds;
pub use self::checkout::{checkout, run_checkout};

/// What a `template` input exercised.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TemplateOutcome {
    /// Line 1 parsed as an HPP template.
    pub parsed: bool,
    /// Line 1 parsed as a KP template.
    pub kp_parsed: bool,
    /// Line 2 matched the HPP template.
    pub matched_input: bool,
}

/// `template` target. Input: UTF-8 (lossy) lines `template`, `url`, then optional values for
/// `session_id`, `authorization_token`, `order_id`.
///
/// Invariants: parsing never panics; a parsed template renders with all values present;
/// `matches(render(v))` returns `v` for the template's placeholders; whatever `matches` extracts
/// from the input URL renders to a URL that matches to the same values; KP templates render.
pub fn template(data: &[u8]) -> TemplateOutcome {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let raw = lines.next().unwrap_or_default();
    let url = lines.next().unwrap_or_default();
    let values = Values::new()
        .with_session_id(lines.next().unwrap_or("s"))
        .with_authorization_token(lines.next().unwrap_or("t"))
        .with_order_id(lines.next().unwrap_or("o"));
    let mut outcome = TemplateOutcome::default();

    if let Ok(t) = UrlTemplate::parse(raw) {
        outcome.parsed = true;
        assert_eq!(t.as_str(), raw);
        let _ = format!("{t:?}");
        for kind in UrlKind::ALL {
            for mode in PlaceOrderMode::KNOWN {
                let _ = t.check(kind, mode);
            }
        }
        let rendered = t.render(&values).expect("every value is present");
        assert!(rendered.is_ascii(), "rendered URLs are ASCII");
        let back = t
            .matches(&rendered)
            .expect("a rendered URL matches its template");
        for p in Placeholder::ALL {
            let expected = if t.contains(p) { values.get(p) } else { None };
            assert_eq!(back.get(p), expected, "round trip of {p}");
        }
        if let Ok(found) = t.matches(url) {
            outcome.matched_input = true;
            let again = t
                .matches(&t.render(&found).expect("matched values are complete"))
                .expect("re-rendered values match");
            assert_eq!(again, found);
        }
    }

    if let Ok(t) = KpUrlTemplate::parse(raw) {
        outcome.kp_parsed = true;
        let rendered = t.render(&values).expect("every value is present");
        assert!(rendered.is_ascii());
    }
    outcome
}

/// What a `decode_hpp` input exercised.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DecodeOutcome {
    /// The HTTP status used.
    pub status: u16,
    /// `ReadSession` decoded a session.
    pub session: bool,
    /// `CreateSession` decoded a created session.
    pub created: bool,
    /// `StatusCallback::decode` decoded a callback.
    pub callback: bool,
}

/// The status of a `decode_hpp` input and its body: a leading three-digit status (`200{...}`),
/// or else a status in 100..=999 from the first two bytes.
pub fn split_status(data: &[u8]) -> (u16, &[u8]) {
    if let Some(digits) = data.get(..3) {
        if digits.iter().all(u8::is_ascii_digit) && digits[0] != b'0' {
            let status = digits
                .iter()
                .fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
            return (status, &data[3..]);
        }
    }
    match data {
        [a, b, rest @ ..] => (100 + u16::from_le_bytes([*a, *b]) % 900, rest),
        _ => (200, data),
    }
}

/// `decode_hpp` target: every HPP decoder on one response.
///
/// Invariants: 2xx gives `Ok` or a `Decode` error naming the operation, the status and the exact
/// body; any other status gives an `Api` error with the same; a decoded value re-encodes to JSON
/// that decodes to the same value; callbacks decode to `Ok` or a `Decode` error with status 200.
pub fn decode_hpp(data: &[u8]) -> DecodeOutcome {
    let (status, body) = split_status(data);
    let response = Response::builder()
        .status(status)
        .body(body.to_vec())
        .expect("100..=999 is a valid status");
    let status = response.status();
    let mut outcome = DecodeOutcome {
        status: status.as_u16(),
        ..DecodeOutcome::default()
    };

    let session = ReadSession::decode_response(&response);
    expect_typed(&session, ReadSession::NAME, status, body);
    if let Ok(s) = &session {
        outcome.session = true;
        let again = ReadSession::decode_response(&ok(serde_json::to_vec(s).expect("encodes")));
        assert_eq!(again.as_ref().ok(), Some(s), "session re-encodes");
    }
    // Tied to the session asked for: what decodes is about it (its id filled in when absent),
    // and a body naming another session is refused.
    let read = ReadSession::new("s");
    let tied = read.decode(&response);
    expect_typed(&tied, ReadSession::NAME, status, body);
    match (&session, &tied) {
        (Ok(s), Ok(t)) => {
            assert!(s.is_about("s"), "a session about another was accepted");
            assert_eq!(t.session_id.as_deref(), Some("s"));
            assert_eq!(t.status, s.status);
        }
        (Ok(s), Err(_)) => assert!(!s.is_about("s"), "a session about the read was refused"),
        (Err(_), Ok(_)) => panic!("the tied read decoded what the plain one refused"),
        (Err(_), Err(_)) => {}
    }

    let created = CreateSession::decode_response(&response);
    expect_typed(&created, CreateSession::NAME, status, body);
    if let Ok(c) = &created {
        outcome.created = true;
        let again = CreateSession::decode_response(&ok(serde_json::to_vec(c).expect("encodes")));
        assert_eq!(again.as_ref().ok(), Some(c), "created session re-encodes");
    }

    let disabled = DisableSession::decode_response(&response);
    expect_typed(&disabled, DisableSession::NAME, status, body);
    assert_eq!(disabled.is_ok(), status.is_success());
    let distributed = Distribute::decode_response(&response);
    expect_typed(&distributed, Distribute::NAME, status, body);
    assert_eq!(distributed.is_ok(), status.is_success());

    match StatusCallback::decode(body) {
        Ok(cb) => {
            outcome.callback = true;
            let again = StatusCallback::decode(&serde_json::to_vec(&cb).expect("encodes"));
            assert_eq!(again.ok(), Some(cb), "callback re-encodes");
        }
        Err(Error::Decode(d)) => {
            assert_eq!(d.operation, StatusCallback::NAME);
            assert_eq!(d.status, StatusCode::OK);
            assert_eq!(d.body, body);
        }
        Err(other) => panic!("callback: unexpected {other:?}"),
    }
    outcome
}

fn ok(body: Vec<u8>) -> Response<Vec<u8>> {
    Response::builder()
        .status(200)
        .body(body)
        .expect("200 is a valid status")
}

/// `result` is what the status allows, and its error carries the operation, status and body.
fn expect_typed<T>(result: &Result<T, Error>, operation: &str, status: StatusCode, body: &[u8]) {
    match result {
        Ok(_) => assert!(status.is_success(), "{operation}: Ok on {status}"),
        Err(Error::Decode(d)) => {
            assert!(status.is_success(), "{operation}: decode error on {status}");
            assert_eq!(d.operation, operation);
            assert_eq!(d.status, status);
            assert_eq!(d.body, body);
            // The path may be empty (a field named ""); the message never echoes quoted values.
            assert!(
                !d.message.contains('"'),
                "{operation}: message echoes a value"
            );
        }
        Err(Error::Api(e)) => {
            assert!(!status.is_success(), "{operation}: API error on {status}");
            assert_eq!(e.operation, operation);
            assert_eq!(e.status, status);
            assert_eq!(e.body, body);
        }
        Err(other) => panic!("{operation}: unexpected {other:?}"),
    }
}

/// What a `decode_kp_om` input exercised.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct KpOmOutcome {
    /// The HTTP status used.
    pub status: u16,
    /// Decoders (of the eight with a body) that decoded a value.
    pub decoded: usize,
    /// Decoders that gave `Error::Decode`.
    pub decode_errors: usize,
    /// The input has a JSON string value that a leak would show.
    pub has_strings: bool,
    /// The create decoders read an id from the headers built from the body.
    pub created_id: bool,
}

/// `decode_kp_om` target: the KP and OM decoders on one response (status as in
/// [`split_status`]).
///
/// Invariants: as for `decode_hpp` (non-2xx is `Api`, a 2xx that does not decode is `Decode`,
/// both carrying operation, status and the exact body; decoded values re-encode to the same
/// value), and the `Display` of every error contains no double-quoted string value of the
/// input (customer data must not leak; field names in backticks are fine). The create
/// decoders (`CreateCapture`, `CreateRefund`) read no body: they succeed on any 2xx, and with
/// `Capture-Id`/`Refund-Id` and `Location` headers made of the body's first line they report it.
pub fn decode_kp_om(data: &[u8]) -> KpOmOutcome {
    let (status, body) = split_status(data);
    let response = Response::builder()
        .status(status)
        .body(body.to_vec())
        .expect("100..=999 is a valid status");
    let quoted = quoted_values(body);
    let mut outcome = KpOmOutcome {
        status: response.status().as_u16(),
        has_strings: !quoted.is_empty(),
        ..KpOmOutcome::default()
    };
    let out = &mut outcome;
    decodes::<kp::CreateSession>(&response, &quoted, out);
    decodes::<kp::ReadSession>(&response, &quoted, out);
    decodes::<kp::CreateOrder>(&response, &quoted, out);
    decodes::<kp::CreateCustomerToken>(&response, &quoted, out);
    decodes::<om::GetOrder>(&response, &quoted, out);
    decodes::<om::ListCaptures>(&response, &quoted, out);
    decodes::<om::GetCapture>(&response, &quoted, out);
    decodes::<om::GetRefund>(&response, &quoted, out);
    // An item kept raw shows only its JSON type in `Debug` (it may hold customer data).
    if let Ok(order) = om::GetOrder::decode_response(&response) {
        let shown: Vec<String> = (order.captures.iter().filter(|i| i.raw().is_some()))
            .map(|i| format!("{i:?}"))
            .chain(
                order
                    .refunds
                    .iter()
                    .filter(|i| i.raw().is_some())
                    .map(|i| format!("{i:?}")),
            )
            .chain(
                order
                    .order_lines
                    .iter()
                    .filter(|i| i.raw().is_some())
                    .map(|i| format!("{i:?}")),
            )
            .collect();
        for s in shown {
            assert!(
                s.starts_with("Raw(<") && !s.contains('"'),
                "raw item shown: {s}"
            );
        }
    }

    let line = body.split(|b| *b == b'\n').next().unwrap_or_default();
    let header = HeaderValue::from_bytes(line).ok();
    for with_headers in [false, true] {
        let mut response = response.clone();
        let header = header.as_ref().filter(|_| with_headers);
        if let Some(v) = header {
            for name in ["Capture-Id", "Refund-Id", "Location"] {
                response.headers_mut().insert(name, v.clone());
            }
        }
        // What `Capture-Id` (or, failing it, the last segment of `Location`) yields.
        let expected = header
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty());
        let capture = om::CreateCapture::decode_response(&response);
        expect_typed(&capture, om::CreateCapture::NAME, response.status(), body);
        no_leak(&capture, om::CreateCapture::NAME, &quoted);
        if let Ok(c) = &capture {
            assert_eq!(c.location.as_deref(), expected, "capture location");
            assert_eq!(c.capture_id.as_deref(), expected, "capture id");
            outcome.created_id |= c.capture_id.is_some();
        }
        let refund = om::CreateRefund::decode_response(&response);
        expect_typed(&refund, om::CreateRefund::NAME, response.status(), body);
        no_leak(&refund, om::CreateRefund::NAME, &quoted);
        if let Ok(r) = &refund {
            assert_eq!(r.location.as_deref(), expected, "refund location");
            assert_eq!(r.refund_id.as_deref(), expected, "refund id");
        }
        assert_eq!(capture.is_ok(), response.status().is_success());
        assert_eq!(refund.is_ok(), response.status().is_success());
    }
    outcome
}

/// `O::decode_response` is typed, leaks nothing, and what it decodes re-encodes to itself.
fn decodes<O>(response: &Response<Vec<u8>>, quoted: &[String], outcome: &mut KpOmOutcome)
where
    O: Operation,
    O::Output: Serialize + PartialEq + Debug,
{
    let result = O::decode_response(response);
    expect_typed(&result, O::NAME, response.status(), response.body());
    no_leak(&result, O::NAME, quoted);
    match &result {
        Ok(value) => {
            outcome.decoded += 1;
            let again = O::decode_response(&ok(serde_json::to_vec(value).expect("encodes")));
            assert_eq!(again.as_ref().ok(), Some(value), "{} re-encodes", O::NAME);
        }
        Err(Error::Decode(_)) => outcome.decode_errors += 1,
        Err(_) => {}
    }
}

/// The error's `Display` shows none of `quoted`.
fn no_leak<T>(result: &Result<T, Error>, operation: &str, quoted: &[String]) {
    if let Err(e) = result {
        let shown = e.to_string();
        for q in quoted {
            assert!(
                !shown.contains(q.as_str()),
                "{operation}: the error shows {q} from the input: {shown}"
            );
        }
    }
}

/// Every non-empty string value of `body` as it would appear double-quoted in a message: raw
/// (`"Jane"`) and escaped (`"a\"b"`). For a body that is not JSON, every stretch between two
/// double quotes.
pub fn quoted_values(body: &[u8]) -> Vec<String> {
    fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) if !s.is_empty() => {
                out.push(format!("\"{s}\""));
                out.push(format!("{s:?}"));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            serde_json::Value::Object(map) => map.values().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) => walk(&v, &mut out),
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            for inner in text.split('"').skip(1).step_by(2) {
                if !inner.is_empty() && text.contains(&format!("\"{inner}\"")) {
                    out.push(format!("\"{inner}\""));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}
