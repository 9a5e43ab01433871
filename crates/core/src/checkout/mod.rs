//! The checkout lifecycle: one purchase from KP session to captured order, as a sans-IO state
//! machine.
//!
//! ```text
//!  new() ──► CreatingKpSession ──► CreatingHppSession ──► AwaitingConsumer ◄──┐ WAITING, IN_PROGRESS,
//!                 │                      │                 │    │    │   └──────┘ BACK, FAILED, ERROR, …
//!                 └──────────┬───────────┘     (deadline)  │    │    │ (disable)
//!                            ▼                     ┌───────┘    │    └────────► Disabled
//!                         Failed ◄───── Expired ◄──┤ CANCELLED  │ COMPLETED
//!                                                  ▼            ├─ token (NONE) ──► Authorized ──place_order──► PlacingOrder
//!                                              Cancelled ◄──────┤                      │ (token expiry)             │
//!                                                  ▲            └─ order_id ─┐         ▼                            ▼
//!                                                  │                         └────► OrderPlaced ◄────────────── (200)
//!                                                  └──── cancel_order ◄────────────── │  capture (≤ remaining)
//!                                                                                      ▼
//!                                                                                   Captured ── refund ──► Captured
//! ```
//!
//! See [`Checkout`] for the call order and the time contract, and `docs/lifecycle.md`.

mod config;
pub(crate) mod digest;
mod error;
mod event;
mod machine;
mod seal;

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use self::config::{CheckoutConfig, PollPolicy, RetryPolicy, Seed};
pub use self::error::{CommandError, InputError};
pub use self::event::{
    ApiProblem, Call, CancelledBy, ConsumerLink, Deadline, Event, FailureReason,
};
pub use self::seal::{SealError, SnapshotSeal};

use crate::config::Api;
use crate::error::{Error, ValidationError, ValidationProblem};
use crate::hpp::{DistributionRequest, HppStatus, Options, PlaceOrderMode};
use crate::kp::CreateOrderRequest;
use crate::secret::{AuthorizationToken, Secret};
use crate::time::Timestamp;

/// Identifies one request the checkout emitted; pass it back with the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RequestId(u64);

impl RequestId {
    /// The number (monotonic per checkout).
    pub fn get(self) -> u64 {
        self.0
    }
}

/// How a request failed to produce a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TransportFailure {
    /// The request surely never reached Klarna (DNS failure, connection refused, TLS failure
    /// before any byte of the request was written). Always safe to retry.
    NotSent,
    /// The request may have reached Klarna (timeout, connection reset after writing): its
    /// outcome is unknown. Resolved by reading or by an exactly-once replay, never by a blind
    /// re-post.
    OutcomeUnknown,
}

/// Where the checkout stands. [`State::is_terminal`] states absorb every input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum State {
    /// Creating the KP session.
    CreatingKpSession,
    /// Creating the HPP session that hosts it.
    CreatingHppSession,
    /// The link is out; waiting for the consumer ([`Checkout::hpp_status`] has the last status read).
    AwaitingConsumer,
    /// COMPLETED with an authorization token (mode NONE): place the order before the token expires.
    Authorized,
    /// Placing the order (single-flight; possibly resolving an unknown outcome).
    PlacingOrder,
    /// The order exists; capture, refund or cancel it.
    OrderPlaced,
    /// The whole authorized amount is captured (refunds remain possible).
    Captured,
    /// Cancelled by the consumer or the merchant. Terminal.
    Cancelled,
    /// The merchant disabled the HPP session. Terminal.
    Disabled,
    /// A deadline passed before the consumer completed, or before the order was placed. Terminal.
    Expired,
    /// Failed for good (see [`Checkout::failure`]). Terminal.
    Failed,
}

impl State {
    /// Whether the state absorbs every further input.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            State::Cancelled | State::Disabled | State::Expired | State::Failed
        )
    }
}

