//! proptest state-machine test of the checkout against a small reference model of Klarna.
//!
//! Arbitrary interleavings of deliveries, lost responses, unsent requests, 5xx/429, garbage,
//! requests processed but answered with a status outside 2xx/4xx (302, 502, 600, 835, 999),
//! clock jumps, consumer actions, captures and refunds made in the Merchant Portal (outside the
//! checkout), forged and duplicate callbacks, redirects and merchant commands. After every step the invariants hold, and a twin checkout restored from a
//! snapshot after every step has emitted exactly the same requests and events.

mod scenario;

use std::collections::BTreeMap;

use klarna_hpp_core::checkout::{
    Checkout, CheckoutConfig, Deadline, Event, RequestId, State, TransportFailure,
};
use klarna_hpp_core::hpp::PlaceOrderMode;
use klarna_hpp_core::http::{Method, Request, Response};
use proptest::prelude::*;
use scenario::{api, config, iso, respond, ts};
use serde_json::json;

const HPP_LIFETIME: i64 = 47 * 3600;
const TOKEN_LIFETIME: i64 = 3600;
const OM_LIFETIME: i64 = 28 * 86_400;

/// What a lagging order read shows: the order as it was before the last API write.
#[derive(Debug, Clone, Copy)]
struct Lag {
    captured: i64,
    refunded: i64,
    /// When the write was sent.
    at: i64,
    /// Merchant Portal captures and refunds the checkout had not seen by then (a lagging read
    /// shows those made before the write).
    unseen_captured: i64,
    unseen_refunded: i64,
}

/// Klarna as far as one checkout can see it; also the reference model the invariants use.
#[derive(Debug, Default)]
struct Klarna {
    kp_sessions: u32,
    kp_created_at: Option<i64>,
    hpp_created_at: Option<i64>,
    status: String,
    token_at: Option<i64>,
    order_body: Option<Vec<u8>>,
    order_at: Option<i64>,
    order_amount: i64,
    captured: i64,
    refunded: i64,
    captures: BTreeMap<String, i64>,
    refunds: BTreeMap<String, i64>,
    cancelled_order: bool,
    /// Captured in the Merchant Portal since the checkout last read the order: the part of
    /// `captured` the checkout cannot know about yet.
    unseen_captured: i64,
    /// Refunded in the Merchant Portal since the checkout last read the order.
    unseen_refunded: i64,
    violations: Vec<String>,
    event_seq: u32,
    /// Captured (refunded) through the API, by the checkout: never more than it was asked to.
    api_captured: i64,
    api_refunded: i64,
    /// What order reads showed before the last API capture or refund, and when that write
    /// was sent: a lagging read shows this. Reads lag by minutes, not by the 24 h for which a
    /// key is honoured (the checkout's assumption, docs/lifecycle.md): a read made an hour
    /// after the write was sent shows it.
    before_write: Option<Lag>,
    /// The next order read lags behind the last write (reads may lag behind Klarna's writes).
    lag_next_read: bool,
    /// The OM authorization's expiry, once the order exists (moved by extensions).
    om_expires: Option<i64>,
    /// Order Management's other writes executed, by idempotency key: the path each key was
    /// first used for (a key reused for another write is a fault) and how often each kind ran.
    write_keys: BTreeMap<String, String>,
    releases: u32,
    extensions: u32,
    reference_updates: u32,
    shipping_infos: u32,
    /// The remaining authorization was released.
    released: bool,
    /// The capture ids Klarna answered with.
    capture_ids: Vec<String>,
}

impl Klarna {
    fn hpp_live(&self, now: i64) -> bool {
        self.hpp_created_at.is_some() && now < self.hpp_expiry()
    }

    /// 47 h after creation, and never later than 1 h before its KP session (48 h).
    fn hpp_expiry(&self) -> i64 {
        let created = self.hpp_created_at.unwrap_or(0);
        let kp = self.kp_created_at.unwrap_or(created);
        (created + HPP_LIFETIME).min(kp + HPP_LIFETIME)
    }

