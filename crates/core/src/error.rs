//! Errors, one layer per concern: configuration, validation, templates, decoding, Klarna's answers.

use std::fmt;
use std::time::Duration;

use http::StatusCode;

pub use crate::config::ConfigError;
pub use crate::template::TemplateError;

/// Everything an operation of this crate can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration value (base URL, User-Agent) was refused.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A request was refused before sending: it breaks one of Klarna's rules.
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// A merchant URL template is malformed or used where its placeholders are not allowed.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// A 2xx response body does not have the documented shape.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// Klarna answered with a non-2xx status.
    #[error(transparent)]
    Api(#[from] ApiError),
}

/// A value breaks one of Klarna's rules; no request was emitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid `{field}`: {problem}")]
pub struct ValidationError {
    /// JSON path of the offending field, e.g. `order_lines[2].total_amount`.
    pub field: String,
    /// What is wrong with it.
    pub problem: ValidationProblem,
}

impl ValidationError {
    /// A validation error at `field`.
    pub fn new(field: impl Into<String>, problem: ValidationProblem) -> Self {
        Self {
            field: field.into(),
            problem,
        }
    }
}

/// What is wrong with a field. Values are never echoed (they may be customer data), amounts are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidationProblem {
    /// A required value is absent.
    #[error("required but missing")]
    Missing,
    /// A string or list is empty where it must not be.
    #[error("must not be empty")]
    Empty,
    /// A string is longer than allowed.
    #[error("longer than {max} characters")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// A list has more items than allowed.
    #[error("more than {max} items")]
    TooMany {
        /// The limit.
        max: usize,
    },
    /// A string does not have the required form.
    #[error("does not match {expected}")]
    Pattern {
        /// The expected form, e.g. `two ASCII letters (ISO 3166-1 alpha-2)`.
        expected: &'static str,
    },
    /// A number is outside its allowed range.
    #[error("must be within {min}..={max}, got {actual}")]
    OutOfRange {
        /// Lowest allowed value.
        min: i64,
        /// Highest allowed value.
        max: i64,
        /// The value given.
        actual: i64,
    },
    /// An amount must be greater than zero.
    #[error("must be positive, got {actual}")]
    NotPositive {
        /// The value given.
        actual: i64,
    },
    /// A computed amount does not match (e.g. order_amount vs the sum of lines).
    #[error("expected {expected} (computed), got {actual}")]
    Mismatch {
        /// What the rule computes.
        expected: i64,
        /// What was given.
        actual: i64,
    },
    /// Two fields that must not both be set are both set.
    #[error("must not be set together with `{other}`")]
    MutuallyExclusive {
        /// The other field.
        other: &'static str,
    },
    /// A URL is not absolute.
    #[error("must be an absolute URL")]
    NotAbsoluteUrl,
    /// A URL is not https (plain http is allowed for loopback hosts only).
    #[error("must use https (plain http only for loopback hosts)")]
    NotHttps,
    /// An amount would exceed what remains (e.g. capture beyond the remaining authorization).
    #[error("exceeds the remaining {remaining}, got {actual}")]
    Exceeds {
        /// What remains.
        remaining: i64,
        /// What was asked for.
        actual: i64,
    },
    /// Amount arithmetic (a line's `quantity × unit_price`, a sum of lines) overflows 64 bits.
    #[error("the computed amount overflows a 64-bit integer")]
    Overflow,
    /// The value could not be serialized as JSON.
    #[error("cannot be encoded as JSON")]
    NotEncodable,
}

/// A 2xx response whose body does not decode into the documented type.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot decode the {operation} response (HTTP {status}) at `{path}`: {message}")]
pub struct DecodeError {
    /// The operation, e.g. `hpp.read_session`.
    pub operation: &'static str,
    /// The response status.
    pub status: StatusCode,
    /// JSON path of the failure (`.` for the root).
    pub path: String,
    /// What was expected; never contains string values from the body.
    pub message: String,
    /// The raw body, kept so nothing is lost (not shown in `Debug`).
    pub body: Vec<u8>,
}

impl fmt::Debug for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecodeError")
            .field("operation", &self.operation)
            .field("status", &self.status)
            .field("path", &self.path)
            .field("message", &self.message)
            .field("body", &format_args!("[{} bytes]", self.body.len()))
            .finish()
    }
}

/// Klarna answered with a non-2xx status.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub struct ApiError {
    /// The operation, e.g. `kp.create_order`.
    pub operation: &'static str,
    /// The HTTP status.
    pub status: StatusCode,
    /// Klarna's machine-readable code, e.g. `BAD_VALUE`.
    pub error_code: Option<String>,
    /// Klarna's human-readable messages (`error_messages`, or a singular `error_message`).
    pub error_messages: Vec<String>,
    /// Klarna's correlation id (body `correlation_id` or header `Klarna-Correlation-Id`).
    pub correlation_id: Option<String>,
    /// `service_version`, when sent.
    pub service_version: Option<String>,
    /// `Retry-After` in seconds, when sent (429, 503).
    pub retry_after: Option<Duration>,
    /// The raw body (not shown in `Debug`).
    pub body: Vec<u8>,
}

