//! The demo: one checkout against the embedded emulator, with a simulated consumer and a tiny
//! merchant web server receiving the browser's return and Klarna's status callbacks.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use klarna_hpp_blocking::{Clock, Driver, Transport, TransportError, UreqTransport};
use klarna_hpp_core::checkout::{Checkout, CheckoutConfig, Event, State};
use klarna_hpp_core::hpp::{HppStatus, MerchantUrls, Options, PlaceOrderMode};
use klarna_hpp_core::http::{Request, Response};
use klarna_hpp_core::kp::SessionCreate;
use klarna_hpp_core::model::{OrderLine, OrderLineType};
use klarna_hpp_core::template::UrlKind;
use klarna_hpp_core::{Api, BaseUrl, Credentials, Timestamp};
use klarna_hpp_sim::{Sim, SimConfig, SimHandle};

use crate::{Mode, Outcome};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Runs the emulator until Ctrl-C.
pub(crate) fn serve(listen: std::net::SocketAddr) -> Result<(), BoxError> {
    let sim = Sim::start_background(SimConfig::default().with_listen(listen))?;
    println!("Klarna emulator listening on {}", sim.base_url());
    println!("credentials: {} / {}", sim.username(), sim.password());
    println!("press Ctrl-C to stop");
    let (tx, rx) = mpsc::channel::<()>();
    let _ = std::thread::spawn(move || {
        let mut line = String::new();
        while std::io::stdin()
            .read_line(&mut line)
            .map(|n| n > 0)
            .unwrap_or(false)
        {
            line.clear();
        }
        let _ = tx.send(());
    });
    let _ = rx.recv();
    sim.shutdown_blocking();
    Ok(())
}

/// What the merchant's web server received.
enum Web {
    Callback { uri: String, body: Vec<u8> },
    Redirect { uri: String },
}

/// Prints lines stamped with real elapsed time and the emulator's (virtual) clock.
struct Timeline<'a> {
    start: Instant,
    sim: &'a SimHandle,
    sim_start: Timestamp,
}

impl Timeline<'_> {
    fn say(&self, text: impl AsRef<str>) {
        let real = self.start.elapsed().as_secs_f64() * 1000.0;
        let virt = sim_now(self.sim).duration_since(self.sim_start).as_secs();
        println!(
            "[{real:>8.1} ms | t+{:02}:{:02}:{:02}] {}",
            virt / 3600,
            virt / 60 % 60,
            virt % 60,
            text.as_ref()
        );
    }
}

fn sim_now(sim: &SimHandle) -> Timestamp {
    Timestamp::from_offset_date_time(sim.now()).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The emulator's clock: waiting advances it (virtual time), so hours pass in milliseconds.
struct SimClock<'a>(&'a SimHandle);

impl Clock for SimClock<'_> {
    fn now(&self) -> Timestamp {
        sim_now(self.0)
    }

    fn sleep_until(&self, deadline: Timestamp) {
        let wait = deadline.duration_since(self.now());
        if wait > Duration::ZERO {
            // The emulator's clock counts whole milliseconds: round up, or a deadline a
            // fraction of a millisecond away would never be reached.
            let millis = u64::try_from(wait.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX);
            self.0.advance(Duration::from_millis(millis));
        }
    }
}

/// Logs every request and response (method, path, status, time taken) on the timeline.
struct Logged<'a, T> {
    inner: T,
    timeline: &'a Timeline<'a>,
}

impl<T: Transport> Transport for Logged<'_, T> {
    fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        let line = format!("{} {}", request.method(), redact_path(request.uri().path()));
        let started = Instant::now();
        let result = self.inner.send(request);
        let took = started.elapsed().as_secs_f64() * 1000.0;
        match &result {
            Ok(r) => self.timeline.say(format!(
                "  → {line}  ← {} ({took:.1} ms)",
                r.status().as_u16()
            )),
            Err(e) => self.timeline.say(format!("  → {line}  ✗ {e}")),
        }
        result
    }
}

