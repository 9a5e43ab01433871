//! Turning the merchant's incoming web requests into the checkout's inputs, over the `http`
//! crate's types (so any framework that exposes a [`Uri`] and a [`HeaderMap`] can use them).
//!
//! A checkout hears from the consumer's browser and from Klarna at two kinds of endpoint:
//!
//! - the **merchant URLs** the browser returns to (success, cancel, back, failure, error): pass
//!   [`redirect_url`] of the request to [`Checkout::handle_redirect`];
//! - the **`status_update`** URL Klarna posts callbacks to: check the request with [`callback`]
//!   and pass what it returns to [`Checkout::handle_callback`].
//!
//! Both are only hints (the checkout verifies by reading the session), but the handler still has
//! to find *which* checkout they are for. The pattern: add the checkout's id as a query parameter
//! ([`CHECKOUT_PARAM`]) to every merchant URL with [`with_checkout_id`], and read it back with
//! [`checkout_id`]:
//!
//! ```text
//! merchant sets   status_update = https://shop.example/klarna/callback?checkout=<id>
//! the core sends  https://shop.example/klarna/callback?checkout=<id>&sid={{session_id}}&kh_secret=<secret>
//! Klarna posts to https://shop.example/klarna/callback?checkout=<id>&sid=<hpp session>&kh_secret=<secret>
//! ```
//!
//! ```
//! use klarna_hpp_async::klarna_hpp_core::http::{HeaderMap, Uri};
//! use klarna_hpp_async::web;
//!
//! // Building the checkout's merchant URLs:
//! let callback_url = web::with_checkout_id("https://shop.example/klarna/callback", "order-1001");
//! assert_eq!(callback_url, "https://shop.example/klarna/callback?checkout=order-1001");
//!
//! // In the callback handler:
//! let uri: Uri = "/klarna/callback?checkout=order-1001&sid=abc&kh_secret=s3cret".parse()?;
//! let id = web::checkout_id(&uri)?; // load this checkout (and lock it)
//! let (uri_for_core, body) = web::callback(&uri, &HeaderMap::new(), br#"{"event_id":"e1"}"#)?;
//! // checkout.handle_callback(&uri_for_core, body, now)?;
//! assert_eq!(id, "order-1001");
//! assert_eq!(uri_for_core, "/klarna/callback?checkout=order-1001&sid=abc&kh_secret=s3cret");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`Checkout::handle_redirect`]: klarna_hpp_core::checkout::Checkout::handle_redirect
//! [`Checkout::handle_callback`]: klarna_hpp_core::checkout::Checkout::handle_callback

use std::borrow::Cow;

use klarna_hpp_core::http::{header, HeaderMap, StatusCode, Uri};

/// The largest callback body accepted (64 KiB; Klarna's callbacks are a few KiB). Configure your
/// framework's body limit to this too, so a larger body is never buffered.
pub const MAX_CALLBACK_BODY: usize = 64 * 1024;

/// The query parameter that carries the merchant's checkout id in merchant URLs.
pub const CHECKOUT_PARAM: &str = "checkout";

/// Why an incoming request is not acceptable input for a checkout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebError {
    /// The callback's `Content-Type` is not JSON.
    #[error("unsupported content type {0:?}: expected application/json")]
    UnsupportedContentType(String),
    /// The callback's body (or its declared `Content-Length`) is larger than [`MAX_CALLBACK_BODY`].
    #[error("the body has {actual} bytes, more than the {max} accepted")]
    BodyTooLarge {
        /// The limit.
        max: usize,
        /// The body's (declared) size.
        actual: u64,
    },
    /// The URL has no [`CHECKOUT_PARAM`] query parameter, or an empty one.
    #[error("the URL has no `{CHECKOUT_PARAM}` query parameter")]
    MissingCheckoutId,
    /// The [`CHECKOUT_PARAM`] parameter is not valid percent-encoded UTF-8.
    #[error("the `{CHECKOUT_PARAM}` query parameter is not valid percent-encoded UTF-8")]
    MalformedCheckoutId,
}

impl WebError {
    /// The HTTP status to answer with: 415, 413 or 400.
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::UnsupportedContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            WebError::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::MissingCheckoutId | WebError::MalformedCheckoutId => StatusCode::BAD_REQUEST,
        }
    }
}