/// One output of [`Checkout::poll_output`].
///
/// `Debug` shows a request as its method, its path with ids and tokens named
/// (`POST /payments/v1/authorizations/{authorization_token}/order`) and its body's length:
/// never a header, the body (the HPP request carries the callback secret, KP bodies the
/// consumer's data) or the token in the path.
#[non_exhaustive]
pub enum Output {
    /// An event for the merchant.
    Event(Event),
    /// A request to send; feed its outcome back with the id.
    Request(RequestId, http::Request<Vec<u8>>),
    /// Nothing to do before this instant (or before a response arrives): call
    /// [`Checkout::handle_timeout`] then.
    Timeout(Timestamp),
    /// Nothing to do until a response arrives, or ever (terminal).
    Idle,
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Output::Event(event) => f.debug_tuple("Event").field(event).finish(),
            Output::Request(id, request) => f
                .debug_tuple("Request")
                .field(id)
                .field(&crate::redact::Request(request))
                .finish(),
            Output::Timeout(at) => f.debug_tuple("Timeout").field(at).finish(),
            Output::Idle => f.write_str("Idle"),
        }
    }
}

/// What a redirect back from the hosted page was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RedirectKind {
    /// The success URL.
    Success,
    /// The cancel URL.
    Cancel,
    /// The back URL.
    Back,
    /// The failure URL.
    Failure,
    /// The error URL.
    Error,
}

/// What a status callback did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CallbackOutcome {
    /// Authentic and new: a verifying read was scheduled at once.
    ReadScheduled,
    /// Authentic and new, but the checkout is past waiting for the consumer: nothing to do.
    Ignored,
    /// Its `event_id` was seen before.
    Duplicate,
}

/// One purchase: KP session → HPP session → consumer → order → capture, as pure transitions.
///
/// # Method kinds
///
/// - **Inputs** (`handle_*`): [`handle_response`](Self::handle_response),
///   [`handle_transport_error`](Self::handle_transport_error), [`handle_timeout`](Self::handle_timeout),
///   [`handle_redirect`](Self::handle_redirect), [`handle_callback`](Self::handle_callback).
/// - **Commands**: [`distribute`](Self::distribute), [`disable`](Self::disable),
///   [`place_order`](Self::place_order), [`capture`](Self::capture), [`refund`](Self::refund),
///   [`cancel_authorization`](Self::cancel_authorization), [`cancel_order`](Self::cancel_order).
///   A refused command returns [`CommandError`] and changes nothing.
/// - **Outputs** (`poll_*`, drain after every input or command): [`poll_request`](Self::poll_request),
///   [`poll_event`](Self::poll_event), [`poll_timeout`](Self::poll_timeout).
/// - **Getters**: [`state`](Self::state), [`deadlines`](Self::deadlines), ids and amounts.
///
/// # Call order
///
/// 1. [`Checkout::new`] (emits the first request).
/// 2. Loop: drain `poll_request` (send each request; at most one is in flight at a time) and
///    `poll_event` (act on each); then wait until a response arrives, a redirect or callback
///    reaches your web server, or `poll_timeout` passes, and feed that in with the matching
///    `handle_*`. Repeat until [`State::is_terminal`] or you are done with the order.
/// 3. Persist with [`snapshot`](Self::snapshot) whenever you like (it holds the token, the
///    callback secret and customer data in clear: [`snapshot_sealed`](Self::snapshot_sealed)
///    encrypts it); resume with [`restore`](Self::restore) (and
///    [`resume_after_restart`](Self::resume_after_restart) when the process that sent the
///    in-flight request is gone).
///
/// # Time contract
///
/// The checkout never reads a clock. Every input and command takes `now`, the current wall-clock
/// time; pass non-decreasing values (an earlier `now` is treated as equal to the latest seen).
/// `poll_timeout` is the next instant at which `handle_timeout` must be called; it changes after
/// every input and command (a redirect or callback moves the next read to `now`; a response
/// schedules the next poll or retry; a transition adds or removes deadlines).
///
/// # Trust
///
/// Only API reads change what the checkout believes about the consumer: a redirect or a
/// callback schedules an immediate read and nothing else. Callbacks must carry the checkout's
/// secret (compared in constant time) and are deduplicated by `event_id`.
///
/// # Money moves exactly once
///
/// Place-order is single-flight; after an unknown outcome it is replayed only with the
/// byte-identical body and only while the token is valid. Captures, refunds and cancels carry
/// `Klarna-Idempotency-Key`s derived from the checkout id, the call and its sequence number, so a
/// replay (even after a restart from a snapshot) reuses the key. A capture never exceeds what
/// remains authorized.
pub struct Checkout {
    api: Api,
    core: machine::Core,
    outbox: Option<(RequestId, http::Request<Vec<u8>>)>,
}