/// The authorization token is a path segment of KP's order and cancel calls: keep it out of logs.
fn redact_path(path: &str) -> String {
    match path.strip_prefix("/payments/v1/authorizations/") {
        Some(rest) => {
            let tail = rest
                .split_once('/')
                .map_or(String::new(), |(_, t)| format!("/{t}"));
            format!("/payments/v1/authorizations/[token]{tail}")
        }
        None => path.to_owned(),
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
    s.merchant_reference1 = Some("demo-order-1001".into());
    s
}

/// Runs the demo checkout and prints its timeline.
pub(crate) fn run(mode: Mode, outcome: Outcome, seed: u64) -> Result<(), BoxError> {
    let sim = Sim::start_background(SimConfig::default().with_seed(seed))?;
    let timeline = Timeline {
        start: Instant::now(),
        sim: &sim,
        sim_start: sim_now(&sim),
    };
    timeline.say(format!("Klarna emulator on {}", sim.base_url()));

    // The merchant's web server: the consumer's browser returns here, Klarna posts callbacks.
    let shop = tiny_http::Server::http("127.0.0.1:0")?;
    let shop_port = shop
        .server_addr()
        .to_ip()
        .map(|a| a.port())
        .ok_or("shop server has no port")?;
    let shop_url = format!("http://127.0.0.1:{shop_port}");
    timeline.say(format!("merchant web server on {shop_url}"));
    let (web_tx, web_rx) = mpsc::channel();

    let result = std::thread::scope(|scope| {
        let shop = &shop;
        scope.spawn(move || serve_shop(shop, web_tx));
        let result = checkout(&sim, &timeline, &shop_url, mode, outcome, &web_rx, scope);
        shop.unblock();
        result
    });
    timeline.say(format!(
        "done in {:.1} ms",
        timeline.start.elapsed().as_secs_f64() * 1000.0
    ));
    sim.shutdown_blocking();
    result
}

fn serve_shop(shop: &tiny_http::Server, tx: Sender<Web>) {
    for mut request in shop.incoming_requests() {
        let uri = request.url().to_owned();
        let mut body = Vec::new();
        let _ = request.as_reader().read_to_end(&mut body);
        let msg = if uri.starts_with("/klarna/callback") {
            Web::Callback { uri, body }
        } else {
            Web::Redirect { uri }
        };
        let _ = request.respond(tiny_http::Response::from_string("Thank you! (demo shop)"));
        if tx.send(msg).is_err() {
            break;
        }
    }
}

#[allow(clippy::too_many_lines)]
fn checkout<'s>(
    sim: &'s SimHandle,
    timeline: &'s Timeline<'s>,
    shop: &str,
    mode: Mode,
    outcome: Outcome,
    web: &Receiver<Web>,
    scope: &'s std::thread::Scope<'s, '_>,
) -> Result<(), BoxError> {
    let api = Api::new(
        BaseUrl::custom(sim.base_url())?,
        Credentials::new(sim.username(), sim.password()),
    );
    let place_order_mode = match mode {
        Mode::None => PlaceOrderMode::None,
        Mode::Place => PlaceOrderMode::PlaceOrder,
        Mode::Capture => PlaceOrderMode::CaptureOrder,
    };
    let success = match mode {
        Mode::None => {
            format!("{shop}/shop/success?sid={{{{session_id}}}}&token={{{{authorization_token}}}}")
        }
        _ => format!("{shop}/shop/success?sid={{{{session_id}}}}&order={{{{order_id}}}}"),
    };
    let urls = MerchantUrls::default()
        .with(UrlKind::Success, success)
        .with(
            UrlKind::Cancel,
            format!("{shop}/shop/cancel?sid={{{{session_id}}}}"),
        )
        .with(
            UrlKind::Failure,
            format!("{shop}/shop/failure?sid={{{{session_id}}}}"),
        )
        .with(
            UrlKind::Error,
            format!("{shop}/shop/error?sid={{{{session_id}}}}"),
        )
        .with(UrlKind::StatusUpdate, format!("{shop}/klarna/callback"));
    let config = CheckoutConfig::new("demo-1001", "demo-seed-0123456789abcdef", session())
        .merchant_urls(urls)
        .options(
            Options::default()
                .with_place_order_mode(place_order_mode.clone())
                .with_page_title("Demo shop"),
        );
    let transport = Logged {
        inner: UreqTransport::default(),
        timeline,
    };
    let driver = Driver::new(transport, SimClock(sim));
    let mut co = Checkout::new(api, config, driver.now())?;
    timeline.say(format!(
        "checkout {} started: mode {place_order_mode}, consumer will {outcome:?}",
        co.checkout_id()
    ));
    let consumer_started = Mutex::new(false);
    let mut jumped = false;
    let mut steps = 0u32;
    loop {
        steps += 1;
        if steps > 20_000 {
            return Err("the demo did not finish".into());
        }
        while let Ok(msg) = web.try_recv() {
            feed(&mut co, msg, &driver, timeline);
        }
        while let Some(event) = driver.next_event_until(&mut co, driver.now()) {
            timeline.say(format!("event: {}", describe(&event)));
            react(
                &mut co,
                &event,
                &driver,
                timeline,
                mode,
                outcome,
                sim,
                scope,
                &consumer_started,
            )?;
        }
        if done(&co) {
            break;
        }
        // Give the consumer's browser and Klarna's callbacks a moment (real time) ...
        match web.recv_timeout(Duration::from_millis(150)) {
            Ok(msg) => {
                feed(&mut co, msg, &driver, timeline);
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => return Err("the shop server stopped".into()),
            Err(RecvTimeoutError::Timeout) => {}
        }
        // ... then let virtual time pass to the checkout's next timeout.
        if outcome == Outcome::Expire
            && !jumped
            && co.state() == State::AwaitingConsumer
            && co.hpp_status().is_some()
        {
            jumped = true;
            timeline.say("the consumer never comes: 47 hours pass");
            sim.advance(Duration::from_secs(47 * 3600));
        }
        match co.poll_timeout() {
            Some(at) => {
                driver.clock().sleep_until(at);
                co.handle_timeout(driver.now());
            }
            None => break,
        }
    }
    timeline.say(format!(
        "final state: {:?}; order {}; captured {} of {}; refunded {}",
        co.state(),
        co.order_id().unwrap_or("-"),
        co.captured_amount(),
        session().order_amount,
        co.refunded_amount()
    ));
    let callbacks = sim.callbacks();
    timeline.say(format!(
        "Klarna sent {} status callback(s)",
        callbacks.len()
    ));
    Ok(())
}

fn done(co: &Checkout) -> bool {
    co.state().is_terminal() || co.state() == State::Captured
}

fn feed<T: Transport>(
    co: &mut Checkout,
    msg: Web,
    driver: &Driver<T, SimClock<'_>>,
    timeline: &Timeline<'_>,
) {
    let now = driver.now();
    match msg {
        Web::Callback { uri, body } => match co.handle_callback(&uri, &body, now) {
            Ok(o) => timeline.say(format!("status callback received: {o:?}")),
            Err(e) => timeline.say(format!("status callback refused: {e}")),
        },
        Web::Redirect { uri } => {
            let path = uri.split('?').next().unwrap_or_default().to_owned();
            match co.handle_redirect(&uri, now) {
                Ok(kind) => timeline.say(format!(
                    "consumer back at the shop ({path}): {kind:?} — verifying by reading"
                )),
                Err(e) => timeline.say(format!("redirect to {path} refused: {e}")),
            }
        }
    }
}

fn describe(event: &Event) -> String {
    match event {
        Event::ConsumerLinkReady(link) => format!(
            "consumer link ready (HPP session {}, expires {})",
            link.session_id, link.expires_at
        ),
        other => format!("{other:?}"),
    }
}

#[allow(clippy::too_many_arguments)]
fn react<'s, T: Transport>(
    co: &mut Checkout,
    event: &Event,
    driver: &Driver<T, SimClock<'_>>,
    timeline: &'s Timeline<'s>,
    mode: Mode,
    outcome: Outcome,
    sim: &'s SimHandle,
    scope: &'s std::thread::Scope<'s, '_>,
    consumer_started: &Mutex<bool>,
) -> Result<(), BoxError> {
    let now = driver.now();
    match event {
        Event::ConsumerLinkReady(link) => {
            let mut started = consumer_started.lock().map_err(|_| "lock")?;
            if !*started && outcome != Outcome::Expire {
                *started = true;
                let id = link.session_id.clone();
                let page = link.redirect_url.clone().unwrap_or_default();
                scope.spawn(move || consumer(sim, timeline, &id, &page, outcome));
            }
        }
        Event::StatusChanged { status } => {
            let give_up = matches!(
                (outcome, status),
                (Outcome::Decline, HppStatus::Failed) | (Outcome::Cancel, HppStatus::Back)
            );
            if give_up {
                timeline.say("merchant: the consumer gave up; disabling the session");
                co.disable(now)?;
            }
        }
        Event::Authorized { .. } => {
            timeline.say("merchant: placing the order with the authorization token");
            co.place_order(None, now)?;
        }
        Event::OrderUpdated {
            captured_amount: 0, ..
        } if mode != Mode::Capture => {
            timeline.say("merchant: goods shipped; capturing the full amount");
            co.capture(None, now)?;
        }
        _ => {}
    }
    Ok(())
}

