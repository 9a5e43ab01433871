//! Whole checkouts per second through the blocking adapter, next to a hand-written ureq loop
//! sending the same requests, against one in-process emulator. Goal: the adapter within 0.95x of
//! the hand-written loop.
//!
//! A checkout is mode NONE: create the KP session, create the HPP session, the consumer pays
//! (in-process, right after `ConsumerLinkReady`), read the HPP session (COMPLETED), place the
//! order, read the OM order, capture the full amount: six HTTP requests.
//!
//! - `driver`: [`Driver`] + [`UreqTransport`] + a clock over the emulator's virtual clock (the
//!   first poll's 2 s wait advances it, no real sleeping). The merchant's code only reacts to
//!   events.
//! - `hand`: the requests of one recorded driver checkout (same method, URI, headers and body),
//!   with the ids of the current checkout (KP session, HPP session, authorization token, order)
//!   put back in and a fresh idempotency key on the capture, sent with `agent.run(req)` in
//!   sequence; it parses only the ids it needs with serde_json, and advances the emulator's
//!   clock by the same 2 s before its read. It encodes no JSON at all: the strictest baseline.
//! - `hand_serde`: the same loop, but building its four request bodies itself with serde_json
//!   from the merchant's data (the cart built per checkout, as the driver's merchant code does;
//!   the merchant URLs held once), as a merchant writing directly against Klarna's API would:
//!   the baseline for what the library replaces. Its bodies are byte-identical to the driver's.
//!
//! The emulator is reset (untimed) before every batch, so both sides see a small store.
//! First, interleaved rounds (each round runs every side, in a rotating order) print the medians
//! and the ratios;
//! then criterion measures each side on its own, and both sides once more without any I/O
//! (`checkout_no_io`: every request answered from memory with the recorded response, the
//! consumer step skipped), which isolates what the core and the adapter cost per checkout.
//!
//! Besides wall-clock throughput it reports the CPU time of the client's thread per checkout
//! (`/proc/thread-self/schedstat`), which other load on the machine disturbs less.
//!
//! Environment: `BENCH_ROUNDS` (default 30) and `BENCH_BATCH` (checkouts per side per round,
//! default 100) for the interleaved part; `BENCH_CRITERION=0` skips the criterion part;
//! `BENCH_ONLY=hand`, `BENCH_ONLY=hand_serde`, `BENCH_ONLY=driver` or `BENCH_ONLY=canned` (the
//! driver without I/O) runs one batch of one side and nothing else (for profiling).

use std::cell::{Cell, RefCell};
use std::hint::black_box;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use klarna_hpp_blocking::{Clock, Driver, Transport, TransportError, UreqTransport};
use klarna_hpp_core::checkout::{Checkout, CheckoutConfig, Event, Seed};
use klarna_hpp_core::hpp::{MerchantUrls, Options, PlaceOrderMode};
use klarna_hpp_core::http::{HeaderMap, Method, Request, Response, StatusCode};
use klarna_hpp_core::kp::{CreateOrderRequest, SessionCreate};
use klarna_hpp_core::model::{OrderLine, OrderLineType};
use klarna_hpp_core::template::UrlKind;
use klarna_hpp_core::{Api, BaseUrl, Credentials, Timestamp};
use klarna_hpp_sim::{Sim, SimConfig, SimHandle};
use serde::{Deserialize, Serialize};

/// The first HPP poll interval of the default `PollPolicy`: what the driver's clock advances
/// before its read; the hand-written loop advances the emulator by the same.
const POLL: Duration = Duration::from_secs(2);

// ----- the driver side -----

fn sim_now(sim: &SimHandle) -> Timestamp {
    Timestamp::from_offset_date_time(sim.now()).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The emulator's clock: waiting advances it (virtual time), as in `klarna-hpp demo`.
struct SimClock<'a>(&'a SimHandle);