    /// `sent` is when the checkout emitted the request (violations are judged then), `now` when it
    /// arrives (Klarna answers as of then).
    fn handle(
        &mut self,
        req: &Request<Vec<u8>>,
        sent: i64,
        now: i64,
        mode: &PlaceOrderMode,
        amount: i64,
    ) -> Response<Vec<u8>> {
        let path = req.uri().path().to_owned();
        let method = req.method().clone();
        let key = req
            .headers()
            .get("klarna-idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        match (method, path.as_str()) {
            (Method::POST, "/payments/v1/sessions") => {
                self.kp_sessions += 1;
                self.kp_created_at.get_or_insert(now);
                respond(200, json!({"session_id": "kp-0001", "client_token": "x"}))
            }
            (Method::POST, "/hpp/v1/sessions") => {
                if self.hpp_created_at.is_none() {
                    self.hpp_created_at = Some(now);
                    self.status = "WAITING".into();
                }
                respond(
                    201,
                    json!({"session_id": "hpp-0001", "redirect_url": "https://pay.example/p/1", "expires_at": iso(self.hpp_expiry())}),
                )
            }
            (m, p) if p.starts_with("/hpp/v1/sessions/hpp-0001") => {
                if !self.hpp_live(sent) {
                    self.violations
                        .push(format!("{m} {p} after the HPP session expired"));
                }
                if !self.hpp_live(now) {
                    return respond(404, json!({"error_code": "NOT_FOUND"}));
                }
                match m {
                    Method::GET => respond(200, self.session_body()),
                    Method::DELETE if self.status == "COMPLETED" => {
                        respond(400, json!({"error_code": "BAD_VALUE"}))
                    }
                    Method::DELETE => {
                        self.status = "DISABLED".into();
                        scenario::no_content()
                    }
                    _ => respond(201, json!({})),
                }
            }
            (Method::POST, "/payments/v1/authorizations/tok-1/order") => {
                let Some(t) = self.token_at else {
                    self.violations.push("place order without a token".into());
                    return respond(404, json!({"error_code": "NOT_FOUND"}));
                };
                if sent >= t + TOKEN_LIFETIME {
                    self.violations
                        .push("place order with an expired token".into());
                }
                if now >= t + TOKEN_LIFETIME {
                    return respond(404, json!({"error_code": "NOT_FOUND"}));
                }
                match &self.order_body {
                    Some(b) if b == req.body() => respond(
                        200,
                        json!({"order_id": "om-0001", "fraud_status": "ACCEPTED"}),
                    ),
                    Some(_) => {
                        self.violations
                            .push("a second, different place-order body".into());
                        respond(409, json!({"error_code": "BAD_VALUE"}))
                    }
                    None => {
                        let body: serde_json::Value =
                            serde_json::from_slice(req.body()).unwrap_or_default();
                        self.order_amount = body["order_amount"].as_i64().unwrap_or(0);
                        self.order_body = Some(req.body().clone());
                        self.order_at = Some(now);
                        respond(
                            200,
                            json!({"order_id": "om-0001", "fraud_status": "ACCEPTED"}),
                        )
                    }
                }
            }
            (Method::DELETE, "/payments/v1/authorizations/tok-1") => scenario::no_content(),
            (m, p) if p.starts_with("/ordermanagement/v1/orders/om-0001") => {
                if self.order_at.is_none() {
                    return respond(404, json!({"error_code": "NO_SUCH_ORDER"}));
                }
                let expires = self
                    .om_expires
                    .unwrap_or(self.order_at.unwrap_or(0) + OM_LIFETIME);
                let body: serde_json::Value =
                    serde_json::from_slice(req.body()).unwrap_or_default();
                match (
                    m,
                    p.trim_start_matches("/ordermanagement/v1/orders/om-0001"),
                ) {
                    (Method::GET, "") => {
                        let (captured, refunded) = match self.before_write {
                            Some(lag)
                                if now < lag.at + 3_600
                                    && std::mem::take(&mut self.lag_next_read) =>
                            {
                                // Shows the portal's changes made before the write.
                                self.unseen_captured -= lag.unseen_captured;
                                self.unseen_refunded -= lag.unseen_refunded;
                                self.before_write = Some(Lag {
                                    unseen_captured: 0,
                                    unseen_refunded: 0,
                                    ..lag
                                });
                                (lag.captured, lag.refunded)
                            }
                            _ => (self.captured, self.refunded),
                        };
                        respond(
                            200,
                            json!({
                                "order_id": "om-0001", "status": if self.cancelled_order { "CANCELLED" } else if captured == self.order_amount || self.released { "CAPTURED" } else { "AUTHORIZED" },
                                "captures": self.capture_ids.iter().map(|c| json!({"capture_id": c})).collect::<Vec<_>>(),
                                "order_amount": self.order_amount, "original_order_amount": self.order_amount,
                                "captured_amount": captured, "refunded_amount": refunded,
                                "remaining_authorized_amount": self.order_amount - captured, "expires_at": iso(expires),
                            }),
                        )
                    }
                    (Method::POST, "/captures") => {
                        let k = key.unwrap_or_default();
                        if k.is_empty() {
                            self.violations
                                .push("capture without idempotency key".into());
                        }
                        if !self.captures.contains_key(&k) {
                            let a = body["captured_amount"].as_i64().unwrap_or(0);
                            if self.captured - self.unseen_captured + a > self.order_amount {
                                // Klarna refuses it, but the checkout knows every capture it
                                // sent, that CAPTURE_ORDER captured everything, and what its
                                // last order read showed: asking is already a fault.
                                self.violations.push(format!(
                                    "capture of {a} on top of {} asked for",
                                    self.captured
                                ));
                            }
                            if self.cancelled_order
                                || now >= expires
                                || self.captured + a > self.order_amount
                            {
                                return respond(403, json!({"error_code": "CAPTURE_NOT_ALLOWED"}));
                            }
                            self.before_write = Some(Lag {
                                captured: self.captured,
                                refunded: self.refunded,
                                at: sent,
                                unseen_captured: self.unseen_captured,
                                unseen_refunded: self.unseen_refunded,
                            });
                            self.captured += a;
                            self.api_captured += a;
                            self.captures.insert(k.clone(), a);
                            let id = format!("cap-{}", self.captures.len());
                            self.capture_ids.push(id);
                        }
                        let n = self.captures.keys().position(|c| *c == k).unwrap_or(0);
                        let id = self
                            .capture_ids
                            .get(n)
                            .cloned()
                            .unwrap_or_else(|| "cap-0".into());
                        scenario::created_with("capture-id", &id, "captures")
                    }
                    (Method::POST, "/refunds") => {
                        let k = key.unwrap_or_default();
                        if !self.refunds.contains_key(&k) {
                            let a = body["refunded_amount"].as_i64().unwrap_or(0);
                            // What the checkout could know: its own refunds and captures, and
                            // its last order read. Beyond that, asking is a fault.
                            if self.refunded - self.unseen_refunded + a
                                > self.captured - self.unseen_captured
                            {
                                self.violations.push(format!(
                                    "refund of {a} on top of {} of {} asked for",
                                    self.refunded, self.captured
                                ));
                            }
                            if self.refunded + a > self.captured {
                                return respond(403, json!({"error_code": "REFUND_NOT_ALLOWED"}));
                            }
                            self.before_write = Some(Lag {
                                captured: self.captured,
                                refunded: self.refunded,
                                at: sent,
                                unseen_captured: self.unseen_captured,
                                unseen_refunded: self.unseen_refunded,
                            });
                            self.refunded += a;
                            self.api_refunded += a;
                            self.refunds.insert(k, a);
                        }
                        scenario::created_with("refund-id", "ref-1", "refunds")
                    }
                    (Method::POST, "/cancel") => {
                        if self.captured > 0 {
                            return respond(403, json!({"error_code": "CANCEL_NOT_ALLOWED"}));
                        }
                        self.cancelled_order = true;
                        scenario::no_content()
                    }
                    (m, write) => self.order_write(&m, write, key, sent, now, expires),
                }
            }
            _ => {
                let _ = (mode, amount);
                respond(404, json!({"error_code": "NOT_FOUND"}))
            }
        }
    }