/// The path and query of a request's URI: what [`Checkout::handle_redirect`] matches against the
/// merchant URL templates. Works for origin-form (`/klarna/success?sid=…`, what servers usually
/// see) and absolute-form URIs; pass `&parts.uri` for an `http::request::Parts`.
///
/// [`Checkout::handle_redirect`]: klarna_hpp_core::checkout::Checkout::handle_redirect
pub fn redirect_url(uri: &Uri) -> String {
    uri.path_and_query()
        .map_or_else(|| "/".to_owned(), |pq| pq.as_str().to_owned())
}

/// Checks a status callback request and returns the URI and body for
/// [`Checkout::handle_callback`]: the `Content-Type` must be JSON (`application/json`, or
/// `application/…+json`, any parameters) or absent (Klarna does not specify it), and the body
/// (and any declared `Content-Length`) at most [`MAX_CALLBACK_BODY`] bytes.
///
/// Authenticity (the secret in the URL), the session and deduplication are the checkout's job.
///
/// [`Checkout::handle_callback`]: klarna_hpp_core::checkout::Checkout::handle_callback
pub fn callback<'b>(
    uri: &Uri,
    headers: &HeaderMap,
    body: &'b [u8],
) -> Result<(String, &'b [u8]), WebError> {
    for value in headers.get_all(header::CONTENT_TYPE) {
        let text = String::from_utf8_lossy(value.as_bytes());
        if !is_json(&text) {
            return Err(WebError::UnsupportedContentType(text.into_owned()));
        }
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let actual = declared.unwrap_or(0).max(body.len() as u64);
    if actual > MAX_CALLBACK_BODY as u64 {
        return Err(WebError::BodyTooLarge {
            max: MAX_CALLBACK_BODY,
            actual,
        });
    }
    Ok((redirect_url(uri), body))
}

/// Whether a `Content-Type` value names JSON: `application/json` or `application/<x>+json`,
/// case-insensitive, with any parameters.
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.strip_prefix("application/") {
        Some(subtype) => subtype == "json" || subtype.ends_with("+json"),
        None => false,
    }
}

