//! Order Management API v1: what happens to an order after it is placed.
//!
//! Every call is an [`Operation`](crate::Operation): build it, call
//! [`to_request`](crate::Operation::to_request) (which validates first and emits nothing when a
//! rule is broken), send the request with any HTTP client, and hand the response to
//! [`decode_response`](crate::Operation::decode_response).
//!
//! | Operation | Request | Output |
//! |---|---|---|
//! | [`GetOrder`] | `GET /ordermanagement/v1/orders/{order_id}` | [`Order`] |
//! | [`Acknowledge`] | `POST …/{order_id}/acknowledge` | `()` |
//! | [`UpdateAuthorization`] | `PATCH …/{order_id}/authorization` | `()` |
//! | [`CancelOrder`] | `POST …/{order_id}/cancel` | `()` |
//! | [`ListCaptures`] | `GET …/{order_id}/captures` | `Vec<`[`Capture`]`>` |
//! | [`CreateCapture`] | `POST …/{order_id}/captures` | [`CaptureCreated`] |
//! | [`GetCapture`] | `GET …/{order_id}/captures/{capture_id}` | [`Capture`] |
//! | [`AddCaptureShippingInfo`] | `POST …/captures/{capture_id}/shipping-info` | `()` |
//! | [`TriggerSendOut`] | `POST …/captures/{capture_id}/trigger-send-out` | `()` |
//! | [`ExtendDueDate`] | `PATCH …/captures/{capture_id}/extend-due-date` | `()` |
//! | [`GetExtendDueDateOptions`] | `GET …/captures/{capture_id}/extend-due-date-options` | [`ExtendDueDateOptions`] |
//! | [`UpdateCustomerDetails`] | `PATCH …/{order_id}/customer-details` | `()` |
//! | [`ExtendAuthorizationTime`] | `POST …/{order_id}/extend-authorization-time` | `()` |
//! | [`UpdateMerchantReferences`] | `PATCH …/{order_id}/merchant-references` | `()` |
//! | [`CreateRefund`] | `POST …/{order_id}/refunds` | [`RefundCreated`] |
//! | [`GetRefund`] | `GET …/{order_id}/refunds/{refund_id}` | [`Refund`] |
//! | [`ReleaseRemainingAuthorization`] | `POST …/{order_id}/release-remaining-authorization` | `()` |
//! | [`AddOrderShippingInfo`] | `POST …/{order_id}/shipping-info` | `()` |
//!
//! ## Idempotency
//!
//! Every OM write (POST or PATCH) accepts an [`IdempotencyKey`], sent as `Klarna-Idempotency-Key`.
//! Klarna honours a key for 24 hours and matches on the key alone (the body is ignored): a replay
//! executes once and returns the first response, including the same `Capture-Id`. Derive keys
//! deterministically from what you are doing (the checkout does), so that a retry after a crash
//! reuses the key instead of capturing twice.
//!
//! ## Example
//!
//! ```
//! use klarna_hpp_core::om::{CaptureRequest, CreateCapture, IdempotencyKey};
//! use klarna_hpp_core::{Api, BaseUrl, Credentials, Environment, Operation, Region};
//!
//! let api = Api::new(
//!     BaseUrl::klarna(Region::Eu, Environment::Playground),
//!     Credentials::new("DemoMerchant", "DemoPassword"),
//! );
//! let key = IdempotencyKey::new("2d4a5f5e-0000-4000-8000-000000000001")?;
//! let capture = CreateCapture::new(
//!     "f3392f8b-6116-4073-ab96-e330819e2c07",
//!     CaptureRequest::new(10_000).description("Shipped in full"),
//!     Some(key),
//! );
//! let request = capture.to_request(&api)?;
//! assert_eq!(request.method(), "POST");
//! assert_eq!(
//!     request.uri(),
//!     "https://api.playground.klarna.com/ordermanagement/v1/orders/f3392f8b-6116-4073-ab96-e330819e2c07/captures"
//! );
//! assert_eq!(request.headers()["Klarna-Idempotency-Key"], "2d4a5f5e-0000-4000-8000-000000000001");
//!
//! // Klarna answers 201 with the new id in a header and no body.
//! let response = klarna_hpp_core::http::Response::builder()
//!     .status(201)
//!     .header("Capture-Id", "4ba29b50-be7b-44f5-a492-113e6a865e22")
//!     .body(Vec::new())?;
//! let created = CreateCapture::decode_response(&response)?;
//! assert_eq!(created.capture_id.as_deref(), Some("4ba29b50-be7b-44f5-a492-113e6a865e22"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use http::{Method, Request, Response};
use serde::{Deserialize, Serialize};

