//! Klarna as the `checkout` target sees it: plausible answers to whatever the checkout sends
//! (`Body::Right`), a fixed list of canned answers, and the purchase every checkout starts with.

use std::collections::BTreeMap;
use std::time::Duration;

use klarna_hpp_core::checkout::CheckoutConfig;
use klarna_hpp_core::hpp::{MerchantUrls, Options, PlaceOrderMode};
use klarna_hpp_core::http::{Method, Request, Response, StatusCode};
use klarna_hpp_core::kp::SessionCreate;
use klarna_hpp_core::model::{OrderLine, OrderLineType};
use klarna_hpp_core::template::UrlKind;
use klarna_hpp_core::{Api, BaseUrl, Credentials, Environment, Region, Timestamp};
use serde_json::{json, Value};

use super::input::{Mode, Setup};

/// The instant every checkout starts at (2026-11-17).
pub const START: i64 = 1_795_000_000;
/// The HPP session id Klarna hands out.
pub const HPP_ID: &str = "hpp-0001";
/// The authorization token Klarna hands out.
pub const TOKEN: &str = "tok-0001";
/// The order id Klarna hands out.
pub const ORDER_ID: &str = "om-0001";

const HOUR: u64 = 3600;
const DAY: u64 = 24 * HOUR;

/// The API every checkout talks to.
pub fn api() -> Api {
    Api::new(
        BaseUrl::klarna(Region::Eu, Environment::Playground),
        Credentials::new("DemoMerchant", "DemoPassword"),
    )
}

/// The purchase: 12 000 in two lines.
pub fn session() -> SessionCreate {
    let lines = vec![
        OrderLine::new("Running shoes", 1, 10_000)
            .kind(OrderLineType::Physical)
            .reference("SHOE-42")
            .tax_rate(2500),
        OrderLine::new("Socks", 2, 1_000)
            .kind(OrderLineType::Physical)
            .reference("SOCK-1")
            .tax_rate(2500),
    ];
    let mut s = SessionCreate::new("SE", "SEK", lines);
    s.locale = Some("sv-SE".into());
    s.merchant_reference1 = Some("order-1001".into());
    s
}

/// The merchant URL templates (success names the token in mode NONE, the order otherwise).
pub fn urls(mode: Mode) -> MerchantUrls {
    let success = match mode {
        Mode::None => {
            "https://shop.example/klarna/success?sid={{session_id}}&token={{authorization_token}}"
        }
        _ => "https://shop.example/klarna/success?sid={{session_id}}&order={{order_id}}",
    };
    MerchantUrls::default()
        .with(UrlKind::Success, success)
        .with(
            UrlKind::Cancel,
            "https://shop.example/klarna/cancel?sid={{session_id}}",
        )
        .with(
            UrlKind::Back,
            "https://shop.example/klarna/back?sid={{session_id}}",
        )
        .with(
            UrlKind::Failure,
            "https://shop.example/klarna/failure?sid={{session_id}}",
        )
        .with(
            UrlKind::Error,
            "https://shop.example/klarna/error?sid={{session_id}}",
        )
        .with(
            UrlKind::StatusUpdate,
            "https://shop.example/klarna/callback",
        )
}

/// The checkout configuration of `setup`.
pub fn config(setup: &Setup) -> CheckoutConfig {
    let mode = match setup.mode {
        Mode::None => PlaceOrderMode::None,
        Mode::PlaceOrder => PlaceOrderMode::PlaceOrder,
        Mode::CaptureOrder => PlaceOrderMode::CaptureOrder,
    };
    let mut config = CheckoutConfig::new("chk-1001", "a-seed-of-at-least-16-bytes", session())
        .merchant_urls(urls(setup.mode))
        .options(Options::default().with_place_order_mode(mode))
        .safety_margin(Duration::from_secs(60 * u64::from(setup.margin_minutes)));
    config.retry.max_attempts = u32::from(setup.max_attempts);
    config
}

