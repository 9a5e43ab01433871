//! What `Debug` shows of values that may carry a secret: URLs, request paths, requests.
//!
//! One function per kind of value, shared by every type's `Debug`, so a rule changes in one
//! place: [`url`] for every URL or URL template, [`path_template`] for request paths (the
//! authorization token is a path segment), [`Request`] for a whole `http::Request`.

use std::fmt;

/// A URL (or URL template) as `Debug` shows it: the scheme and host, and of the path only the
/// segments that cannot be a secret. Cut at the first character that may start parameters
/// (`?`, `#`, `&`, `;`, `=`: Klarna's own examples put a callback secret after a bare `&`);
/// user info in the authority, a path segment that looks like a token (see
/// [`looks_secret`]) and anything after the cut print as `[redacted]`. Placeholders
/// (`{{session_id}}`, `{order.id}`) are names, not values, and are kept. Something that is not
/// an absolute URL or a path prints as `[redacted]` whole.
pub(crate) fn url(raw: &str) -> String {
    const CUT: [char; 5] = ['?', '#', '&', ';', '='];
    let (mut out, rest) = match raw.find("://") {
        Some(i)
            if i > 0
                && raw[..i]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')) =>
        {
            let after = &raw[i + 3..];
            let end = after
                .find(|c: char| c == '/' || CUT.contains(&c))
                .unwrap_or(after.len());
            let authority = &after[..end];
            let mut origin = String::with_capacity(raw.len().min(128));
            origin.push_str(&raw[..i + 3]);
            match authority.rfind('@') {
                Some(at) => {
                    origin.push_str("[redacted]@");
                    origin.push_str(&authority[at + 1..]);
                }
                None => origin.push_str(authority),
            }
            (origin, &after[end..])
        }
        _ if raw.starts_with('/') => (String::with_capacity(raw.len().min(128)), raw),
        _ => return "[redacted]".to_owned(),
    };
    let cut = rest.find(CUT);
    let path = &rest[..cut.unwrap_or(rest.len())];
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.push_str(if looks_secret(segment) {
            "[redacted]"
        } else {
            segment
        });
    }
    if let Some(at) = cut {
        out.push_str(&rest[at..=at]);
        out.push_str("[redacted]");
    }
    out
}

/// Whether a path segment may be a secret: placeholders aside, it holds anything but RFC 3986
/// unreserved characters (a percent escape, a sub-delimiter), or it is long (more than 32
/// characters), or 16 characters or more with a digit (tokens, hex digests, UUIDs). Words such
/// as `klarna`, `callback`, `order-confirmation` or short ids such as `v1`, `1001` are kept.
fn looks_secret(segment: &str) -> bool {
    let mut len = 0usize;
    let mut digits = 0usize;
    let mut in_placeholder = false;
    for c in segment.chars() {
        match (in_placeholder, c) {
            (_, '{') => in_placeholder = true,
            (true, '}') => in_placeholder = false,
            (true, _) | (false, '}') => {}
            (false, c) => {
                if !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~')) {
                    return true;
                }
                len += 1;
                digits += usize::from(c.is_ascii_digit());
            }
        }
    }
    len > 32 || (len >= 16 && digits > 0)
}

/// The literal segments of Klarna's API paths this crate builds; every other segment is an id
/// or a token.
const PATH_LITERALS: [&str; 24] = [
    "payments",
    "v1",
    "sessions",
    "authorizations",
    "order",
    "customer-token",
    "hpp",
    "distribution",
    "ordermanagement",
    "orders",
    "captures",
    "refunds",
    "authorization",
    "customer-details",
    "merchant-references",
    "shipping-info",
    "trigger-send-out",
    "extend-due-date",
    "extend-due-date-options",
    "acknowledge",
    "cancel",
    "extend-authorization-time",
    "release-remaining-authorization",
    "",
];

/// A request path with every id and token replaced by its name, e.g.
/// `/payments/v1/authorizations/{authorization_token}/order`.
pub(crate) fn path_template(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 16);
    let mut previous = "";
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        if PATH_LITERALS.contains(&segment) {
            out.push_str(segment);
        } else {
            out.push_str(match previous {
                "sessions" => "{session_id}",
                "authorizations" => "{authorization_token}",
                "orders" => "{order_id}",
                "captures" => "{capture_id}",
                "refunds" => "{refund_id}",
                _ => "{id}",
            });
        }
        previous = segment;
    }
    out
}

