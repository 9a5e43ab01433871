//! Shared request building and response decoding used by every operation.

use http::header::{HeaderName, HeaderValue};
use http::{Method, Request, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::config::Api;
use crate::error::{ApiError, DecodeError, Error, ValidationError, ValidationProblem};

/// The header carrying an OM idempotency key.
pub const IDEMPOTENCY_KEY_HEADER: &str = "Klarna-Idempotency-Key";

const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("klarna-idempotency-key");

/// A request path, built in one buffer: a literal prefix, then percent-encoded ids (coming
/// from Klarna or the caller) and literal suffixes.
pub(crate) struct Path(String);

impl Path {
    /// Starts with `prefix` (already a valid path, e.g. `/payments/v1/sessions`).
    pub(crate) fn new(prefix: &str) -> Self {
        let mut path = String::with_capacity(prefix.len() + 64);
        path.push_str(prefix);
        Self(path)
    }

    /// Appends `/` and `value` percent-encoded as one segment. Refuses an empty `value`, which
    /// would change the path's meaning.
    pub(crate) fn id(mut self, field: &'static str, value: &str) -> Result<Self, ValidationError> {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        if value.is_empty() {
            return Err(ValidationError::new(field, ValidationProblem::Empty));
        }
        let unreserved =
            |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~');
        self.0.reserve(value.len() + 1);
        self.0.push('/');
        // Klarna's ids (UUIDs, tokens) need no encoding: copied at once.
        if value.bytes().all(unreserved) {
            self.0.push_str(value);
            return Ok(self);
        }
        for b in value.bytes() {
            if unreserved(b) {
                self.0.push(char::from(b));
            } else {
                self.0.push('%');
                self.0.push(char::from(HEX[usize::from(b >> 4)]));
                self.0.push(char::from(HEX[usize::from(b & 15)]));
            }
        }
        Ok(self)
    }

    /// Appends literal path text (e.g. `/captures`).
    pub(crate) fn then(mut self, literal: &str) -> Self {
        self.0.push_str(literal);
        self
    }
}

