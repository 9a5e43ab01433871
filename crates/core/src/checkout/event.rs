//! What the checkout tells the merchant: events, and the reasons attached to them.

use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::hpp::{DistributionMethod, HppStatus};
use crate::om::OrderStatus;
use crate::time::Timestamp;

/// The calls a checkout makes, named for events and errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Call {
    /// `POST /payments/v1/sessions`.
    CreateKpSession,
    /// `POST /hpp/v1/sessions`.
    CreateHppSession,
    /// `GET /hpp/v1/sessions/{id}`.
    ReadHppSession,
    /// `POST /hpp/v1/sessions/{id}/distribution`.
    Distribute,
    /// `DELETE /hpp/v1/sessions/{id}`.
    DisableHppSession,
    /// `POST /payments/v1/authorizations/{token}/order`.
    PlaceOrder,
    /// `DELETE /payments/v1/authorizations/{token}`.
    CancelAuthorization,
    /// `GET /ordermanagement/v1/orders/{id}`.
    ReadOrder,
    /// `POST /ordermanagement/v1/orders/{id}/captures`.
    Capture,
    /// `POST /ordermanagement/v1/orders/{id}/refunds`.
    Refund,
    /// `POST /ordermanagement/v1/orders/{id}/cancel`.
    CancelOrder,
    /// `POST /ordermanagement/v1/orders/{id}/release-remaining-authorization`.
    ReleaseRemainingAuthorization,
    /// `POST /ordermanagement/v1/orders/{id}/extend-authorization-time`.
    ExtendAuthorizationTime,
    /// `PATCH /ordermanagement/v1/orders/{id}/merchant-references`.
    UpdateMerchantReferences,
    /// `POST /ordermanagement/v1/orders/{id}/captures/{capture_id}/shipping-info`.
    AddShippingInfo,
}

/// A deadline the checkout enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Deadline {
    /// The HPP session's `expires_at` (never later than the KP session's expiry − 1 h).
    HppSession,
    /// The authorization token's 60 minutes.
    AuthorizationToken,
    /// The OM order authorization's `expires_at` (captures impossible after it).
    OrderAuthorization,
}

/// Klarna's error answer, in a form that can be stored in a snapshot. `Debug` shows its texts
/// through the crate's message sanitizer (Klarna echoes submitted values in messages).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiProblem {
    /// HTTP status.
    pub status: u16,
    /// `error_code`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// `error_messages`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub error_messages: Vec<String>,
    /// `correlation_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
}

impl std::fmt::Debug for ApiProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::error::{Sanitized, SanitizedId};
        f.debug_struct("ApiProblem")
            .field("status", &self.status)
            .field("error_code", &Sanitized(&self.error_code))
            .field("error_messages", &Sanitized(self.error_messages.as_slice()))
            .field("correlation_id", &SanitizedId(&self.correlation_id))
            .finish()
    }
}

impl From<&ApiError> for ApiProblem {
    fn from(e: &ApiError) -> Self {
        Self {
            status: e.status.as_u16(),
            error_code: e.error_code.clone(),
            error_messages: e.error_messages.clone(),
            correlation_id: e.correlation_id.clone(),
        }
    }
}

/// Why a checkout failed for good.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum FailureReason {
    /// Klarna refused to create the KP session.
    KpSessionRejected(ApiProblem),
    /// Klarna refused to create the HPP session.
    HppSessionRejected(ApiProblem),
    /// Klarna refused to place the order (e.g. `REJECTED`).
    OrderRejected(ApiProblem),
    /// A place-order call's outcome stayed unknown until the token expired, or Klarna answered a
    /// replay with "already consumed". The order may exist: reconcile with Klarna by
    /// `merchant_reference1`. Nothing is retried blindly.
    OrderOutcomeUnknown,
    /// A call kept failing transiently until the retry policy gave up.
    RetriesExhausted(Call),
}

/// Who or what cancelled the checkout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum CancelledBy {
    /// The consumer cancelled on the hosted page (HPP status `CANCELLED`).
    Consumer,
    /// The merchant released the authorization (KP cancel authorization).
    AuthorizationReleased,
    /// The merchant cancelled the order (OM cancel).
    OrderCancelled,
}