/// An `http::Request` as `Debug` shows it: the method, the path with ids and tokens named
/// ([`path_template`]) and the body's length. No header (credentials, idempotency keys), no
/// query, no body (callback secrets, customer data).
pub(crate) struct Request<'a>(pub(crate) &'a http::Request<Vec<u8>>);

impl fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} ({} bytes)",
            self.0.method(),
            path_template(self.0.uri().path()),
            self.0.body().len()
        )
    }
}

/// `Some("[redacted]")` for a value that is present, `None` otherwise.
pub(crate) fn presence<T>(value: &Option<T>) -> Option<&'static str> {
    value.as_ref().map(|_| "[redacted]")
}

/// An optional URL through [`url`].
pub(crate) fn opt_url(value: &Option<String>) -> Option<String> {
    value.as_deref().map(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_origin_and_plain_path() {
        assert_eq!(url("https://a/b?secret=1"), "https://a/b?[redacted]");
        assert_eq!(url("https://a/b#x"), "https://a/b#[redacted]");
        assert_eq!(url("https://a/b"), "https://a/b");
        assert_eq!(url("https://shop.example"), "https://shop.example");
        assert_eq!(
            url("https://shop.example/klarna/callback?sid={{session_id}}&kh_secret=00ff"),
            "https://shop.example/klarna/callback?[redacted]"
        );
        assert_eq!(
            url("https://shop.example/kp/{session.id}/confirm?order={order.id}"),
            "https://shop.example/kp/{session.id}/confirm?[redacted]"
        );
    }

    #[test]
    fn urls_cut_where_parameters_may_start_without_a_query() {
        // Klarna's docs show `…/authorize&secret=…` with no `?`.
        assert_eq!(
            url("https://shop.example/kp/authorize&secret=s3cr3t"),
            "https://shop.example/kp/authorize&[redacted]"
        );
        assert_eq!(
            url("https://shop.example/cb;jsessionid=ABC"),
            "https://shop.example/cb;[redacted]"
        );
        assert_eq!(url("https://h/p=1"), "https://h/p=[redacted]");
        assert_eq!(url("https://h&k=v"), "https://h&[redacted]");
    }

    #[test]
    fn urls_hide_user_info_and_token_like_segments() {
        assert_eq!(
            url("https://user:pa55@shop.example:8443/x"),
            "https://[redacted]@shop.example:8443/x"
        );
        assert_eq!(
            url("https://shop.example/cb/8f14e45fceea167a5a36dedd4bea2543/done"),
            "https://shop.example/cb/[redacted]/done"
        );
        assert_eq!(
            url("https://shop.example/cb/tok%2Fen/x"),
            "https://shop.example/cb/[redacted]/x"
        );
        assert_eq!(
            url("https://shop.example/order-confirmation/{{order_id}}-receipt/v1/1001"),
            "https://shop.example/order-confirmation/{{order_id}}-receipt/v1/1001"
        );
        assert_eq!(url("/klarna/cancel?sid=1"), "/klarna/cancel?[redacted]");
        assert_eq!(url("mailto:jane@example.com"), "[redacted]");
        assert_eq!(url("jane.doe@example.com"), "[redacted]");
    }

    #[test]
    fn request_paths_name_their_ids() {
        assert_eq!(
            path_template("/payments/v1/authorizations/tok-123/order"),
            "/payments/v1/authorizations/{authorization_token}/order"
        );
        assert_eq!(
            path_template("/ordermanagement/v1/orders/o1/captures/c2/shipping-info"),
            "/ordermanagement/v1/orders/{order_id}/captures/{capture_id}/shipping-info"
        );
        assert_eq!(
            path_template("/hpp/v1/sessions/abc/distribution"),
            "/hpp/v1/sessions/{session_id}/distribution"
        );
        assert_eq!(
            path_template("/payments/v1/sessions"),
            "/payments/v1/sessions"
        );
    }
}