    /// Release, extend, merchant references, shipping info: keyed, executed once per key.
    fn order_write(
        &mut self,
        m: &Method,
        write: &str,
        key: Option<String>,
        sent: i64,
        now: i64,
        expires: i64,
    ) -> Response<Vec<u8>> {
        let shipping = write
            .strip_prefix("/captures/")
            .and_then(|r| r.strip_suffix("/shipping-info"));
        let known = matches!(
            (m, write),
            (&Method::POST, "/release-remaining-authorization")
                | (&Method::POST, "/extend-authorization-time")
                | (&Method::PATCH, "/merchant-references")
        ) || (*m == Method::POST && shipping.is_some());
        if !known {
            return respond(404, json!({}));
        }
        let Some(k) = key.filter(|k| !k.is_empty()) else {
            self.violations
                .push(format!("{m} {write} without idempotency key"));
            return respond(400, json!({"error_code": "BAD_VALUE"}));
        };
        match self.write_keys.get(&k) {
            Some(path) if path == write => return scenario::no_content(),
            Some(path) => {
                self.violations
                    .push(format!("key of {path} reused for {write}"));
                return respond(409, json!({"error_code": "BAD_VALUE"}));
            }
            None => {}
        }
        if let Some(capture) = shipping {
            if !self.capture_ids.iter().any(|c| c == capture) {
                self.violations
                    .push(format!("shipping info for unknown capture {capture}"));
                return respond(404, json!({"error_code": "NO_SUCH_CAPTURE"}));
            }
            self.shipping_infos += 1;
        } else {
            match write {
                "/release-remaining-authorization" => {
                    if self.cancelled_order
                        || self.captured == 0
                        || self.captured >= self.order_amount
                    {
                        return respond(403, json!({"error_code": "NOT_ALLOWED"}));
                    }
                    self.order_amount = self.captured;
                    self.released = true;
                    self.releases += 1;
                }
                "/extend-authorization-time" => {
                    if sent >= expires {
                        self.violations
                            .push("extension asked past the OM deadline".into());
                    }
                    if self.cancelled_order || now >= expires {
                        return respond(403, json!({"error_code": "NOT_ALLOWED"}));
                    }
                    let limit = self.order_at.unwrap_or(0) + 180 * 86_400;
                    self.om_expires = Some(expires.max((now + OM_LIFETIME).min(limit)));
                    self.extensions += 1;
                }
                _ => {
                    if self.cancelled_order {
                        return respond(403, json!({"error_code": "NOT_ALLOWED"}));
                    }
                    self.reference_updates += 1;
                }
            }
        }
        self.write_keys.insert(k, write.to_owned());
        scenario::no_content()
    }