impl Clock for SimClock<'_> {
    fn now(&self) -> Timestamp {
        sim_now(self.0)
    }

    fn sleep_until(&self, deadline: Timestamp) {
        let wait = deadline.duration_since(self.now());
        if wait > Duration::ZERO {
            self.0.advance(wait);
        }
    }
}

fn session() -> SessionCreate {
    let lines = vec![
        OrderLine::new("Trail running shoes", 1, 129_900)
            .kind(OrderLineType::Physical)
            .reference("SHOE-42")
            .tax_rate(2500),
        OrderLine::new("Merino socks", 2, 14_900)
            .kind(OrderLineType::Physical)
            .reference("SOCK-7")
            .tax_rate(2500),
        OrderLine::new("Shipping", 1, 4_900)
            .kind(OrderLineType::ShippingFee)
            .tax_rate(2500),
    ];
    let mut s = SessionCreate::new("SE", "SEK", lines);
    s.locale = Some("sv-SE".into());
    s.merchant_reference1 = Some("bench-order".into());
    s
}

/// The shop's return URLs (templates), as both merchant sides hold them: configuration.
const SUCCESS_URL: &str =
    "http://127.0.0.1:9/shop/success?sid={{session_id}}&token={{authorization_token}}";
const CANCEL_URL: &str = "http://127.0.0.1:9/shop/cancel?sid={{session_id}}";
const FAILURE_URL: &str = "http://127.0.0.1:9/shop/failure?sid={{session_id}}";
const ERROR_URL: &str = "http://127.0.0.1:9/shop/error?sid={{session_id}}";

fn config(checkout_id: &str) -> CheckoutConfig {
    // A merchant derives its seed's key and builds its URL settings once, at startup, and
    // clones them into every checkout.
    static SEED: LazyLock<Seed> = LazyLock::new(|| Seed::from("bench-seed-0123456789abcdef"));
    static URLS: LazyLock<MerchantUrls> = LazyLock::new(|| {
        MerchantUrls::default()
            .with(UrlKind::Success, SUCCESS_URL)
            .with(UrlKind::Cancel, CANCEL_URL)
            .with(UrlKind::Failure, FAILURE_URL)
            .with(UrlKind::Error, ERROR_URL)
    });
    CheckoutConfig::new(checkout_id, SEED.clone(), session())
        .merchant_urls(URLS.clone())
        .options(Options::default().with_place_order_mode(PlaceOrderMode::None))
}

/// The same agent settings as `UreqTransport::default()`.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_connect(Some(Duration::from_secs(10)))
        .timeout_per_call(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// A clock that jumps to every deadline it is asked to wait for (for the runs without I/O).
struct JumpClock {
    start: Timestamp,
    now: Cell<Timestamp>,
}

impl Clock for JumpClock {
    fn now(&self) -> Timestamp {
        self.now.get()
    }

    fn sleep_until(&self, deadline: Timestamp) {
        if deadline > self.now.get() {
            self.now.set(deadline);
        }
    }
}

/// One checkout through the driver; `Ok` once the capture succeeded. The consumer pays on the
/// emulator when there is one.
fn driver_checkout<T: Transport, C: Clock>(
    driver: &Driver<T, C>,
    api: &Api,
    sim: Option<&SimHandle>,
    checkout_id: &str,
) -> Result<(), String> {
    let mut co =
        Checkout::new(api.clone(), config(checkout_id), driver.now()).map_err(|e| e.to_string())?;
    while let Some(event) = driver.next_event(&mut co) {
        match event {
            Event::ConsumerLinkReady(link) => {
                if let Some(sim) = sim {
                    sim.consumer(&link.session_id)
                        .pay()
                        .map_err(|e| e.to_string())?;
                }
            }
            Event::Authorized { .. } => {
                co.place_order(None, driver.now())
                    .map_err(|e| e.to_string())?;
            }
            Event::OrderUpdated {
                captured_amount: 0, ..
            } => {
                co.capture(None, driver.now()).map_err(|e| e.to_string())?;
            }
            Event::Captured { .. } => return Ok(()),
            Event::CallFailed { .. } | Event::Failed { .. } => {
                return Err(format!("{event:?}"));
            }
            _ => {}
        }
    }
    Err(format!("stopped in {:?}", co.state()))
}

// ----- recording one driver checkout -----

/// A request as sent and the body of its response.
struct Exchange {
    method: Method,
    uri: String,
    headers: HeaderMap,
    body: Vec<u8>,
    status: StatusCode,
    response_headers: HeaderMap,
    response: Vec<u8>,
}

struct Recording<T> {
    inner: T,
    log: RefCell<Vec<Exchange>>,
}

impl<T: Transport> Transport for Recording<T> {
    fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        let method = request.method().clone();
        let uri = request.uri().to_string();
        let headers = request.headers().clone();
        let body = request.body().clone();
        let response = self.inner.send(request)?;
        self.log.borrow_mut().push(Exchange {
            method,
            uri,
            headers,
            body,
            status: response.status(),
            response_headers: response.headers().clone(),
            response: response.body().clone(),
        });
        Ok(response)
    }
}

