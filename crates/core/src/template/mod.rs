//! Merchant URL templates: parse, check, render and match `{{placeholder}}` URLs.
//!
//! HPP substitutes three placeholders into the `merchant_urls` of a session (reference §2.3):
//! `{{session_id}}`, `{{authorization_token}}` and `{{order_id}}`. A [`UrlTemplate`] is such a URL,
//! parsed once:
//!
//! - [`UrlTemplate::parse`] checks the syntax: an absolute `http(s)` URL, known placeholder names,
//!   no placeholder in the scheme or authority, literal parts made of RFC 3986 URL characters.
//! - [`UrlTemplate::check`] checks that the placeholders are allowed in that kind of URL for the
//!   session's `place_order_mode` (see the table on [`UrlTemplate::check`]).
//! - [`UrlTemplate::render`] substitutes percent-encoded values (what HPP does; the emulator and
//!   tests use it).
//! - [`UrlTemplate::matches`] is the inverse: it takes the URL the consumer's browser came back
//!   with and extracts the values. `render` followed by `matches` returns the values for *any*
//!   values; see [`UrlTemplate::matches`] for the rules.
//!
//! ```
//! use klarna_hpp_core::hpp::PlaceOrderMode;
//! use klarna_hpp_core::template::{UrlKind, UrlTemplate, Values};
//!
//! let t = UrlTemplate::parse(
//!     "https://shop.example/return?sid={{session_id}}&token={{authorization_token}}",
//! )?;
//! t.check(UrlKind::Success, &PlaceOrderMode::None)?;
//! assert!(t.check(UrlKind::Cancel, &PlaceOrderMode::None).is_err());
//!
//! let values = Values::new().with_session_id("s 1").with_authorization_token("tok/2");
//! let url = t.render(&values)?;
//! assert_eq!(url, "https://shop.example/return?sid=s%201&token=tok%2F2");
//! assert_eq!(t.matches(&url)?, values);
//! // What a server sees (origin form) matches too.
//! assert_eq!(t.matches("/return?sid=s%201&token=tok%2F2")?, values);
//! # Ok::<(), klarna_hpp_core::template::TemplateError>(())
//! ```
//!
//! Klarna Payments' own `merchant_urls` use single-brace dotted placeholders (`{session.id}`,
//! `{order.id}`); [`KpUrlTemplate`] parses and renders those.

mod encoding;
mod kp;
mod matching;
mod parse;

use std::fmt;

use crate::hpp::PlaceOrderMode;

pub use self::kp::KpUrlTemplate;

/// The most placeholders one template may hold (real templates have one to three).
pub const MAX_PLACEHOLDERS: usize = 16;

/// A value HPP substitutes into merchant URLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Placeholder {
    /// `{{session_id}}`: the HPP session id. Allowed in every merchant URL.
    SessionId,
    /// `{{authorization_token}}`: the KP authorization token. Success URL only, mode `NONE` only.
    AuthorizationToken,
    /// `{{order_id}}`: the order id. Modes `PLACE_ORDER` and `CAPTURE_ORDER` only.
    OrderId,
}

impl Placeholder {
    /// Every placeholder.
    pub const ALL: [Placeholder; 3] = [
        Placeholder::SessionId,
        Placeholder::AuthorizationToken,
        Placeholder::OrderId,
    ];

    /// The name between the braces, e.g. `session_id`.
    pub fn name(self) -> &'static str {
        match self {
            Placeholder::SessionId => "session_id",
            Placeholder::AuthorizationToken => "authorization_token",
            Placeholder::OrderId => "order_id",
        }
    }

    /// The placeholder with this exact (case-sensitive) name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Index into per-placeholder arrays.
    fn index(self) -> usize {
        match self {
            Placeholder::SessionId => 0,
            Placeholder::AuthorizationToken => 1,
            Placeholder::OrderId => 2,
        }
    }
}

impl fmt::Display for Placeholder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{{{}}}}}", self.name())
    }
}

/// Which of the `merchant_urls` a template is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum UrlKind {
    /// `success`: the consumer is sent there after a successful authorization.
    Success,
    /// `cancel`: the consumer clicked Cancel.
    Cancel,
    /// `back`: the consumer clicked Back.
    Back,
    /// `failure`: Klarna refused the payment.
    Failure,
    /// `error`: a technical error in the flow.
    Error,
    /// `status_update`: the server-to-server status callback.
    StatusUpdate,
}

