//! The merchant's API and the step loop shared with the worker: load → apply → drive → persist.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use klarna_hpp_async::{AsyncClock, AsyncTransport, TokioClock};
use klarna_hpp_core::checkout::{
    Checkout, CheckoutConfig, CommandError, ConsumerLink, Deadlines, Event, FailureReason,
    InputError, SnapshotError, State,
};
use klarna_hpp_core::hpp::{DistributionRequest, HppStatus};
use klarna_hpp_core::kp::CreateOrderRequest;
use klarna_hpp_core::om::{MerchantReferences, ShippingInfo};
use klarna_hpp_core::transport::TransportError;
use klarna_hpp_core::{Api, Timestamp};
use tracing::Instrument;

use crate::store::{CheckoutStore, Claimed, HintKind, Lease, Save, StoreError};
use crate::telemetry;

/// How the runtime drives checkouts.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RuntimeConfig {
    /// The longest one Klarna call may take; the runtime abandons it after this (an unknown
    /// outcome, resolved exactly-once). Default 30 s.
    pub request_timeout: Duration,
    /// Added to the request timeout to make the lease duration (at least 1 s). Default 15 s.
    pub lease_margin: Duration,
    /// Place the order as soon as the consumer authorizes (mode NONE). Default on: the token
    /// lives 60 minutes.
    pub place_order_on_authorization: bool,
    /// Capture the whole order as soon as it is placed (digital goods). Default off.
    pub capture_on_order: bool,
    /// How long a web handler waits for a lease another instance holds, and how long
    /// [`Runtime::start`] waits through retries for the consumer link, before answering.
    /// Default 5 s.
    pub handler_wait: Duration,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            lease_margin: Duration::from_secs(15),
            place_order_on_authorization: true,
            capture_on_order: false,
            handler_wait: Duration::from_secs(5),
        }
    }
}

impl RuntimeConfig {
    /// Sets the request timeout (the lease follows it).
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets the lease margin (at least 1 s).
    #[must_use]
    pub fn lease_margin(mut self, margin: Duration) -> Self {
        self.lease_margin = margin;
        self
    }

    /// Sets the place-order-on-authorization policy.
    #[must_use]
    pub fn place_order_on_authorization(mut self, on: bool) -> Self {
        self.place_order_on_authorization = on;
        self
    }

    /// Sets the capture-on-order policy.
    #[must_use]
    pub fn capture_on_order(mut self, on: bool) -> Self {
        self.capture_on_order = on;
        self
    }

    /// Sets how long web handlers wait.
    #[must_use]
    pub fn handler_wait(mut self, wait: Duration) -> Self {
        self.handler_wait = wait;
        self
    }

    /// The lease: the request timeout plus the margin, by construction longer than any request
    /// the holder sends (no request leaves with less than the request timeout + 1 s of lease
    /// left; a save renews the lease to this first).
    pub fn lease_duration(&self) -> Duration {
        self.request_timeout
            .saturating_add(self.lease_margin.max(Duration::from_secs(1)))
    }
}

/// Why a runtime call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// The store failed (see [`StoreError::is_transient`]).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Another instance holds the checkout and did not let go within the handler wait.
    #[error("checkout {0} is busy (another instance holds it); retry")]
    Busy(String),
    /// The checkout's configuration was refused before anything was sent.
    #[error("the checkout was refused: {0}")]
    Refused(#[from] klarna_hpp_core::Error),
    /// The command does not fit the checkout's state.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// A redirect or callback was not for this checkout, or not authentic.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The stored snapshot cannot be restored; the row is quarantined.
    #[error("checkout {checkout_id}: stored snapshot unusable ({reason}); quarantined")]
    CorruptSnapshot {
        /// The checkout.
        checkout_id: String,
        /// Why.
        reason: String,
    },
}

/// What [`Runtime::start`] returns.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Started {
    /// The checkout id.
    pub checkout_id: String,
    /// Its state when the call returned.
    pub state: State,
    /// Where to send the consumer (absent when Klarna did not answer within the handler wait:
    /// the worker goes on creating the sessions; ask again with [`Runtime::show`]).
    pub link: Option<ConsumerLink>,
}