/// Answers with the recorded responses, in order, without any I/O.
struct Canned {
    responses: Vec<(StatusCode, HeaderMap, Vec<u8>)>,
    next: Cell<usize>,
}

impl Canned {
    fn new(log: &[Exchange]) -> Self {
        Self {
            responses: log
                .iter()
                .map(|e| (e.status, e.response_headers.clone(), e.response.clone()))
                .collect(),
            next: Cell::new(0),
        }
    }

    fn next(&self) -> &(StatusCode, HeaderMap, Vec<u8>) {
        let i = self.next.get();
        self.next.set((i + 1) % self.responses.len());
        &self.responses[i]
    }
}

impl Transport for Canned {
    fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        black_box(request);
        let (status, headers, body) = self.next();
        let mut response = Response::new(body.clone());
        *response.status_mut() = *status;
        *response.headers_mut() = headers.clone();
        Ok(response)
    }
}

// ----- the hand-written side -----

#[derive(Clone, Copy, Debug, PartialEq)]
enum Var {
    Kp,
    Hpp,
    Token,
    Order,
}

enum Piece {
    Text(String),
    Var(Var),
}

/// A recorded string with the recorded ids cut out.
struct Template(Vec<Piece>);

impl Template {
    fn new(mut text: &str, ids: &[(String, Var)]) -> Self {
        let mut pieces = Vec::new();
        loop {
            let next = ids
                .iter()
                .filter_map(|(value, var)| text.find(value.as_str()).map(|at| (at, value, *var)))
                .min_by_key(|(at, _, _)| *at);
            match next {
                Some((at, value, var)) => {
                    if at > 0 {
                        pieces.push(Piece::Text(text[..at].to_owned()));
                    }
                    pieces.push(Piece::Var(var));
                    text = &text[at + value.len()..];
                }
                None => {
                    if !text.is_empty() {
                        pieces.push(Piece::Text(text.to_owned()));
                    }
                    return Self(pieces);
                }
            }
        }
    }

    fn vars(&self) -> Vec<Var> {
        self.0
            .iter()
            .filter_map(|p| match p {
                Piece::Var(v) => Some(*v),
                Piece::Text(_) => None,
            })
            .collect()
    }

    fn render(&self, ids: &Ids) -> String {
        let mut out = String::with_capacity(256);
        for piece in &self.0 {
            out.push_str(match piece {
                Piece::Text(t) => t,
                Piece::Var(Var::Kp) => &ids.kp,
                Piece::Var(Var::Hpp) => &ids.hpp,
                Piece::Var(Var::Token) => &ids.token,
                Piece::Var(Var::Order) => &ids.order,
            });
        }
        out
    }
}

#[derive(Default)]
struct Ids {
    kp: String,
    hpp: String,
    token: String,
    order: String,
}

/// One recorded request, ready to be replayed with other ids.
struct Step {
    method: Method,
    uri: Template,
    headers: HeaderMap,
    body: Option<Template>,
    keyed: bool,
}