use crate::config::Api;
use crate::error::{Error, ValidationError, ValidationProblem};
use crate::wire::Path;

mod bodies;
mod captures;
mod check;
mod orders;
mod refunds;
mod types;

pub use self::bodies::{
    CaptureRequest, CustomerDetails, ExtendDueDateRequest, MerchantReferences, RefundRequest,
    ShippingInfoUpdate, UpdateAuthorizationRequest,
};
pub use self::captures::{
    AddCaptureShippingInfo, CaptureCreated, CreateCapture, ExtendDueDate, GetCapture,
    GetExtendDueDateOptions, ListCaptures, TriggerSendOut,
};
pub use self::orders::{
    Acknowledge, AddOrderShippingInfo, CancelOrder, ExtendAuthorizationTime, GetOrder,
    ReleaseRemainingAuthorization, UpdateAuthorization, UpdateCustomerDetails,
    UpdateMerchantReferences,
};
pub use self::refunds::{CreateRefund, GetRefund, RefundCreated};
pub use self::types::{
    Capture, Customer, DueDateOption, ExtendDueDateOptions, FraudStatus, InitialPaymentMethod,
    Item, Order, OrderStatus, PaymentMethodType, Refund, ShippingInfo, ShippingMethod,
};

/// The longest idempotency key accepted.
const IDEMPOTENCY_KEY_MAX: usize = 255;