impl std::fmt::Debug for Checkout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.core, f)
    }
}

/// The deadlines a checkout enforces (each already reduced by the safety margin).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Deadlines {
    /// The KP session's expiry (48 h after it was requested).
    pub kp_session: Option<Timestamp>,
    /// The HPP session's expiry: Klarna's `expires_at`, never later than `kp_session − 1 h`.
    pub hpp_session: Option<Timestamp>,
    /// The authorization token's expiry (60 min after authorization).
    pub authorization_token: Option<Timestamp>,
    /// The OM authorization's expiry (captures impossible after it).
    pub order_authorization: Option<Timestamp>,
}

/// Why a snapshot could not be restored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// Not a snapshot this version understands.
    #[error("not a klarna-hpp checkout snapshot: {0}")]
    Malformed(String),
    /// Written by a newer format version.
    #[error("snapshot format version {0} is not supported (expected 1)")]
    UnsupportedVersion(u32),
    /// [`Checkout::restore_sealed`]: the seal did not open the bytes (another key, tampered
    /// with, or not sealed).
    #[error(transparent)]
    Sealed(#[from] SealError),
}

/// KP session lifetime.
pub const KP_SESSION_LIFETIME: Duration = Duration::from_secs(48 * 3600);
/// The HPP session expires this long before its KP session.
pub const HPP_BEFORE_KP: Duration = Duration::from_secs(3600);
/// Authorization token lifetime.
pub const AUTHORIZATION_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

impl Checkout {
    /// Starts a checkout: validates everything that will be sent and emits the KP create-session
    /// request. Invalid input (order amounts, templates, URLs, ids) is refused with no request.
    pub fn new(api: Api, config: CheckoutConfig, now: Timestamp) -> Result<Self, Error> {
        let core = machine::Core::new(config, now)?;
        let mut checkout = Self {
            api,
            core,
            outbox: None,
        };
        checkout.drive(now);
        Ok(checkout)
    }

    // ----- getters -----

    /// Where the checkout stands.
    pub fn state(&self) -> State {
        self.core.state()
    }

    /// The merchant's id of this checkout.
    pub fn checkout_id(&self) -> &str {
        &self.core.id
    }

    /// The last HPP status an API read showed.
    pub fn hpp_status(&self) -> Option<&HppStatus> {
        self.core.hpp.as_ref().and_then(|h| h.status.as_ref())
    }

    /// The KP session id, once created.
    pub fn kp_session_id(&self) -> Option<&str> {
        self.core.kp.as_ref().map(|k| k.session_id.as_str())
    }

    /// The HPP session id, once created.
    pub fn hpp_session_id(&self) -> Option<&str> {
        self.core.hpp.as_ref().map(|h| h.session_id.as_str())
    }

    /// The consumer links, once the HPP session exists.
    pub fn consumer_link(&self) -> Option<ConsumerLink> {
        self.core.consumer_link()
    }

    /// The authorization token (mode NONE, after COMPLETED). A secret: keep it out of logs.
    pub fn authorization_token(&self) -> Option<&AuthorizationToken> {
        self.core.auth.as_ref().map(|a| &a.token)
    }

    /// The OM order id, once the order exists.
    pub fn order_id(&self) -> Option<&str> {
        self.core.order.as_ref().map(|o| o.order_id.as_str())
    }

    /// The ids of the order's captures the checkout knows of (from capture answers and order
    /// reads): the captures shipping information can be added to.
    pub fn capture_ids(&self) -> &[String] {
        self.core
            .order
            .as_ref()
            .map_or(&[], |o| o.capture_ids.as_slice())
    }