/// The six requests of a checkout.
struct Steps {
    kp_create: Step,
    hpp_create: Step,
    hpp_read: Step,
    place_order: Step,
    om_read: Step,
    capture: Step,
}

#[derive(Deserialize)]
struct SessionId {
    session_id: String,
}

#[derive(Deserialize)]
struct HppRead {
    status: String,
    authorization_token: Option<String>,
}

#[derive(Deserialize)]
struct OrderId {
    order_id: String,
}

/// The HPP session request, as a hand-written client would declare it.
#[derive(Serialize)]
struct HppSessionBody<'a> {
    payment_session_url: String,
    merchant_urls: HppUrls<'a>,
    options: HppOptions,
}

#[derive(Serialize)]
struct HppUrls<'a> {
    success: &'a str,
    cancel: &'a str,
    failure: &'a str,
    error: &'a str,
}

#[derive(Serialize)]
struct HppOptions {
    place_order_mode: &'static str,
}

#[derive(Serialize)]
struct CaptureBody {
    captured_amount: i64,
}

/// `hand_serde`'s HPP session request body.
fn hpp_body(base_url: &str, kp_session: &str) -> serde_json::Result<Vec<u8>> {
    serde_json::to_vec(&HppSessionBody {
        payment_session_url: format!("{base_url}/payments/v1/sessions/{kp_session}"),
        merchant_urls: HppUrls {
            success: SUCCESS_URL,
            cancel: CANCEL_URL,
            failure: FAILURE_URL,
            error: ERROR_URL,
        },
        options: HppOptions {
            place_order_mode: "NONE",
        },
    })
}

/// Checks that `hand_serde` builds exactly the bodies the driver sent in `log`.
fn check_serde_bodies(log: &[Exchange], base_url: &str) {
    let cart = session();
    let json = |v: serde_json::Result<Vec<u8>>| v.expect("serializable");
    let kp_session = field(&log[0].response, "session_id");
    let bodies = [
        (0, json(serde_json::to_vec(&cart))),
        (1, json(hpp_body(base_url, &kp_session))),
        (
            3,
            json(serde_json::to_vec(&CreateOrderRequest::from_session(&cart))),
        ),
        (
            5,
            json(serde_json::to_vec(&CaptureBody {
                captured_amount: cart.order_amount,
            })),
        ),
    ];
    for (i, body) in bodies {
        assert_eq!(
            String::from_utf8_lossy(&body),
            String::from_utf8_lossy(&log[i].body),
            "hand_serde's body of request {i}"
        );
    }
}

fn field(body: &[u8], name: &str) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get(name)?.as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("no {name} in {}", String::from_utf8_lossy(body)))
}

impl Steps {
    /// Cuts the recorded ids out of a recorded checkout.
    fn from_recording(log: &[Exchange]) -> Self {
        let ops: Vec<String> = log
            .iter()
            .map(|e| format!("{} {}", e.method, e.uri))
            .collect();
        assert_eq!(log.len(), 6, "recorded requests: {ops:#?}");
        let ids = vec![
            (field(&log[0].response, "session_id"), Var::Kp),
            (field(&log[1].response, "session_id"), Var::Hpp),
            (field(&log[2].response, "authorization_token"), Var::Token),
            (field(&log[3].response, "order_id"), Var::Order),
        ];
        let step = |i: usize, uri_vars: &[Var], body_vars: &[Var]| {
            let e: &Exchange = &log[i];
            let uri = Template::new(&e.uri, &ids);
            assert_eq!(uri.vars(), uri_vars, "ids in {}", ops[i]);
            let body = (!e.body.is_empty()).then(|| {
                let text = std::str::from_utf8(&e.body).expect("utf-8 body");
                Template::new(text, &ids)
            });
            assert_eq!(
                body.as_ref().map(Template::vars).unwrap_or_default(),
                body_vars,
                "ids in the body of {}",
                ops[i]
            );
            let mut headers = e.headers.clone();
            let keyed = headers.remove("klarna-idempotency-key").is_some();
            Step {
                method: e.method.clone(),
                uri,
                headers,
                body,
                keyed,
            }
        };
        let steps = Self {
            kp_create: step(0, &[], &[]),
            hpp_create: step(1, &[], &[Var::Kp]),
            hpp_read: step(2, &[Var::Hpp], &[]),
            place_order: step(3, &[Var::Token], &[]),
            om_read: step(4, &[Var::Order], &[]),
            capture: step(5, &[Var::Order], &[]),
        };
        assert!(
            steps.capture.keyed,
            "the capture carries an idempotency key"
        );
        steps
    }
}

