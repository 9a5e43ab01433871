//! The `checkout` target: drives one [`Checkout`] through the steps of a [`CheckoutInput`] and
//! checks its invariants after every step.

#[path = "input.rs"]
pub mod input;
#[path = "klarna.rs"]
pub mod klarna;
#[path = "seeds.rs"]
pub mod seeds;

use std::time::Duration;

use klarna_hpp_core::checkout::{
    Checkout, CommandError, Deadline, Event, InputError, RequestId, State, TransportFailure,
};
use klarna_hpp_core::hpp::DistributionRequest;
use klarna_hpp_core::http::{Method, Request, Response, StatusCode};
use klarna_hpp_core::kp::CreateOrderRequest;
use klarna_hpp_core::Timestamp;

use self::input::{
    Amount, Body, Callback, CallbackBody, CallbackUri, CheckoutInput, Distribution, Failure, Mode,
    PlaceBody, Redirect, Reply, Step,
};
use self::klarna::{api, config, session, start, Klarna, HPP_ID, ORDER_ID, TOKEN};

/// What a `checkout` input exercised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutOutcome {
    /// Steps run.
    pub steps: usize,
    /// Every state the checkout was in, in order of first appearance.
    pub states: Vec<State>,
    /// The state after the last step.
    pub final_state: State,
    /// An `OrderPlaced` event was emitted.
    pub order_placed: bool,
    /// `captured_amount()` at the end.
    pub captured: i64,
    /// `refunded_amount()` at the end.
    pub refunded: i64,
    /// Callbacks the checkout accepted.
    pub callbacks_accepted: usize,
    /// Forged callbacks it rejected.
    pub forged_rejected: usize,
    /// Redirects it recognised.
    pub redirects_matched: usize,
    /// Commands accepted.
    pub commands_accepted: usize,
    /// Commands refused.
    pub commands_refused: usize,
    /// Snapshot restores (with or without a restart).
    pub restores: usize,
}

impl CheckoutOutcome {
    /// Whether the checkout was in `state` at some point.
    pub fn reached(&self, state: State) -> bool {
        self.states.contains(&state)
    }
}

/// `checkout` target: decodes `data` (see [`input`]) and runs it.
pub fn checkout(data: &[u8]) -> CheckoutOutcome {
    run_checkout(&CheckoutInput::decode(data))
}

/// The live checkout and what the harness knows about it.
struct Harness {
    checkout: Checkout,
    mode: Mode,
    klarna: Klarna,
    now: Timestamp,
    pending: Option<(RequestId, Request<Vec<u8>>)>,
    secret: String,
    orders_placed: usize,
    captured: i64,
    terminal: Option<(State, bool)>,
    /// The snapshot as of the last `settle` (the checkout has not changed since).
    snapshot: Vec<u8>,
    outcome: CheckoutOutcome,
    /// Print every step, request, event and state to stderr (`CHECKOUT_TRACE=1`).
    trace: bool,
}