/// What a redirect or callback led to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verified {
    /// Applied here: the checkout read Klarna and stands here now.
    Applied {
        /// The state after the verifying read.
        state: State,
        /// The HPP status that read showed.
        hpp_status: Option<HppStatus>,
        /// The order, when one exists.
        order_id: Option<String>,
    },
    /// Another instance holds the checkout: queued in the inbox; its holder applies it.
    Queued,
}

/// A checkout as `checkouts show` prints it: no secrets.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CheckoutView {
    /// The checkout id.
    pub checkout_id: String,
    /// Where it stands.
    pub state: State,
    /// The last HPP status read.
    pub hpp_status: Option<HppStatus>,
    /// The deadlines in force.
    pub deadlines: Deadlines,
    /// The OM order.
    pub order_id: Option<String>,
    /// Captured so far.
    pub captured: i64,
    /// Refunded so far.
    pub refunded: i64,
    /// Still capturable.
    pub capturable: i64,
    /// Why it failed, when failed.
    pub failure: Option<FailureReason>,
    /// The next instant it is due.
    pub due_at: Option<Timestamp>,
}

/// A merchant command (see the methods of [`Runtime`]).
#[derive(Debug)]
pub(crate) enum Command {
    PlaceOrder(Option<Box<CreateOrderRequest>>),
    Capture(Option<i64>),
    Refund(i64),
    Cancel,
    Disable,
    Distribute(DistributionRequest),
    ReleaseRemainingAuthorization,
    ExtendAuthorizationTime,
    UpdateMerchantReferences(MerchantReferences),
    AddShippingInfo(String, Vec<ShippingInfo>),
}

pub(crate) struct Inner<T> {
    pub(crate) store: CheckoutStore,
    pub(crate) api: Api,
    pub(crate) transport: T,
    pub(crate) config: RuntimeConfig,
    pub(crate) owner: String,
}

/// Durable checkouts: the merchant's API (each call load → apply → drive → persist) over a
/// [`CheckoutStore`], a Klarna [`Api`] and an [`AsyncTransport`]. Cheap to clone; share one
/// per process. The [`Worker`](crate::Worker) runs on the same type.
pub struct Runtime<T> {
    pub(crate) inner: Arc<Inner<T>>,
}

impl<T> Clone for Runtime<T> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T> fmt::Debug for Runtime<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("store", &self.inner.store)
            .field("config", &self.inner.config)
            .field("owner", &self.inner.owner)
            .finish_non_exhaustive()
    }
}

/// The wall clock, in Unix milliseconds and as a [`Timestamp`].
pub(crate) fn now() -> Timestamp {
    TokioClock.now()
}

fn millis(t: Timestamp) -> i64 {
    t.unix_millis()
}

/// The wall clock in Unix milliseconds.
pub(crate) fn millis_now() -> i64 {
    millis(now())
}

/// A lease-holder id unique to this process and runtime: host-independent, so include the
/// process id and a clock-derived nonce.
fn owner_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{}-{:x}-{n}", std::process::id(), nanos & 0xffff_ffff_ffff)
}

fn state_name(state: State) -> String {
    format!("{state:?}")
}

fn event_kind(event: &Event) -> String {
    let text = format!("{event:?}");
    let end = text.find([' ', '(', '{']).unwrap_or(text.len());
    text[..end].to_owned()
}

/// How a drive ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Until {
    /// Persist and release as soon as the checkout waits (workers, redirects, callbacks and
    /// commands: what they trigger is sent at once; a retry it needs is the worker's).
    Waiting,
    /// Also sleep through retries until the consumer link exists, up to this instant
    /// ([`Runtime::start`]).
    LinkReady(Timestamp),
}