impl UrlKind {
    /// Every kind, in the order of the `merchant_urls` object.
    pub const ALL: [UrlKind; 6] = [
        UrlKind::Success,
        UrlKind::Cancel,
        UrlKind::Back,
        UrlKind::Failure,
        UrlKind::Error,
        UrlKind::StatusUpdate,
    ];

    /// The field name in `merchant_urls`, e.g. `status_update`.
    pub fn field_name(self) -> &'static str {
        match self {
            UrlKind::Success => "success",
            UrlKind::Cancel => "cancel",
            UrlKind::Back => "back",
            UrlKind::Failure => "failure",
            UrlKind::Error => "error",
            UrlKind::StatusUpdate => "status_update",
        }
    }
}

impl fmt::Display for UrlKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.field_name())
    }
}

/// A malformed template, a placeholder used where it is not allowed, or a URL that does not match.
///
/// Offsets (`at`) are byte offsets into the template (syntax errors) or into the matched URL
/// (`Mismatch`, `InvalidPercentEncoding` from [`UrlTemplate::matches`]). Values are never echoed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// An opening `{{` (`{` in a KP template) without its closing braces.
    #[error("unclosed placeholder at byte {at}")]
    Unclosed {
        /// Byte offset of the opening braces.
        at: usize,
    },
    /// Closing `}}` (`}` in a KP template) without an opening.
    #[error("closing braces without an opening at byte {at}")]
    StrayClose {
        /// Byte offset of the closing braces.
        at: usize,
    },
    /// A single `{` or `}` outside a placeholder. Braces are not URL characters (RFC 3986):
    /// percent-encode them (`%7B`, `%7D`). This also catches KP-style `{session.id}` by mistake.
    #[error("single brace at byte {at} (braces must be percent-encoded outside placeholders)")]
    SingleBrace {
        /// Byte offset of the brace.
        at: usize,
    },
    /// A brace inside a placeholder name, e.g. `{{{session_id}}}` or `{{a{{b}}`.
    #[error("nested braces in the placeholder at byte {at}")]
    NestedBraces {
        /// Byte offset of the placeholder's opening braces.
        at: usize,
    },
    /// `{{}}`: a placeholder without a name.
    #[error("empty placeholder at byte {at}")]
    EmptyPlaceholder {
        /// Byte offset of the placeholder's opening braces.
        at: usize,
    },
    /// A placeholder name HPP does not substitute, e.g. `{{klarna_reference}}`.
    #[error("unknown placeholder `{name}`")]
    UnknownPlaceholder {
        /// The name between the braces (at most 64 characters of it).
        name: String,
    },
    /// A literal character that is not allowed in a URL (control, space, non-ASCII, `"<>\^`|`):
    /// percent-encode it.
    #[error("character not allowed in a URL at byte {at}")]
    InvalidCharacter {
        /// Byte offset of the character.
        at: usize,
    },
    /// The template is not an absolute `http://` or `https://` URL with a host.
    #[error("not an absolute http(s) URL with a host")]
    NotAbsolute,
    /// A placeholder in the scheme or authority (host, port, user info): HPP URLs must point at a
    /// fixed origin.
    #[error("placeholders are not allowed in the scheme or host")]
    PlaceholderInAuthority,
    /// A placeholder directly followed by another placeholder or by a percent escape: a returned
    /// URL could not be split back into values unambiguously.
    #[error("ambiguous placeholder boundary at byte {at} (add a literal delimiter)")]
    Ambiguous {
        /// Byte offset of what directly follows the placeholder.
        at: usize,
    },
    /// More than [`MAX_PLACEHOLDERS`] placeholders.
    #[error("more than {max} placeholders")]
    TooManyPlaceholders {
        /// The limit.
        max: usize,
    },
    /// The placeholder is not substituted in this kind of URL with this `place_order_mode`.
    #[error("{placeholder} is not allowed in the {kind} URL with place_order_mode {mode}")]
    NotAllowed {
        /// The placeholder.
        placeholder: Placeholder,
        /// The merchant URL it appears in.
        kind: UrlKind,
        /// The session's (effective) `place_order_mode`.
        mode: PlaceOrderMode,
    },
    /// [`UrlTemplate::render`] was given no value for a placeholder the template contains.
    #[error("no value for {placeholder}")]
    MissingValue {
        /// The placeholder without a value.
        placeholder: Placeholder,
    },
    /// The URL does not match the template (literal text differs, a value is not where expected,
    /// or a repeated placeholder has two different values).
    #[error("URL does not match the template at byte {at}")]
    Mismatch {
        /// Byte offset into the URL of the furthest point that could not be matched.
        at: usize,
    },
    /// A `%` not followed by two hex digits, or a value whose decoded bytes are not UTF-8.
    #[error("invalid percent-encoding at byte {at}")]
    InvalidPercentEncoding {
        /// Byte offset of the escape (or of the start of the value that is not UTF-8).
        at: usize,
    },
    /// One of `merchant_urls` has a syntax error (raised by `hpp::CreateSession` validation; the
    /// placement errors of [`UrlTemplate::check`] name their kind themselves and are not wrapped).
    #[error("merchant_urls.{kind}: {source}")]
    InMerchantUrl {
        /// Which merchant URL.
        kind: UrlKind,
        /// The syntax error.
        source: Box<TemplateError>,
    },
}