/// The hand-written loop's client: over ureq to the emulator, or (no I/O) answered with the
/// recorded response bodies.
struct Hand<'a> {
    agent: Option<ureq::Agent>,
    canned: Canned,
    steps: Steps,
    sim: Option<&'a SimHandle>,
    keys: Cell<u64>,
    /// Builds the request bodies with serde (`hand_serde`) instead of replaying them.
    serde: Option<SerdeBodies>,
}

/// What `hand_serde` builds its bodies from besides the cart: the API's base URL.
struct SerdeBodies {
    base_url: String,
}

impl Hand<'_> {
    /// Sends `step` with `body`, or with its recorded body (ids put back in) when `None`.
    fn send(&self, step: &Step, ids: &Ids, body: Option<Vec<u8>>) -> Result<Vec<u8>, String> {
        let body = body.unwrap_or_else(|| {
            step.body
                .as_ref()
                .map_or_else(Vec::new, |b| b.render(ids).into_bytes())
        });
        let mut request = Request::builder()
            .method(step.method.clone())
            .uri(step.uri.render(ids))
            .body(body)
            .map_err(|e| e.to_string())?;
        *request.headers_mut() = step.headers.clone();
        if step.keyed {
            let n = self.keys.get() + 1;
            self.keys.set(n);
            let key = format!("6f1c2d3e-0000-4000-8000-{n:012x}");
            request.headers_mut().insert(
                "klarna-idempotency-key",
                key.parse().map_err(|_| "key header")?,
            );
        }
        let Some(agent) = &self.agent else {
            black_box(request);
            let (status, _, body) = self.canned.next();
            if !status.is_success() {
                return Err(format!("canned {status}"));
            }
            return Ok(body.clone());
        };
        let response = agent.run(request).map_err(|e| e.to_string())?;
        let status = response.status();
        let body = response
            .into_body()
            .read_to_vec()
            .map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("{status}: {}", String::from_utf8_lossy(&body)));
        }
        Ok(body)
    }

    fn checkout(&self) -> Result<(), String> {
        let s = &self.steps;
        let json = |e: serde_json::Error| e.to_string();
        let mut ids = Ids::default();
        // hand_serde: the merchant's cart, built per checkout (as for the driver).
        let cart = self.serde.as_ref().map(|_| session());
        let kp_body = match &cart {
            Some(cart) => Some(serde_json::to_vec(cart).map_err(json)?),
            None => None,
        };
        let kp: SessionId =
            serde_json::from_slice(&self.send(&s.kp_create, &ids, kp_body)?).map_err(json)?;
        ids.kp = kp.session_id;
        let hpp_body = match &self.serde {
            Some(serde) => Some(hpp_body(&serde.base_url, &ids.kp).map_err(json)?),
            None => None,
        };
        let hpp: SessionId =
            serde_json::from_slice(&self.send(&s.hpp_create, &ids, hpp_body)?).map_err(json)?;
        ids.hpp = hpp.session_id;
        if let Some(sim) = self.sim {
            sim.consumer(&ids.hpp).pay().map_err(|e| e.to_string())?;
            sim.advance(POLL);
        }
        let read: HppRead =
            serde_json::from_slice(&self.send(&s.hpp_read, &ids, None)?).map_err(json)?;
        if read.status != "COMPLETED" {
            return Err(format!("HPP status {}", read.status));
        }
        ids.token = read.authorization_token.ok_or("no authorization token")?;
        let order_body = match &cart {
            Some(cart) => {
                Some(serde_json::to_vec(&CreateOrderRequest::from_session(cart)).map_err(json)?)
            }
            None => None,
        };
        let order: OrderId =
            serde_json::from_slice(&self.send(&s.place_order, &ids, order_body)?).map_err(json)?;
        ids.order = order.order_id;
        self.send(&s.om_read, &ids, None)?;
        let capture_body = match &cart {
            Some(cart) => Some(
                serde_json::to_vec(&CaptureBody {
                    captured_amount: cart.order_amount,
                })
                .map_err(json)?,
            ),
            None => None,
        };
        self.send(&s.capture, &ids, capture_body)?;
        Ok(())
    }
}