/// The links to send the consumer to the hosted page.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerLink {
    /// HPP session id.
    pub session_id: String,
    /// Where to redirect the consumer's browser (absent for non-e-commerce channels).
    pub redirect_url: Option<String>,
    /// A QR code image of the link.
    pub qr_code_url: Option<String>,
    /// When the link stops working (already including the safety margin).
    pub expires_at: Timestamp,
}

impl std::fmt::Debug for ConsumerLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsumerLink")
            .field("session_id", &self.session_id)
            .field(
                "redirect_url",
                &self.redirect_url.as_ref().map(|_| "[redacted]"),
            )
            .field(
                "qr_code_url",
                &self.qr_code_url.as_ref().map(|_| "[redacted]"),
            )
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Something the merchant acts on. Drain with [`Checkout::poll_event`](super::Checkout::poll_event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Event {
    /// The KP session exists.
    KpSessionCreated {
        /// KP session id.
        session_id: String,
    },
    /// The hosted page is ready: redirect the consumer, show the QR code, or distribute the link.
    ConsumerLinkReady(ConsumerLink),
    /// An API read showed a new HPP status.
    StatusChanged {
        /// The new status.
        status: HppStatus,
    },
    /// The link was sent by e-mail, SMS or token.
    Distributed {
        /// How.
        method: DistributionMethod,
    },
    /// The consumer authorized the payment (mode NONE): call `place_order` before `expires_at`.
    Authorized {
        /// When the authorization token expires (including the safety margin).
        expires_at: Timestamp,
    },
    /// The order exists (placed by the checkout, or by HPP with PLACE_ORDER/CAPTURE_ORDER).
    OrderPlaced {
        /// OM order id.
        order_id: String,
        /// Klarna's short reference for the consumer.
        klarna_reference: Option<String>,
        /// Fraud status at placement (`PENDING` means wait before shipping).
        fraud_status: Option<String>,
    },
    /// An OM read showed the order's amounts and status.
    OrderUpdated {
        /// Order status.
        status: OrderStatus,
        /// Authorized amount.
        order_amount: i64,
        /// Captured so far.
        captured_amount: i64,
        /// Refunded so far.
        refunded_amount: i64,
        /// Still capturable.
        remaining_authorized_amount: i64,
        /// Captures impossible after this (including the safety margin).
        expires_at: Option<Timestamp>,
    },
    /// A capture succeeded.
    Captured {
        /// Klarna's capture id.
        capture_id: Option<String>,
        /// Amount of this capture.
        amount: i64,
        /// Captured in total.
        captured_total: i64,
    },
    /// A refund succeeded.
    Refunded {
        /// Klarna's refund id.
        refund_id: Option<String>,
        /// Amount of this refund.
        amount: i64,
        /// Refunded in total.
        refunded_total: i64,
    },
    /// The checkout is cancelled (terminal).
    Cancelled {
        /// By whom.
        by: CancelledBy,
    },
    /// The merchant disabled the HPP session (terminal).
    Disabled,
    /// A deadline passed. For the HPP session and the token this is terminal.
    Expired {
        /// Which one.
        deadline: Deadline,
    },
    /// The checkout failed for good (terminal).
    Failed {
        /// Why.
        reason: FailureReason,
    },
    /// A capture or refund the merchant asked for was withdrawn before it was sent: a later
    /// order read showed less left than when it was asked for (captured or refunded outside
    /// this checkout, or by HPP under CAPTURE_ORDER). Nothing was sent; ask again for at most
    /// `remaining`. The checkout goes on.
    Withdrawn {
        /// [`Call::Capture`] or [`Call::Refund`].
        call: Call,
        /// The amount that was asked for.
        amount: i64,
        /// What the read left to capture (or refund), less what is on its way, including the
        /// queued ones kept: what may still be asked for.
        remaining: i64,
    },
    /// One of Order Management's writes that move no amount (release the remaining
    /// authorization, extend the authorization time, update the merchant references, add
    /// shipping information) succeeded. An order read follows and refreshes the checkout's view
    /// of the order ([`Event::OrderUpdated`]).
    OrderWritten {
        /// Which write.
        call: Call,
    },
    /// A merchant command's call was refused by Klarna; the checkout goes on.
    CallFailed {
        /// Which call.
        call: Call,
        /// Klarna's answer.
        problem: ApiProblem,
    },
}