impl TemplateError {
    /// The byte offset of offset-carrying errors.
    fn offset(&self) -> Option<usize> {
        match self {
            TemplateError::Unclosed { at }
            | TemplateError::StrayClose { at }
            | TemplateError::SingleBrace { at }
            | TemplateError::NestedBraces { at }
            | TemplateError::EmptyPlaceholder { at }
            | TemplateError::InvalidCharacter { at }
            | TemplateError::Ambiguous { at }
            | TemplateError::Mismatch { at }
            | TemplateError::InvalidPercentEncoding { at } => Some(*at),
            _ => None,
        }
    }
}

/// Values for the placeholders, given to [`UrlTemplate::render`] and returned by
/// [`UrlTemplate::matches`] (decoded, `None` for placeholders the template does not contain).
///
/// `Debug` never prints the authorization token.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Values {
    /// `{{session_id}}` (KP templates: `{session.id}`, the KP session id).
    pub session_id: Option<String>,
    /// `{{authorization_token}}`.
    pub authorization_token: Option<String>,
    /// `{{order_id}}` (KP templates: `{order.id}`).
    pub order_id: Option<String>,
}

impl Values {
    /// No values.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the session id.
    pub fn with_session_id(mut self, value: impl Into<String>) -> Self {
        self.session_id = Some(value.into());
        self
    }

    /// Sets the authorization token.
    pub fn with_authorization_token(mut self, value: impl Into<String>) -> Self {
        self.authorization_token = Some(value.into());
        self
    }

    /// Sets the order id.
    pub fn with_order_id(mut self, value: impl Into<String>) -> Self {
        self.order_id = Some(value.into());
        self
    }

    /// Sets the value of `placeholder`.
    pub fn with(mut self, placeholder: Placeholder, value: impl Into<String>) -> Self {
        *self.slot(placeholder) = Some(value.into());
        self
    }

    /// The value of `placeholder`, if any.
    pub fn get(&self, placeholder: Placeholder) -> Option<&str> {
        match placeholder {
            Placeholder::SessionId => self.session_id.as_deref(),
            Placeholder::AuthorizationToken => self.authorization_token.as_deref(),
            Placeholder::OrderId => self.order_id.as_deref(),
        }
    }

    fn slot(&mut self, placeholder: Placeholder) -> &mut Option<String> {
        match placeholder {
            Placeholder::SessionId => &mut self.session_id,
            Placeholder::AuthorizationToken => &mut self.authorization_token,
            Placeholder::OrderId => &mut self.order_id,
        }
    }
}

impl fmt::Debug for Values {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Values")
            .field("session_id", &self.session_id)
            .field(
                "authorization_token",
                &self.authorization_token.as_ref().map(|_| "[redacted]"),
            )
            .field("order_id", &self.order_id)
            .finish()
    }
}

/// One piece of a parsed template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Part {
    /// Literal text: the byte range in the raw template.
    Literal { start: usize, end: usize },
    /// A placeholder and the byte offset of its opening braces.
    Placeholder { placeholder: Placeholder, at: usize },
}

/// A parsed `{{placeholder}}` merchant URL template.
///
/// Equality and hashing are by the template text. `Debug` and `Display` show it through the
/// crate's URL redaction (origin and plain path; not the query, fragment, parameters or a
/// token-like path segment, which may carry a callback secret): the text is [`as_str`](Self::as_str). Serializes as the template string; deserializing parses it.
#[derive(Clone)]
pub struct UrlTemplate {
    raw: String,
    parts: Vec<Part>,
    origin: parse::Origin,
    /// Whether extra `&name=value` pairs after the template's end are tolerated by `matches`.
    extra_query_ok: bool,
}