// ----- the bench -----

/// The three sides measured.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Side {
    Hand,
    HandSerde,
    Driver,
}

impl Side {
    const ALL: [Side; 3] = [Side::Hand, Side::HandSerde, Side::Driver];

    fn name(self) -> &'static str {
        match self {
            Side::Hand => "hand",
            Side::HandSerde => "hand_serde",
            Side::Driver => "driver",
        }
    }
}

struct Bench<'a> {
    sim: &'a SimHandle,
    api: Api,
    driver: Driver<UreqTransport, SimClock<'a>>,
    hand: Hand<'a>,
    hand_serde: Hand<'a>,
    /// The same two sides without I/O: answered with the recorded responses.
    canned_driver: Driver<Canned, JumpClock>,
    canned_hand: Hand<'a>,
    checkouts: Cell<u64>,
}

impl<'a> Bench<'a> {
    fn new(sim: &'a SimHandle) -> Self {
        let api = Api::new(
            BaseUrl::custom(sim.base_url()).expect("the emulator's URL"),
            Credentials::new(sim.username(), sim.password()),
        );
        // Record one driver checkout, and show it.
        let recorder = Driver::new(
            Recording {
                inner: UreqTransport::default(),
                log: RefCell::new(Vec::new()),
            },
            SimClock(sim),
        );
        let started = sim_now(sim);
        driver_checkout(&recorder, &api, Some(sim), "bench-recorded").expect("a recorded checkout");
        let log = recorder.transport().log.take();
        eprintln!("recorded checkout (request body / response body sizes):");
        for e in &log {
            eprintln!(
                "  {} {} ({} header(s), {} B) -> {} ({} B)",
                e.method,
                e.uri,
                e.headers.len(),
                e.body.len(),
                e.status.as_u16(),
                e.response.len()
            );
        }
        let base_url = sim.base_url().trim_end_matches('/').to_owned();
        check_serde_bodies(&log, &base_url);
        let hand = |sim, agent, serde| Hand {
            agent,
            canned: Canned::new(&log),
            steps: Steps::from_recording(&log),
            sim,
            keys: Cell::new(0),
            serde,
        };
        Self {
            sim,
            api: api.clone(),
            driver: Driver::new(UreqTransport::default(), SimClock(sim)),
            hand: hand(Some(sim), Some(agent()), None),
            hand_serde: hand(Some(sim), Some(agent()), Some(SerdeBodies { base_url })),
            canned_driver: Driver::new(
                Canned::new(&log),
                JumpClock {
                    start: started,
                    now: Cell::new(started),
                },
            ),
            canned_hand: hand(None, None, None),
            checkouts: Cell::new(0),
        }
    }

    fn checkout_id(&self) -> String {
        let n = self.checkouts.get() + 1;
        self.checkouts.set(n);
        format!("bench-{n}")
    }

    fn driver_once(&self) {
        let id = self.checkout_id();
        driver_checkout(&self.driver, &self.api, Some(self.sim), &id).expect("driver checkout");
    }

    fn hand_once(&self, hand: &Hand<'_>) {
        hand.checkout().expect("hand-written checkout");
    }

