//! What the checkout reads from Klarna's answers: only the fields it acts on.
//!
//! The public response types ([`hpp::Session`], [`om::Order`], ...) decode every documented
//! field for merchants who call the operations themselves. The checkout acts on a handful of
//! them, so it decodes these views instead: the same field types and rules (open enums, lenient
//! timestamps, strict amounts), with everything else skipped without allocating. An answer whose
//! irrelevant fields are malformed therefore does not stall a checkout.

use serde::Deserialize;

use crate::hpp::HppStatus;
use crate::kp::FraudStatus;
use crate::om::OrderStatus;
use crate::secret::AuthorizationToken;
use crate::time::Timestamp;

/// `POST /payments/v1/sessions`.
#[derive(Deserialize)]
pub(super) struct KpSessionCreated {
    pub(super) session_id: String,
}

/// `POST /hpp/v1/sessions`.
#[derive(Deserialize)]
pub(super) struct HppSessionCreated {
    pub(super) session_id: String,
    #[serde(default)]
    pub(super) redirect_url: Option<String>,
    #[serde(default)]
    pub(super) qr_code_url: Option<String>,
    #[serde(default)]
    pub(super) expires_at: Option<Timestamp>,
}

/// `GET /hpp/v1/sessions/{id}`. Klarna's schema requires no field: a body without
/// `session_id` is about the session read (one naming another is refused by the caller); one
/// without `status` cannot be acted on and fails to decode (retried).
#[derive(Deserialize)]
pub(super) struct HppSession {
    #[serde(default)]
    pub(super) session_id: Option<String>,
    pub(super) status: HppStatus,
    #[serde(default)]
    pub(super) updated_at: Option<Timestamp>,
    #[serde(default)]
    pub(super) expires_at: Option<Timestamp>,
    #[serde(default)]
    pub(super) authorization_token: Option<AuthorizationToken>,
    #[serde(default)]
    pub(super) order_id: Option<String>,
    #[serde(default, deserialize_with = "crate::lenient::text")]
    pub(super) klarna_reference: Option<String>,
}

/// `POST /payments/v1/authorizations/{token}/order`.
#[derive(Deserialize)]
pub(super) struct OrderPlaced {
    pub(super) order_id: String,
    #[serde(default)]
    pub(super) fraud_status: Option<FraudStatus>,
}

/// `GET /ordermanagement/v1/orders/{id}`. The amounts are required strict integers: a read
/// without one (or with `null`) fails to decode, naming it, and is retried; it is never taken
/// for a zero (a zero `captured_amount` would settle a capture whose outcome is unknown).
#[derive(Deserialize)]
pub(super) struct Order {
    pub(super) status: OrderStatus,
    pub(super) order_amount: i64,
    pub(super) captured_amount: i64,
    pub(super) refunded_amount: i64,
    pub(super) remaining_authorized_amount: i64,
    #[serde(default)]
    pub(super) expires_at: Option<Timestamp>,
    /// Read leniently: only the captures' ids are used (for shipping information), and a
    /// malformed item is skipped rather than stalling the checkout.
    #[serde(default)]
    captures: Option<serde_json::Value>,
}

impl Order {
    /// The ids of the captures the read lists.
    pub(super) fn capture_ids(&self) -> impl Iterator<Item = &str> {
        self.captures
            .as_ref()
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| c.get("capture_id")?.as_str())
    }
}