/// Runs `input` and checks, after every step:
///
/// - nothing panics; at most one request is in flight;
/// - a terminal state absorbs (the state never changes again) and schedules nothing, except
///   that a checkout expired at its HPP deadline may make a late read and be revived by it
///   into `Authorized`, `OrderPlaced` or `Captured`;
/// - at most one `Event::OrderPlaced`;
/// - `captured_amount()` never decreases and never exceeds the session's order amount (the
///   most that can be authorized);
/// - `deadlines().hpp_session <= deadlines().kp_session - 1 h` when both are known;
/// - `restore(snapshot())` gives a checkout whose `snapshot()` is byte-identical;
/// - a refused command or input leaves the checkout unchanged (same snapshot);
/// - a callback whose URI lacks the real `kh_secret` is rejected as `BadCallbackSecret`;
/// - the response to the request in flight is accepted, any other id is `UnknownRequest`.
pub fn run_checkout(input: &CheckoutInput) -> CheckoutOutcome {
    let now = start();
    let checkout =
        Checkout::new(api(), config(&input.setup), now).expect("the fixed config is valid");
    let secret = checkout
        .status_update_url()
        .and_then(|u| u.rsplit_once("kh_secret="))
        .map(|(_, s)| s.to_owned())
        .expect("the status_update URL carries the secret");
    assert!(secret.len() >= 16, "a guessable callback secret");
    let state = checkout.state();
    let mut h = Harness {
        checkout,
        mode: input.setup.mode,
        klarna: Klarna::new(input.setup.mode),
        now,
        pending: None,
        secret,
        orders_placed: 0,
        captured: 0,
        terminal: None,
        snapshot: Vec::new(),
        trace: std::env::var_os("CHECKOUT_TRACE").is_some(),
        outcome: CheckoutOutcome {
            steps: 0,
            states: vec![state],
            final_state: state,
            order_placed: false,
            captured: 0,
            refunded: 0,
            callbacks_accepted: 0,
            forged_rejected: 0,
            redirects_matched: 0,
            commands_accepted: 0,
            commands_refused: 0,
            restores: 0,
        },
    };
    h.settle();
    for step in &input.steps {
        if h.trace {
            eprintln!("step {step:?} at {}", h.now);
        }
        h.step(step);
        h.settle();
        h.outcome.steps += 1;
    }
    let mut outcome = h.outcome;
    outcome.final_state = h.checkout.state();
    outcome.captured = h.checkout.captured_amount();
    outcome.refunded = h.checkout.refunded_amount();
    outcome
}