impl ApiError {
    /// Whether retrying the same request later may succeed: a 429, or any answer that is not
    /// a refusal ([`ApiError::outcome_unknown`]: 5xx, and statuses outside HTTP's classes).
    pub fn is_transient(&self) -> bool {
        self.status == StatusCode::TOO_MANY_REQUESTS || self.outcome_unknown()
    }

    /// Whether the request may have been processed although the answer is no success: only a
    /// 4xx says Klarna refused it; a 5xx, 1xx, 3xx or a status of 600 and up may come after
    /// the write committed. A write so answered must be replayed (same idempotency key, same
    /// body) or resolved by reading, never sent again as a new request.
    pub fn outcome_unknown(&self) -> bool {
        !self.status.is_success() && !self.status.is_client_error()
    }

    /// Builds the error from a non-2xx response, tolerating any body (JSON, other, empty).
    pub fn from_response(operation: &'static str, response: &http::Response<Vec<u8>>) -> Self {
        #[derive(serde::Deserialize, Default)]
        #[serde(default)]
        struct Body {
            error_code: Option<serde_json::Value>,
            error_messages: Option<serde_json::Value>,
            error_message: Option<serde_json::Value>,
            correlation_id: Option<serde_json::Value>,
            service_version: Option<serde_json::Value>,
        }
        /// Klarna's codes, ids and messages are strings; anything else is no code, id or
        /// message (and a number may be a card or phone number: never kept to be shown).
        fn text(v: Option<serde_json::Value>) -> Option<String> {
            match v? {
                serde_json::Value::String(s) => Some(s),
                _ => None,
            }
        }
        // Only an object is Klarna's error shape: serde would read a struct from an array too,
        // by position, and make a code of whatever the first element is.
        let parsed: Body = match serde_json::from_slice(response.body()) {
            Ok(serde_json::Value::Object(map)) => {
                serde_json::from_value(serde_json::Value::Object(map)).unwrap_or_default()
            }
            _ => Body::default(),
        };
        let mut messages = Vec::new();
        for v in [parsed.error_messages, parsed.error_message]
            .into_iter()
            .flatten()
        {
            match v {
                serde_json::Value::Array(items) => {
                    messages.extend(items.into_iter().filter_map(|i| text(Some(i))))
                }
                other => messages.extend(text(Some(other))),
            }
        }
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let retry_after = header("retry-after")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        Self {
            operation,
            status: response.status(),
            error_code: text(parsed.error_code),
            error_messages: messages,
            correlation_id: text(parsed.correlation_id).or_else(|| header("klarna-correlation-id")),
            // A version is harmless as a number too (`"service_version": 2`): kept as its text.
            service_version: match parsed.service_version {
                Some(serde_json::Value::Number(n)) => Some(n.to_string()),
                other => text(other),
            },
            retry_after,
            body: response.body().clone(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Klarna answered {} with HTTP {}",
            self.operation,
            self.status.as_u16()
        )?;
        // Every text from the body goes through `sanitize`: Klarna may echo a submitted value
        // in quotes (`Invalid email "…"`), and an answer not from Klarna may put anything in
        // any field. Never print it.
        if let Some(code) = &self.error_code {
            write!(f, " {}", crate::wire::sanitize(code))?;
        }
        if !self.error_messages.is_empty() {
            let messages: Vec<String> = self
                .error_messages
                .iter()
                .map(|m| crate::wire::sanitize(m))
                .collect();
            write!(f, ": {}", messages.join("; "))?;
        } else if self.error_code.is_none() {
            if self.body.is_empty() {
                f.write_str(" (empty body)")?;
            } else {
                write!(
                    f,
                    " (non-JSON or unrecognised body, {} bytes)",
                    self.body.len()
                )?;
            }
        }
        if let Some(id) = &self.correlation_id {
            write!(f, " (correlation id {})", crate::wire::sanitize_id(id))?;
        }
        Ok(())
    }
}

/// Texts from an answer's body as `Debug` shows them: each through [`crate::wire::sanitize`], so
/// a value Klarna echoes in quotes (`Invalid email "…"`) is never printed.
pub(crate) struct Sanitized<'a, T: ?Sized>(pub(crate) &'a T);

impl fmt::Debug for Sanitized<'_, Option<String>> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(text) => f
                .debug_tuple("Some")
                .field(&crate::wire::sanitize(text))
                .finish(),
            None => f.write_str("None"),
        }
    }
}

/// An id from an answer's body (`correlation_id`) as `Debug` shows it: a UUID as it is (Klarna's
/// support asks for it), anything else through [`crate::wire::sanitize`].
pub(crate) struct SanitizedId<'a>(pub(crate) &'a Option<String>);

impl fmt::Debug for SanitizedId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(id) => f
                .debug_tuple("Some")
                .field(&crate::wire::sanitize_id(id))
                .finish(),
            None => f.write_str("None"),
        }
    }
}

impl fmt::Debug for Sanitized<'_, [String]> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|m| crate::wire::sanitize(m)))
            .finish()
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("operation", &self.operation)
            .field("status", &self.status)
            .field("error_code", &Sanitized(&self.error_code))
            .field("error_messages", &Sanitized(self.error_messages.as_slice()))
            .field("correlation_id", &SanitizedId(&self.correlation_id))
            .field("service_version", &Sanitized(&self.service_version))
            .field("retry_after", &self.retry_after)
            .field("body", &format_args!("[{} bytes]", self.body.len()))
            .finish()
    }
}
