//! The checkout's data and transitions. Everything here is plain data (serde) so a checkout can
//! be snapshotted at any step; `Checkout` in `mod.rs` is the public face.

use std::collections::VecDeque;
use std::time::Duration;

use http::{Method, Response};
use serde::{Deserialize, Serialize};

use super::config::{millis, CheckoutConfig, PollPolicy, RetryPolicy};
use super::digest;
use super::event::{ApiProblem, Call, CancelledBy, ConsumerLink, Deadline, Event, FailureReason};
use super::{
    derive, idempotency_uuid, invalid, place_order_mode, uuid_v8, CallbackOutcome, CommandError,
    Deadlines, InputError, RedirectKind, RequestId, State, TransportFailure,
    AUTHORIZATION_TOKEN_LIFETIME, HPP_BEFORE_KP, KP_SESSION_LIFETIME,
};
use crate::config::Api;
use crate::error::{ApiError, Error, ValidationError, ValidationProblem};
use crate::hpp::{self, DistributionRequest, HppStatus, MerchantUrls, Options, PlaceOrderMode};
use crate::kp::{self, CreateOrderRequest, OrderBody, SessionCreate};
use crate::om;
use crate::operation::Operation;
use crate::secret::{AuthorizationToken, Secret};
use crate::template::UrlTemplate;
use crate::time::Timestamp;
use crate::wire;

mod commands;
mod hints;
mod respond;
mod views;

pub(super) const FORMAT_VERSION: u32 = 1;
const SEEN_EVENTS: usize = 32;
/// The largest amount a valid order can have (every line at the largest line amount): what a
/// snapshot's amounts are checked against on restore.
const MAX_AMOUNT: i64 = crate::validate::MAX_ORDER_LINES as i64 * crate::validate::MAX_LINE_AMOUNT;
/// How long after a write is sent an order read is taken to show it, if it committed: the
/// checkout's one assumption about read lag (docs/lifecycle.md).
const READ_LAG: Duration = Duration::from_secs(3600);
/// How long Klarna honours a `Klarna-Idempotency-Key` after its first attempt.
const IDEMPOTENCY_WINDOW: Duration = Duration::from_secs(24 * 3600);
/// The most capture ids a checkout remembers.
const MAX_CAPTURE_IDS: usize = 1000;

#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Core {
    pub(super) v: u32,
    pub(super) id: String,
    secret: Secret,
    keys: Secret,
    /// How idempotency keys are made from `keys`. Absent in snapshots written before version 2
    /// of the scheme (they used an HMAC per key); those keep it, so a call in flight across the
    /// upgrade is retried with the key it was first sent with.
    #[serde(default)]
    key_scheme: KeyScheme,
    session: SessionCreate,
    pub(super) urls: MerchantUrls,
    options: Options,
    poll: PollPolicy,
    retry: RetryPolicy,
    #[serde(with = "millis")]
    margin: Duration,
    phase: Phase,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) kp: Option<KpInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) hpp: Option<HppInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) auth: Option<AuthInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) order: Option<OrderInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    place: Option<PlaceAttempt>,
    #[serde(default)]
    intents: Intents,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    inflight: Option<InFlight>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_at: Option<Pending>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    next_poll: Option<Timestamp>,
    #[serde(default)]
    polls: u32,
    /// Past the HPP deadline: the session is being disabled, then read, before the checkout
    /// gives up on it (a session left open could still be paid). Snapshots before this rule
    /// called it `final_read` (one last read, then expired).
    #[serde(
        default,
        alias = "final_read",
        skip_serializing_if = "std::ops::Not::not"
    )]
    closing: bool,
    /// Expired at the HPP deadline, then an authentic status callback arrived: one verifying
    /// read, which revives the checkout if it shows the consumer completed (money taken must
    /// surface).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    late_read: bool,
    /// When the last session read was sent: hints (redirects, callbacks) never make reads
    /// closer together than the poll policy's initial interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_read_at: Option<Timestamp>,
    next_id: u64,
    last_now: Timestamp,
    #[serde(default, skip_serializing_if = "VecDeque::is_empty")]
    seen: VecDeque<String>,
    #[serde(default, skip_serializing_if = "VecDeque::is_empty")]
    pub(super) events: VecDeque<Event>,
    /// The session's order as the place-order body, kept from the KP session request when
    /// that request's body is exactly it ([`OrderBody::is_session_body`]), so placing the
    /// order does not serialize the order lines again.
    #[serde(skip)]
    order_body: Memo<String>,
}

/// A value derived from the rest of the checkout, kept to spare recomputing it: not part of a
/// snapshot, of equality or of `Debug`; a restored checkout recomputes it when needed.
#[derive(Clone, Default)]
struct Memo<T>(Option<T>);

impl<T> PartialEq for Memo<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// Only what is safe to log: no URLs (the callback URL holds the secret), no customer data.
impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkout")
            .field("id", &self.id)
            .field("state", &self.state())
            .field("kp_session", &self.kp.as_ref().map(|k| &k.session_id))
            .field("hpp_session", &self.hpp.as_ref().map(|h| &h.session_id))
            .field(
                "hpp_status",
                &self.hpp.as_ref().and_then(|h| h.status.as_ref()),
            )
            .field("order", &self.order.as_ref().map(|o| &o.order_id))
            .field("in_flight", &self.inflight.as_ref().map(|f| f.spec.call()))
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Phase {
    CreatingKpSession,
    CreatingHppSession,
    AwaitingConsumer,
    Authorized,
    OrderPlaced,
    Cancelled(CancelledBy),
    Disabled,
    Expired(Deadline),
    Failed(FailureReason),
}