impl Harness {
    fn step(&mut self, step: &Step) {
        match step {
            Step::Reply(reply) => {
                let Some((id, request)) = self.pending.take() else {
                    return;
                };
                let response = self.response(reply, Some(&request));
                let result = self.checkout.handle_response(id, response, self.now);
                assert_eq!(
                    result,
                    Ok(()),
                    "the response to the request in flight was refused"
                );
            }
            Step::Transport(failure) => {
                let Some((id, _)) = self.pending.take() else {
                    return;
                };
                let failure = match failure {
                    Failure::NotSent => TransportFailure::NotSent,
                    Failure::OutcomeUnknown => TransportFailure::OutcomeUnknown,
                };
                let result = self.checkout.handle_transport_error(id, failure, self.now);
                assert_eq!(
                    result,
                    Ok(()),
                    "the failure of the request in flight was refused"
                );
            }
            Step::Stale { offset, reply } => {
                let id = match &self.pending {
                    Some((id, _)) => id.get().wrapping_add(1 + u64::from(*offset)),
                    None => u64::from(*offset),
                };
                let id: RequestId = serde_json::from_value(id.into()).expect("a request id");
                let response = self.response(reply, None);
                let before = std::mem::take(&mut self.snapshot);
                let result = self.checkout.handle_response(id, response, self.now);
                assert_eq!(result, Err(InputError::UnknownRequest(id)));
                assert_eq!(
                    self.checkout.snapshot(),
                    before,
                    "a stale response changed the checkout"
                );
            }
            Step::Advance(secs) => {
                self.now = self
                    .now
                    .saturating_add(Duration::from_secs(u64::from(*secs % (4 * 86_400))));
                self.checkout.handle_timeout(self.now);
            }
            Step::Wait => {
                if let Some(at) = self.checkout.poll_timeout() {
                    self.now = self.now.max(at);
                }
                self.checkout.handle_timeout(self.now);
            }
            Step::Rewind(secs) => {
                let earlier = self
                    .now
                    .saturating_sub(Duration::from_secs(u64::from(*secs)));
                let before = std::mem::take(&mut self.snapshot);
                self.checkout.handle_timeout(earlier);
                let after = Checkout::restore(api(), &before).expect("restores");
                let mut twin = after;
                twin.handle_timeout(self.now);
                // An earlier `now` counts as the latest seen.
                assert_eq!(
                    self.checkout.snapshot(),
                    twin.snapshot(),
                    "an earlier now was not clamped"
                );
            }
            Step::Callback(cb) => self.callback(cb),
            Step::Redirect(r) => self.redirect(r),
            Step::Distribute(d) => {
                let request = distribution(d);
                let now = self.now;
                self.command(|c| c.distribute(request, now));
            }
            Step::Disable => {
                let now = self.now;
                self.command(|c| c.disable(now));
            }
            Step::PlaceOrder(body) => {
                let order = place_body(body);
                let now = self.now;
                self.command(|c| c.place_order(order, now));
            }
            Step::Capture(amount) => {
                let amount = match amount {
                    Amount::All => None,
                    Amount::Part(a) => Some(i64::from(*a)),
                    Amount::Raw(a) => Some(*a),
                };
                let now = self.now;
                self.command(|c| c.capture(amount, now));
            }
            Step::Refund(amount) => {
                let amount = match amount {
                    Amount::All => {
                        self.checkout.captured_amount() - self.checkout.refunded_amount()
                    }
                    Amount::Part(a) => i64::from(*a),
                    Amount::Raw(a) => *a,
                };
                let now = self.now;
                self.command(|c| c.refund(amount, now));
            }
            Step::CancelAuthorization => {
                let now = self.now;
                self.command(|c| c.cancel_authorization(now));
            }
            Step::CancelOrder => {
                let now = self.now;
                self.command(|c| c.cancel_order(now));
            }
            Step::SnapshotRestore => {
                self.checkout = self.restored().0;
                self.outcome.restores += 1;
            }
            Step::Restart => {
                let mut restored = self.restored().0;
                restored.resume_after_restart(self.now);
                self.checkout = restored;
                // The old process's request and its answer are gone.
                self.pending = None;
                self.outcome.restores += 1;
            }
            Step::Release => {
                let now = self.now;
                self.command(|c| c.release_remaining_authorization(now));
            }
            Step::Extend => {
                let now = self.now;
                self.command(|c| c.extend_authorization_time(now));
            }
            Step::References(text) => {
                let now = self.now;
                let references = klarna_hpp_core::om::MerchantReferences::new()
                    .merchant_reference1(text.lossy());
                self.command(|c| c.update_merchant_references(references, now));
            }
            Step::ShippingInfo(n) => {
                let now = self.now;
                let ids = self.checkout.capture_ids();
                let id = ids
                    .get(usize::from(*n) % (ids.len() + 1))
                    .cloned()
                    .unwrap_or_else(|| "cap-unknown".to_owned());
                let info = vec![klarna_hpp_core::om::ShippingInfo::new().tracking_number("T-1")];
                self.command(|c| c.add_shipping_info(&id, info, now));
            }
        }
    }

    /// `restore(snapshot())`, checking the round trip is byte-identical; also the snapshot.
    fn restored(&self) -> (Checkout, Vec<u8>) {
        let snapshot = self.checkout.snapshot();
        let restored = Checkout::restore(api(), &snapshot).expect("a snapshot restores");
        assert!(
            restored.snapshot() == snapshot,
            "snapshot after restore differs:\n{}\n{}",
            String::from_utf8_lossy(&snapshot),
            String::from_utf8_lossy(&restored.snapshot())
        );
        (restored, snapshot)
    }

    fn response(&mut self, reply: &Reply, request: Option<&Request<Vec<u8>>>) -> Response<Vec<u8>> {
        let status = reply
            .status
            .map(|n| StatusCode::from_u16(100 + n % 900).expect("100..=999"));
        // A 4xx is Klarna refusing the request: whatever it would have answered, nothing
        // changed. Any other status replacing a right answer models a write that committed
        // but whose answer came back wrong (a 5xx from a proxy, garbage).
        let refused = status.is_some_and(|s| s.is_client_error());
        let mut response = match (&reply.body, request) {
            (Body::Right(knob), Some(request)) if refused => {
                self.klarna.clone().right(request, *knob, self.now)
            }
            (Body::Right(knob), Some(request)) => self.klarna.right(request, *knob, self.now),
            (Body::Right(knob), None) | (Body::Canned(knob), _) => klarna::canned(*knob, self.now),
            (Body::Raw(blob), _) => klarna::with_status(200, blob.0.clone(), "application/json"),
        };
        if let Some(status) = status {
            *response.status_mut() = status;
        }
        let order_read = request.is_some_and(|r| {
            r.method() == Method::GET && r.uri().path().starts_with("/ordermanagement/v1/orders/")
        });
        if order_read && response.status().is_success() {
            self.klarna.order_read_shown(response.body());
        }
        response
    }