/// A `Klarna-Idempotency-Key` value: 1..=255 printable ASCII characters, without leading or
/// trailing spaces (HTTP would strip them and change the key).
///
/// Klarna recommends a UUID; any opaque string of this form works, because only the key is
/// compared. The key is not a secret: `Debug` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Checks and wraps a key.
    ///
    /// Fails with [`ValidationProblem::Empty`], [`ValidationProblem::TooLong`] or
    /// [`ValidationProblem::Pattern`] (field `idempotency_key`).
    pub fn new(value: impl Into<String>) -> Result<Self, ValidationError> {
        let value = value.into();
        let field = "idempotency_key";
        if value.is_empty() {
            return Err(ValidationError::new(field, ValidationProblem::Empty));
        }
        if value.len() > IDEMPOTENCY_KEY_MAX {
            return Err(ValidationError::new(
                field,
                ValidationProblem::TooLong {
                    max: IDEMPOTENCY_KEY_MAX,
                },
            ));
        }
        let printable = value.bytes().all(|b| (0x20..0x7f).contains(&b));
        if !printable || value.starts_with(' ') || value.ends_with(' ') {
            return Err(ValidationError::new(
                field,
                ValidationProblem::Pattern {
                    expected: "printable ASCII without leading or trailing spaces",
                },
            ));
        }
        Ok(Self(value))
    }

    /// The key as sent in the header.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for IdempotencyKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for IdempotencyKey {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl TryFrom<&str> for IdempotencyKey {
    type Error = ValidationError;
    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl std::str::FromStr for IdempotencyKey {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl From<IdempotencyKey> for String {
    fn from(key: IdempotencyKey) -> Self {
        key.0
    }
}

/// The path of an order: `/ordermanagement/v1/orders/{order_id}`, with the id encoded.
fn order_path(order_id: &str) -> Result<Path, ValidationError> {
    Path::new("/ordermanagement/v1/orders").id("order_id", order_id)
}

/// The path of a capture: `…/orders/{order_id}/captures/{capture_id}`, with the ids encoded.
fn capture_path(order_id: &str, capture_id: &str) -> Result<Path, ValidationError> {
    order_path(order_id)?
        .then("/captures")
        .id("capture_id", capture_id)
}

/// Builds an OM request, with the idempotency key when one is given.
fn send(
    api: &Api,
    method: Method,
    path: &str,
    body: Option<Vec<u8>>,
    idempotency_key: Option<&IdempotencyKey>,
) -> Result<Request<Vec<u8>>, Error> {
    crate::wire::request(
        api,
        method,
        path,
        body,
        idempotency_key.map(IdempotencyKey::as_str),
    )
}

/// Decodes a `201 Created` without body: the new resource's id from `id_header`, else from the
/// last path segment of `Location` (unless that segment is the `collection` itself).
fn created(
    operation: &'static str,
    response: &Response<Vec<u8>>,
    id_header: &str,
    collection: &str,
) -> Result<(Option<String>, Option<String>), Error> {
    crate::wire::success(operation, response)?;
    let nonempty = |name: &str| {
        crate::wire::header(response, name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let location = nonempty("Location");
    let id = nonempty(id_header).or_else(|| {
        location
            .as_deref()
            .and_then(last_path_segment)
            .filter(|segment| segment != collection)
    });
    Ok((id, location))
}

/// The last non-empty path segment of an absolute or relative URL, percent-decoded.
fn last_path_segment(url: &str) -> Option<String> {
    let without_suffix = url.split(['?', '#']).next().unwrap_or_default();
    let path = match without_suffix.find("://") {
        Some(scheme_end) => {
            let after_scheme = &without_suffix[scheme_end + 3..];
            &after_scheme[after_scheme.find('/')?..]
        }
        None => without_suffix,
    };
    let segment = path.trim_end_matches('/').rsplit('/').next()?;
    if segment.is_empty() {
        return None;
    }
    Some(percent_decode(segment))
}

/// Decodes `%XX` escapes; returns the input unchanged when they do not form UTF-8.
fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                // hi and lo are hex digits (< 16), so the value fits in a byte.
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| segment.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_key_rules() {
        let k = IdempotencyKey::new("2d4a5f5e-0000-4000-8000-000000000001").expect("uuid");
        assert_eq!(k.as_str(), "2d4a5f5e-0000-4000-8000-000000000001");
        assert_eq!(
            IdempotencyKey::new("").expect_err("empty").problem,
            ValidationProblem::Empty
        );
        assert_eq!(
            IdempotencyKey::new("a".repeat(256))
                .expect_err("long")
                .problem,
            ValidationProblem::TooLong { max: 255 }
        );
        assert!(IdempotencyKey::new("a".repeat(255)).is_ok());
        for bad in ["a\nb", "a\u{e9}", " a", "a ", "a\tb", "\u{7f}"] {
            assert!(
                matches!(
                    IdempotencyKey::new(bad).expect_err(bad).problem,
                    ValidationProblem::Pattern { .. }
                ),
                "{bad:?}"
            );
        }
        assert!(IdempotencyKey::new("checkout 1/capture 2").is_ok());
    }

    #[test]
    fn idempotency_key_serde_validates() {
        let k: IdempotencyKey = serde_json::from_str("\"abc\"").expect("valid");
        assert_eq!(serde_json::to_string(&k).expect("encodes"), "\"abc\"");
        assert!(serde_json::from_str::<IdempotencyKey>("\"\"").is_err());
    }

    #[test]
    fn paths_encode_ids() {
        assert_eq!(
            &*capture_path("o/1", "c 2").expect("non-empty"),
            "/ordermanagement/v1/orders/o%2F1/captures/c%202"
        );
        assert_eq!(
            order_path("").err().map(|e| e.field).as_deref(),
            Some("order_id")
        );
    }

    #[test]
    fn last_segment_of_locations() {
        let seg = |u: &str| last_path_segment(u);
        assert_eq!(
            seg("https://api.klarna.com/ordermanagement/v1/orders/o1/captures/c1").as_deref(),
            Some("c1")
        );
        assert_eq!(
            seg("/ordermanagement/v1/orders/o1/refunds/r1/?x=1#f").as_deref(),
            Some("r1")
        );
        assert_eq!(seg("https://api.klarna.com").as_deref(), None);
        assert_eq!(seg("https://api.klarna.com/").as_deref(), None);
        assert_eq!(seg("").as_deref(), None);
        assert_eq!(seg("/a/c%20d").as_deref(), Some("c d"));
        assert_eq!(seg("/a/%FF%").as_deref(), Some("%FF%"));
    }
}