    /// Captured so far (confirmed by Klarna).
    pub fn captured_amount(&self) -> i64 {
        self.core.order.as_ref().map_or(0, |o| o.captured)
    }

    /// Refunded so far (confirmed by Klarna).
    pub fn refunded_amount(&self) -> i64 {
        self.core.order.as_ref().map_or(0, |o| o.refunded)
    }

    /// What may still be captured (authorized − captured − captures under way).
    pub fn capturable_amount(&self) -> i64 {
        self.core.capturable()
    }

    /// The deadlines in force.
    pub fn deadlines(&self) -> Deadlines {
        self.core.deadlines()
    }

    /// Why the checkout failed, when [`State::Failed`].
    pub fn failure(&self) -> Option<&FailureReason> {
        self.core.failure()
    }

    /// Which deadline expired the checkout, when [`State::Expired`].
    pub fn expired(&self) -> Option<Deadline> {
        self.core.expired()
    }

    /// The `status_update` URL sent to Klarna (with the checkout's secret: keep it out of logs).
    pub fn status_update_url(&self) -> Option<&str> {
        self.core.urls.status_update.as_deref()
    }

    // ----- outputs -----

    /// The next request to send, if any. At most one request is in flight at a time.
    #[must_use]
    pub fn poll_request(&mut self) -> Option<(RequestId, http::Request<Vec<u8>>)> {
        let out = self.outbox.take()?;
        self.core.mark_taken(out.0);
        Some(out)
    }

