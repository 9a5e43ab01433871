//! The checks the fuzz targets run on each input.
//!
//! `crates/core/tests/fuzz_corpus.rs` includes this file with `#[path]`, so `cargo test` replays
//! every committed corpus file through exactly the same code. Each check panics when an invariant
//! breaks (that is the finding) and returns what the input exercised, so the replay can also check
//! that the corpus covers the interesting paths.
#![allow(unreachable_pub, dead_code)]

use klarna_hpp_core::hpp::{
    CreateSession, DisableSession, Distribute, PlaceOrderMode, ReadSession, StatusCallback,
};
use klarna_hpp_core::http::{Response, StatusCode};
use klarna_hpp_core::template::{KpUrlTemplate, Placeholder, UrlKind, UrlTemplate, Values};
use klarna_hpp_core::{Error, Operation};

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