    /// A driver checkout answered from memory (the clock starts where the recording did).
    fn canned_driver_once(&self) {
        let id = self.checkout_id();
        let clock = self.canned_driver.clock();
        clock.now.set(clock.start);
        driver_checkout(&self.canned_driver, &self.api, None, &id).expect("canned checkout");
    }

    fn canned_hand_once(&self) {
        self.hand_once(&self.canned_hand);
    }

    /// Runs `n` checkouts of one side on a freshly reset emulator: the elapsed time, the CPU
    /// time of this (the client's) thread and of the whole process (client and emulator).
    fn batch(&self, side: Side, n: u64) -> Sample {
        self.sim.reset();
        let cpu = thread_cpu();
        let process = process_cpu();
        let start = Instant::now();
        for _ in 0..n {
            match side {
                Side::Driver => self.driver_once(),
                Side::Hand => self.hand_once(&self.hand),
                Side::HandSerde => self.hand_once(&self.hand_serde),
            }
        }
        let wall = start.elapsed();
        let since = |after: Option<Duration>, before: Option<Duration>| {
            after.zip(before).map(|(a, b)| a.saturating_sub(b))
        };
        Sample {
            wall,
            client_cpu: since(thread_cpu(), cpu),
            process_cpu: since(process_cpu(), process),
        }
    }
}

/// One batch's costs.
struct Sample {
    wall: Duration,
    client_cpu: Option<Duration>,
    process_cpu: Option<Duration>,
}

/// CPU time of every thread of this process so far (the client's and the emulator's), from
/// each `/proc/self/task/*/schedstat` (nanoseconds; Linux only). Unlike wall time, it does not
/// count waiting for the other core, and unlike instruction counts it includes the kernel's
/// loopback work. A thread that ends between two readings would drop out of the sum; none
/// does here (the client's thread and the emulator's runtime live for the whole bench), and
/// one that ends while being read is skipped rather than spoiling the reading.
fn process_cpu() -> Option<Duration> {
    let ns = std::fs::read_dir("/proc/self/task")
        .ok()?
        .filter_map(|task| {
            let text = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
            text.split_whitespace().next()?.parse::<u64>().ok()
        })
        .sum();
    Some(Duration::from_nanos(ns))
}

/// CPU time (user + system) of the calling thread so far, from `/proc/thread-self/schedstat`
/// (nanoseconds; Linux only).
fn thread_cpu() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

