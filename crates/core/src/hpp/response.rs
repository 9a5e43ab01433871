//! What HPP answers: the created session, the session as read, and status callbacks.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::HppStatus;
use crate::error::Error;
use crate::secret::{secret_string, AuthorizationToken};
use crate::template::redact_query;
use crate::time::Timestamp;
use crate::wire;

secret_string!(
    /// The distribution-module token (`distribution_module.token`).
    DistributionToken
);

/// Response of `POST /hpp/v1/sessions` (`SessionCreationResponseV1`).
///
/// Use the returned URLs as they are; never build them. `Debug` hides `redirect_url` and
/// `qr_code_url`: whoever has them can open the consumer's payment page.
///
/// Klarna's schema requires no field (its own SDK tests answer a creation with the URLs only),
/// so every field is optional; a caller that must read or disable the session later needs
/// `session_id` and treats its absence as a failed creation (the checkout does).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionCreated {
    /// The HPP session id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// API URL of the session (read, disable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_url: Option<String>,
    /// Where to redirect the consumer (eCommerce).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
    /// A QR-code image of the page link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr_code_url: Option<String>,
    /// API URL for link distribution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution_url: Option<String>,
    /// When the session expires (1 h before its KP session).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    /// API URL for the manual identification check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual_identification_check_url: Option<String>,
    /// Data for the Distribution Module UI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution_module: Option<DistributionModule>,
}

impl SessionCreated {
    /// A created session with only its id (other fields absent); for tests and emulators.
    pub fn new(session_id: impl Into<String>) -> Self {
        Self {
            session_id: Some(session_id.into()),
            session_url: None,
            redirect_url: None,
            qr_code_url: None,
            distribution_url: None,
            expires_at: None,
            manual_identification_check_url: None,
            distribution_module: None,
        }
    }
}

impl fmt::Debug for SessionCreated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |url: &Option<String>| url.as_ref().map(|_| "[redacted]");
        let url = crate::redact::opt_url;
        f.debug_struct("SessionCreated")
            .field("session_id", &self.session_id)
            .field("session_url", &url(&self.session_url))
            .field("redirect_url", &redacted(&self.redirect_url))
            .field("qr_code_url", &redacted(&self.qr_code_url))
            .field("distribution_url", &url(&self.distribution_url))
            .field("expires_at", &self.expires_at)
            .field(
                "manual_identification_check_url",
                &url(&self.manual_identification_check_url),
            )
            .field("distribution_module", &self.distribution_module)
            .finish()
    }
}

/// `distribution_module` (`DistributionModuleV1`).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DistributionModule {
    /// Token for the Distribution Module.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<DistributionToken>,
    /// Standalone page URL (contains `{{profile_id}}`/`{{view_id}}`, which are not merchant-URL
    /// placeholders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standalone_url: Option<String>,
    /// API URL generating a new token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation_url: Option<String>,
}

impl fmt::Debug for DistributionModule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DistributionModule")
            .field("token", &self.token)
            .field(
                "standalone_url",
                &self.standalone_url.as_deref().map(redact_query),
            )
            .field(
                "generation_url",
                &crate::redact::opt_url(&self.generation_url),
            )
            .finish()
    }
}

/// An HPP session as read (`SessionResponseV1`), also the `session` of a status callback.
///
/// Klarna's schema requires no field, and its own SDK tests read a completed session as
/// `{"authorization_token", "status", "updated_at"}`: `session_id` is optional. Whoever reads a
/// session knows which one it asked for; a body without an id is about that one, and a body
/// naming another session must be refused ([`Session::is_about`]). `status` is required: a
/// session without one cannot be acted on, and decoding fails with a [`DecodeError`] whose
/// message names the missing field. `Debug` hides the authorization token and the customer.
///
/// [`DecodeError`]: crate::error::DecodeError
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Session {
    /// The HPP session id, when the body names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// The current status; unknown values are kept.
    pub status: HppStatus,
    /// When the status last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Timestamp>,
    /// When the session expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    /// With `COMPLETED` and `NONE`: the KP authorization token (valid 60 minutes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_token: Option<AuthorizationToken>,
    /// With `COMPLETED` and `PLACE_ORDER`/`CAPTURE_ORDER`: the order id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// With `order_id`: the consumer-facing reference (a number is read as its text).
    #[serde(
        default,
        deserialize_with = "crate::lenient::text",
        skip_serializing_if = "Option::is_none"
    )]
    pub klarna_reference: Option<String>,
    /// Customer details, when Klarna shares them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
    /// The pending manual identification (status `MANUAL_ID_CHECK`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual_identification: Option<ManualIdentification>,
}

impl Session {
    /// A session with an id and status only; for tests and emulators.
    pub fn new(session_id: impl Into<String>, status: HppStatus) -> Self {
        Self {
            session_id: Some(session_id.into()),
            status,
            updated_at: None,
            expires_at: None,
            authorization_token: None,
            order_id: None,
            klarna_reference: None,
            customer: None,
            manual_identification: None,
        }
    }

    /// Whether this body may be about session `session_id`: it names that session, or none
    /// (then it is about the session that was read, or whose callback URL was called).
    pub fn is_about(&self, session_id: &str) -> bool {
        self.session_id.as_deref().is_none_or(|id| id == session_id)
    }
}

/// Customer details (`CustomerV1`). `Debug` shows which fields are present, never their values.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Customer {
    /// Date of birth, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<String>,
    /// Family name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// Given name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// National identification number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub national_identification_number: Option<String>,
    /// Title, e.g. `Mr`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

impl fmt::Debug for Customer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |v: &Option<String>| v.as_ref().map(|_| "[redacted]");
        f.debug_struct("Customer")
            .field("date_of_birth", &redacted(&self.date_of_birth))
            .field("family_name", &redacted(&self.family_name))
            .field("given_name", &redacted(&self.given_name))
            .field(
                "national_identification_number",
                &redacted(&self.national_identification_number),
            )
            .field("title", &redacted(&self.title))
            .finish()
    }
}

/// A pending manual identification (`MerchantManualIdentificationV1`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ManualIdentification {
    /// The challenge to compare, e.g. `A78`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge: Option<String>,
    /// The customer to identify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
    /// The same, obfuscated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_obfuscated: Option<Customer>,
    /// When the identification expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
}

/// The body Klarna posts to `merchant_urls.status_update` on every status change.
///
/// Unsigned and retried (4 calls at most): deduplicate by `event_id`, and confirm with a read
/// before acting on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StatusCallback {
    /// Unique per event; the same on retries.
    pub event_id: String,
    /// The session as `GET /hpp/v1/sessions/{id}` would return it.
    pub session: Session,
}

impl StatusCallback {
    /// The operation name in decode errors.
    pub const NAME: &'static str = "hpp.status_callback";

    /// A callback; for tests and emulators.
    pub fn new(event_id: impl Into<String>, session: Session) -> Self {
        Self {
            event_id: event_id.into(),
            session,
        }
    }

    /// Decodes a callback body. Failures are [`Error::Decode`] with operation
    /// `hpp.status_callback` and status 200 (there is no response; the body is a request's).
    pub fn decode(body: &[u8]) -> Result<StatusCallback, Error> {
        wire::decode_body(Self::NAME, http::StatusCode::OK, body)
    }
}