/// Adds `checkout=<checkout_id>` (percent-encoded) to a merchant URL or URL template, before any
/// fragment: `https://shop/klarna/success?sid={{session_id}}` becomes
/// `https://shop/klarna/success?sid={{session_id}}&checkout=<id>`.
pub fn with_checkout_id(url: &str, checkout_id: &str) -> String {
    let (base, fragment) = match url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (url, None),
    };
    let sep = if !base.contains('?') {
        "?"
    } else if base.ends_with('?') || base.ends_with('&') {
        ""
    } else {
        "&"
    };
    let mut out = format!("{base}{sep}{CHECKOUT_PARAM}={}", encode(checkout_id));
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// The checkout id a merchant URL carries in its [`CHECKOUT_PARAM`] query parameter (see
/// [`with_checkout_id`]); works for callbacks and redirects alike. The first occurrence wins.
pub fn checkout_id(uri: &Uri) -> Result<String, WebError> {
    let raw = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (name == CHECKOUT_PARAM).then_some(value)
        })
        .ok_or(WebError::MissingCheckoutId)?;
    let id = decode(raw).ok_or(WebError::MalformedCheckoutId)?;
    if id.is_empty() {
        return Err(WebError::MissingCheckoutId);
    }
    Ok(id.into_owned())
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes; `None` for a broken escape or bytes that are not UTF-8.
fn decode(value: &str) -> Option<Cow<'_, str>> {
    if !value.contains('%') {
        return Some(Cow::Borrowed(value));
    }
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok().map(Cow::Owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use klarna_hpp_core::http::HeaderValue;

    fn uri(s: &str) -> Uri {
        s.parse().unwrap()
    }

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        h
    }

    #[test]
    fn redirect_url_is_path_and_query() {
        assert_eq!(
            redirect_url(&uri("/klarna/success?checkout=c1&sid=s%2F1")),
            "/klarna/success?checkout=c1&sid=s%2F1"
        );
        assert_eq!(
            redirect_url(&uri("http://shop.example:8080/klarna/cancel?sid=s1")),
            "/klarna/cancel?sid=s1"
        );
        assert_eq!(redirect_url(&uri("/klarna/back")), "/klarna/back");
        assert_eq!(redirect_url(&uri("http://shop.example")), "/");
    }

    #[test]
    fn redirect_url_of_request_parts() {
        let (parts, ()) = klarna_hpp_core::http::Request::get("/klarna/error?sid=x")
            .body(())
            .unwrap()
            .into_parts();
        assert_eq!(redirect_url(&parts.uri), "/klarna/error?sid=x");
    }

    #[test]
    fn callback_accepts_json_and_absent_content_type() {
        let u = uri("/klarna/callback?checkout=c1&sid=s1&kh_secret=k");
        let body = br#"{"event_id":"e"}"#;
        for ct in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/vnd.klarna+json",
        ] {
            let (got, b) = callback(&u, &headers(&[(header::CONTENT_TYPE, ct)]), body).unwrap();
            assert_eq!(
                got, "/klarna/callback?checkout=c1&sid=s1&kh_secret=k",
                "{ct}"
            );
            assert_eq!(b, body);
        }
        let (got, _) = callback(&u, &HeaderMap::new(), body).unwrap();
        assert_eq!(got, "/klarna/callback?checkout=c1&sid=s1&kh_secret=k");
    }

    #[test]
    fn callback_refuses_other_content_types() {
        let u = uri("/klarna/callback");
        for ct in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/jsonp",
            "",
        ] {
            let err = callback(&u, &headers(&[(header::CONTENT_TYPE, ct)]), b"{}").unwrap_err();
            assert_eq!(err, WebError::UnsupportedContentType(ct.to_owned()));
            assert_eq!(err.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        }
        // A second, non-JSON Content-Type is not smuggled past the first.
        let two = headers(&[
            (header::CONTENT_TYPE, "application/json"),
            (header::CONTENT_TYPE, "text/html"),
        ]);
        assert_eq!(
            callback(&u, &two, b"{}").unwrap_err(),
            WebError::UnsupportedContentType("text/html".into())
        );
    }

    #[test]
    fn callback_refuses_oversized_bodies() {
        let u = uri("/klarna/callback");
        let at_limit = vec![b' '; MAX_CALLBACK_BODY];
        assert!(callback(&u, &HeaderMap::new(), &at_limit).is_ok());
        let over = vec![b' '; MAX_CALLBACK_BODY + 1];
        let err = callback(&u, &HeaderMap::new(), &over).unwrap_err();
        assert_eq!(
            err,
            WebError::BodyTooLarge {
                max: MAX_CALLBACK_BODY,
                actual: MAX_CALLBACK_BODY as u64 + 1
            }
        );
        assert_eq!(err.status(), StatusCode::PAYLOAD_TOO_LARGE);
        // A declared length over the limit is refused even before the body is all read.
        let declared = headers(&[(header::CONTENT_LENGTH, "10000000")]);
        assert_eq!(
            callback(&u, &declared, b"{}").unwrap_err(),
            WebError::BodyTooLarge {
                max: MAX_CALLBACK_BODY,
                actual: 10_000_000
            }
        );
    }

    #[test]
    fn checkout_id_round_trips_through_with_checkout_id() {
        for id in ["order-1001", "a b/c?d&e=f#g", "åäö", "~._-"] {
            let url = with_checkout_id("https://shop.example/klarna/callback", id);
            let path = url.strip_prefix("https://shop.example").unwrap();
            assert_eq!(checkout_id(&uri(path)).unwrap(), id, "{url}");
        }
    }

    #[test]
    fn with_checkout_id_appends_to_templates() {
        assert_eq!(
            with_checkout_id("https://shop/klarna/success?sid={{session_id}}", "c 1"),
            "https://shop/klarna/success?sid={{session_id}}&checkout=c%201"
        );
        assert_eq!(
            with_checkout_id("https://shop/cb?", "c1"),
            "https://shop/cb?checkout=c1"
        );
        assert_eq!(
            with_checkout_id("https://shop/done#top", "c1"),
            "https://shop/done?checkout=c1#top"
        );
    }

    #[test]
    fn checkout_id_errors() {
        for u in [
            "/klarna/callback",
            "/klarna/callback?sid=1",
            "/cb?checkout=",
            "/cb?checkout",
        ] {
            let err = checkout_id(&uri(u)).unwrap_err();
            assert_eq!(err, WebError::MissingCheckoutId, "{u}");
            assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        }
        for u in [
            "/cb?checkout=%zz",
            "/cb?checkout=%4",
            "/cb?checkout=%+1",
            "/cb?checkout=%FF",
        ] {
            assert_eq!(
                checkout_id(&uri(u)).unwrap_err(),
                WebError::MalformedCheckoutId,
                "{u}"
            );
        }
        assert_eq!(
            checkout_id(&uri("/cb?sid=1&checkout=first&checkout=second")).unwrap(),
            "first"
        );
        // Only the exact parameter name counts.
        assert_eq!(
            checkout_id(&uri("/cb?xcheckout=1")).unwrap_err(),
            WebError::MissingCheckoutId
        );
    }
}