impl<T: AsyncTransport + Send + Sync + 'static> Runtime<T> {
    /// A runtime over `store`, calling Klarna at `api` through `transport`.
    pub fn new(store: CheckoutStore, api: Api, transport: T, config: RuntimeConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                api,
                transport,
                config,
                owner: owner_id(),
            }),
        }
    }

    /// The store.
    pub fn store(&self) -> &CheckoutStore {
        &self.inner.store
    }

    /// The configuration.
    pub fn config(&self) -> &RuntimeConfig {
        &self.inner.config
    }

    /// This runtime's lease-holder id.
    pub fn owner(&self) -> &str {
        &self.inner.owner
    }

    fn lease_until(&self, now: Timestamp) -> i64 {
        millis(now.saturating_add(self.inner.config.lease_duration()))
    }

    fn handler_deadline(&self) -> Timestamp {
        now().saturating_add(self.inner.config.handler_wait)
    }

    /// Starts a checkout: stores it, creates the KP and HPP sessions, and returns the consumer
    /// link (when Klarna answered within the handler wait; the worker carries on otherwise).
    pub async fn start(&self, config: CheckoutConfig) -> Result<Started, RuntimeError> {
        let at = now();
        let mut checkout = Checkout::new(self.inner.api.clone(), config, at)?;
        let id = checkout.checkout_id().to_owned();
        let span = tracing::info_span!("checkout", checkout_id = %id, action = "start");
        async {
            let mut lease = self
                .inner
                .store
                .insert(
                    &id,
                    &state_name(checkout.state()),
                    &checkout.snapshot(),
                    &self.inner.owner,
                    self.lease_until(at),
                    millis(at),
                )
                .await?;
            metrics::counter!(telemetry::STARTED).increment(1);
            self.drive(
                &mut lease,
                &mut checkout,
                Until::LinkReady(self.handler_deadline()),
            )
            .await?;
            Ok(Started {
                checkout_id: id.clone(),
                state: checkout.state(),
                link: checkout.consumer_link(),
            })
        }
        .instrument(span)
        .await
    }

    /// The consumer's browser came back (`url`: the full URL or path and query). Applied here
    /// with a verifying read when this instance can take the checkout; queued for its holder
    /// otherwise. A URL that can never apply (another session, none of the checkout's URLs) is
    /// refused with [`RuntimeError::Input`] and not queued.
    pub async fn handle_redirect(
        &self,
        checkout_id: &str,
        url: &str,
    ) -> Result<Verified, RuntimeError> {
        self.hint(checkout_id, HintKind::Redirect, url, &[]).await
    }

    /// Klarna's status callback reached the shop (`uri`: path and query, with the secret;
    /// `body`: as received). Applied or queued like a redirect; a wrong secret, a malformed
    /// body or another session is refused with [`RuntimeError::Input`] and not queued.
    pub async fn handle_callback(
        &self,
        checkout_id: &str,
        uri: &str,
        body: &[u8],
    ) -> Result<Verified, RuntimeError> {
        self.hint(checkout_id, HintKind::Callback, uri, body).await
    }

    async fn hint(
        &self,
        id: &str,
        kind: HintKind,
        uri: &str,
        body: &[u8],
    ) -> Result<Verified, RuntimeError> {
        let span = tracing::info_span!("checkout", checkout_id = %id, action = kind_name(kind));
        async {
            self.precheck(id, kind, uri, body).await?;
            // Queued first, so that it survives whatever happens next; whoever holds the
            // checkout (this call, if it can take it) applies it.
            self.inner
                .store
                .enqueue_hint(id, kind, uri, body, millis(now()))
                .await?;
            let deadline = Instant::now() + self.inner.config.handler_wait;
            loop {
                let at = now();
                if let Some(claimed) = self
                    .inner
                    .store
                    .acquire(id, &self.inner.owner, millis(at), self.lease_until(at))
                    .await?
                {
                    let checkout = self.process(claimed, Until::Waiting, None).await?;
                    return Ok(Verified::Applied {
                        state: checkout.state(),
                        hpp_status: checkout.hpp_status().cloned(),
                        order_id: checkout.order_id().map(str::to_owned),
                    });
                }
                if !self.inner.store.has_hints(id).await? {
                    // The holder applied it meanwhile.
                    let view = self.show(id).await?;
                    return Ok(Verified::Applied {
                        state: view.state,
                        hpp_status: view.hpp_status,
                        order_id: view.order_id,
                    });
                }
                if Instant::now() >= deadline {
                    metrics::counter!(telemetry::HINTS_QUEUED).increment(1);
                    return Ok(Verified::Queued);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        .instrument(span)
        .await
    }

    /// Refuses, before it is queued, a redirect or callback that can never apply: a wrong or
    /// missing secret, a malformed body, another HPP session, a URL that is none of the
    /// checkout's. Checked on a throwaway copy of the stored checkout (its secret, HPP session
    /// and merchant URLs never change once set), so the caller learns it
    /// ([`RuntimeError::Input`]) whoever holds the checkout. `NoSession` is left to the holder,
    /// whose checkout may be further along than the stored one.
    async fn precheck(
        &self,
        id: &str,
        kind: HintKind,
        uri: &str,
        body: &[u8],
    ) -> Result<(), RuntimeError> {
        let snapshot = self.inner.store.snapshot(id).await?;
        // An unusable snapshot is the holder's to quarantine.
        let Ok(mut copy) = restore(&self.inner.api, id, &snapshot) else {
            return Ok(());
        };
        let result = match kind {
            HintKind::Redirect => copy.handle_redirect(uri, now()).map(|_| ()),
            HintKind::Callback => copy.handle_callback(uri, body, now()).map(|_| ()),
        };
        match result {
            Ok(()) | Err(InputError::NoSession) => Ok(()),
            Err(e) => {
                metrics::counter!(telemetry::HINTS_REJECTED).increment(1);
                Err(e.into())
            }
        }
    }

    /// Places the order (mode NONE) with the session's order (`None`) or another body.
    pub async fn place_order(
        &self,
        checkout_id: &str,
        order: Option<CreateOrderRequest>,
    ) -> Result<CheckoutView, RuntimeError> {
        self.command(checkout_id, Command::PlaceOrder(order.map(Box::new)))
            .await
    }

    /// Captures `amount` (or all that remains).
    pub async fn capture(
        &self,
        checkout_id: &str,
        amount: Option<i64>,
    ) -> Result<CheckoutView, RuntimeError> {
        self.command(checkout_id, Command::Capture(amount)).await
    }

    /// Refunds `amount` of what was captured.
    pub async fn refund(
        &self,
        checkout_id: &str,
        amount: i64,
    ) -> Result<CheckoutView, RuntimeError> {
        self.command(checkout_id, Command::Refund(amount)).await
    }

    /// Cancels: releases the authorization before the order is placed, or cancels the order
    /// before any capture.
    pub async fn cancel(&self, checkout_id: &str) -> Result<CheckoutView, RuntimeError> {
        self.command(checkout_id, Command::Cancel).await
    }

    /// Disables the HPP session (before the consumer completes).
    pub async fn disable(&self, checkout_id: &str) -> Result<CheckoutView, RuntimeError> {
        self.command(checkout_id, Command::Disable).await
    }

    /// Sends the hosted page's link by e-mail, SMS or token.
    pub async fn distribute(
        &self,
        checkout_id: &str,
        request: DistributionRequest,
    ) -> Result<CheckoutView, RuntimeError> {
        self.command(checkout_id, Command::Distribute(request))
            .await
    }

    /// Releases what remains authorized: nothing more can be captured afterwards (Klarna
    /// refuses it on an order with no capture, or fully captured: an event `CallFailed`).
    pub async fn release_remaining_authorization(
        &self,
        checkout_id: &str,
    ) -> Result<CheckoutView, RuntimeError> {
        self.command(checkout_id, Command::ReleaseRemainingAuthorization)
            .await
    }

    /// Extends the order's authorization time; the order read that follows moves the OM
    /// deadline.
    pub async fn extend_authorization_time(
        &self,
        checkout_id: &str,
    ) -> Result<CheckoutView, RuntimeError> {
        self.command(checkout_id, Command::ExtendAuthorizationTime)
            .await
    }

    /// Sets the order's merchant references.
    pub async fn update_merchant_references(
        &self,
        checkout_id: &str,
        references: MerchantReferences,
    ) -> Result<CheckoutView, RuntimeError> {
        self.command(checkout_id, Command::UpdateMerchantReferences(references))
            .await
    }

    /// Adds shipping information to one of the order's captures (one the checkout knows of).
    pub async fn add_shipping_info(
        &self,
        checkout_id: &str,
        capture_id: &str,
        shipping_info: Vec<ShippingInfo>,
    ) -> Result<CheckoutView, RuntimeError> {
        self.command(
            checkout_id,
            Command::AddShippingInfo(capture_id.to_owned(), shipping_info),
        )
        .await
    }

    async fn command(&self, id: &str, command: Command) -> Result<CheckoutView, RuntimeError> {
        let span = tracing::info_span!("checkout", checkout_id = %id, action = "command");
        async {
            let claimed = self.acquire_waiting(id).await?;
            let mut command = Some(command);
            let checkout = self
                .process(claimed, Until::Waiting, Some(&mut command))
                .await?;
            Ok(view(&checkout, None))
        }
        .instrument(span)
        .await
    }

    async fn acquire_waiting(&self, id: &str) -> Result<Claimed, RuntimeError> {
        let deadline = Instant::now() + self.inner.config.handler_wait;
        loop {
            let at = now();
            if let Some(claimed) = self
                .inner
                .store
                .acquire(id, &self.inner.owner, millis(at), self.lease_until(at))
                .await?
            {
                return Ok(claimed);
            }
            if Instant::now() >= deadline {
                return Err(RuntimeError::Busy(id.to_owned()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The checkout as stored (read-only; no lease): state, deadlines, order and amounts.
    pub async fn show(&self, checkout_id: &str) -> Result<CheckoutView, RuntimeError> {
        show_with(&self.inner.store, &self.inner.api, checkout_id).await
    }

    /// Restores a claimed checkout, resumes what a dead holder had in flight, applies the
    /// queued hints and `command`, drives it, persists and releases. A snapshot that cannot be
    /// restored quarantines the row.
    pub(crate) async fn process(
        &self,
        claimed: Claimed,
        until: Until,
        command: Option<&mut Option<Command>>,
    ) -> Result<Checkout, RuntimeError> {
        let Claimed {
            mut lease,
            snapshot,
            hint_seq,
        } = claimed;
        let at = now();
        let mut checkout = match restore(&self.inner.api, &lease.checkout_id, &snapshot) {
            Ok(c) => c,
            Err(reason) => {
                metrics::counter!(telemetry::QUARANTINED).increment(1);
                tracing::error!(%reason, "stored snapshot unusable: row quarantined");
                self.inner
                    .store
                    .quarantine(&lease, &reason, millis(at))
                    .await?;
                return Err(RuntimeError::CorruptSnapshot {
                    checkout_id: lease.checkout_id,
                    reason,
                });
            }
        };
        // Whatever the stored snapshot shows as sent was sent by a holder that is gone (or
        // whose answer was dropped by fencing): its outcome is unknown.
        checkout.resume_after_restart(at);
        if hint_seq > 0 {
            let hints = self
                .inner
                .store
                .hints(&lease.checkout_id, lease.hints_applied)
                .await?;
            for hint in hints {
                let result = match hint.kind {
                    HintKind::Redirect => checkout.handle_redirect(&hint.uri, at).map(|_| ()),
                    HintKind::Callback => checkout
                        .handle_callback(&hint.uri, &hint.body, at)
                        .map(|_| ()),
                };
                if let Err(e) = result {
                    metrics::counter!(telemetry::HINTS_REJECTED).increment(1);
                    tracing::warn!(error = %e, kind = kind_name(hint.kind), "hint rejected");
                }
                lease.hints_applied = lease.hints_applied.max(hint.seq);
            }
            // Every hint up to the claim's `hint_seq` was committed before the claim: it is
            // either applied and gone (an earlier holder) or among those just applied.
            lease.hints_applied = lease.hints_applied.max(hint_seq);
        }
        let mut refused = None;
        if let Some(slot) = command {
            if let Some(command) = slot.take() {
                if let Err(e) = apply(&mut checkout, command, at) {
                    refused = Some(e);
                }
            }
        }
        self.drive(&mut lease, &mut checkout, until).await?;
        match refused {
            Some(e) => Err(e.into()),
            None => Ok(checkout),
        }
    }

    /// The step loop. Invariant (the recovery-point rule): a request that is not safe to
    /// repeat (anything but a read or a session creation) leaves only after the save that
    /// shows it taken is committed; the answer to such a request is committed before the next
    /// request leaves; and no request leaves with less than the request timeout plus 1 s of
    /// lease left (a save renews it). Reads and session creations whose answers are lost to a
    /// crash are simply repeated from the last recovery point.
    pub(crate) async fn drive(
        &self,
        lease: &mut Lease,
        checkout: &mut Checkout,
        until: Until,
    ) -> Result<(), RuntimeError> {
        let mut events: Vec<(String, String)> = Vec::new();
        // An answer to a non-repeatable request applied but not yet committed.
        let mut unsaved_answer = false;
        let min_lease = i64::try_from(
            self.inner
                .config
                .request_timeout
                .saturating_add(Duration::from_secs(1))
                .as_millis(),
        )
        .unwrap_or(i64::MAX);
        loop {
            let at = now();
            while let Some(event) = checkout.poll_event() {
                self.on_event(checkout, &event, at);
                events.push((
                    event_kind(&event),
                    serde_json::to_string(&event).unwrap_or_default(),
                ));
            }
            let request = checkout.poll_request();
            if request.is_none() {
                // Nothing to send: sleep through a near timeout (handlers), or persist, release
                // and return (workers).
                let next = checkout.poll_timeout();
                match (next, until) {
                    (Some(t), _) if t <= at => {
                        checkout.handle_timeout(at);
                        continue;
                    }
                    (Some(t), Until::LinkReady(limit))
                        if t <= limit
                            && checkout.consumer_link().is_none()
                            && !checkout.state().is_terminal()
                            && t < Timestamp::from_unix_millis(lease.expires_at).unwrap_or(t) =>
                    {
                        self.save(lease, checkout, &events, false, at).await?;
                        events.clear();
                        tokio::time::sleep(t.duration_since(at)).await;
                        checkout.handle_timeout(now());
                        continue;
                    }
                    _ => {
                        self.save(lease, checkout, &events, true, at).await?;
                        return Ok(());
                    }
                }
            }
            let Some((id, request)) = request else {
                continue;
            };
            let operation = telemetry::operation(request.method(), request.uri().path());
            let repeatable = telemetry::is_repeatable(operation);
            if !repeatable || unsaved_answer || lease.expires_at - millis(at) < min_lease {
                // Recovery point: the snapshot that shows this request in flight (and the
                // answer before it) is committed before a byte of it leaves, and the lease is
                // renewed to outlive it.
                self.save(lease, checkout, &events, false, at).await?;
                events.clear();
                unsaved_answer = false;
            }
            let span = tracing::info_span!(
                "klarna_call",
                operation,
                status = tracing::field::Empty,
                latency_ms = tracing::field::Empty,
                correlation_id = tracing::field::Empty,
                outcome = tracing::field::Empty,
            );
            let started = Instant::now();
            let result = tokio::time::timeout(
                self.inner.config.request_timeout,
                self.inner.transport.send(request),
            )
            .instrument(span.clone())
            .await
            .unwrap_or_else(|_| {
                Err(TransportError::outcome_unknown(
                    "no answer within the request timeout",
                ))
            });
            let latency = started.elapsed();
            span.record("latency_ms", latency.as_secs_f64() * 1000.0);
            metrics::counter!(telemetry::CALLS, "operation" => operation).increment(1);
            metrics::histogram!(telemetry::CALL_SECONDS, "operation" => operation)
                .record(latency.as_secs_f64());
            let at = now();
            let fed = match result {
                Ok(response) => {
                    let status = response.status().as_u16();
                    span.record("status", status);
                    if let Some(c) = response
                        .headers()
                        .get("klarna-correlation-id")
                        .and_then(|v| v.to_str().ok())
                    {
                        span.record("correlation_id", c);
                    }
                    span.record("outcome", if status < 400 { "ok" } else { "error" });
                    if status >= 500 || status == 429 {
                        metrics::counter!(telemetry::RETRIES, "operation" => operation)
                            .increment(1);
                    }
                    checkout.handle_response(id, response, at)
                }
                Err(e) => {
                    span.record("outcome", failure_name(e.failure));
                    metrics::counter!(telemetry::TRANSPORT_FAILURES, "operation" => operation)
                        .increment(1);
                    span.in_scope(|| tracing::warn!(error = %e.message, "no answer"));
                    checkout.handle_transport_error(id, e.failure, at)
                }
            };
            unsaved_answer |= !repeatable;
            span.in_scope(|| tracing::debug!("klarna call done"));
            if let Err(e) = fed {
                tracing::error!(error = %e, "the checkout refused its own response");
            }
        }
    }

    fn on_event(&self, checkout: &mut Checkout, event: &Event, at: Timestamp) {
        match event {
            Event::Authorized { .. } if self.inner.config.place_order_on_authorization => {
                if let Err(e) = checkout.place_order(None, at) {
                    tracing::warn!(error = %e, "automatic place-order refused");
                }
            }
            Event::OrderPlaced { .. } if self.inner.config.capture_on_order => {
                if let Err(e) = checkout.capture(None, at) {
                    tracing::warn!(error = %e, "automatic capture refused");
                }
            }
            Event::Failed {
                reason: FailureReason::OrderOutcomeUnknown,
            } => {
                metrics::counter!(telemetry::UNKNOWN_OUTCOMES).increment(1);
                tracing::error!(
                    "place-order outcome unknown: reconcile this checkout with Klarna \
                     (listed by `checkouts list --unresolved`)"
                );
            }
            Event::Expired { deadline } => {
                metrics::counter!(telemetry::DEADLINES, "deadline" => format!("{deadline:?}"))
                    .increment(1);
            }
            _ => {}
        }
    }

    async fn save(
        &self,
        lease: &mut Lease,
        checkout: &Checkout,
        events: &[(String, String)],
        release: bool,
        at: Timestamp,
    ) -> Result<(), RuntimeError> {
        let snapshot = checkout.snapshot();
        let state = state_name(checkout.state());
        // While held, the row is due at once: should this holder die, the next claims it as
        // soon as the lease expires.
        let due_at = if release {
            checkout.poll_timeout().map(millis)
        } else {
            Some(millis(at))
        };
        let unresolved = matches!(checkout.failure(), Some(FailureReason::OrderOutcomeUnknown));
        let result = self
            .inner
            .store
            .save(
                lease,
                &Save {
                    state: &state,
                    snapshot: &snapshot,
                    due_at,
                    order_id: checkout.order_id(),
                    unresolved,
                    events,
                    hints_applied: lease.hints_applied,
                    release,
                    lease_until: self.lease_until(at),
                    now: millis(at),
                },
            )
            .await;
        match result {
            Ok(()) => {
                metrics::counter!(telemetry::COMMITS).increment(1);
                Ok(())
            }
            Err(e) => {
                if matches!(e, StoreError::LeaseLost { .. }) {
                    metrics::counter!(telemetry::LEASES_LOST).increment(1);
                    tracing::warn!("lease lost: write dropped");
                }
                Err(e.into())
            }
        }
    }
}

fn kind_name(kind: HintKind) -> &'static str {
    match kind {
        HintKind::Callback => "callback",
        HintKind::Redirect => "redirect",
    }
}

fn failure_name(f: klarna_hpp_core::checkout::TransportFailure) -> &'static str {
    match f {
        klarna_hpp_core::checkout::TransportFailure::NotSent => "not_sent",
        klarna_hpp_core::checkout::TransportFailure::OutcomeUnknown => "outcome_unknown",
    }
}

fn restore(api: &Api, id: &str, snapshot: &[u8]) -> Result<Checkout, String> {
    let checkout = Checkout::restore(api.clone(), snapshot).map_err(|e| match e {
        SnapshotError::UnsupportedVersion(v) => format!("snapshot format version {v}"),
        other => other.to_string(),
    })?;
    if checkout.checkout_id() != id {
        return Err("the snapshot belongs to another checkout".to_owned());
    }
    Ok(checkout)
}

fn apply(checkout: &mut Checkout, command: Command, at: Timestamp) -> Result<(), CommandError> {
    match command {
        Command::PlaceOrder(order) => checkout.place_order(order.map(|o| *o), at),
        Command::Capture(amount) => checkout.capture(amount, at),
        Command::Refund(amount) => checkout.refund(amount, at),
        Command::Cancel => {
            if checkout.order_id().is_some() {
                checkout.cancel_order(at)
            } else {
                checkout.cancel_authorization(at)
            }
        }
        Command::Disable => checkout.disable(at),
        Command::Distribute(request) => checkout.distribute(request, at),
        Command::ReleaseRemainingAuthorization => checkout.release_remaining_authorization(at),
        Command::ExtendAuthorizationTime => checkout.extend_authorization_time(at),
        Command::UpdateMerchantReferences(references) => {
            checkout.update_merchant_references(references, at)
        }
        Command::AddShippingInfo(capture_id, shipping_info) => {
            checkout.add_shipping_info(&capture_id, shipping_info, at)
        }
    }
}

fn view(checkout: &Checkout, due_at: Option<Timestamp>) -> CheckoutView {
    CheckoutView {
        checkout_id: checkout.checkout_id().to_owned(),
        state: checkout.state(),
        hpp_status: checkout.hpp_status().cloned(),
        deadlines: checkout.deadlines(),
        order_id: checkout.order_id().map(str::to_owned),
        captured: checkout.captured_amount(),
        refunded: checkout.refunded_amount(),
        capturable: checkout.capturable_amount(),
        failure: checkout.failure().cloned(),
        due_at: due_at.or_else(|| checkout.poll_timeout()),
    }
}

/// The checkout as stored, without a runtime or Klarna credentials (for `checkouts show`):
/// state, deadlines, order and amounts; no secrets. Read-only, no lease.
pub async fn inspect(
    store: &CheckoutStore,
    checkout_id: &str,
) -> Result<CheckoutView, RuntimeError> {
    // Restoring rebuilds a request that was built but not sent; it is never sent from here,
    // so the API it is built for does not matter.
    let base = klarna_hpp_core::BaseUrl::klarna(
        klarna_hpp_core::Region::Eu,
        klarna_hpp_core::Environment::Playground,
    );
    let api = Api::new(
        base,
        klarna_hpp_core::Credentials::new("inspect", "inspect"),
    );
    show_with(store, &api, checkout_id).await
}

async fn show_with(
    store: &CheckoutStore,
    api: &Api,
    checkout_id: &str,
) -> Result<CheckoutView, RuntimeError> {
    let row = store
        .get(checkout_id)
        .await?
        .ok_or_else(|| StoreError::NotFound(checkout_id.to_owned()))?;
    if let Some(reason) = row.quarantined {
        return Err(StoreError::Quarantined {
            checkout_id: checkout_id.to_owned(),
            reason,
        }
        .into());
    }
    let snapshot = store.snapshot(checkout_id).await?;
    let checkout =
        restore(api, checkout_id, &snapshot).map_err(|reason| RuntimeError::CorruptSnapshot {
            checkout_id: checkout_id.to_owned(),
            reason,
        })?;
    Ok(view(
        &checkout,
        row.due_at.and_then(Timestamp::from_unix_millis),
    ))
}