impl Phase {
    fn is_terminal(&self) -> bool {
        matches!(
            self,
            Phase::Cancelled(_) | Phase::Disabled | Phase::Expired(_) | Phase::Failed(_)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct KpInfo {
    pub(super) session_id: String,
    expires_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct HppInfo {
    pub(super) session_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    redirect_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    qr_code_url: Option<String>,
    /// Klarna's expiry (or KP − 1 h), before the margin.
    expires_at: Timestamp,
    /// The expiry Klarna stated for the session (creation or latest read), when it did: until
    /// then Klarna still holds the session, even past the checkout's own, more cautious bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stated_expiry: Option<Timestamp>,
    created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) status: Option<HppStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct AuthInfo {
    pub(super) token: AuthorizationToken,
    expires_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct OrderInfo {
    pub(super) order_id: String,
    authorized: i64,
    pub(super) captured: i64,
    pub(super) refunded: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<Timestamp>,
    #[serde(default)]
    authorization_expired: bool,
    /// Snapshots before the lag rule: captures whose outcome a replay's 4xx left unsettled,
    /// with nothing to replay them by. Reserved until the next order read (the old rule).
    #[serde(default, skip_serializing_if = "is_zero")]
    unsettled_captures: i64,
    /// The same for refunds.
    #[serde(default, skip_serializing_if = "is_zero")]
    unsettled_refunds: i64,
    /// Captures and refunds whose outcome a replay's 4xx left unknown (an earlier attempt may
    /// have committed): reserved, as if under way, until an order read shows them or, while
    /// their key is honoured, re-sent under that key (see `Core::settle_unsettled`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    unsettled: Vec<Unsettled>,
    /// The remaining authorization was released (the checkout's release answered 2xx): nothing
    /// more can be captured, whatever a lagging read says.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    released: bool,
    /// The order's captures the checkout knows of (from capture answers and order reads):
    /// the ones shipping information can be added to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) capture_ids: Vec<String>,
}

/// A capture or refund whose outcome is unknown and that Klarna refused to replay.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Unsettled {
    /// [`Call::Capture`] or [`Call::Refund`].
    call: Call,
    /// The call, with its sequence number (its key) and first attempt.
    money: Money,
    /// The order's captured (or refunded) total the checkout knew when it was refused: a read
    /// showing at least this plus the amount shows it committed.
    before: i64,
}

impl OrderInfo {
    /// A new order: `authorized`, of which `captured` is already captured (CAPTURE_ORDER).
    pub(super) fn new(order_id: String, authorized: i64, captured: i64) -> Self {
        Self {
            order_id,
            authorized,
            captured,
            refunded: 0,
            expires_at: None,
            authorization_expired: false,
            unsettled_captures: 0,
            unsettled_refunds: 0,
            unsettled: Vec::new(),
            released: false,
            capture_ids: Vec::new(),
        }
    }

    /// Remembers a capture id (bounded: a hostile answer cannot grow a snapshot without end).
    fn know_capture(&mut self, id: &str) {
        if !id.is_empty()
            && self.capture_ids.len() < MAX_CAPTURE_IDS
            && !self.capture_ids.iter().any(|c| c == id)
        {
            self.capture_ids.push(id.to_owned());
        }
    }

    /// Whether a capture or refund refused on a replay waits for a read to settle it.
    fn has_unsettled(&self) -> bool {
        self.unsettled_captures > 0 || self.unsettled_refunds > 0 || !self.unsettled.is_empty()
    }

    /// Captures (or refunds) reserved as unsettled.
    fn unsettled_amount(&self, call: Call) -> i64 {
        let legacy = match call {
            Call::Capture => self.unsettled_captures,
            _ => self.unsettled_refunds,
        };
        self.unsettled
            .iter()
            .filter(|u| u.call == call)
            .fold(legacy, |sum, u| sum.saturating_add(u.money.amount))
    }
}

impl HppInfo {
    /// When Klarna drops the session: what it stated, else the checkout's own bound.
    fn klarna_expiry(&self) -> Timestamp {
        self.stated_expiry.unwrap_or(self.expires_at)
    }

    /// Whether Klarna may still hold the session open at `now`.
    fn open_at_klarna(&self, now: Timestamp) -> bool {
        now < self.klarna_expiry()
    }
}

fn is_zero(amount: &i64) -> bool {
    *amount == 0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct PlaceAttempt {
    /// The exact body sent (and replayed byte for byte).
    body: String,
    amount: i64,
    /// An attempt's outcome was unknown: only the identical body may be sent again.
    ambiguous: bool,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
struct Intents {
    #[serde(default, skip_serializing_if = "VecDeque::is_empty")]
    distribute: VecDeque<DistributionRequest>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    disable: bool,
    /// The merchant asked to disable the session (as opposed to the checkout closing it at
    /// its deadline): the session ends `Disabled`, not `Expired`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    merchant_disable: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    place: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    cancel_authorization: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cancel_order: Option<u32>,
    #[serde(default, skip_serializing_if = "VecDeque::is_empty")]
    captures: VecDeque<Money>,
    #[serde(default, skip_serializing_if = "VecDeque::is_empty")]
    refunds: VecDeque<Money>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    read_order: bool,
    /// Order Management's other writes (release, extend, references, shipping info), in the
    /// order asked for; each sent after the owed read and the queued money calls.
    #[serde(default, skip_serializing_if = "VecDeque::is_empty")]
    writes: VecDeque<OrderWrite>,
    #[serde(default)]
    seq: u32,
}

/// One of Order Management's writes that moves no amount, with its sequence number (its
/// idempotency key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct OrderWrite {
    seq: u32,
    kind: WriteKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum WriteKind {
    /// `POST …/release-remaining-authorization`.
    Release,
    /// `POST …/extend-authorization-time`.
    Extend,
    /// `PATCH …/merchant-references`.
    References(om::MerchantReferences),
    /// `POST …/captures/{capture_id}/shipping-info`.
    ShippingInfo {
        capture_id: String,
        shipping_info: Vec<om::ShippingInfo>,
    },
}

impl WriteKind {
    fn call(&self) -> Call {
        match self {
            WriteKind::Release => Call::ReleaseRemainingAuthorization,
            WriteKind::Extend => Call::ExtendAuthorizationTime,
            WriteKind::References(_) => Call::UpdateMerchantReferences,
            WriteKind::ShippingInfo { .. } => Call::AddShippingInfo,
        }
    }

    fn op(&self) -> IdempotentOp {
        match self {
            WriteKind::Release => IdempotentOp::Release,
            WriteKind::Extend => IdempotentOp::Extend,
            WriteKind::References(_) => IdempotentOp::References,
            WriteKind::ShippingInfo { .. } => IdempotentOp::ShippingInfo,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Money {
    seq: u32,
    amount: i64,
    /// When it was first sent: Klarna honours its key for [`IDEMPOTENCY_WINDOW`] from its
    /// first attempt, which is no earlier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    since: Option<Timestamp>,
    /// When it was last sent: a read made [`READ_LAG`] later shows it if it committed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last: Option<Timestamp>,
    /// Re-sent under its key after its outcome was left unknown: a refusal keeps it unsettled.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    replay: bool,
}

impl Money {
    fn new(seq: u32, amount: i64) -> Self {
        Self {
            seq,
            amount,
            since: None,
            last: None,
            replay: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Spec {
    CreateKpSession,
    CreateHppSession,
    ReadHppSession,
    Distribute(DistributionRequest),
    Disable,
    PlaceOrder,
    CancelAuthorization,
    ReadOrder,
    Capture(Money),
    Refund(Money),
    CancelOrder(u32),
    Write(OrderWrite),
}

impl Spec {
    /// The amount of a capture (with [`Call::Capture`]) or a refund ([`Call::Refund`]).
    fn amount_of(&self, call: Call) -> i64 {
        match (call, self) {
            (Call::Capture, Spec::Capture(m)) | (Call::Refund, Spec::Refund(m)) => m.amount,
            _ => 0,
        }
    }

    fn call(&self) -> Call {
        match self {
            Spec::CreateKpSession => Call::CreateKpSession,
            Spec::CreateHppSession => Call::CreateHppSession,
            Spec::ReadHppSession => Call::ReadHppSession,
            Spec::Distribute(_) => Call::Distribute,
            Spec::Disable => Call::DisableHppSession,
            Spec::PlaceOrder => Call::PlaceOrder,
            Spec::CancelAuthorization => Call::CancelAuthorization,
            Spec::ReadOrder => Call::ReadOrder,
            Spec::Capture(_) => Call::Capture,
            Spec::Refund(_) => Call::Refund,
            Spec::CancelOrder(_) => Call::CancelOrder,
            Spec::Write(w) => w.kind.call(),
        }
    }

    /// An OM write with an idempotency key: replayed under that key while its outcome is
    /// unknown, and never given up on (a new key could execute it twice).
    fn is_keyed_write(&self) -> bool {
        matches!(
            self,
            Spec::Capture(_) | Spec::Refund(_) | Spec::CancelOrder(_) | Spec::Write(_)
        )
    }

    /// Calls that move money: never given up on while their outcome may still matter.
    fn moves_money(&self) -> bool {
        matches!(
            self,
            Spec::PlaceOrder | Spec::Capture(_) | Spec::Refund(_) | Spec::CancelOrder(_)
        )
    }

    fn is_read(&self) -> bool {
        matches!(self, Spec::ReadHppSession | Spec::ReadOrder)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct InFlight {
    id: u64,
    spec: Spec,
    /// Attempts made before this one.
    attempt: u32,
    taken: bool,
    sent_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Pending {
    spec: Spec,
    attempt: u32,
    at: Timestamp,
}

impl Core {
    pub(super) fn new(config: CheckoutConfig, now: Timestamp) -> Result<Self, Error> {
        let CheckoutConfig {
            checkout_id,
            seed,
            session,
            mut merchant_urls,
            options,
            poll,
            retry,
            safety_margin,
        } = config;
        if checkout_id.is_empty()
            || checkout_id.len() > 64
            || !checkout_id.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(invalid(
                "checkout_id",
                ValidationProblem::Pattern {
                    expected: "1..=64 printable ASCII characters",
                },
            ));
        }
        if seed.len() < 16 {
            return Err(invalid(
                "seed",
                ValidationProblem::Pattern {
                    expected: "at least 16 bytes",
                },
            ));
        }
        let (secret, keys) = derive(&seed, &checkout_id);
        if let Some(url) = merchant_urls.status_update.as_mut() {
            let secret = secret.expose();
            url.reserve(40 + secret.len());
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str("sid={{session_id}}&kh_secret=");
            url.push_str(secret);
        }
        // Validate everything that will be sent, now, so no later request can be refused by us;
        // the requests are then built from the validated parts without checking them again.
        validate_inputs(&session, &merchant_urls, &options)?;
        Ok(Self {
            v: FORMAT_VERSION,
            id: checkout_id,
            secret,
            keys,
            key_scheme: KeyScheme::Order,
            session,
            urls: merchant_urls,
            options,
            poll,
            retry,
            margin: safety_margin,
            phase: Phase::CreatingKpSession,
            kp: None,
            hpp: None,
            auth: None,
            order: None,
            place: None,
            intents: Intents::default(),
            inflight: None,
            retry_at: None,
            next_poll: None,
            polls: 0,
            closing: false,
            late_read: false,
            last_read_at: None,
            next_id: 0,
            last_now: now,
            seen: VecDeque::new(),
            events: VecDeque::new(),
            order_body: Memo::default(),
        })
    }

    /// Time never runs backwards for the checkout.
    pub(super) fn clock(&mut self, now: Timestamp) -> Timestamp {
        if now > self.last_now {
            self.last_now = now;
        }
        self.last_now
    }

    pub(super) fn state(&self) -> State {
        match &self.phase {
            Phase::CreatingKpSession => State::CreatingKpSession,
            Phase::CreatingHppSession => State::CreatingHppSession,
            Phase::AwaitingConsumer => State::AwaitingConsumer,
            Phase::Authorized if self.place.is_some() => State::PlacingOrder,
            Phase::Authorized => State::Authorized,
            Phase::OrderPlaced => match &self.order {
                // Everything authorized captured, or the rest released.
                Some(o) if o.captured > 0 && (o.captured >= o.authorized || o.released) => {
                    State::Captured
                }
                _ => State::OrderPlaced,
            },
            Phase::Cancelled(_) => State::Cancelled,
            Phase::Disabled => State::Disabled,
            Phase::Expired(_) => State::Expired,
            Phase::Failed(_) => State::Failed,
        }
    }

    pub(super) fn failure(&self) -> Option<&FailureReason> {
        match &self.phase {
            Phase::Failed(r) => Some(r),
            _ => None,
        }
    }

    pub(super) fn expired(&self) -> Option<Deadline> {
        match &self.phase {
            Phase::Expired(d) => Some(*d),
            _ => None,
        }
    }

    pub(super) fn consumer_link(&self) -> Option<ConsumerLink> {
        let h = self.hpp.as_ref()?;
        Some(ConsumerLink {
            session_id: h.session_id.clone(),
            redirect_url: h.redirect_url.clone(),
            qr_code_url: h.qr_code_url.clone(),
            expires_at: self.hpp_deadline().unwrap_or(h.expires_at),
        })
    }

    // ----- deadlines -----

    fn kp_deadline(&self) -> Option<Timestamp> {
        self.kp
            .as_ref()
            .map(|k| k.expires_at.saturating_sub(self.margin))
    }

    /// The HPP deadline including the margin; by construction ≤ KP deadline − 1 h.
    fn hpp_deadline(&self) -> Option<Timestamp> {
        let h = self.hpp.as_ref()?;
        let mut at = h.expires_at;
        if let Some(kp) = &self.kp {
            at = at.min(kp.expires_at.saturating_sub(HPP_BEFORE_KP));
        }
        Some(at.saturating_sub(self.margin))
    }

    /// When Klarna drops the HPP session (see [`HppInfo::klarna_expiry`]).
    fn klarna_expiry(&self) -> Option<Timestamp> {
        self.hpp.as_ref().map(HppInfo::klarna_expiry)
    }

    fn token_deadline(&self) -> Option<Timestamp> {
        self.auth
            .as_ref()
            .map(|a| a.expires_at.saturating_sub(self.margin))
    }

    fn order_deadline(&self) -> Option<Timestamp> {
        self.order
            .as_ref()?
            .expires_at
            .map(|t| t.saturating_sub(self.margin))
    }

    pub(super) fn deadlines(&self) -> Deadlines {
        Deadlines {
            kp_session: self.kp_deadline(),
            hpp_session: self.hpp_deadline(),
            authorization_token: self.token_deadline(),
            order_authorization: self.order_deadline(),
        }
    }

    pub(super) fn capturable(&self) -> i64 {
        if self.order.as_ref().is_none_or(|o| o.authorization_expired) || self.releasing() {
            return 0;
        }
        self.left(Call::Capture)
    }

    fn refundable(&self) -> i64 {
        self.left(Call::Refund)
    }

    /// What may still be asked for: the room the order leaves, less what is queued.
    fn left(&self, call: Call) -> i64 {
        let queued = self.queue(call).iter().map(|m| m.amount);
        queued
            .fold(self.room(call), |left, amount| left.saturating_sub(amount))
            .max(0)
    }

    /// What the order leaves for captures (authorized − captured) or refunds (captured −
    /// refunded), less what is under way. Amounts come from Klarna's answers: saturating, so
    /// no answer can overflow them.
    fn room(&self, call: Call) -> i64 {
        let Some(o) = &self.order else { return 0 };
        let (total, done) = match call {
            // Released: what is captured is all there will be.
            Call::Capture if o.released => (o.captured, o.captured),
            Call::Capture => (o.authorized, o.captured),
            _ => (o.captured, o.refunded),
        };
        total
            .saturating_sub(done)
            .saturating_sub(self.under_way(call))
    }

    /// Captures (or refunds) under way: in flight, waiting to be replayed, or unsettled.
    fn under_way(&self, call: Call) -> i64 {
        let sent = self.inflight.as_ref().map_or(0, |f| f.spec.amount_of(call));
        let replayed = self.retry_at.as_ref().map_or(0, |p| p.spec.amount_of(call));
        let unsettled = self.order.as_ref().map_or(0, |o| o.unsettled_amount(call));
        sent.saturating_add(replayed).saturating_add(unsettled)
    }

    /// Whether the remaining authorization is released, or a release is asked for (queued, in
    /// flight or waiting to be replayed): no capture may be asked for on top of it.
    pub(super) fn releasing(&self) -> bool {
        let is_release = |s: &Spec| matches!(s, Spec::Write(w) if w.kind == WriteKind::Release);
        self.order.as_ref().is_some_and(|o| o.released)
            || self.inflight.as_ref().is_some_and(|f| is_release(&f.spec))
            || self.retry_at.as_ref().is_some_and(|p| is_release(&p.spec))
            || self
                .intents
                .writes
                .iter()
                .any(|w| w.kind == WriteKind::Release)
    }

    /// Whether a capture is counted, under way or queued.
    pub(super) fn captured_or_capturing(&self) -> bool {
        self.order.as_ref().is_some_and(|o| o.captured > 0)
            || self.under_way(Call::Capture) > 0
            || !self.intents.captures.is_empty()
    }

    fn queue(&self, call: Call) -> &VecDeque<Money> {
        match call {
            Call::Capture => &self.intents.captures,
            _ => &self.intents.refunds,
        }
    }

    /// Drops the queued captures and refunds that no longer fit in what the latest order read
    /// left (oldest kept first), each with [`Event::Withdrawn`]. A call already sent, or
    /// waiting to be replayed, keeps its place: its outcome may be committed.
    pub(super) fn withdraw_what_no_longer_fits(&mut self) {
        self.withdraw_beyond(Call::Capture);
        self.withdraw_beyond(Call::Refund);
    }

    /// Keeps the queued captures (or refunds) that fit in the order's room, oldest first; each
    /// one withdrawn is reported with what is left after those kept.
    fn withdraw_beyond(&mut self, call: Call) {
        let mut left = self.room(call);
        let queue = match call {
            Call::Capture => &mut self.intents.captures,
            _ => &mut self.intents.refunds,
        };
        let mut withdrawn = Vec::new();
        queue.retain(|m| {
            let fits = m.amount <= left;
            if fits {
                left = left.saturating_sub(m.amount);
            } else {
                withdrawn.push(m.amount);
            }
            fits
        });
        // What the merchant may still ask for once the kept ones are sent.
        let remaining = left.max(0);
        for amount in withdrawn {
            self.emit(Event::Withdrawn {
                call,
                amount,
                remaining,
            });
        }
    }

    /// Whether a write waits for an order read: an unsettled call, or queued writes.
    pub(super) fn money_waits_for_a_read(&self) -> bool {
        let i = &self.intents;
        self.order.as_ref().is_some_and(OrderInfo::has_unsettled)
            || !i.captures.is_empty()
            || !i.refunds.is_empty()
            || i.cancel_order.is_some()
            || !i.writes.is_empty()
    }

    /// When an unsettled capture or refund, past re-sending under its key, is to be read
    /// about again: [`READ_LAG`] after it was last sent, when a read shows it if it committed.
    fn settle_read_at(&self) -> Option<Timestamp> {
        let o = self.order.as_ref()?;
        o.unsettled
            .iter()
            .filter_map(|u| u.money.last.map(|t| t.saturating_add(READ_LAG)))
            .min()
    }

    fn money_in_flight(&self) -> bool {
        let i = &self.intents;
        self.inflight.as_ref().is_some_and(|f| f.spec.moves_money())
            || self.retry_at.as_ref().is_some_and(|p| p.spec.moves_money())
            || self.order.as_ref().is_some_and(OrderInfo::has_unsettled)
            || i.captures.iter().chain(&i.refunds).any(|m| m.replay)
    }

    pub(super) fn poll_timeout(&self) -> Option<Timestamp> {
        if self.phase.is_terminal() {
            // A late read waiting out a retry is the only thing a terminal checkout does.
            return self
                .retry_at
                .as_ref()
                .filter(|_| self.late_read && self.inflight.is_none())
                .map(|p| p.at);
        }
        let mut next: Option<Timestamp> = None;
        let mut consider = |t: Option<Timestamp>| {
            if let Some(t) = t {
                next = Some(next.map_or(t, |n| n.min(t)));
            }
        };
        if self.inflight.is_none() {
            consider(self.retry_at.as_ref().map(|p| p.at));
            if self.phase == Phase::AwaitingConsumer {
                consider(self.next_poll);
            }
        }
        match &self.phase {
            Phase::AwaitingConsumer if !self.closing => consider(self.hpp_deadline()),
            Phase::AwaitingConsumer => consider(self.klarna_expiry()),
            Phase::Authorized => consider(self.token_deadline()),
            Phase::OrderPlaced if !self.order.as_ref().is_some_and(|o| o.authorization_expired) => {
                consider(self.order_deadline());
                consider(self.settle_read_at().filter(|_| self.inflight.is_none()));
            }
            Phase::OrderPlaced => {
                consider(self.settle_read_at().filter(|_| self.inflight.is_none()))
            }
            _ => {}
        }
        next
    }

    // ----- driving -----

    fn emit(&mut self, event: Event) {
        self.events.push_back(event);
    }

    fn enter(&mut self, phase: Phase) {
        let event = match &phase {
            Phase::Cancelled(by) => Some(Event::Cancelled { by: *by }),
            Phase::Disabled => Some(Event::Disabled),
            Phase::Expired(d) => Some(Event::Expired { deadline: *d }),
            Phase::Failed(r) => Some(Event::Failed { reason: r.clone() }),
            _ => None,
        };
        self.phase = phase;
        if self.phase.is_terminal() {
            self.order_body = Memo::default();
            self.retry_at = None;
            self.next_poll = None;
            self.intents = Intents {
                seq: self.intents.seq,
                ..Intents::default()
            };
        }
        if let Some(e) = event {
            self.emit(e);
        }
    }

    /// Closes the door before walking away: a session left open could still be paid until
    /// Klarna drops it. Disables it, then reads to learn whether the consumer completed first
    /// ("already completed" answers lead to the read too).
    pub(super) fn start_closing(&mut self) {
        self.closing = true;
        if !self.intents.merchant_disable {
            self.intents.disable = true;
        }
        self.intents.distribute.clear();
        self.next_poll = None;
        if self.retry_at.as_ref().is_some_and(|p| p.spec.is_read()) {
            self.retry_at = None;
        }
    }

    fn enforce_deadlines(&mut self, now: Timestamp) {
        match self.phase {
            Phase::CreatingHppSession => {
                // An HPP session created now would already be past its KP session − 1 h.
                let too_late = self.kp_deadline().map(|d| d.saturating_sub(HPP_BEFORE_KP));
                if too_late.is_some_and(|d| now >= d) && self.inflight.is_none() {
                    self.enter(Phase::Expired(Deadline::HppSession));
                }
            }
            Phase::AwaitingConsumer => {
                let Some(deadline) = self.hpp_deadline() else {
                    return;
                };
                if now < deadline {
                    return;
                }
                let klarna_expiry = self.klarna_expiry().unwrap_or(deadline);
                if self.closing || now >= klarna_expiry {
                    // Once Klarna has dropped the session (a read or a disable would find
                    // nothing), give up, unless an answer is still on its way.
                    if now >= klarna_expiry && self.inflight.is_none() {
                        self.enter(Phase::Expired(Deadline::HppSession));
                    }
                    return;
                }
                self.start_closing();
            }
            Phase::Authorized => {
                let Some(deadline) = self.token_deadline() else {
                    return;
                };
                if now < deadline || self.inflight.is_some() {
                    return;
                }
                if self.place.as_ref().is_some_and(|p| p.ambiguous) {
                    self.enter(Phase::Failed(FailureReason::OrderOutcomeUnknown));
                } else {
                    self.enter(Phase::Expired(Deadline::AuthorizationToken));
                }
            }
            Phase::OrderPlaced => {
                let Some(deadline) = self.order_deadline() else {
                    return;
                };
                let expired = self.order.as_ref().is_some_and(|o| o.authorization_expired);
                if expired {
                    // Past the deadline, kept alive only while a capture might have committed:
                    // once a read settled it as nothing captured, the checkout has expired.
                    let captured = self.order.as_ref().map_or(0, |o| o.captured);
                    if captured == 0 && !self.money_in_flight() {
                        self.enter(Phase::Expired(Deadline::OrderAuthorization));
                    }
                    return;
                }
                // A capture, or an extension of the deadline itself, under way keeps its
                // chance to be confirmed (the extension's read then moves the deadline).
                let pending = |s: &Spec| {
                    matches!(s, Spec::Capture(_))
                        || matches!(s, Spec::Write(w) if w.kind == WriteKind::Extend)
                };
                if now < deadline || self.inflight.as_ref().is_some_and(|f| pending(&f.spec)) {
                    return;
                }
                if self.retry_at.as_ref().is_some_and(|p| pending(&p.spec)) {
                    return; // an unresolved capture keeps its chance to be confirmed
                }
                // Extensions not yet sent come too late.
                self.intents.writes.retain(|w| w.kind != WriteKind::Extend);
                // New captures cannot be made any more; a capture re-sent under its key to
                // settle an unknown outcome keeps its place (it asks what happened).
                self.intents.captures.retain(|m| m.replay);
                let captured = if let Some(o) = self.order.as_mut() {
                    o.authorization_expired = true;
                    o.captured
                } else {
                    0
                };
                if captured == 0 && !self.money_in_flight() {
                    self.enter(Phase::Expired(Deadline::OrderAuthorization));
                } else {
                    self.emit(Event::Expired {
                        deadline: Deadline::OrderAuthorization,
                    });
                }
            }
            _ => {}
        }
    }

    pub(super) fn drive(&mut self, now: Timestamp) {
        self.enforce_deadlines(now);
        if self.inflight.is_some() {
            return;
        }
        if self.phase.is_terminal() {
            // Terminal states absorb everything but the late read (see `late_read`), which
            // is given up once Klarna itself has dropped the session.
            if self.late_read && !self.hpp.as_ref().is_some_and(|h| h.open_at_klarna(now)) {
                self.late_read = false;
                self.retry_at = None;
            }
            if self.late_read {
                match &self.retry_at {
                    Some(p) if p.at > now => {}
                    _ => {
                        let attempt = self.retry_at.take().map_or(0, |p| p.attempt);
                        self.issue(Spec::ReadHppSession, attempt, now);
                    }
                }
            }
            return;
        }
        if let Some(p) = &self.retry_at {
            // A pending session read may be overtaken by a merchant command; writes keep their
            // turn, and so does an order read: money moves only on what the order shows.
            if p.spec == Spec::ReadHppSession && self.has_command_intent() {
                self.retry_at = None;
            } else if p.at <= now {
                if let Some(p) = self.retry_at.take() {
                    self.issue(p.spec, p.attempt, now);
                }
                return;
            } else {
                return;
            }
        }
        if let Some(spec) = self.next_spec(now) {
            self.issue(spec, 0, now);
        }
    }

    fn has_command_intent(&self) -> bool {
        let i = &self.intents;
        i.disable
            || i.place
            || i.cancel_authorization
            || i.cancel_order.is_some()
            || !i.distribute.is_empty()
            || !i.captures.is_empty()
            || !i.refunds.is_empty()
            || !i.writes.is_empty()
    }

    fn next_spec(&mut self, now: Timestamp) -> Option<Spec> {
        match self.phase {
            Phase::CreatingKpSession => Some(Spec::CreateKpSession),
            Phase::CreatingHppSession => Some(Spec::CreateHppSession),
            Phase::AwaitingConsumer => {
                if std::mem::take(&mut self.intents.disable) {
                    return Some(Spec::Disable);
                }
                if let Some(d) = self.intents.distribute.pop_front() {
                    return Some(Spec::Distribute(d));
                }
                match self.next_poll {
                    Some(at) if at <= now => {
                        self.next_poll = None;
                        Some(Spec::ReadHppSession)
                    }
                    _ => None,
                }
            }
            Phase::Authorized => {
                if std::mem::take(&mut self.intents.cancel_authorization) {
                    return Some(Spec::CancelAuthorization);
                }
                if std::mem::take(&mut self.intents.place) {
                    return Some(Spec::PlaceOrder);
                }
                None
            }
            Phase::OrderPlaced => {
                // An owed order read (after placement, or after a capture, refund or cancel
                // was refused, whose outcome a replay's 4xx does not settle) goes first: the
                // queued writes are checked against its answer before any is sent.
                if std::mem::take(&mut self.intents.read_order) {
                    return Some(Spec::ReadOrder);
                }
                if let Some(seq) = self.intents.cancel_order.take() {
                    return Some(Spec::CancelOrder(seq));
                }
                if let Some(m) = self.intents.captures.pop_front() {
                    return Some(Spec::Capture(m));
                }
                if let Some(m) = self.intents.refunds.pop_front() {
                    return Some(Spec::Refund(m));
                }
                if let Some(w) = self.intents.writes.pop_front() {
                    return Some(Spec::Write(w));
                }
                if self.settle_read_at().is_some_and(|at| at <= now) {
                    return Some(Spec::ReadOrder);
                }
                None
            }
            _ => None,
        }
    }

    fn issue(&mut self, mut spec: Spec, attempt: u32, now: Timestamp) {
        match &mut spec {
            Spec::ReadHppSession => self.last_read_at = Some(now),
            Spec::Capture(m) | Spec::Refund(m) => {
                m.since.get_or_insert(now);
                m.last = Some(now);
            }
            _ => {}
        }
        let id = self.next_id;
        self.next_id = self.next_id.saturating_add(1);
        self.inflight = Some(InFlight {
            id,
            spec,
            attempt,
            taken: false,
            sent_at: now,
        });
    }

    pub(super) fn build_next(&mut self, api: &Api) -> Option<(RequestId, http::Request<Vec<u8>>)> {
        let f = self.inflight.as_ref().filter(|f| !f.taken)?;
        let id = RequestId(f.id);
        let creates_kp_session = matches!(f.spec, Spec::CreateKpSession);
        match self.build(api, &f.spec) {
            Ok(req) => {
                // Only NONE places the order itself (HPP does under the other modes).
                if creates_kp_session
                    && place_order_mode(&self.options) == PlaceOrderMode::None
                    && OrderBody::is_session_body(&self.session)
                {
                    self.order_body.0 = String::from_utf8(req.body().clone()).ok();
                }
                Some((id, req))
            }
            Err(_) => {
                // Every input was validated when it was accepted; this is unreachable in
                // practice, but a checkout must never panic: fail the call visibly.
                let call = f.spec.call();
                self.inflight = None;
                self.enter(Phase::Failed(FailureReason::RetriesExhausted(call)));
                None
            }
        }
    }

    pub(super) fn rebuild_unsent(
        &mut self,
        api: &Api,
    ) -> Option<(RequestId, http::Request<Vec<u8>>)> {
        self.build_next(api)
    }

    pub(super) fn mark_taken(&mut self, id: RequestId) {
        if let Some(f) = self.inflight.as_mut().filter(|f| f.id == id.0) {
            f.taken = true;
        }
    }

    pub(super) fn taken_in_flight(&self) -> Option<RequestId> {
        self.inflight
            .as_ref()
            .filter(|f| f.taken)
            .map(|f| RequestId(f.id))
    }

    fn idempotency_key(
        &self,
        op: IdempotentOp,
        seq: u32,
        order_id: &str,
    ) -> Result<om::IdempotencyKey, Error> {
        let key = match self.key_scheme {
            KeyScheme::Order => {
                let mut message = String::with_capacity(24 + order_id.len());
                message.push_str("order/");
                message.push_str(order_id);
                message.push('/');
                message.push(char::from(b'0' + op as u8));
                message.push('/');
                message.push_str(&seq.to_string());
                uuid_v8(&digest::hmac_sha256(
                    self.keys.expose().as_bytes(),
                    message.as_bytes(),
                ))
            }
            KeyScheme::Mixed => idempotency_uuid(self.keys.expose(), op as u8, seq),
            KeyScheme::Hmac => {
                let name = match op {
                    IdempotentOp::Capture => "capture",
                    IdempotentOp::Refund => "refund",
                    IdempotentOp::CancelOrder => "cancel",
                    IdempotentOp::Release => "release",
                    IdempotentOp::Extend => "extend",
                    IdempotentOp::References => "references",
                    IdempotentOp::ShippingInfo => "shipping-info",
                };
                let mac = digest::hmac_sha256(
                    self.keys.expose().as_bytes(),
                    format!("{name}/{seq}").as_bytes(),
                );
                uuid_v8(&mac)
            }
        };
        Ok(om::IdempotencyKey::new(key)?)
    }

    /// Re-checks what a snapshot carries that will be sent (a snapshot is data from outside):
    /// the inputs, and the idempotency namespace (32 hex digits, as derived).
    pub(super) fn validate_restored(&self) -> Result<(), Error> {
        let keys = self.keys.expose();
        if keys.len() != 32 || !keys.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid(
                "keys",
                ValidationProblem::Pattern {
                    expected: "32 hex digits",
                },
            ));
        }
        // Amounts a snapshot carries were checked when they were made; a tampered one must
        // not make more capturable (or refundable) than was authorized.
        let amount = |a: i64| (0..=MAX_AMOUNT).contains(&a);
        let amounts_valid = self.order.as_ref().is_none_or(|o| {
            amount(o.authorized)
                && amount(o.captured)
                && amount(o.refunded)
                && o.refunded <= o.captured
                && amount(o.unsettled_captures)
                && amount(o.unsettled_refunds)
                && o.unsettled.iter().all(|u| {
                    matches!(u.call, Call::Capture | Call::Refund)
                        && u.money.amount > 0
                        && amount(u.money.amount)
                        && amount(u.before)
                })
        }) && self
            .intents
            .captures
            .iter()
            .chain(&self.intents.refunds)
            .all(|m| m.amount > 0 && amount(m.amount));
        if !amounts_valid {
            return Err(invalid(
                "order",
                ValidationProblem::Pattern {
                    expected: "amounts from 0 to the largest valid order, refunds within captures",
                },
            ));
        }
        for w in &self.intents.writes {
            match &w.kind {
                WriteKind::References(r) => r.validate()?,
                WriteKind::ShippingInfo {
                    capture_id,
                    shipping_info,
                } => {
                    if capture_id.is_empty() {
                        return Err(invalid("capture_id", ValidationProblem::Empty));
                    }
                    om::ShippingInfoUpdate::new(shipping_info.clone()).validate()?;
                }
                WriteKind::Release | WriteKind::Extend => {}
            }
        }
        validate_inputs(&self.session, &self.urls, &self.options)
    }

    /// The HPP session request, hosting the KP session, with the checkout's URLs and options.
    fn hpp_request(&self, api: &Api) -> Result<http::Request<Vec<u8>>, Error> {
        let kp_id = self
            .kp
            .as_ref()
            .map(|k| k.session_id.as_str())
            .unwrap_or_default();
        let path = wire::Path::new("/payments/v1/sessions").id("session_id", kp_id)?;
        let payment_session_url = api.base_url().url(&path);
        let body = hpp::SessionCreationBody {
            payment_session_url: &payment_session_url,
            merchant_urls: Some(&self.urls),
            options: Some(&self.options),
            profile_id: None,
        };
        hpp::CreateSession::request_for_valid(api, &body)
    }

    fn build(&self, api: &Api, spec: &Spec) -> Result<http::Request<Vec<u8>>, Error> {
        let order_id = || -> Result<String, Error> {
            self.order
                .as_ref()
                .map(|o| o.order_id.clone())
                .ok_or_else(|| invalid("order_id", ValidationProblem::Missing))
        };
        let hpp_id = || -> Result<String, Error> {
            self.hpp
                .as_ref()
                .map(|h| h.session_id.clone())
                .ok_or_else(|| invalid("session_id", ValidationProblem::Missing))
        };
        match spec {
            Spec::CreateKpSession => kp::CreateSession::request_for_valid(api, &self.session),
            Spec::CreateHppSession => self.hpp_request(api),
            Spec::ReadHppSession => hpp::ReadSession::new(hpp_id()?).to_request(api),
            Spec::Distribute(d) => hpp::Distribute::new(hpp_id()?, d.clone()).to_request(api),
            Spec::Disable => hpp::DisableSession::new(hpp_id()?).to_request(api),
            Spec::PlaceOrder => {
                let (Some(auth), Some(place)) = (&self.auth, &self.place) else {
                    return Err(invalid("authorization_token", ValidationProblem::Missing));
                };
                let path = wire::Path::new("/payments/v1/authorizations")
                    .id("authorization_token", auth.token.expose())?
                    .then("/order");
                wire::request(
                    api,
                    Method::POST,
                    &path,
                    Some(place.body.clone().into_bytes()),
                    None,
                )
            }
            Spec::CancelAuthorization => {
                let auth = self
                    .auth
                    .as_ref()
                    .ok_or_else(|| invalid("authorization_token", ValidationProblem::Missing))?;
                kp::CancelAuthorization::new(auth.token.clone()).to_request(api)
            }
            Spec::ReadOrder => om::GetOrder::new(order_id()?).to_request(api),
            Spec::Capture(m) => {
                let order_id = order_id()?;
                let key = self.idempotency_key(IdempotentOp::Capture, m.seq, &order_id)?;
                om::CreateCapture::new(order_id, om::CaptureRequest::new(m.amount), Some(key))
                    .to_request(api)
            }
            Spec::Refund(m) => {
                let order_id = order_id()?;
                let key = self.idempotency_key(IdempotentOp::Refund, m.seq, &order_id)?;
                om::CreateRefund::new(order_id, om::RefundRequest::new(m.amount), Some(key))
                    .to_request(api)
            }
            Spec::CancelOrder(seq) => {
                let order_id = order_id()?;
                let key = self.idempotency_key(IdempotentOp::CancelOrder, *seq, &order_id)?;
                om::CancelOrder::new(order_id, Some(key)).to_request(api)
            }
            Spec::Write(w) => {
                let order_id = order_id()?;
                let key = Some(self.idempotency_key(w.kind.op(), w.seq, &order_id)?);
                write_request(api, order_id, &w.kind, key)
            }
        }
    }
}

/// How a checkout turns its namespace into idempotency keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
enum KeyScheme {
    /// Before scheme 2: `UUIDv8(HMAC-SHA-256(namespace, "<call>/<seq>"))`. Only restored
    /// snapshots use it.
    #[default]
    #[serde(rename = "1")]
    Hmac,
    /// [`idempotency_uuid`]: the namespace with the call and sequence mixed in. Only
    /// restored snapshots use it.
    #[serde(rename = "2")]
    Mixed,
    /// `UUIDv8(HMAC-SHA-256(namespace, "order/<order id>/<op>/<seq>"))`: bound to the order,
    /// so a checkout id reused by mistake (same seed, same namespace) can never replay the
    /// first purchase's captures, refunds or cancels against another order's keys.
    #[serde(rename = "3")]
    Order,
}

/// The OM writes that carry an idempotency key; the discriminant is mixed into the key.
#[derive(Clone, Copy)]
#[repr(u8)]
enum IdempotentOp {
    Capture = 1,
    Refund = 2,
    CancelOrder = 3,
    Release = 4,
    Extend = 5,
    References = 6,
    ShippingInfo = 7,
}

/// The request of an OM write (validated when asked for, and again on restore).
fn write_request(
    api: &Api,
    order_id: String,
    kind: &WriteKind,
    key: Option<om::IdempotencyKey>,
) -> Result<http::Request<Vec<u8>>, Error> {
    match kind {
        WriteKind::Release => om::ReleaseRemainingAuthorization::new(order_id, key).to_request(api),
        WriteKind::Extend => om::ExtendAuthorizationTime::new(order_id, key).to_request(api),
        WriteKind::References(r) => {
            om::UpdateMerchantReferences::new(order_id, r.clone(), key).to_request(api)
        }
        WriteKind::ShippingInfo {
            capture_id,
            shipping_info,
        } => om::AddCaptureShippingInfo::new(
            order_id,
            capture_id.clone(),
            shipping_info.clone(),
            key,
        )
        .to_request(api),
    }
}

/// Everything a checkout will send, checked once: the KP session (which the place-order body is
/// derived from), the HPP merchant URLs and options.
fn validate_inputs(
    session: &SessionCreate,
    urls: &MerchantUrls,
    options: &Options,
) -> Result<(), Error> {
    session.validate()?;
    // The HPP body's other field, `payment_session_url`, is built from the API's base URL
    // (validated when the `Api` was made) and a percent-encoded session id.
    urls.validate(&place_order_mode(options))?;
    options.validate()?;
    Ok(())
}

fn call_name(spec: &Spec) -> &'static str {
    match spec {
        Spec::CreateKpSession => kp::CreateSession::NAME,
        Spec::CreateHppSession => hpp::CreateSession::NAME,
        Spec::ReadHppSession => hpp::ReadSession::NAME,
        Spec::Distribute(_) => hpp::Distribute::NAME,
        Spec::Disable => hpp::DisableSession::NAME,
        Spec::PlaceOrder => kp::CreateOrder::NAME,
        Spec::CancelAuthorization => kp::CancelAuthorization::NAME,
        Spec::ReadOrder => om::GetOrder::NAME,
        Spec::Capture(_) => om::CreateCapture::NAME,
        Spec::Refund(_) => om::CreateRefund::NAME,
        Spec::CancelOrder(_) => om::CancelOrder::NAME,
        Spec::Write(w) => match w.kind {
            WriteKind::Release => om::ReleaseRemainingAuthorization::NAME,
            WriteKind::Extend => om::ExtendAuthorizationTime::NAME,
            WriteKind::References(_) => om::UpdateMerchantReferences::NAME,
            WriteKind::ShippingInfo { .. } => om::AddCaptureShippingInfo::NAME,
        },
    }
}

/// Up to 20% of `delay`, derived from the checkout's key namespace and the request id.
fn jitter(ns: &str, id: u64, delay: Duration) -> Duration {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in ns.bytes().chain(id.to_le_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    delay.mul_f64((h % 200) as f64 / 1000.0)
}