    /// The next event for the merchant, if any.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.core.events.pop_front()
    }

    /// When to call [`handle_timeout`](Self::handle_timeout) next; `None` when nothing is
    /// scheduled (terminal, or only waiting for a response).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        self.core.poll_timeout()
    }

    /// The next thing the driver must do, draining events first, then requests, then the
    /// timeout. Drivers loop on this; it is all their logic (see `klarna-hpp-blocking`).
    #[must_use]
    pub fn poll_output(&mut self) -> Output {
        if let Some(event) = self.poll_event() {
            return Output::Event(event);
        }
        if let Some((id, request)) = self.poll_request() {
            return Output::Request(id, request);
        }
        match self.poll_timeout() {
            Some(at) => Output::Timeout(at),
            None => Output::Idle,
        }
    }

    // ----- inputs -----

    /// Feeds the response to request `id`.
    pub fn handle_response(
        &mut self,
        id: RequestId,
        response: http::Response<Vec<u8>>,
        now: Timestamp,
    ) -> Result<(), InputError> {
        let now = self.core.clock(now);
        self.core.on_response(id, &response, now)?;
        self.drive(now);
        Ok(())
    }

    /// Reports that request `id` produced no response.
    pub fn handle_transport_error(
        &mut self,
        id: RequestId,
        failure: TransportFailure,
        now: Timestamp,
    ) -> Result<(), InputError> {
        let now = self.core.clock(now);
        self.core.on_transport_error(id, failure, now)?;
        self.drive(now);
        Ok(())
    }

    /// Lets time pass: enforces deadlines, issues due polls and retries.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        let now = self.core.clock(now);
        self.drive(now);
    }

    /// The consumer's browser came back to one of the merchant URLs. `url` is the full URL, or
    /// the path and query (matched against the templates' own origin). Schedules a verifying
    /// read; changes nothing else.
    pub fn handle_redirect(
        &mut self,
        url: &str,
        now: Timestamp,
    ) -> Result<RedirectKind, InputError> {
        let now = self.core.clock(now);
        let kind = self.core.on_redirect(url, now)?;
        self.drive(now);
        Ok(kind)
    }

    /// Klarna's status callback reached the `status_update` URL: pass the request URI (path and
    /// query suffice) and body. Checks the secret and the session, deduplicates by `event_id`,
    /// and schedules a verifying read; the body's status itself is not trusted.
    pub fn handle_callback(
        &mut self,
        uri: &str,
        body: &[u8],
        now: Timestamp,
    ) -> Result<CallbackOutcome, InputError> {
        let now = self.core.clock(now);
        let outcome = self.core.on_callback(uri, body, now)?;
        self.drive(now);
        Ok(outcome)
    }

    // ----- commands -----

    /// Sends the hosted page's link to the consumer by e-mail, SMS or token.
    pub fn distribute(
        &mut self,
        request: DistributionRequest,
        now: Timestamp,
    ) -> Result<(), CommandError> {
        let now = self.core.clock(now);
        self.core.cmd_distribute(&self.api, request, now)?;
        self.drive(now);
        Ok(())
    }

    /// Disables the HPP session (before the consumer completes).
    pub fn disable(&mut self, now: Timestamp) -> Result<(), CommandError> {
        let now = self.core.clock(now);
        self.core.cmd_disable(now)?;
        self.drive(now);
        Ok(())
    }

    /// Places the order with the authorization token (mode NONE). `None` places the session's
    /// full order; `Some(body)` places a different body (e.g. a lower amount), which may not
    /// exceed the authorized amount.
    pub fn place_order(
        &mut self,
        order: Option<CreateOrderRequest>,
        now: Timestamp,
    ) -> Result<(), CommandError> {
        let now = self.core.clock(now);
        self.core.cmd_place_order(order, now)?;
        self.drive(now);
        Ok(())
    }

    /// Captures `amount` (or all that remains, with `None`), checked now against what the
    /// checkout knows is left. The capture is sent after any order read the checkout owes; if
    /// that read shows it no longer fits (captured elsewhere), it is withdrawn unsent with
    /// [`Event::Withdrawn`].
    pub fn capture(&mut self, amount: Option<i64>, now: Timestamp) -> Result<(), CommandError> {
        let now = self.core.clock(now);
        self.core.cmd_capture(amount, now)?;
        self.drive(now);
        Ok(())
    }

    /// Refunds `amount` of what was captured; withdrawn unsent, like a capture, if an order
    /// read answered before it is sent shows it no longer fits ([`Event::Withdrawn`]).
    pub fn refund(&mut self, amount: i64, now: Timestamp) -> Result<(), CommandError> {
        let now = self.core.clock(now);
        self.core.cmd_refund(amount, now)?;
        self.drive(now);
        Ok(())
    }

    /// Releases the authorization instead of placing the order (mode NONE, before placing).
    pub fn cancel_authorization(&mut self, now: Timestamp) -> Result<(), CommandError> {
        let now = self.core.clock(now);
        self.core.cmd_cancel_authorization(now)?;
        self.drive(now);
        Ok(())
    }

    /// Cancels the order (only before any capture).
    pub fn cancel_order(&mut self, now: Timestamp) -> Result<(), CommandError> {
        let now = self.core.clock(now);
        self.core.cmd_cancel_order(now)?;
        self.drive(now);
        Ok(())
    }

    /// Releases what remains authorized (Order Management's release-remaining-authorization):
    /// nothing more can be captured afterwards, and [`capturable_amount`](Self::capturable_amount)
    /// is 0 from now on. Queued captures are sent first. Klarna refuses it on an order with no
    /// capture or fully captured ([`Event::CallFailed`]). Asking again changes nothing.
    pub fn release_remaining_authorization(&mut self, now: Timestamp) -> Result<(), CommandError> {
        let now = self.core.clock(now);
        self.core.cmd_release_remaining_authorization(now)?;
        self.drive(now);
        Ok(())
    }

    /// Extends the order's authorization by the account's period; the order read that follows
    /// moves [`Deadlines::order_authorization`].
    pub fn extend_authorization_time(&mut self, now: Timestamp) -> Result<(), CommandError> {
        let now = self.core.clock(now);
        self.core.cmd_extend_authorization_time(now)?;
        self.drive(now);
        Ok(())
    }

    /// Sets the order's merchant references (`merchant_reference1`/`2`; a present field
    /// overwrites, `""` clears).
    pub fn update_merchant_references(
        &mut self,
        references: crate::om::MerchantReferences,
        now: Timestamp,
    ) -> Result<(), CommandError> {
        let now = self.core.clock(now);
        self.core
            .cmd_update_merchant_references(&self.api, references, now)?;
        self.drive(now);
        Ok(())
    }

    /// Adds shipping information to one of the order's captures, one the checkout knows of
    /// ([`capture_ids`](Self::capture_ids); else [`CommandError::UnknownCapture`]).
    pub fn add_shipping_info(
        &mut self,
        capture_id: &str,
        shipping_info: Vec<crate::om::ShippingInfo>,
        now: Timestamp,
    ) -> Result<(), CommandError> {
        let now = self.core.clock(now);
        self.core
            .cmd_add_shipping_info(&self.api, capture_id, shipping_info, now)?;
        self.drive(now);
        Ok(())
    }

    // ----- persistence -----

    /// Serializes the whole checkout (versioned JSON).
    ///
    /// **The bytes hold secrets and personal data in clear**: the authorization token, the
    /// callback secret, the idempotency-key namespace (from which every key of the checkout
    /// follows) and the consumer's data the session carries (names, e-mail, phone, addresses,
    /// national id). Only the API credentials and the seed are left out. Store them as you
    /// would the credentials, or encrypt them with [`snapshot_sealed`](Self::snapshot_sealed).
    pub fn snapshot(&self) -> Vec<u8> {
        // Serializing plain data with string keys cannot fail.
        serde_json::to_vec(&self.core).unwrap_or_default()
    }

    /// Restores a checkout from [`snapshot`](Self::snapshot) bytes; it behaves exactly as the
    /// original would, including a request that was built but not yet polled.
    pub fn restore(api: Api, snapshot: &[u8]) -> Result<Self, SnapshotError> {
        #[derive(Deserialize)]
        struct Version {
            v: u32,
        }
        let version: Version = serde_json::from_slice(snapshot)
            .map_err(|e| SnapshotError::Malformed(crate::wire::sanitize(&e.to_string())))?;
        if version.v != machine::FORMAT_VERSION {
            return Err(SnapshotError::UnsupportedVersion(version.v));
        }
        let mut core: machine::Core = serde_json::from_slice(snapshot)
            .map_err(|e| SnapshotError::Malformed(crate::wire::sanitize(&e.to_string())))?;
        core.validate_restored()
            .map_err(|e| SnapshotError::Malformed(crate::wire::sanitize(&e.to_string())))?;
        let outbox = core.rebuild_unsent(&api);
        Ok(Self { api, core, outbox })
    }

    /// [`snapshot`](Self::snapshot) passed through `seal` (an AEAD with the merchant's key): what
    /// to store when the store is not itself encrypted. The plain bytes never leave this call.
    pub fn snapshot_sealed(&self, seal: &dyn SnapshotSeal) -> Vec<u8> {
        seal.seal(&self.snapshot())
    }

    /// Restores a checkout from [`snapshot_sealed`](Self::snapshot_sealed) bytes: `seal` opens
    /// them (or the restore fails with [`SnapshotError::Sealed`]), then as
    /// [`restore`](Self::restore).
    pub fn restore_sealed(
        api: Api,
        sealed: &[u8],
        seal: &dyn SnapshotSeal,
    ) -> Result<Self, SnapshotError> {
        let plain = seal.open(sealed)?;
        Self::restore(api, &plain)
    }

    /// After [`restore`](Self::restore) in a new process: a request the old process had sent
    /// has an unknown outcome. Treats it so (replayed exactly-once or resolved by reading).
    pub fn resume_after_restart(&mut self, now: Timestamp) {
        let now = self.core.clock(now);
        if let Some(id) = self.core.taken_in_flight() {
            // The id is the one in flight, so this cannot fail.
            let _ = self
                .core
                .on_transport_error(id, TransportFailure::OutcomeUnknown, now);
        }
        self.drive(now);
    }

    fn drive(&mut self, now: Timestamp) {
        self.core.drive(now);
        if self.outbox.is_none() {
            self.outbox = self.core.build_next(&self.api);
        }
    }
}