    fn session_body(&self) -> serde_json::Value {
        let created = self.hpp_created_at.unwrap_or(0);
        let mut b = json!({"session_id": "hpp-0001", "status": self.status, "updated_at": iso(self.token_at.unwrap_or(created)), "expires_at": iso(self.hpp_expiry())});
        if self.status == "COMPLETED" {
            if self.token_at.is_some() {
                b["authorization_token"] = json!("tok-1");
            } else {
                b["order_id"] = json!("om-0001");
            }
        }
        b
    }

    /// The merchant captures or refunds in the Merchant Portal, outside the checkout.
    fn portal(&mut self, refund: bool, amount: i64, now: i64) {
        let Some(placed) = self.order_at else { return };
        if refund {
            if self.refunded + amount <= self.captured {
                self.refunded += amount;
                self.unseen_refunded += amount;
            }
        } else if !self.cancelled_order
            && now < placed + OM_LIFETIME
            && self.captured + amount <= self.order_amount
        {
            self.captured += amount;
            self.unseen_captured += amount;
        }
    }

    fn consumer(&mut self, act: u8, now: i64, mode: &PlaceOrderMode, amount: i64) {
        if !self.hpp_live(now)
            || matches!(
                self.status.as_str(),
                "COMPLETED" | "CANCELLED" | "DISABLED" | ""
            )
        {
            return;
        }
        self.status = match act % 5 {
            0 => "IN_PROGRESS",
            1 => "FAILED",
            2 => "BACK",
            3 => "CANCELLED",
            _ => "COMPLETED",
        }
        .into();
        if self.status == "COMPLETED" {
            match mode {
                PlaceOrderMode::None => self.token_at = Some(now),
                _ => {
                    self.order_amount = amount;
                    self.order_at = Some(now);
                    if *mode == PlaceOrderMode::CaptureOrder {
                        self.captured = amount;
                    }
                }
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Action {
    Deliver,
    DeliverThenLose,
    NotSent,
    Fault(u16),
    /// Klarna processes the request, but the answer's status is replaced by this one.
    Mangled(u16),
    Garbage(Vec<u8>),
    Advance(u32),
    Jump(u32),
    Consumer(u8),
    /// The next order read lags behind Klarna's last capture or refund.
    LagRead,
    /// A capture (or refund) made in the Merchant Portal, outside the checkout.
    Portal {
        refund: bool,
        amount: i64,
    },
    Callback {
        forged: bool,
        event: u8,
    },
    Redirect {
        ours: bool,
    },
    PlaceOrder {
        lower: bool,
    },
    Capture(i64),
    Refund(i64),
    CancelAuthorization,
    CancelOrder,
    Disable,
    Release,
    Extend,
    References,
    /// Shipping info for the n-th capture id the checkout knows (or an unknown one).
    ShippingInfo(u8),
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        8 => Just(Action::Deliver),
        2 => Just(Action::DeliverThenLose),
        1 => Just(Action::NotSent),
        2 => prop_oneof![Just(429u16), Just(500), Just(503), Just(400), Just(401), Just(404), Just(403), Just(409), Just(422)].prop_map(Action::Fault),
        1 => Just(Action::LagRead),
        1 => prop_oneof![Just(302u16), Just(502), Just(600), Just(835), Just(999)].prop_map(Action::Mangled),
        1 => proptest::collection::vec(any::<u8>(), 0..24).prop_map(Action::Garbage),
        3 => (0u32..600).prop_map(Action::Advance),
        1 => (1u32..60).prop_map(Action::Jump),
        3 => any::<u8>().prop_map(Action::Consumer),
        1 => (any::<bool>(), 1i64..13_000).prop_map(|(refund, amount)| Action::Portal { refund, amount }),
        1 => (any::<bool>(), 0u8..3).prop_map(|(forged, event)| Action::Callback { forged, event }),
        1 => any::<bool>().prop_map(|ours| Action::Redirect { ours }),
        2 => any::<bool>().prop_map(|lower| Action::PlaceOrder { lower }),
        2 => (-100i64..14_000).prop_map(Action::Capture),
        1 => (-100i64..14_000).prop_map(Action::Refund),
        1 => Just(Action::CancelAuthorization),
        1 => Just(Action::CancelOrder),
        1 => Just(Action::Disable),
        1 => Just(Action::Release),
        1 => Just(Action::Extend),
        1 => Just(Action::References),
        1 => any::<u8>().prop_map(Action::ShippingInfo),
    ]
}

fn mode() -> impl Strategy<Value = PlaceOrderMode> {
    prop_oneof![
        Just(PlaceOrderMode::None),
        Just(PlaceOrderMode::PlaceOrder),
        Just(PlaceOrderMode::CaptureOrder)
    ]
}

/// The live checkout and its twin, restored from a snapshot after every step.
struct Pair {
    live: Checkout,
    twin: Checkout,
    trace_live: Vec<String>,
    trace_twin: Vec<String>,
    pending: Option<(RequestId, Request<Vec<u8>>)>,
    pending_twin: Option<RequestId>,
    sent_at: i64,
}

impl Pair {
    fn apply(&mut self, f: impl Fn(&mut Checkout, &mut Vec<String>)) {
        f(&mut self.live, &mut self.trace_live);
        f(&mut self.twin, &mut self.trace_twin);
    }

    fn drain(&mut self, now: i64) {
        for (c, trace) in [
            (&mut self.live, &mut self.trace_live),
            (&mut self.twin, &mut self.trace_twin),
        ] {
            while let Some(e) = c.poll_event() {
                trace.push(format!("{e:?}"));
            }
        }
        if self.pending.is_none() {
            if let Some((id, req)) = self.live.poll_request() {
                self.trace_live.push(scenario::render_request(&req));
                self.pending = Some((id, req));
                self.sent_at = now;
            }
            if let Some((id, req)) = self.twin.poll_request() {
                self.trace_twin.push(scenario::render_request(&req));
                self.pending_twin = Some(id);
            }
        }
    }

    fn restore_twin(&mut self) {
        let snap = self.twin.snapshot();
        let restored = Checkout::restore(api(), &snap).expect("snapshot restores");
        assert_eq!(restored.snapshot(), snap, "snapshot round-trips");
        self.twin = restored;
    }
}

fn run(mode: PlaceOrderMode, actions: Vec<Action>) -> Result<State, TestCaseError> {
    let cfg: CheckoutConfig = config(mode.clone());
    let amount = cfg.session.order_amount;
    let mut now: i64 = 0;
    let live = Checkout::new(api(), cfg.clone(), ts(0)).expect("valid");
    let twin = Checkout::new(api(), cfg, ts(0)).expect("valid");
    let mut p = Pair {
        live,
        twin,
        trace_live: vec![],
        trace_twin: vec![],
        pending: None,
        pending_twin: None,
        sent_at: 0,
    };
    let mut k = Klarna::default();
    let mut terminal_state: Option<(State, Option<Deadline>)> = None;
    let mut secret = String::new();
    // What the merchant asked the checkout to capture (refund): Klarna must never execute more
    // through the API, however answers are lost, refused or lag (money moves exactly once).
    let (mut asked_captures, mut asked_refunds) = (0i64, 0i64);
    // The other OM writes the merchant asked for (release, extend, references, shipping):
    // Klarna executes each at most once (one key each, replayed, never re-keyed).
    let mut asked_writes = (0u32, 0u32, 0u32, 0u32);
    // A 404 injected on the session itself (Klarna says it is gone): the checkout may give up
    // on a session Klarna in truth still has.
    let mut session_refused_404 = false;
    p.drain(now);
    for a in actions {
        let t = ts(now);
        let trace_before = p.trace_live.len();
        // A money-moving write that Klarna processed but answered with a status outside
        // 2xx/4xx: the checkout must not report it failed (the merchant would ask again).
        let mangled_write = matches!(a, Action::Mangled(_))
            && p.pending.as_ref().is_some_and(|(_, r)| {
                matches!(*r.method(), Method::POST | Method::PATCH)
                    && [
                        "/captures",
                        "/refunds",
                        "/order",
                        "/release-remaining-authorization",
                        "/extend-authorization-time",
                        "/merchant-references",
                        "/shipping-info",
                    ]
                    .iter()
                    .any(|end| r.uri().path().ends_with(end))
            });
        match a {
            Action::Deliver
            | Action::DeliverThenLose
            | Action::NotSent
            | Action::Fault(_)
            | Action::Mangled(_)
            | Action::Garbage(_) => {
                let Some((id, req)) = p.pending.take() else {
                    continue;
                };
                let sent_at = p.sent_at;
                let twin_id = p
                    .pending_twin
                    .take()
                    .expect("the twin has the same request");
                // A read answered from before the last write (the lag is used up by it).
                let lagging =
                    k.lag_next_read && k.before_write.is_some_and(|lag| now < lag.at + 3_600);
                let response = match &a {
                    Action::Deliver | Action::DeliverThenLose => {
                        Some(k.handle(&req, sent_at, now, &mode, amount))
                    }
                    Action::Fault(s) => {
                        if *s == 404 && req.uri().path() == "/hpp/v1/sessions/hpp-0001" {
                            session_refused_404 = true;
                        }
                        Some(respond(*s, json!({"error_code": "FAULT"})))
                    }
                    Action::Mangled(s) => {
                        let mut r = k.handle(&req, sent_at, now, &mode, amount);
                        *r.status_mut() =
                            klarna_hpp_core::http::StatusCode::from_u16(*s).expect("a status");
                        Some(r)
                    }
                    Action::Garbage(bytes) => {
                        let mut r = Response::new(bytes.clone());
                        *r.status_mut() = klarna_hpp_core::http::StatusCode::OK;
                        Some(r)
                    }
                    _ => None,
                };
                let lost = matches!(a, Action::DeliverThenLose);
                // An order read the checkout receives shows it every capture made so far
                // (unless it lags).
                if matches!(a, Action::Deliver)
                    && !lagging
                    && req.method() == Method::GET
                    && req.uri().path() == "/ordermanagement/v1/orders/om-0001"
                    && response.as_ref().is_some_and(|r| r.status() == 200)
                {
                    k.unseen_captured = 0;
                    k.unseen_refunded = 0;
                }
                match response {
                    Some(r) if !lost => {
                        let r2 = r.clone();
                        p.live.handle_response(id, r, t).expect("in flight");
                        p.twin.handle_response(twin_id, r2, t).expect("in flight");
                    }
                    Some(_) => {
                        p.live
                            .handle_transport_error(id, TransportFailure::OutcomeUnknown, t)
                            .expect("in flight");
                        p.twin
                            .handle_transport_error(twin_id, TransportFailure::OutcomeUnknown, t)
                            .expect("in flight");
                    }
                    None => {
                        p.live
                            .handle_transport_error(id, TransportFailure::NotSent, t)
                            .expect("in flight");
                        p.twin
                            .handle_transport_error(twin_id, TransportFailure::NotSent, t)
                            .expect("in flight");
                    }
                }
            }
            Action::Advance(s) => {
                now += i64::from(s);
                let t = ts(now);
                p.apply(|c, _| c.handle_timeout(t));
            }
            Action::Jump(h) => {
                now += i64::from(h) * 3600;
                let t = ts(now);
                p.apply(|c, _| c.handle_timeout(t));
            }
            Action::Consumer(act) => k.consumer(act, now, &mode, amount),
            Action::LagRead => k.lag_next_read = true,
            Action::Portal { refund, amount } => k.portal(refund, amount, now),
            Action::Callback { forged, event } => {
                if secret.is_empty() {
                    if let Some(u) = p.live.status_update_url() {
                        secret = u.rsplit("kh_secret=").next().unwrap_or_default().to_owned();
                    }
                }
                let s = if forged {
                    "0000".to_owned()
                } else {
                    secret.clone()
                };
                let uri = format!("/cb?sid=hpp-0001&kh_secret={s}");
                k.event_seq += 1;
                let body = serde_json::to_vec(
                    &json!({"event_id": format!("ev-{event}"), "session": k.session_body()}),
                )
                .expect("json");
                let r1 = p.live.handle_callback(&uri, &body, t);
                let r2 = p.twin.handle_callback(&uri, &body, t);
                prop_assert_eq!(&r1, &r2);
                if forged {
                    prop_assert!(r1.is_err(), "a forged callback was accepted");
                }
            }
            Action::Redirect { ours } => {
                let sid = if ours { "hpp-0001" } else { "hpp-9" };
                let url = format!("https://shop.example/klarna/cancel?sid={sid}");
                let r1 = p.live.handle_redirect(&url, t);
                let r2 = p.twin.handle_redirect(&url, t);
                prop_assert_eq!(r1, r2);
            }
            Action::PlaceOrder { lower } => {
                let body = lower.then(|| {
                    let mut b =
                        klarna_hpp_core::kp::CreateOrderRequest::from_session(&scenario::session());
                    b.order_lines.truncate(1);
                    b.order_amount = b.order_lines[0].total_amount;
                    b.order_tax_amount = Some(b.order_lines[0].total_tax_amount.unwrap_or(0));
                    b
                });
                let r1 = p.live.place_order(body.clone(), t);
                let r2 = p.twin.place_order(body, t);
                prop_assert_eq!(r1, r2);
            }
            Action::Capture(a) => {
                let r1 = p.live.capture(Some(a), t);
                let r2 = p.twin.capture(Some(a), t);
                if r1.is_ok() {
                    asked_captures += a;
                }
                prop_assert_eq!(r1, r2);
            }
            Action::Refund(a) => {
                let r1 = p.live.refund(a, t);
                let r2 = p.twin.refund(a, t);
                if r1.is_ok() {
                    asked_refunds += a;
                }
                prop_assert_eq!(r1, r2);
            }
            Action::CancelAuthorization => {
                let r1 = p.live.cancel_authorization(t);
                prop_assert_eq!(r1, p.twin.cancel_authorization(t));
            }
            Action::CancelOrder => {
                let r1 = p.live.cancel_order(t);
                prop_assert_eq!(r1, p.twin.cancel_order(t));
            }
            Action::Disable => {
                let r1 = p.live.disable(t);
                prop_assert_eq!(r1, p.twin.disable(t));
            }
            Action::Release => {
                let capturable = p.live.capturable_amount();
                let r1 = p.live.release_remaining_authorization(t);
                prop_assert_eq!(&r1, &p.twin.release_remaining_authorization(t));
                if r1.is_ok() {
                    asked_writes.0 += 1;
                    prop_assert_eq!(p.live.capturable_amount(), 0, "capturable after a release");
                }
                let _ = capturable;
            }
            Action::Extend => {
                let r1 = p.live.extend_authorization_time(t);
                prop_assert_eq!(&r1, &p.twin.extend_authorization_time(t));
                if r1.is_ok() {
                    asked_writes.1 += 1;
                }
            }
            Action::References => {
                let refs =
                    || klarna_hpp_core::om::MerchantReferences::new().merchant_reference1("ref-1");
                let r1 = p.live.update_merchant_references(refs(), t);
                prop_assert_eq!(&r1, &p.twin.update_merchant_references(refs(), t));
                if r1.is_ok() {
                    asked_writes.2 += 1;
                }
            }
            Action::ShippingInfo(n) => {
                let ids = p.live.capture_ids().to_vec();
                prop_assert_eq!(&ids, &p.twin.capture_ids().to_vec());
                let id = ids
                    .get(usize::from(n) % (ids.len() + 1))
                    .cloned()
                    .unwrap_or_else(|| "cap-unknown".into());
                let info = || vec![klarna_hpp_core::om::ShippingInfo::new().tracking_number("T")];
                let r1 = p.live.add_shipping_info(&id, info(), t);
                prop_assert_eq!(&r1, &p.twin.add_shipping_info(&id, info(), t));
                if r1.is_ok() {
                    asked_writes.3 += 1;
                } else if !ids.contains(&id) && !p.live.state().is_terminal() {
                    prop_assert!(
                        matches!(
                            r1,
                            Err(klarna_hpp_core::checkout::CommandError::UnknownCapture { .. })
                                | Err(klarna_hpp_core::checkout::CommandError::NotAllowed { .. })
                        ),
                        "an unknown capture: {:?}",
                        r1
                    );
                }
            }
        }
        p.drain(now);
        p.restore_twin();

        // --- invariants ---
        if mangled_write {
            let failed = p.trace_live[trace_before..]
                .iter()
                .find(|l| l.starts_with("CallFailed"));
            prop_assert!(
                failed.is_none(),
                "a processed write answered with an odd status was reported failed: {:?}",
                failed
            );
        }
        let state = p.live.state();
        prop_assert_eq!(state, p.twin.state());
        prop_assert_eq!(
            &p.trace_live,
            &p.trace_twin,
            "snapshot/restore changed behaviour"
        );
        // Terminal states absorb, with one exception: expired at the HPP deadline, an
        // authentic callback gets one verifying read (retried while it fails), and a read
        // showing the consumer paid revives the checkout with the order or token.
        let late_read_allowed = |t: State, expired: Option<Deadline>| {
            t == State::Expired && expired == Some(Deadline::HppSession)
        };
        if let Some((t, expired)) = terminal_state {
            if state != t {
                prop_assert!(
                    late_read_allowed(t, expired)
                        && matches!(
                            state,
                            State::Authorized | State::OrderPlaced | State::Captured
                        )
                        && (k.order_at.is_some() || p.live.authorization_token().is_some()),
                    "a terminal state did not absorb: {:?} -> {:?}",
                    t,
                    state
                );
                terminal_state = None;
            } else if !late_read_allowed(t, expired) {
                prop_assert_eq!(
                    p.live.poll_timeout(),
                    None,
                    "a terminal state schedules nothing"
                );
            }
        } else if state.is_terminal() {
            terminal_state = Some((state, p.live.expired()));
        }
        let orders_placed = p
            .trace_live
            .iter()
            .filter(|l| l.starts_with("OrderPlaced"))
            .count();
        prop_assert!(orders_placed <= 1, "more than one OrderPlaced event");
        prop_assert!(k.violations.is_empty(), "Klarna saw: {:?}", k.violations);
        let withdrawn = |call: &str| -> i64 {
            p.trace_live
                .iter()
                .filter_map(|l| l.strip_prefix(&format!("Withdrawn {{ call: {call}, amount: ")))
                .filter_map(|r| r.split(',').next()?.trim().parse::<i64>().ok())
                .sum()
        };
        prop_assert!(
            k.api_captured <= asked_captures - withdrawn("Capture"),
            "Klarna captured {} through the API; the merchant asked for {} ({} withdrawn)",
            k.api_captured,
            asked_captures,
            withdrawn("Capture")
        );
        prop_assert!(
            k.api_refunded <= asked_refunds - withdrawn("Refund"),
            "Klarna refunded {} through the API; the merchant asked for {}",
            k.api_refunded,
            asked_refunds
        );
        // The checkout never walks away from a session the consumer can still pay (once it
        // handed out the link).
        let link_out = p
            .trace_live
            .iter()
            .any(|l| l.starts_with("ConsumerLinkReady"));
        if p.live.expired() == Some(Deadline::HppSession) && !session_refused_404 && link_out {
            let payable = k.hpp_live(now)
                && matches!(
                    k.status.as_str(),
                    "WAITING" | "IN_PROGRESS" | "BACK" | "FAILED"
                );
            prop_assert!(
                !payable,
                "expired while the session is payable ({})",
                k.status
            );
        }
        prop_assert!(k.captured <= k.order_amount.max(0) || k.order_at.is_none());
        prop_assert!(
            k.releases <= asked_writes.0
                && k.extensions <= asked_writes.1
                && k.reference_updates <= asked_writes.2
                && k.shipping_infos <= asked_writes.3,
            "Klarna executed more OM writes than asked for: {:?} of {:?}",
            (
                k.releases,
                k.extensions,
                k.reference_updates,
                k.shipping_infos
            ),
            asked_writes
        );
        // Once the checkout reported the release, nothing is capturable. (Before, a release
        // whose answer was lost may have committed unknown to it: a capture asked for then waits
        // behind the order read that follows, and Klarna's model above flags any capture sent
        // on top of a release.)
        let release_reported = p
            .trace_live
            .iter()
            .any(|l| l == "OrderWritten { call: ReleaseRemainingAuthorization }");
        if release_reported && !state.is_terminal() {
            prop_assert_eq!(
                p.live.capturable_amount(),
                0,
                "capturable after the release"
            );
        }
        let d = p.live.deadlines();
        if let (Some(h), Some(kp)) = (d.hpp_session, d.kp_session) {
            prop_assert!(
                h <= kp.saturating_sub(std::time::Duration::from_secs(3600)),
                "HPP deadline after KP − 1 h"
            );
        }
        // Reference model: what the checkout believes never exceeds what Klarna did.
        prop_assert!(
            p.live.captured_amount() <= k.captured,
            "checkout counts a capture Klarna never made"
        );
        prop_assert!(p.live.refunded_amount() <= k.refunded);
        if p.live.order_id().is_some() {
            prop_assert!(
                k.order_at.is_some(),
                "checkout has an order Klarna never created"
            );
        }
        if matches!(state, State::Captured) {
            prop_assert_eq!(
                k.captured,
                k.order_amount,
                "Captured but Klarna has capturable amount left"
            );
        }
    }
    // Klarna captured exactly what the checkout was told, once everything settled.
    let captured_events: i64 = p
        .trace_live
        .iter()
        .filter_map(|l| {
            l.strip_prefix("Captured { ")
                .and_then(|r| r.split("amount: ").nth(1))
                .and_then(|r| r.split(',').next())
                .and_then(|n| n.trim().parse::<i64>().ok())
        })
        .sum();
    prop_assert!(captured_events <= k.captured);
    let _ = Event::Disabled;
    Ok(p.live.state())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, max_shrink_iters: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn checkout_never_breaks_its_invariants(mode in mode(), actions in proptest::collection::vec(action(), 1..120)) {
        let _final_state = run(mode, actions)?;
    }
}

/// A long happy path through the same harness, so the property's machinery is itself checked to
/// reach the deep states (order placed and captured), not only early failures.
#[test]
fn harness_reaches_captured() {
    let mut actions = vec![
        Action::Deliver,
        Action::Deliver,
        Action::Consumer(0),
        Action::Consumer(4),
        Action::Advance(3),
        Action::Deliver,
    ];
    actions.extend([
        Action::PlaceOrder { lower: false },
        Action::Deliver,
        Action::Deliver,
        Action::Capture(12_000),
        Action::Deliver,
    ]);
    let state = run(PlaceOrderMode::None, actions).expect("invariants hold");
    assert_eq!(state, State::Captured);
}