#[allow(clippy::cast_precision_loss)]
fn interleaved(bench: &Bench<'_>, rounds: u64, batch: u64) {
    // Warm every side up (connections, allocator, caches).
    for side in Side::ALL {
        bench.batch(side, batch / 4 + 1);
    }
    let per = |d: Duration| d.as_secs_f64() * 1e6 / batch as f64;
    // [metric][side]: microseconds per checkout, one entry per round. Metrics: wall time,
    // client-thread CPU, whole-process CPU.
    let mut us: [[Vec<f64>; 3]; 3] = Default::default();
    eprintln!("interleaved: {rounds} round(s) of {batch} checkouts per side");
    eprintln!("round: us/checkout hand, hand_serde, driver: wall; client-thread CPU; process CPU");
    for round in 0..rounds {
        // Rotate which side goes first.
        let mut this: [[f64; 3]; 3] = [[f64::NAN; 3]; 3];
        for k in 0..3 {
            let i = (k + round as usize) % 3;
            let sample = bench.batch(Side::ALL[i], batch);
            this[0][i] = per(sample.wall);
            this[1][i] = sample.client_cpu.map_or(f64::NAN, per);
            this[2][i] = sample.process_cpu.map_or(f64::NAN, per);
        }
        let mut line = format!("{:>3}:", round + 1);
        for (metric, values) in this.iter().enumerate() {
            if metric > 0 {
                line.push_str(" ;");
            }
            for (side, v) in values.iter().enumerate() {
                line.push_str(&format!(" {v:>7.1}"));
                us[metric][side].push(*v);
            }
        }
        eprintln!("{line}");
    }
    // Ratio of throughputs = inverse ratio of costs, per round, then the median.
    let ratio = |v: &[Vec<f64>; 3], base: usize| {
        median(v[base].iter().zip(&v[2]).map(|(b, d)| b / d).collect())
    };
    println!();
    println!(
        "Blocking checkouts, {rounds} interleaved rounds x {batch} checkouts per side (medians; \
         ratio = baseline cost / driver cost = driver throughput / baseline throughput, per \
         round, then the median)"
    );
    println!();
    println!(
        "| | hand-written loop, replayed bodies | hand-written loop, serde bodies | \
         Driver + UreqTransport | driver / replayed (goal >= 0.95x) | driver / serde |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    let names = [
        "us per checkout (wall)",
        "client-thread CPU us per checkout",
        "process CPU us per checkout",
    ];
    for (metric, name) in names.iter().enumerate() {
        let v = &us[metric];
        if v.iter().flatten().any(|x| x.is_nan()) {
            continue;
        }
        let m: Vec<f64> = v.iter().map(|side| median(side.clone())).collect();
        println!(
            "| {name} | {:.1} | {:.1} | {:.1} | {:.3}x | {:.3}x |",
            m[0],
            m[1],
            m[2],
            ratio(v, 0),
            ratio(v, 1)
        );
        if metric == 0 {
            println!(
                "| checkouts/s (wall) | {:.0} | {:.0} | {:.0} | | |",
                1e6 / m[0],
                1e6 / m[1],
                1e6 / m[2]
            );
        }
    }
    println!();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let test_mode = args.iter().any(|a| a == "--test");
    let skip_criterion = std::env::var("BENCH_CRITERION").is_ok_and(|v| v == "0");
    let sim = Sim::start_background(SimConfig::default().with_seed(7)).expect("the emulator");
    let bench = Bench::new(&sim);

    let (rounds, batch) = if test_mode {
        (1, 2)
    } else {
        (env_u64("BENCH_ROUNDS", 30), env_u64("BENCH_BATCH", 100))
    };
    match std::env::var("BENCH_ONLY").as_deref() {
        // One side alone, for profiling.
        Ok("canned") => {
            let start = Instant::now();
            for _ in 0..batch {
                bench.canned_driver_once();
            }
            println!("canned driver: {batch} checkouts in {:?}", start.elapsed());
            return;
        }
        Ok(name) if Side::ALL.iter().any(|s| s.name() == name) => {
            let side = Side::ALL
                .into_iter()
                .find(|s| s.name() == name)
                .unwrap_or(Side::Driver);
            let sample = bench.batch(side, batch);
            println!(
                "{name}: {batch} checkouts in {:?} (client-thread CPU {:?}, process CPU {:?})",
                sample.wall, sample.client_cpu, sample.process_cpu
            );
            return;
        }
        _ => interleaved(&bench, rounds, batch),
    }

    if !skip_criterion {
        let mut c = Criterion::default()
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(5))
            .sample_size(20)
            .configure_from_args();
        let mut group = c.benchmark_group("checkout_throughput");
        group.throughput(Throughput::Elements(1));
        group.bench_function("hand_written_ureq", |b| {
            b.iter_custom(|iters| bench.batch(Side::Hand, iters).wall);
        });
        group.bench_function("hand_written_serde_ureq", |b| {
            b.iter_custom(|iters| bench.batch(Side::HandSerde, iters).wall);
        });
        group.bench_function("driver_ureq", |b| {
            b.iter_custom(|iters| bench.batch(Side::Driver, iters).wall);
        });
        group.finish();
        let mut group = c.benchmark_group("checkout_no_io");
        group.throughput(Throughput::Elements(1));
        group.bench_function("hand_written_canned", |b| {
            b.iter(|| bench.canned_hand_once())
        });
        group.bench_function("driver_canned", |b| b.iter(|| bench.canned_driver_once()));
        group.finish();
        c.final_summary();
    }
    sim.shutdown_blocking();
}