pub(crate) fn invalid(field: &'static str, problem: ValidationProblem) -> Error {
    ValidationError::new(field, problem).into()
}

pub(crate) fn place_order_mode(options: &Options) -> PlaceOrderMode {
    options
        .place_order_mode
        .clone()
        .unwrap_or(PlaceOrderMode::None)
}

/// The per-checkout secrets, from one HMAC-SHA-256 of the checkout id under the seed: the
/// callback secret (first half, hex) and the idempotency-key namespace (second half, hex).
pub(crate) fn derive(seed: &Seed, checkout_id: &str) -> (Secret, Secret) {
    let mut message = String::with_capacity(20 + checkout_id.len());
    message.push_str("klarna-hpp/checkout/");
    message.push_str(checkout_id);
    let mac = seed.key().mac(message.as_bytes());
    (
        Secret::new(digest::hex(&mac[..16])),
        Secret::new(digest::hex(&mac[16..])),
    )
}

/// The idempotency key of one OM write: a UUID (version 8, RFC 9562) made of the checkout's
/// 128-bit namespace with the operation and its sequence number mixed in. Distinct
/// `(op, seq)` pairs give distinct keys within a checkout (the mixing is a bijection on the
/// bytes it touches, which the version and variant bits do not overlap); distinct checkouts
/// differ in the namespace's other 82 bits, which are HMAC output.
pub(crate) fn idempotency_uuid(namespace_hex: &str, op: u8, seq: u32) -> String {
    let mut b = [0u8; 16];
    for (byte, pair) in b.iter_mut().zip(namespace_hex.as_bytes().chunks_exact(2)) {
        *byte = (crate::wire::hex_value(pair[0]) << 4) | crate::wire::hex_value(pair[1]);
    }
    b[10] ^= op;
    for (byte, s) in b[11..15].iter_mut().zip(seq.to_be_bytes()) {
        *byte ^= s;
    }
    uuid_v8(&b)
}