/// One consumer action on the hosted page.
type Act = fn(
    &klarna_hpp_sim::Consumer<'_>,
) -> Result<klarna_hpp_sim::ConsumerOutcome, klarna_hpp_sim::ConsumerError>;

/// The consumer: opens the hosted page (real HTTP), acts, and follows the redirect back.
fn consumer(sim: &SimHandle, timeline: &Timeline<'_>, id: &str, page: &str, outcome: Outcome) {
    std::thread::sleep(Duration::from_millis(120));
    match ureq::get(page).call() {
        Ok(r) => timeline.say(format!(
            "consumer opens the hosted page: HTTP {}",
            r.status().as_u16()
        )),
        Err(e) => timeline.say(format!("consumer cannot open the hosted page: {e}")),
    }
    let c = sim.consumer(id);
    let _ = c.open();
    let mut steps: Vec<(&str, Act)> = Vec::new();
    match outcome {
        Outcome::Pay => steps.push(("pays", |c| c.pay())),
        Outcome::Decline => steps.push(("is declined", |c| c.decline())),
        Outcome::Cancel => steps.push(("cancels", |c| c.cancel())),
        Outcome::Back => {
            steps.push(("goes back to the shop", |c| c.back()));
            steps.push(("returns and pays", |c| {
                c.open()?;
                c.pay()
            }));
        }
        Outcome::Expire => {}
    }
    for (what, act) in steps {
        std::thread::sleep(Duration::from_millis(200));
        match act(&c) {
            Ok(o) => {
                timeline.say(format!("consumer {what}: HPP status {}", o.status));
                // The browser follows the redirect to the merchant's URL.
                if o.redirect_url.starts_with("http://127.0.0.1")
                    && !o.redirect_url.contains("/hpp/pay/")
                {
                    let _ = ureq::get(&o.redirect_url).call();
                }
            }
            Err(e) => timeline.say(format!("consumer could not act: {e}")),
        }
    }
}