    fn command(&mut self, f: impl FnOnce(&mut Checkout) -> Result<(), CommandError>) {
        let before = std::mem::take(&mut self.snapshot);
        match f(&mut self.checkout) {
            Ok(()) => self.outcome.commands_accepted += 1,
            Err(e) => {
                self.outcome.commands_refused += 1;
                assert_eq!(
                    self.checkout.snapshot(),
                    before,
                    "refused command ({e}) changed the checkout"
                );
                if let CommandError::Terminal { state } = e {
                    assert!(state.is_terminal());
                    assert_eq!(state, self.checkout.state());
                }
            }
        }
    }

    fn callback(&mut self, cb: &Callback) {
        let real = format!("/klarna/callback?sid={HPP_ID}&kh_secret={}", self.secret);
        let uri = match &cb.uri {
            CallbackUri::Real => real,
            CallbackUri::Forged(blob) => blob.lossy(),
            CallbackUri::WrongSecret(blob) => {
                format!("/klarna/callback?sid={HPP_ID}&kh_secret={}", blob.lossy())
            }
            CallbackUri::Truncated(n) => {
                let cut = usize::from(*n) % self.secret.len();
                format!(
                    "/klarna/callback?sid={HPP_ID}&kh_secret={}",
                    &self.secret[..cut]
                )
            }
            CallbackUri::Uppercase => real.to_uppercase(),
            CallbackUri::SecretSecond => {
                format!(
                    "/klarna/callback?sid={HPP_ID}&kh_secret=0000&kh_secret={}",
                    self.secret
                )
            }
        };
        let body = match &cb.body {
            CallbackBody::Session { event, knob } => {
                let session = self.klarna.session_body(*knob, HPP_ID, self.now);
                serde_json::to_vec(&serde_json::json!({"event_id": format!("ev-{}", event % 4), "session": session}))
                    .expect("json")
            }
            CallbackBody::Raw(blob) => blob.0.clone(),
        };
        let before = std::mem::take(&mut self.snapshot);
        let result = self.checkout.handle_callback(&uri, &body, self.now);
        match &result {
            Ok(_) => self.outcome.callbacks_accepted += 1,
            Err(_) => assert_eq!(
                self.checkout.snapshot(),
                before,
                "a refused callback changed the checkout"
            ),
        }
        if !uri.contains(&self.secret) {
            assert_eq!(
                result,
                Err(InputError::BadCallbackSecret),
                "a forged callback was not rejected: {uri}"
            );
            self.outcome.forged_rejected += 1;
        }
    }

    fn redirect(&mut self, r: &Redirect) {
        const PATHS: [&str; 5] = ["success", "cancel", "back", "failure", "error"];
        let success = match self.mode {
            Mode::None => format!("&token={TOKEN}"),
            _ => format!("&order={ORDER_ID}"),
        };
        let query = |sid: &str, kind: u8| {
            let path = PATHS[usize::from(kind) % PATHS.len()];
            let extra = if path == "success" {
                success.as_str()
            } else {
                ""
            };
            format!("/klarna/{path}?sid={sid}{extra}")
        };
        let url = match r {
            Redirect::Url { kind, ours } => {
                let sid = if *ours { HPP_ID } else { "hpp-9999" };
                format!("https://shop.example{}", query(sid, *kind))
            }
            Redirect::Path { kind } => query(HPP_ID, *kind),
            Redirect::Raw(blob) => blob.lossy(),
        };
        let before = std::mem::take(&mut self.snapshot);
        match self.checkout.handle_redirect(&url, self.now) {
            Ok(_) => self.outcome.redirects_matched += 1,
            Err(_) => assert_eq!(
                self.checkout.snapshot(),
                before,
                "a refused redirect changed the checkout"
            ),
        }
    }