impl UrlTemplate {
    /// Parses a template. See [`TemplateError`] for what is refused.
    ///
    /// Besides the syntax, a placeholder must be followed by literal text that does not start
    /// with a percent escape ([`TemplateError::Ambiguous`]), so that [`UrlTemplate::matches`]
    /// can always split a URL back into values.
    pub fn parse(template: &str) -> Result<Self, TemplateError> {
        let parsed = parse::parse(template, &parse::HPP)?;
        for pair in parsed.parts.windows(2) {
            if let [Part::Placeholder { .. }, next] = pair {
                match *next {
                    Part::Placeholder { at, .. } => return Err(TemplateError::Ambiguous { at }),
                    Part::Literal { start, .. } if template.as_bytes()[start] == b'%' => {
                        return Err(TemplateError::Ambiguous { at: start });
                    }
                    Part::Literal { .. } => {}
                }
            }
        }
        // Extra pairs can only be appended to a query that ends the URL.
        let bytes = template.as_bytes();
        let extra_query_ok = bytes.contains(&b'?') && !bytes.contains(&b'#');
        Ok(Self {
            raw: template.to_owned(),
            parts: parsed.parts,
            origin: parsed.origin,
            extra_query_ok,
        })
    }

    /// The template text, exactly as given.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The placeholders, in order of appearance (a repeated one appears each time).
    pub fn placeholders(&self) -> impl Iterator<Item = Placeholder> + '_ {
        self.parts.iter().filter_map(|p| match p {
            Part::Placeholder { placeholder, .. } => Some(*placeholder),
            Part::Literal { .. } => None,
        })
    }

    /// Whether the template contains `placeholder`.
    pub fn contains(&self, placeholder: Placeholder) -> bool {
        self.placeholders().any(|p| p == placeholder)
    }

    /// The scheme as written (`http` or `https`, any case).
    pub fn scheme(&self) -> &str {
        &self.raw[..self.origin.scheme_end]
    }

    /// Whether the scheme is `https`.
    pub fn is_https(&self) -> bool {
        self.scheme().eq_ignore_ascii_case("https")
    }

    /// The host (without port or user info; IPv6 hosts keep their brackets).
    pub fn host(&self) -> &str {
        &self.raw[self.origin.host_start..self.origin.host_end]
    }

    /// Checks that every placeholder is substituted by HPP in this kind of URL under `mode`:
    ///
    /// | placeholder | allowed in | with `place_order_mode` |
    /// |---|---|---|
    /// | `{{session_id}}` | every URL | any |
    /// | `{{authorization_token}}` | `success` only | `NONE` only |
    /// | `{{order_id}}` | `success` and `status_update` | `PLACE_ORDER`, `CAPTURE_ORDER` |
    ///
    /// Klarna documents `{{order_id}}` for the success URL; we also allow it in `status_update`
    /// (the callback is sent once the order exists) and refuse it elsewhere, where the order
    /// may not exist yet. Under an unknown (newer) mode only `{{session_id}}` is allowed.
    ///
    /// A success URL without `{{authorization_token}}` under `NONE` is accepted: the token can
    /// still be obtained by reading the session (or from the callback).
    pub fn check(&self, kind: UrlKind, mode: &PlaceOrderMode) -> Result<(), TemplateError> {
        for placeholder in self.placeholders() {
            let allowed = match placeholder {
                Placeholder::SessionId => true,
                Placeholder::AuthorizationToken => {
                    kind == UrlKind::Success && *mode == PlaceOrderMode::None
                }
                Placeholder::OrderId => {
                    matches!(kind, UrlKind::Success | UrlKind::StatusUpdate)
                        && matches!(
                            mode,
                            PlaceOrderMode::PlaceOrder | PlaceOrderMode::CaptureOrder
                        )
                }
            };
            if !allowed {
                return Err(TemplateError::NotAllowed {
                    placeholder,
                    kind,
                    mode: mode.clone(),
                });
            }
        }
        Ok(())
    }

    /// Substitutes the values, percent-encoded: RFC 3986 unreserved characters
    /// (`A-Z a-z 0-9 - . _ ~`) are kept, every other byte of the UTF-8 value becomes `%XX`.
    ///
    /// When the literal text after a placeholder starts with an unreserved character (e.g.
    /// `/{{order_id}}.html`), that character is percent-encoded in the value too, so the
    /// boundary stays findable. Fails with [`TemplateError::MissingValue`] when a placeholder of
    /// the template has no value; values for placeholders it does not contain are ignored.
    pub fn render(&self, values: &Values) -> Result<String, TemplateError> {
        let mut out = String::with_capacity(self.raw.len() + 48);
        for (i, part) in self.parts.iter().enumerate() {
            match *part {
                Part::Literal { start, end } => out.push_str(&self.raw[start..end]),
                Part::Placeholder { placeholder, .. } => {
                    let value = values
                        .get(placeholder)
                        .ok_or(TemplateError::MissingValue { placeholder })?;
                    encoding::encode_into(&mut out, value, self.delimiter_after(i));
                }
            }
        }
        Ok(out)
    }

    /// The first byte of the literal after part `i`, when it is an unreserved character.
    fn delimiter_after(&self, i: usize) -> Option<u8> {
        match self.parts.get(i + 1) {
            Some(Part::Literal { start, .. }) => {
                let b = self.raw.as_bytes()[*start];
                encoding::is_unreserved(b).then_some(b)
            }
            _ => None,
        }
    }

    /// Matches a URL the consumer's browser came back with, and extracts the (percent-decoded)
    /// values.
    ///
    /// - `url` is either absolute (`https://shop.example/return?...`) or in origin form
    ///   (`/return?...`, what an HTTP server receives); in origin form the scheme and host are
    ///   not compared. Scheme and host compare case-insensitively, everything else exactly:
    ///   query parameters must come in the template's order, as rendered.
    /// - A value is a run of unreserved characters and `%XX` escapes; it ends where the next
    ///   literal text of the template starts. `+` is not a space. When the next literal starts
    ///   with an unreserved character, the earliest split after which the rest of the URL
    ///   matches wins (so `/{{order_id}}-x` matches a raw UUID too); [`render`](Self::render)
    ///   encodes that character inside values, so `matches(render(v)) == v` for every `v`.
    /// - A repeated placeholder must carry the same value each time.
    /// - When the template has a query and no fragment, extra `&name=value` pairs after its end
    ///   (appended by proxies or tracking) are ignored. Nothing else may follow.
    ///
    /// No regular expressions and no allocation beyond the returned values.
    pub fn matches(&self, url: &str) -> Result<Values, TemplateError> {
        matching::matches(self, url)
    }

    /// [`matches`](Self::matches) for an `http::Uri`: origin form when it has no authority.
    pub fn matches_uri(&self, uri: &http::Uri) -> Result<Values, TemplateError> {
        if uri.authority().is_some() {
            self.matches(&uri.to_string())
        } else {
            self.matches(uri.path_and_query().map_or("/", |pq| pq.as_str()))
        }
    }
}