/// The start instant.
pub fn start() -> Timestamp {
    Timestamp::from_unix_seconds(START).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// A JSON response.
pub fn respond(status: u16, body: &Value) -> Response<Vec<u8>> {
    with_status(
        status,
        serde_json::to_vec(body).unwrap_or_default(),
        "application/json",
    )
}

/// A response with any body.
pub fn with_status(status: u16, body: Vec<u8>, content_type: &str) -> Response<Vec<u8>> {
    let mut r = Response::new(body);
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    if !content_type.is_empty() {
        if let Ok(v) = content_type.parse() {
            r.headers_mut().insert("content-type", v);
        }
    }
    r
}

fn created(id_header: &'static str, id: Option<&str>, collection: &str) -> Response<Vec<u8>> {
    let mut r = with_status(201, Vec::new(), "");
    if let Some(id) = id {
        if let Ok(v) = id.parse() {
            r.headers_mut().insert(id_header, v);
        }
        let location = format!(
            "https://api.playground.klarna.com/ordermanagement/v1/orders/{ORDER_ID}/{collection}/{id}"
        );
        if let Ok(v) = location.parse() {
            r.headers_mut().insert("location", v);
        }
    }
    r
}

fn error(status: u16, code: &str) -> Response<Vec<u8>> {
    respond(
        status,
        &json!({"error_code": code, "error_messages": [format!("{code} (fuzz)")], "correlation_id": "corr-1"}),
    )
}

/// The number of canned answers.
pub const CANNED: usize = 24;

/// Canned answer `index % CANNED`, times relative to `now`.
pub fn canned(index: u8, now: Timestamp) -> Response<Vec<u8>> {
    let at = |d: u64| now.saturating_add(Duration::from_secs(d)).to_string();
    let hpp = |status: &str, extra: Value| {
        let mut body = json!({"session_id": HPP_ID, "status": status, "updated_at": now.to_string(), "expires_at": at(47 * HOUR)});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        respond(200, &body)
    };
    let om = |status: &str, captured: i64| {
        respond(
            200,
            &json!({
                "order_id": ORDER_ID, "status": status, "fraud_status": "ACCEPTED",
                "order_amount": 12_000, "original_order_amount": 12_000, "captured_amount": captured,
                "refunded_amount": 0, "remaining_authorized_amount": 12_000 - captured,
                "purchase_country": "se", "purchase_currency": "sek", "klarna_reference": "K4MADNY",
                "expires_at": at(28 * DAY),
            }),
        )
    };
    match usize::from(index) % CANNED {
        0 => respond(
            200,
            &json!({"session_id": "kp-0001", "client_token": "eyJhbGciOiJub25lIn0.e30."}),
        ),
        1 => respond(
            201,
            &json!({"session_id": HPP_ID, "redirect_url": "https://pay.playground.klarna.com/eu/hpp/payments/abc", "expires_at": at(47 * HOUR)}),
        ),
        2 => hpp("WAITING", json!({})),
        3 => hpp("COMPLETED", json!({"authorization_token": TOKEN})),
        4 => hpp(
            "COMPLETED",
            json!({"order_id": ORDER_ID, "klarna_reference": "K4MADNY"}),
        ),
        5 => hpp("CANCELLED", json!({})),
        6 => respond(
            200,
            &json!({"session_id": "hpp-9999", "status": "COMPLETED", "authorization_token": TOKEN}),
        ),
        7 => respond(
            200,
            &json!({"order_id": ORDER_ID, "fraud_status": "ACCEPTED", "authorized_payment_method": "invoice"}),
        ),
        8 => om("AUTHORIZED", 0),
        9 => om("CAPTURED", 12_000),
        10 => om("CANCELLED", 0),
        11 => created("capture-id", Some("cap-1"), "captures"),
        12 => created("refund-id", Some("ref-1"), "refunds"),
        13 => with_status(204, Vec::new(), ""),
        14 => error(400, "BAD_VALUE"),
        15 => error(403, "REJECTED"),
        16 => error(404, "NOT_FOUND"),
        17 => error(409, "CONFLICT"),
        18 => {
            let mut r = error(429, "RATE_LIMIT");
            r.headers_mut()
                .insert("retry-after", "30".parse().expect("header"));
            r
        }
        19 => error(500, "INTERNAL_ERROR"),
        20 => {
            let mut r = error(503, "SERVICE_UNAVAILABLE");
            r.headers_mut()
                .insert("retry-after", "999999999".parse().expect("header"));
            r
        }
        21 => with_status(
            502,
            b"<html><body>Bad gateway</body></html>".to_vec(),
            "text/html",
        ),
        22 => with_status(200, Vec::new(), ""),
        _ => respond(200, &json!({})),
    }
}

/// What Klarna has done, as far as plausible answers need to be consistent.
#[derive(Debug, Clone)]
pub struct Klarna {
    mode: Mode,
    hpp_expires: Option<Timestamp>,
    placed_amount: Option<i64>,
    order_at: Option<Timestamp>,
    captured: i64,
    refunded: i64,
    captures: BTreeMap<String, i64>,
    refunds: BTreeMap<String, i64>,
    /// The largest `order_amount` and `captured_amount` an order read the checkout received
    /// showed. A canned or fuzzed read may show more than this Klarna holds, and the checkout
    /// trusts API reads: it may then ask for what the read promised.
    shown_order_amount: i64,
    shown_captured: i64,
}

/// The HPP statuses a plausible read shows (knob modulo their number; the last one is COMPLETED
/// without what the mode promises).
const STATUSES: [&str; 10] = [
    "WAITING",
    "IN_PROGRESS",
    "BACK",
    "FAILED",
    "ERROR",
    "MANUAL_ID_CHECK",
    "CANCELLED",
    "DISABLED",
    "COMPLETED",
    "COMPLETED",
];

impl Klarna {
    /// Klarna before the checkout's first request.
    pub fn new(mode: Mode) -> Self {
        Self {
            mode,
            hpp_expires: None,
            placed_amount: None,
            order_at: None,
            captured: 0,
            refunded: 0,
            captures: BTreeMap::new(),
            refunds: BTreeMap::new(),
            shown_order_amount: 0,
            shown_captured: 0,
        }
    }

    /// Notes what a successful order read handed to the checkout showed.
    pub fn order_read_shown(&mut self, body: &[u8]) {
        if let Ok(v) = serde_json::from_slice::<Value>(body) {
            let amount = |field: &str| v[field].as_i64().unwrap_or(0);
            self.shown_order_amount = self.shown_order_amount.max(amount("order_amount"));
            self.shown_captured = self.shown_captured.max(amount("captured_amount"));
        }
    }

    /// The most the checkout may believe authorized: what it placed (or the session), or more
    /// if a read showed more.
    pub fn believable_order_amount(&self) -> i64 {
        self.order_amount().max(self.shown_order_amount)
    }

    /// The most the checkout may count captured: the order, or more if a read showed more.
    pub fn believable_captured(&self) -> i64 {
        self.believable_order_amount().max(self.shown_captured)
    }

    fn order_amount(&self) -> i64 {
        self.placed_amount.unwrap_or(session().order_amount)
    }

    /// The session a read (or a callback) shows; `knob` picks status and variations.
    pub fn session_body(&mut self, knob: u8, sid: &str, now: Timestamp) -> Value {
        let status = STATUSES[usize::from(knob) % STATUSES.len()];
        let promised = usize::from(knob) % STATUSES.len() == 8;
        let variation = (knob / 10) % 4;
        let sid = if variation == 2 { "hpp-9999" } else { sid };
        let mut body = json!({"session_id": sid, "status": status});
        if variation != 1 {
            body["updated_at"] = json!(now.to_string());
        }
        if let Some(e) = self.hpp_expires {
            body["expires_at"] = json!(e.to_string());
        }
        if status == "COMPLETED" {
            let token = (self.mode == Mode::None) == promised;
            if token {
                body["authorization_token"] = json!(TOKEN);
            } else {
                body["order_id"] = json!(ORDER_ID);
                body["klarna_reference"] = json!("K4MADNY");
                if self.order_at.is_none() {
                    self.order_at = Some(now);
                    if self.mode == Mode::CaptureOrder {
                        self.captured = self.order_amount();
                    }
                }
            }
        }
        if variation == 3 {
            body["status"] = json!(status.to_lowercase());
            body["unknown_field"] = json!({"nested": [1, 2, 3]});
        }
        body
    }

    /// A plausible answer to `request`; `knob` picks among them.
    pub fn right(
        &mut self,
        request: &Request<Vec<u8>>,
        knob: u8,
        now: Timestamp,
    ) -> Response<Vec<u8>> {
        let at = |d: u64| now.saturating_add(Duration::from_secs(d));
        let path = request.uri().path().to_owned();
        let method = request.method().clone();
        let body: Value = serde_json::from_slice(request.body()).unwrap_or_default();
        let key = request
            .headers()
            .get("klarna-idempotency-key")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match (&method, segments.as_slice()) {
            (&Method::POST, ["payments", "v1", "sessions"]) => respond(
                200,
                &json!({"session_id": "kp-0001", "client_token": "eyJhbGciOiJub25lIn0.e30.", "payment_method_categories": [{"identifier": "pay_later", "name": "Pay later"}]}),
            ),
            (&Method::POST, ["hpp", "v1", "sessions"]) => {
                let expires = match knob % 4 {
                    0 => Some(at(47 * HOUR)),
                    1 => None,
                    2 => Some(at(49 * HOUR)),
                    _ => Some(at(HOUR / 2)),
                };
                self.hpp_expires = Some(expires.unwrap_or(at(48 * HOUR)));
                let mut body = json!({
                    "session_id": HPP_ID,
                    "redirect_url": "https://pay.playground.klarna.com/eu/hpp/payments/abc",
                    "qr_code_url": "https://pay.playground.klarna.com/eu/hpp/payments/hpp-0001/qr",
                });
                if let Some(e) = expires {
                    body["expires_at"] = json!(e.to_string());
                }
                respond(201, &body)
            }
            (&Method::GET, ["hpp", "v1", "sessions", sid]) => {
                let sid = (*sid).to_owned();
                let body = self.session_body(knob, &sid, now);
                respond(200, &body)
            }
            (&Method::POST, ["hpp", "v1", "sessions", _, "distribution"]) => {
                respond(201, &json!({}))
            }
            (&Method::DELETE, ["hpp", "v1", "sessions", _]) => with_status(204, Vec::new(), ""),
            (&Method::POST, ["payments", "v1", "authorizations", _, "order"]) => {
                if self.placed_amount.is_none() {
                    self.placed_amount = body["order_amount"].as_i64();
                    self.order_at = Some(now);
                }
                let fraud = ["ACCEPTED", "PENDING", "REJECTED"][usize::from(knob) % 3];
                respond(
                    200,
                    &json!({"order_id": ORDER_ID, "fraud_status": fraud, "redirect_url": "https://shop.example/thanks"}),
                )
            }
            (&Method::DELETE, ["payments", "v1", "authorizations", _]) => {
                with_status(204, Vec::new(), "")
            }
            (&Method::GET, ["ordermanagement", "v1", "orders", id]) => {
                let amount = self.order_amount();
                let status = if knob % 4 == 3 {
                    ["CANCELLED", "EXPIRED", "CLOSED"][usize::from(knob / 4) % 3]
                } else if self.captured == 0 {
                    "AUTHORIZED"
                } else if self.captured < amount {
                    "PART_CAPTURED"
                } else {
                    "CAPTURED"
                };
                let expires = match (knob / 16) % 3 {
                    0 => self
                        .order_at
                        .unwrap_or(now)
                        .saturating_add(Duration::from_secs(28 * DAY)),
                    1 => at(HOUR),
                    _ => now.saturating_sub(Duration::from_secs(HOUR)),
                };
                respond(
                    200,
                    &json!({
                        "order_id": id, "status": status, "fraud_status": "ACCEPTED",
                        "order_amount": amount, "original_order_amount": amount,
                        "captured_amount": self.captured, "refunded_amount": self.refunded,
                        "remaining_authorized_amount": (amount - self.captured).max(0),
                        "purchase_country": "se", "purchase_currency": "sek",
                        "klarna_reference": "K4MADNY", "expires_at": expires.to_string(),
                    }),
                )
            }
            (&Method::POST, ["ordermanagement", "v1", "orders", _, "captures"]) => {
                let n = self.captures.len() + 1;
                let amount = body["captured_amount"].as_i64().unwrap_or(0);
                if !self.captures.contains_key(&key) {
                    // What Klarna refuses, the checkout must never ask for: it knows every
                    // capture it sent (and that CAPTURE_ORDER captures the whole order).
                    assert!(
                        self.captured.saturating_add(amount) <= self.believable_order_amount(),
                        "a capture of {amount} on top of {} exceeds the order amount {}",
                        self.captured,
                        self.believable_order_amount()
                    );
                    self.captured = self.captured.saturating_add(amount);
                    self.captures.insert(key, amount);
                }
                let id = format!("cap-{n}");
                created(
                    "capture-id",
                    (knob % 4 != 3).then_some(id.as_str()),
                    "captures",
                )
            }
            (&Method::POST, ["ordermanagement", "v1", "orders", _, "refunds"]) => {
                let n = self.refunds.len() + 1;
                let amount = body["refunded_amount"].as_i64().unwrap_or(0);
                if !self.refunds.contains_key(&key) {
                    self.refunded = self.refunded.saturating_add(amount);
                    self.refunds.insert(key, amount);
                }
                let id = format!("ref-{n}");
                created(
                    "refund-id",
                    (knob % 4 != 3).then_some(id.as_str()),
                    "refunds",
                )
            }
            (&Method::POST, ["ordermanagement", "v1", "orders", _, "cancel"]) => {
                with_status(204, Vec::new(), "")
            }
            // Order Management's writes that move no amount: done (or, by the knob, refused).
            (
                &Method::POST,
                ["ordermanagement", "v1", "orders", _, "release-remaining-authorization" | "extend-authorization-time"],
            )
            | (&Method::PATCH, ["ordermanagement", "v1", "orders", _, "merchant-references"])
            | (
                &Method::POST,
                ["ordermanagement", "v1", "orders", _, "captures", _, "shipping-info"],
            ) => {
                if knob % 5 == 4 {
                    error(403, "NOT_ALLOWED")
                } else {
                    with_status(204, Vec::new(), "")
                }
            }
            _ => error(404, "NOT_FOUND"),
        }
    }
}