    /// Drains events and takes the next request, then checks the invariants.
    fn settle(&mut self) {
        while let Some(event) = self.checkout.poll_event() {
            if self.trace {
                eprintln!("  event {event:?}");
            }
            if let Event::OrderPlaced { .. } = event {
                self.orders_placed += 1;
                self.outcome.order_placed = true;
            }
        }
        match &self.pending {
            Some(_) => assert!(
                self.checkout.poll_request().is_none(),
                "two requests in flight"
            ),
            None => {
                self.pending = self.checkout.poll_request();
                if let (true, Some((id, r))) = (self.trace, &self.pending) {
                    eprintln!("  request {} {} {}", id.get(), r.method(), r.uri());
                }
            }
        }
        if self.trace {
            eprintln!(
                "  state {:?}, next timeout {:?}",
                self.checkout.state(),
                self.checkout.poll_timeout()
            );
        }
        self.check();
    }

    fn check(&mut self) {
        let c = &self.checkout;
        let state = c.state();
        if !self.outcome.states.contains(&state) {
            self.outcome.states.push(state);
        }
        // Terminal states absorb, with one exception: expired at the HPP deadline, an
        // authentic callback gets one verifying read (retried while it fails), and a read
        // showing the consumer paid revives the checkout with the order or the token.
        let late_read = c.expired() == Some(Deadline::HppSession);
        match self.terminal {
            Some((t, true)) if state != t => {
                assert!(
                    matches!(
                        state,
                        State::Authorized | State::OrderPlaced | State::Captured
                    ),
                    "the expired checkout was revived into {state:?}"
                );
                self.terminal = None;
            }
            Some((t, _)) => assert_eq!(state, t, "the terminal state {t:?} did not absorb"),
            None if state.is_terminal() => self.terminal = Some((state, late_read)),
            None => {}
        }
        if state.is_terminal() && !late_read {
            assert_eq!(
                c.poll_timeout(),
                None,
                "a terminal state schedules a timeout"
            );
        }
        assert!(self.orders_placed <= 1, "more than one OrderPlaced event");
        let captured = c.captured_amount();
        assert!(
            captured >= self.captured,
            "captured_amount went from {} to {captured}",
            self.captured
        );
        self.captured = captured;
        let amount = self.klarna.believable_captured();
        assert!(
            captured <= amount,
            "captured_amount {captured} exceeds the order amount {amount}"
        );
        let d = c.deadlines();
        if let (Some(hpp), Some(kp)) = (d.hpp_session, d.kp_session) {
            assert!(
                hpp <= kp.saturating_sub(Duration::from_secs(3600)),
                "HPP deadline {hpp} later than KP deadline {kp} - 1 h"
            );
        }
        self.snapshot = self.restored().1;
    }
}

fn distribution(d: &Distribution) -> DistributionRequest {
    match d.method % 3 {
        0 => DistributionRequest::email(d.contact.lossy()),
        1 => DistributionRequest::sms(d.contact.lossy(), d.country.lossy()),
        _ => DistributionRequest::token(d.contact.lossy()),
    }
}

fn place_body(body: &PlaceBody) -> Option<CreateOrderRequest> {
    let full = CreateOrderRequest::from_session(&session());
    match body {
        PlaceBody::Session => None,
        PlaceBody::Lines(n) => {
            let mut b = full;
            b.order_lines.truncate(1 + usize::from(*n % 2));
            b.order_amount = b.order_lines.iter().map(|l| l.total_amount).sum();
            b.order_tax_amount = Some(
                b.order_lines
                    .iter()
                    .map(|l| l.total_tax_amount.unwrap_or(0))
                    .sum(),
            );
            Some(b)
        }
        PlaceBody::Amount(a) => {
            let mut b = full;
            b.order_amount = *a;
            Some(b)
        }
    }
}
