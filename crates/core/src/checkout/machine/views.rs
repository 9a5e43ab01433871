//! What the checkout reads from Klarna's answers: only the fields it acts on.
//!
//! The public response types ([`hpp::Session`], [`om::Order`], ...) decode every documented
//! field for merchants who call the operations themselves. The checkout acts on a handful of
//! them, so it decodes these views instead: the same field types and rules (open enums, lenient
//! timestamps, `null` amounts as zero), with everything else skipped without allocating. An
//! answer whose irrelevant fields are malformed therefore does not stall a checkout.

use serde::Deserialize;

use crate::hpp::HppStatus;
use crate::kp::FraudStatus;
use crate::om::{nullable, OrderStatus};
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

/// `GET /hpp/v1/sessions/{id}`.
#[derive(Deserialize)]
pub(super) struct HppSession {
    pub(super) session_id: String,
    pub(super) status: HppStatus,
    #[serde(default)]
    pub(super) updated_at: Option<Timestamp>,
    #[serde(default)]
    pub(super) expires_at: Option<Timestamp>,
    #[serde(default)]
    pub(super) authorization_token: Option<AuthorizationToken>,
    #[serde(default)]
    pub(super) order_id: Option<String>,
    #[serde(default)]
    pub(super) klarna_reference: Option<String>,
}

/// `POST /payments/v1/authorizations/{token}/order`.
#[derive(Deserialize)]
pub(super) struct OrderPlaced {
    pub(super) order_id: String,
    #[serde(default)]
    pub(super) fraud_status: Option<FraudStatus>,
}

/// `GET /ordermanagement/v1/orders/{id}`.
#[derive(Deserialize)]
pub(super) struct Order {
    pub(super) status: OrderStatus,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) order_amount: i64,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) captured_amount: i64,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) refunded_amount: i64,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) remaining_authorized_amount: i64,
    #[serde(default)]
    pub(super) expires_at: Option<Timestamp>,
}