/// The first 16 bytes as a UUID, version 8 (custom, RFC 9562): version and variant bits set.
pub(crate) fn uuid_v8(bytes: &[u8]) -> String {
    let mut b = [0u8; 16];
    for (to, from) in b.iter_mut().zip(bytes) {
        *to = *from;
    }
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut uuid = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            uuid.push('-');
        }
        uuid.push(char::from(DIGITS[usize::from(byte >> 4)]));
        uuid.push(char::from(DIGITS[usize::from(byte & 15)]));
    }
    uuid
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn derived_secrets_are_deterministic_and_per_checkout() {
        let seed = Seed::from("a-seed-of-at-least-16-bytes");
        let (s1, k1) = derive(&seed, "chk-1");
        let (s1b, k1b) = derive(&seed, "chk-1");
        let (s2, k2) = derive(&seed, "chk-2");
        assert_eq!((s1.expose(), k1.expose()), (s1b.expose(), k1b.expose()));
        assert_ne!(s1.expose(), s2.expose());
        assert_ne!(k1.expose(), k2.expose());
        assert_ne!(s1.expose(), k1.expose());
        assert_eq!(s1.expose().len(), 32);
        assert!(s1.expose().bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn idempotency_keys_are_uuids_distinct_per_operation_and_sequence() {
        let seed = Seed::from("a-seed-of-at-least-16-bytes");
        let (_, ns) = derive(&seed, "chk-1");
        let mut seen = HashSet::new();
        for op in 1..=7u8 {
            for seq in [0, 1, 2, 255, 256, 65_536, u32::MAX] {
                let key = idempotency_uuid(ns.expose(), op, seq);
                assert_eq!(key, idempotency_uuid(ns.expose(), op, seq));
                let parts: Vec<&str> = key.split('-').collect();
                assert_eq!(
                    parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
                    [8, 4, 4, 4, 12]
                );
                assert!(parts[2].starts_with('8'), "version 8: {key}");
                assert!(
                    matches!(&parts[3][..1], "8" | "9" | "a" | "b"),
                    "variant: {key}"
                );
                assert!(seen.insert(key), "duplicate key for op {op} seq {seq}");
            }
        }
        let (_, other) = derive(&seed, "chk-2");
        assert!(!seen.contains(&idempotency_uuid(other.expose(), 1, 0)));
    }
}
