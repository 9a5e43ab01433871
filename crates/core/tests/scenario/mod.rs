//! A scenario builder for checkout tests: canned Klarna responses, a virtual clock, and a
//! transcript of every request, response and event, for exact insta snapshots.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use klarna_hpp_core::checkout::{
    Checkout, CheckoutConfig, Event, RequestId, State, TransportFailure,
};
use klarna_hpp_core::hpp::{MerchantUrls, Options, PlaceOrderMode};
use klarna_hpp_core::http::{Request, Response};
use klarna_hpp_core::kp::SessionCreate;
use klarna_hpp_core::model::{OrderLine, OrderLineType};
use klarna_hpp_core::template::UrlKind;
use klarna_hpp_core::{Api, BaseUrl, Credentials, Environment, Region, Timestamp};
use serde_json::{json, Value};

pub const START: i64 = 1_795_000_000; // 2026-11-17T...Z, a fixed instant

pub fn api() -> Api {
    Api::new(
        BaseUrl::klarna(Region::Eu, Environment::Playground),
        Credentials::new("DemoMerchant", "DemoPassword"),
    )
}

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

pub fn urls() -> MerchantUrls {
    MerchantUrls::default()
        .with(
            UrlKind::Success,
            "https://shop.example/klarna/success?sid={{session_id}}&token={{authorization_token}}",
        )
        .with(
            UrlKind::Cancel,
            "https://shop.example/klarna/cancel?sid={{session_id}}",
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

pub fn config(mode: PlaceOrderMode) -> CheckoutConfig {
    let mut urls = urls();
    if mode != PlaceOrderMode::None {
        urls = urls.with(
            UrlKind::Success,
            "https://shop.example/klarna/success?sid={{session_id}}&order={{order_id}}",
        );
    }
    let options = Options::default().with_place_order_mode(mode);
    CheckoutConfig::new("chk-1001", "a-seed-of-at-least-16-bytes", session())
        .merchant_urls(urls)
        .options(options)
}

pub fn ts(offset_secs: i64) -> Timestamp {
    Timestamp::from_unix_seconds(START + offset_secs).expect("in range")
}

pub fn iso(offset_secs: i64) -> String {
    ts(offset_secs).to_string()
}

/// The KP create-session answer.
pub fn kp_created() -> Response<Vec<u8>> {
    respond(
        200,
        json!({"session_id": "kp-0001", "client_token": "eyJhbGciOiJub25lIn0.e30.", "payment_method_categories": [{"identifier": "pay_later", "name": "Pay later"}]}),
    )
}

/// The HPP create-session answer; expires 47 h after START.
pub fn hpp_created() -> Response<Vec<u8>> {
    respond(
        201,
        json!({
            "session_id": "hpp-0001",
            "redirect_url": "https://pay.playground.klarna.com/eu/hpp/payments/abc",
            "qr_code_url": "https://pay.playground.klarna.com/eu/hpp/payments/hpp-0001/qr",
            "session_url": "https://api.playground.klarna.com/hpp/v1/sessions/hpp-0001",
            "distribution_url": "https://api.playground.klarna.com/hpp/v1/sessions/hpp-0001/distribution",
            "expires_at": iso(47 * 3600),
        }),
    )
}

/// An HPP read with `status` updated at `at` (offset seconds) and extra fields.
pub fn hpp_status(status: &str, at: i64, extra: Value) -> Response<Vec<u8>> {
    let mut body = json!({"session_id": "hpp-0001", "status": status, "updated_at": iso(at), "expires_at": iso(47 * 3600)});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    respond(200, body)
}

pub fn kp_order() -> Response<Vec<u8>> {
    respond(
        200,
        json!({"order_id": "om-0001", "fraud_status": "ACCEPTED", "authorized_payment_method": "invoice"}),
    )
}

pub fn om_order(status: &str, amount: i64, captured: i64, expires_in: i64) -> Response<Vec<u8>> {
    respond(
        200,
        json!({
            "order_id": "om-0001", "status": status, "fraud_status": "ACCEPTED",
            "order_amount": amount, "original_order_amount": amount, "captured_amount": captured,
            "refunded_amount": 0, "remaining_authorized_amount": amount - captured,
            "purchase_country": "se", "purchase_currency": "sek", "klarna_reference": "K4MADNY",
            "expires_at": iso(expires_in),
        }),
    )
}

pub fn created_with(header: &'static str, id: &str, path: &str) -> Response<Vec<u8>> {
    let mut r = Response::new(Vec::new());
    *r.status_mut() = klarna_hpp_core::http::StatusCode::CREATED;
    r.headers_mut().insert(header, id.parse().expect("header"));
    r.headers_mut().insert(
        "location",
        format!("https://api.playground.klarna.com/ordermanagement/v1/orders/om-0001/{path}/{id}")
            .parse()
            .expect("header"),
    );
    r
}

pub fn no_content() -> Response<Vec<u8>> {
    let mut r = Response::new(Vec::new());
    *r.status_mut() = klarna_hpp_core::http::StatusCode::NO_CONTENT;
    r
}

pub fn error(status: u16, code: &str, message: &str) -> Response<Vec<u8>> {
    respond(
        status,
        json!({"error_code": code, "error_messages": [message], "correlation_id": "corr-1"}),
    )
}

pub fn respond(status: u16, body: Value) -> Response<Vec<u8>> {
    let mut r = Response::new(serde_json::to_vec(&body).expect("json"));
    *r.status_mut() = klarna_hpp_core::http::StatusCode::from_u16(status).expect("status");
    r.headers_mut()
        .insert("content-type", "application/json".parse().expect("header"));
    r
}

/// A checkout under test with a virtual clock and a transcript.
pub struct Scenario {
    pub checkout: Checkout,
    pub now: i64,
    pub log: Vec<String>,
    pub pending: Option<(RequestId, Request<Vec<u8>>)>,
}

impl Scenario {
    pub fn start(config: CheckoutConfig) -> Self {
        let checkout = Checkout::new(api(), config, ts(0)).expect("valid config");
        let mut s = Self {
            checkout,
            now: 0,
            log: Vec::new(),
            pending: None,
        };
        s.drain();
        s
    }

    pub fn ts(&self) -> Timestamp {
        ts(self.now)
    }

    /// Drains events into the log and takes the next request (logged).
    pub fn drain(&mut self) {
        while let Some(e) = self.checkout.poll_event() {
            self.log.push(format!("  event {}", describe(&e)));
        }
        if self.pending.is_none() {
            if let Some((id, req)) = self.checkout.poll_request() {
                self.log.push(format!("→ {}", render_request(&req)));
                self.pending = Some((id, req));
            }
        }
    }

    /// The request waiting for an answer.
    pub fn request(&self) -> &Request<Vec<u8>> {
        &self.pending.as_ref().expect("a request is pending").1
    }

    pub fn expect_request(&self, method: &str, path_end: &str) {
        let r = self.request();
        assert_eq!(r.method().as_str(), method, "{}", r.uri());
        assert!(
            r.uri().path().ends_with(path_end),
            "expected …{path_end}, got {}",
            r.uri()
        );
    }

    pub fn reply(&mut self, response: Response<Vec<u8>>) {
        let (id, _) = self.pending.take().expect("a request is pending");
        self.log.push(format!("← {}", response.status().as_u16()));
        self.checkout
            .handle_response(id, response, self.ts())
            .expect("in flight");
        self.drain();
        self.log_state();
    }

    pub fn fail(&mut self, failure: TransportFailure) {
        let (id, _) = self.pending.take().expect("a request is pending");
        self.log.push(format!("← transport {failure:?}"));
        self.checkout
            .handle_transport_error(id, failure, self.ts())
            .expect("in flight");
        self.drain();
        self.log_state();
    }

    /// Advances the clock to the next timeout (or by `max`, whichever is first) and fires it.
    pub fn wait(&mut self) {
        let at = self
            .checkout
            .poll_timeout()
            .expect("something is scheduled");
        let secs = (at.unix_millis() - ts(0).unix_millis() + 999) / 1000;
        self.now = self.now.max(secs);
        self.log.push(format!("  … t+{}s", self.now));
        self.checkout.handle_timeout(self.ts());
        self.drain();
    }

    pub fn advance(&mut self, secs: i64) {
        self.now += secs;
        self.log.push(format!("  … t+{}s", self.now));
        self.checkout.handle_timeout(self.ts());
        self.drain();
        self.log_state();
    }

    pub fn command(
        &mut self,
        name: &str,
        f: impl FnOnce(&mut Checkout, Timestamp) -> Result<(), klarna_hpp_core::checkout::CommandError>,
    ) {
        let now = self.ts();
        let r = f(&mut self.checkout, now);
        self.log.push(format!(
            "  command {name}: {}",
            match &r {
                Ok(()) => "ok".to_owned(),
                Err(e) => format!("refused: {e}"),
            }
        ));
        self.drain();
    }

    pub fn log_state(&mut self) {
        self.log
            .push(format!("  state {:?}", self.checkout.state()));
    }

    pub fn state(&self) -> State {
        self.checkout.state()
    }

    pub fn transcript(&self) -> String {
        self.log.join("\n")
    }

    /// Polls until the next read is due and answers it.
    pub fn poll_answer(&mut self, response: Response<Vec<u8>>) {
        if self.pending.is_none() {
            self.wait();
        }
        self.expect_request("GET", "/hpp/v1/sessions/hpp-0001");
        self.reply(response);
    }

    /// Runs creation up to AwaitingConsumer.
    pub fn created(config: CheckoutConfig) -> Self {
        let mut s = Self::start(config);
        s.expect_request("POST", "/payments/v1/sessions");
        s.reply(kp_created());
        s.expect_request("POST", "/hpp/v1/sessions");
        s.reply(hpp_created());
        assert_eq!(s.state(), State::AwaitingConsumer);
        s
    }

    /// PLACE_ORDER: HPP placed order `om-0001` for the whole session; its first order read
    /// is in flight.
    #[allow(dead_code)] // not every test file that includes this module uses it
    pub fn placed_by_hpp() -> Self {
        let mut s = Self::created(config(PlaceOrderMode::PlaceOrder));
        s.poll_answer(hpp_status("COMPLETED", 40, json!({"order_id": "om-0001"})));
        s.expect_request("GET", "/ordermanagement/v1/orders/om-0001");
        s
    }
}

pub fn describe(e: &Event) -> String {
    format!("{e:?}")
}

/// Method, URI, sorted headers (Authorization shown, it is the fixed demo credential) and body.
pub fn render_request(r: &Request<Vec<u8>>) -> String {
    let mut headers: Vec<String> = r
        .headers()
        .iter()
        .filter(|(k, _)| k.as_str() != "user-agent")
        .map(|(k, v)| format!("{k}: {}", v.to_str().unwrap_or("<bin>")))
        .collect();
    headers.sort();
    let body = if r.body().is_empty() {
        String::new()
    } else {
        format!("\n    {}", String::from_utf8_lossy(r.body()))
    };
    format!(
        "{} {} [{}]{}",
        r.method(),
        r.uri(),
        headers.join(", "),
        body
    )
}

pub fn minutes(m: u64) -> Duration {
    Duration::from_secs(m * 60)
}