impl PartialEq for UrlTemplate {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}

impl Eq for UrlTemplate {}

impl std::hash::Hash for UrlTemplate {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.raw.hash(state);
    }
}

impl fmt::Debug for UrlTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UrlTemplate")
            .field(&redact_query(&self.raw))
            .finish()
    }
}

/// The template redacted as in `Debug` (its query may carry the callback secret); the text
/// itself is [`UrlTemplate::as_str`].
impl fmt::Display for UrlTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_query(&self.raw))
    }
}

impl std::str::FromStr for UrlTemplate {
    type Err = TemplateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for UrlTemplate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.raw)
    }
}

impl<'de> serde::Deserialize<'de> for UrlTemplate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// A URL as `Debug` and `Display` show it: the crate's one URL redaction ([`crate::redact::url`]).
pub(crate) use crate::redact::url as redact_query;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_query_and_fragment() {
        assert_eq!(
            redact_query("https://a/b?secret=1"),
            "https://a/b?[redacted]"
        );
        assert_eq!(redact_query("https://a/b#x"), "https://a/b#[redacted]");
        assert_eq!(redact_query("https://a/b"), "https://a/b");
    }

    #[test]
    fn offsets() {
        assert_eq!(TemplateError::Mismatch { at: 3 }.offset(), Some(3));
        assert_eq!(TemplateError::NotAbsolute.offset(), None);
    }
}