impl std::ops::Deref for Path {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

/// The value of one hex digit (either case); 0 for anything else (callers check digits first).
pub(crate) fn hex_value(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

/// Serializes a request body.
pub(crate) fn json<T: Serialize>(value: &T) -> Result<Vec<u8>, Error> {
    // Most bodies fit in 1 KiB; starting there spares the small reallocations of `to_vec`.
    let mut out = Vec::with_capacity(1024);
    serde_json::to_writer(&mut out, value)
        .map_err(|_| ValidationError::new(".", ValidationProblem::NotEncodable))?;
    Ok(out)
}

/// Builds a request with the headers every Klarna call carries.
///
/// `path` must already be encoded (see [`Path`]); `body` gets `Content-Type: application/json`.
/// The `Authorization` and `User-Agent` values are built once per [`Api`] and shared here.
pub(crate) fn request(
    api: &Api,
    method: Method,
    path: &str,
    body: Option<Vec<u8>>,
    idempotency_key: Option<&str>,
) -> Result<Request<Vec<u8>>, Error> {
    let invalid =
        |expected| ValidationError::new("request", ValidationProblem::Pattern { expected });
    // Built once per `Api`, `Authorization` marked sensitive, so `Debug` of the request never
    // prints the credentials.
    let headers = api.request_headers().get(body.is_some()).ok_or_else(|| {
        ValidationError::new(
            "credentials",
            ValidationProblem::Pattern {
                expected: "characters allowed in an HTTP header",
            },
        )
    })?;
    // Every path segment was validated or percent-encoded by the caller.
    let uri = api
        .base_url()
        .uri(path)
        .ok_or_else(|| invalid("a valid request path"))?;
    let mut request = Request::new(body.unwrap_or_default());
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.headers_mut() = headers.clone();
    let headers = request.headers_mut();
    if let Some(key) = idempotency_key {
        let value = HeaderValue::try_from(key).map_err(|_| invalid("valid HTTP header values"))?;
        headers.insert(IDEMPOTENCY_KEY, value);
    }
    Ok(request)
}

/// Fails with [`ApiError`] unless the status is 2xx (Klarna: treat any 2xx as success).
pub(crate) fn success(operation: &'static str, response: &Response<Vec<u8>>) -> Result<(), Error> {
    if response.status().is_success() {
        Ok(())
    } else {
        Err(ApiError::from_response(operation, response).into())
    }
}

/// Decodes a 2xx JSON body, naming the JSON path of any failure.
pub(crate) fn decode<T: DeserializeOwned>(
    operation: &'static str,
    response: &Response<Vec<u8>>,
) -> Result<T, Error> {
    success(operation, response)?;
    decode_body(operation, response.status(), response.body())
}

/// Decodes a JSON body that is known to be a success (used for callbacks too).
pub(crate) fn decode_body<T: DeserializeOwned>(
    operation: &'static str,
    status: http::StatusCode,
    body: &[u8],
) -> Result<T, Error> {
    let fail = |path: String, message: String| -> Error {
        DecodeError {
            operation,
            status,
            path,
            message: sanitize(&message),
            body: body.to_vec(),
        }
        .into()
    };
    // The fast path is plain serde_json over the body checked as UTF-8 once (decoding from
    // bytes would check every string on its own, at several times the cost). A body that is
    // not UTF-8 takes the slow path below, from bytes as before: serde_json refuses invalid
    // UTF-8 in the strings it decodes (an error naming the field) and skips it in those it
    // ignores (success). The slow path tracks the JSON path (it allocates per key) to name
    // where a decode failed: errors are the cold path.
    if let Ok(Ok(value)) = std::str::from_utf8(body).map(serde_json::from_str::<T>) {
        return Ok(value);
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut *de)
        .map_err(|e| fail(path_text(e.path()), e.into_inner().to_string()))?;
    de.end().map_err(|e| fail(".".to_owned(), e.to_string()))?;
    Ok(value)
}

/// The JSON path of a decode failure as `DecodeError` shows it (`order_lines[1].tax_rate`, `.`
/// for the root). A key is the body's own text, and a map's keys may be anything: a key that
/// could not be a field name (ASCII letters, digits and `_`, at most 64 bytes) shows as `<key>`.
fn path_text(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    use std::fmt::Write as _;
    let is_name = |key: &str| {
        !key.is_empty()
            && key.len() <= 64
            && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    };
    let mut out = String::new();
    for segment in path.iter() {
        let name = match segment {
            Segment::Seq { index } => {
                let _ = write!(out, "[{index}]");
                continue;
            }
            Segment::Map { key: name } | Segment::Enum { variant: name } if is_name(name) => name,
            Segment::Map { .. } | Segment::Enum { .. } => "<key>",
            Segment::Unknown => "?",
        };
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(name);
    }
    if out.is_empty() {
        out.push('.');
    }
    out
}

/// Removes from a message (serde's, or Klarna's `error_messages`, which echo what was sent)
/// every part that may be a submitted value: customer data or a secret. What is left are
/// Klarna's error codes, field names and paths (`billing_address.email`, `order_lines[0]`),
/// serde's backticked names and plain words.
///
/// - quoted values: `"…"` (with `\"` escapes), `'…'` (a quote opens only after a space or
///   punctuation, so `Klarna's` is a word), `‘…’` and `“…”` become `<value>`;
/// - a word with `://` or starting with `www.` becomes `<url>`;
/// - a word with `@` becomes `<email>`;
/// - in a word with `=`, everything after the first `=` becomes `<value>` (and the next word,
///   when the `=` ends the word);
/// - a number of seven digits or more, counting digits joined by spaces, `-`, `.`, `/`, `(`,
///   `)` and a leading `+` (phone numbers, national ids, dates, card and account numbers),
///   becomes `<number>`; a UUID (Klarna's order, session and correlation ids, which make an
///   error actionable) is kept whole.
pub(crate) fn sanitize(message: &str) -> String {
    redact_numbers(&redact_words(&strip_quoted(message)))
}

/// An id from an answer (`correlation_id`): kept when it is a UUID (`8-4-4-4-12` hex digits,
/// Klarna's form, which support asks for), else through [`sanitize`].
pub(crate) fn sanitize_id(id: &str) -> String {
    if is_uuid(id) {
        id.to_owned()
    } else {
        sanitize(id)
    }
}

/// Whether `text` is a UUID: `8-4-4-4-12` hex digits.
fn is_uuid(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                *c == b'-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// Replaces quoted values with `<value>`; an unterminated quote runs to the end.
fn strip_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut chars = message.chars().peekable();
    let mut previous: Option<char> = None;
    while let Some(c) = chars.next() {
        let opens_after = |p: Option<char>| p.is_none_or(|p| !p.is_alphanumeric());
        let close = match c {
            '"' => '"',
            '\'' if opens_after(previous) => '\'',
            '\u{2018}' => '\u{2019}',
            '\u{201C}' => '\u{201D}',
            _ => {
                out.push(c);
                previous = Some(c);
                continue;
            }
        };
        let mut escaped = false;
        while let Some(d) = chars.next() {
            match d {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                // Inside single quotes an apostrophe followed by a letter is part of the
                // value (`'O'Brien'`).
                '\'' if close == '\'' && chars.peek().is_some_and(|n| n.is_alphanumeric()) => {}
                _ if d == close => break,
                _ => {}
            }
        }
        out.push_str("<value>");
        previous = Some(close);
    }
    out
}

/// Replaces URLs, e-mail addresses and values after `=`, word by word (words are separated
/// by whitespace, which is kept).
fn redact_words(message: &str) -> String {
    const LEADING: &[char] = &['(', '[', '{'];
    const TRAILING: &[char] = &[')', ']', '}', ',', '.', ';', ':', '!', '?'];
    let mut out = String::with_capacity(message.len());
    let mut value_next = false;
    let mut rest = message;
    while !rest.is_empty() {
        let space = rest.len() - rest.trim_start().len();
        out.push_str(&rest[..space]);
        rest = &rest[space..];
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = &rest[..end];
        rest = &rest[end..];
        if word.is_empty() {
            continue;
        }
        let core = word.trim_start_matches(LEADING);
        let lead = &word[..word.len() - core.len()];
        let core = core.trim_end_matches(TRAILING);
        let trail = &word[lead.len() + core.len()..];
        out.push_str(lead);
        if value_next {
            value_next = false;
            out.push_str("<value>");
        } else if core.contains("://") || core.to_ascii_lowercase().starts_with("www.") {
            out.push_str("<url>");
        } else if core.contains('@') {
            out.push_str("<email>");
        } else if let Some(eq) = core.find('=') {
            out.push_str(&core[..=eq]);
            if eq + 1 == core.len() {
                value_next = true;
            } else {
                out.push_str("<value>");
            }
        } else {
            out.push_str(core);
        }
        out.push_str(trail);
    }
    out
}

/// Replaces numbers of seven digits or more (see [`sanitize`]) with `<number>`.
fn redact_numbers(message: &str) -> String {
    let joins = |c: char| matches!(c, ' ' | '-' | '.' | '/' | '(' | ')' | '+');
    let bytes: Vec<char> = message.chars().collect();
    let mut out = String::with_capacity(message.len());
    let mut i = 0;
    while i < bytes.len() {
        // A UUID (Klarna's ids: orders, sessions, correlation) is one word, not digits.
        if (i == 0 || bytes[i - 1].is_whitespace()) && !bytes[i].is_whitespace() {
            let end = bytes[i..]
                .iter()
                .position(|c| c.is_whitespace())
                .map_or(bytes.len(), |n| i + n);
            let word: String = bytes[i..end].iter().collect();
            if is_uuid(word.trim_matches(|c: char| !c.is_ascii_hexdigit())) {
                out.push_str(&word);
                i = end;
                continue;
            }
        }
        if !bytes[i].is_ascii_digit() {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        // A run of digits and joining characters; it ends after its last digit.
        let mut j = i;
        let mut last_digit = i;
        let mut digits = 0usize;
        while j < bytes.len() && (bytes[j].is_ascii_digit() || joins(bytes[j])) {
            if bytes[j].is_ascii_digit() {
                digits += 1;
                last_digit = j;
            }
            j += 1;
        }
        if digits >= 7 {
            // Take a `+` or `(` that directly precedes the first digit along.
            if matches!(out.chars().last(), Some('+' | '(')) {
                out.pop();
            }
            out.push_str("<number>");
        } else {
            out.extend(&bytes[i..=last_digit]);
        }
        i = last_digit + 1;
    }
    out
}

/// A response header as a string, if present and valid.
pub(crate) fn header<'a>(response: &'a Response<Vec<u8>>, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::{AUTHORIZATION, CONTENT_TYPE, USER_AGENT};

    #[test]
    fn path_encodes_ids() {
        let path = Path::new("/x")
            .id("id", "a b/c\u{e9}")
            .expect("non-empty")
            .then("/y");
        assert_eq!(&*path, "/x/a%20b%2Fc%C3%A9/y");
        assert!(Path::new("/x").id("id", "").is_err());
    }

    #[test]
    fn request_debug_hides_credentials() {
        let api = Api::new(
            crate::config::BaseUrl::klarna(
                crate::config::Region::Eu,
                crate::config::Environment::Playground,
            ),
            crate::config::Credentials::new("merchant", "hunter2"),
        );
        let req = request(&api, Method::GET, "/x", None, None).expect("builds");
        let debug = format!("{req:?}");
        assert!(!debug.contains("Basic"), "{debug}");
        assert_eq!(
            req.headers()[AUTHORIZATION],
            "Basic bWVyY2hhbnQ6aHVudGVyMg=="
        );
    }

    #[test]
    fn request_headers_follow_the_api() {
        use crate::config::{BaseUrl, Credentials, UserAgent};
        let api = Api::new(
            BaseUrl::custom("http://127.0.0.1:1").expect("loopback"),
            Credentials::new("merchant", "hunter2"),
        );
        fn names(req: &Request<Vec<u8>>) -> Vec<&str> {
            let mut names: Vec<&str> = req.headers().keys().map(|k| k.as_str()).collect();
            names.sort_unstable();
            names
        }
        let get = request(&api, Method::GET, "/x", None, None).expect("builds");
        assert_eq!(names(&get), ["accept", "authorization", "user-agent"]);
        let post =
            request(&api, Method::POST, "/x", Some(b"{}".to_vec()), Some("k-1")).expect("builds");
        assert_eq!(
            names(&post),
            [
                "accept",
                "authorization",
                "content-type",
                "klarna-idempotency-key",
                "user-agent"
            ]
        );
        assert_eq!(post.headers()[CONTENT_TYPE], "application/json");
        assert!(get.headers()[AUTHORIZATION].is_sensitive());
        assert!(post.headers()[AUTHORIZATION].is_sensitive());
        assert_eq!(post.headers()[IDEMPOTENCY_KEY], "k-1");
        // A new User-Agent reaches every later request, and the old handle keeps its own.
        let agent = UserAgent::default()
            .with_product("shop/1.2")
            .expect("ascii");
        let branded = api.clone().with_user_agent(agent.clone());
        let req = request(&branded, Method::GET, "/x", None, None).expect("builds");
        assert_eq!(req.headers()[USER_AGENT], agent.as_str());
        assert_ne!(get.headers()[USER_AGENT], agent.as_str());
        assert_ne!(api, branded);
        assert!(!format!("{branded:?}").contains("hunter2"));
    }

    #[test]
    fn sanitize_handles_escaped_quotes() {
        let msg = r#"invalid type: string "say \"Jane\" Doe", expected i64"#;
        assert_eq!(sanitize(msg), "invalid type: string <value>, expected i64");
        let injected = r#"invalid type: string "Jane\" Doe, expected \"x", expected i64"#;
        assert_eq!(
            sanitize(injected),
            "invalid type: string <value>, expected i64"
        );
    }

    #[test]
    fn sanitize_strips_values() {
        assert_eq!(
            sanitize("invalid type: string \"Jane Doe\", expected i64"),
            "invalid type: string <value>, expected i64"
        );
    }

    /// Messages in the shapes Klarna's answers take (KP, HPP, OM), with what they echo.
    #[test]
    fn sanitize_keeps_codes_fields_and_words_of_klarna_messages() {
        for plain in [
            "BAD_VALUE",
            "Bad value: order_lines[0].total_amount",
            "Bad value: billing_address.email",
            "NOT_ALLOWED: Capture not allowed. Remaining authorized amount is 0.",
            "Klarna's order_amount 12000 does not match the order lines' sum 11000",
            "Field not allowed: customer.national_identification_number",
            "invalid type: integer `5`, expected a string",
            "unknown variant `HOLOGRAM`, expected one of `physical`, `discount`",
            "Authorization token expired",
        ] {
            assert_eq!(sanitize(plain), plain);
        }
    }

    #[test]
    fn sanitize_removes_customer_data_and_secrets_from_klarna_messages() {
        for (message, expected) in [
            (
                "Invalid email jane.doe@example.com (given_name 'Jane')",
                "Invalid email <email> (given_name <value>)",
            ),
            (
                "Bad value: billing_address.phone '+46 70 123 45 67'",
                "Bad value: billing_address.phone <value>",
            ),
            (
                "Invalid phone number +46 70 123 45 67 for country SE",
                "Invalid phone number <number> for country SE",
            ),
            (
                "Invalid phone number (555) 123-4567.",
                "Invalid phone number <number>.",
            ),
            (
                "national_identification_number 19900101-1234 is not valid",
                "national_identification_number <number> is not valid",
            ),
            (
                "date_of_birth 1990-01-01 does not match the national id",
                "date_of_birth <number> does not match the national id",
            ),
            (
                "Card 4111 1111 1111 1111 declined",
                "Card <number> declined",
            ),
            (
                "merchant_urls.status_update https://shop.example/cb?kh_secret=00ff is not https",
                "merchant_urls.status_update <url> is not https",
            ),
            (
                "Invalid URL (www.shop.example/cb&secret=1)",
                "Invalid URL (<url>)",
            ),
            (
                "Unexpected parameter kh_secret=d9b006f9&sid=1 in callback",
                "Unexpected parameter kh_secret=<value> in callback",
            ),
            (
                "Invalid value for token= abc123",
                "Invalid value for token= <value>",
            ),
            (
                "Address \u{2018}Sveav\u{e4}gen 44\u{2019} could not be verified",
                "Address <value> could not be verified",
            ),
            (
                "Name \u{201c}Jane Doe\u{201d} too long",
                "Name <value> too long",
            ),
            (
                "family_name 'O'Brien' contains invalid characters",
                "family_name <value> contains invalid characters",
            ),
            ("given_name 'Jane", "given_name <value>"),
            (
                "invalid type: string \"Jane Doe\", expected i64",
                "invalid type: string <value>, expected i64",
            ),
        ] {
            assert_eq!(sanitize(message), expected, "{message}");
        }
    }

    proptest::proptest! {
        /// On any text: no panic, and no `@` or `"` survives (every e-mail, URL with user info
        /// and quoted value is gone).
        #[test]
        fn sanitize_leaves_no_address_or_quoted_value(text in "\\PC{0,80}") {
            let clean = sanitize(&text);
            proptest::prop_assert!(!clean.contains('@'), "{clean}");
            proptest::prop_assert!(!clean.contains('"'), "{clean}");
        }
    }

    #[test]
    fn correlation_ids_are_kept_when_they_are_uuids() {
        let id = "6a1e4f3c-4d0b-4b8e-9f6f-0a2c1d3e5b7a";
        assert_eq!(sanitize_id(id), id);
        let digits = "12345678-1234-1234-1234-123456789012";
        assert_eq!(sanitize_id(digits), digits);
        // In a message too: an id is not a number.
        let message = "Order 7849fd84-0000-4000-8000-00000000abcd cannot be found";
        assert_eq!(sanitize(message), message);
        assert_eq!(sanitize_id("jane@example.com"), "<email>");
        assert_eq!(sanitize_id("corr-1"), "corr-1");
    }

    #[test]
    fn utf8_and_non_utf8_bodies_decode_as_from_bytes() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct T {
            name: String,
        }
        let ok = "{\"name\":\"Bj\u{f6}rk \\u00e9\"}".as_bytes();
        let value = decode_body::<T>("t", http::StatusCode::OK, ok).expect("valid UTF-8");
        assert_eq!(value.name, "Bj\u{f6}rk \u{e9}");
        // A lone continuation byte inside a string: not UTF-8, so not JSON.
        let bad = b"{\"name\":\"a\x80b\"}";
        match decode_body::<T>("t", http::StatusCode::OK, bad).expect_err("invalid UTF-8") {
            Error::Decode(d) => {
                assert_eq!(d.path, "name");
                assert_eq!(d.body, bad.to_vec());
            }
            other => panic!("unexpected {other:?}"),
        }
        // In a field the type ignores it is skipped, as decoding from bytes always did.
        let ignored = b"{\"name\":\"a\",\"note\":\"\x80\"}";
        let value = decode_body::<T>("t", http::StatusCode::OK, ignored).expect("skipped");
        assert_eq!(value.name, "a");
    }

    #[test]
    fn decode_paths_show_no_key_from_the_body_that_is_no_field_name() {
        #[derive(serde::Deserialize, Debug)]
        struct T {
            #[allow(dead_code)]
            tags: std::collections::BTreeMap<String, Vec<u32>>,
        }
        let body = br#"{"tags":{"jane.doe@example.com":[1,"x"]}}"#;
        match decode_body::<T>("t", http::StatusCode::OK, body).expect_err("bad element") {
            Error::Decode(d) => {
                assert_eq!(d.path, "tags.<key>[1]");
                assert!(!format!("{d} {d:?}").contains("jane"), "{d}");
            }
            other => panic!("unexpected {other:?}"),
        }
        // An unknown key whose value is not even JSON: the same.
        let body = br#"{"tags":{},"Jane Doe":tru}"#;
        match decode_body::<T>("t", http::StatusCode::OK, body).expect_err("bad literal") {
            Error::Decode(d) => assert!(!d.path.contains("Jane"), "{}", d.path),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn decode_names_path_and_keeps_body() {
        #[derive(serde::Deserialize, Debug)]
        struct T {
            #[allow(dead_code)]
            a: Vec<u32>,
        }
        let body = br#"{"a":[1,"x"]}"#;
        let err = decode_body::<T>("t", http::StatusCode::OK, body).expect_err("bad element");
        match err {
            Error::Decode(d) => {
                assert_eq!(d.path, "a[1]");
                assert_eq!(d.body, body.to_vec());
                assert!(!d.message.contains("\"x\""), "{}", d.message);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
