//! The demo: one checkout through the durable runtime (`klarna-hpp-runtime`) on an SQLite file,
//! against the embedded emulator, with a simulated consumer and a tiny merchant web server
//! receiving the browser's return and Klarna's status callbacks.
//!
//! The runtime does the work: `Runtime::start` stores the checkout and creates the sessions; the
//! shop's web handlers hand redirects and callbacks to the runtime (each applied with a
//! verifying read, load → apply → persist); an in-process `Worker` polls, places the order on
//! authorization and captures it on placement (the runtime's policies), and enforces the
//! deadlines; the final state is read back from the store. The demo only prints what the
//! runtime committed (the outbox events) and plays the merchant's one manual decision: disable
//! the session when the consumer gives up.

use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use klarna_hpp_async::{AsyncTransport, ReqwestTransport};
use klarna_hpp_core::checkout::{CheckoutConfig, Event, State};
use klarna_hpp_core::hpp::{HppStatus, MerchantUrls, Options, PlaceOrderMode};
use klarna_hpp_core::http::{Request, Response};
use klarna_hpp_core::kp::SessionCreate;
use klarna_hpp_core::model::{OrderLine, OrderLineType};
use klarna_hpp_core::template::UrlKind;
use klarna_hpp_core::transport::TransportError;
use klarna_hpp_core::{Api, BaseUrl, Credentials};
use klarna_hpp_runtime::{
    CheckoutStore, CheckoutView, Runtime, RuntimeConfig, RuntimeError, Verified, Worker,
    WorkerConfig,
};
use klarna_hpp_sim::{ClockMode, Sim, SimConfig, SimHandle};

use crate::durable;
use crate::error::CliError;
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

/// Prints lines stamped with the real time elapsed.
struct Timeline {
    start: Instant,
}

impl Timeline {
    fn say(&self, text: impl AsRef<str>) {
        let real = self.start.elapsed().as_secs_f64() * 1000.0;
        println!("[{real:>8.1} ms] {}", text.as_ref());
    }
}

/// Logs every request and response (method, path, status, time taken) on the timeline.
struct Logged {
    inner: ReqwestTransport,
    timeline: Arc<Timeline>,
}

impl AsyncTransport for Logged {
    fn send(
        &self,
        request: Request<Vec<u8>>,
    ) -> impl std::future::Future<Output = Result<Response<Vec<u8>>, TransportError>> + Send {
        let inner = self.inner.clone();
        let timeline = Arc::clone(&self.timeline);
        async move {
            let line = format!("{} {}", request.method(), redact_path(request.uri().path()));
            let started = Instant::now();
            let result = inner.send(request).await;
            let took = started.elapsed().as_secs_f64() * 1000.0;
            match &result {
                Ok(r) => timeline.say(format!(
                    "  → {line}  ← {} ({took:.1} ms)",
                    r.status().as_u16()
                )),
                Err(e) => timeline.say(format!("  → {line}  ✗ {e}")),
            }
            result
        }
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

fn unix_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// How far into its life the session is when the demo starts, for `--outcome expire`: the
/// emulator's clock starts this far behind the machine's, so the 47 hours the consumer stays
/// away have passed a few seconds into the run.
const EXPIRE_HEAD_START: Duration = Duration::from_secs(47 * 3600 - 4);

fn other(e: impl std::fmt::Display) -> CliError {
    CliError::Other(e.to_string())
}

fn runtime_error(e: RuntimeError) -> CliError {
    match e {
        RuntimeError::Store(e) => durable::store_error(e),
        other => CliError::Other(other.to_string()),
    }
}

/// Runs the demo checkout through the runtime and prints its timeline.
pub(crate) fn run(
    mode: Mode,
    outcome: Outcome,
    seed: u64,
    database: Option<String>,
) -> Result<(), CliError> {
    let database = database.unwrap_or_else(|| {
        let path = std::env::temp_dir().join(format!(
            "klarna-hpp-demo-{}-{}.db",
            std::process::id(),
            unix_millis()
        ));
        format!("sqlite://{}", path.display())
    });
    // The runtime reads the machine's clock: the emulator's runs with it (from now, or for
    // `expire` from 47 hours before, see EXPIRE_HEAD_START).
    let mut start = time::OffsetDateTime::now_utc();
    if outcome == Outcome::Expire {
        start -= EXPIRE_HEAD_START;
    }
    let sim = Sim::start_background(
        SimConfig::default()
            .with_seed(seed)
            .with_clock(ClockMode::Real)
            .with_start_time(start),
    )
    .map_err(other)?;
    let timeline = Arc::new(Timeline {
        start: Instant::now(),
    });
    timeline.say(format!("Klarna emulator on {}", sim.base_url()));

    // The merchant's web server: the consumer's browser returns here, Klarna posts callbacks.
    let shop = tiny_http::Server::http("127.0.0.1:0").map_err(other)?;
    let shop_port = shop
        .server_addr()
        .to_ip()
        .map(|a| a.port())
        .ok_or_else(|| other("shop server has no port"))?;
    let shop_url = format!("http://127.0.0.1:{shop_port}");
    timeline.say(format!("merchant web server on {shop_url}"));
    let (web_tx, web_rx) = tokio::sync::mpsc::unbounded_channel();
    let rt = durable::tokio()?;

    let result = std::thread::scope(|scope| {
        let shop = &shop;
        scope.spawn(move || serve_shop(shop, web_tx));
        let demo = Demo {
            sim: &sim,
            timeline: Arc::clone(&timeline),
            shop: shop_url.clone(),
            mode,
            outcome,
        };
        let result = rt.block_on(demo.checkout(&database, web_rx, scope));
        shop.unblock();
        result
    });
    timeline.say(format!(
        "done in {:.1} ms",
        timeline.start.elapsed().as_secs_f64() * 1000.0
    ));
    rt.shutdown_timeout(Duration::from_secs(5));
    sim.shutdown_blocking();
    result
}

fn serve_shop(shop: &tiny_http::Server, tx: tokio::sync::mpsc::UnboundedSender<Web>) {
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

struct Demo<'a> {
    sim: &'a SimHandle,
    timeline: Arc<Timeline>,
    shop: String,
    mode: Mode,
    outcome: Outcome,
}

impl<'a> Demo<'a> {
    fn config(&self) -> CheckoutConfig {
        let shop = &self.shop;
        let place_order_mode = place_order_mode(self.mode);
        let success = match self.mode {
            Mode::None => format!(
                "{shop}/shop/success?sid={{{{session_id}}}}&token={{{{authorization_token}}}}"
            ),
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
        // A new id per run: the database may hold earlier runs' checkouts.
        let id = format!("demo-{}", unix_millis());
        let mut config = CheckoutConfig::new(id, "demo-seed-0123456789abcdef", session())
            .merchant_urls(urls)
            .options(
                Options::default()
                    .with_place_order_mode(place_order_mode)
                    .with_page_title("Demo shop"),
            );
        if self.outcome == Outcome::Expire {
            // The run lasts seconds: a one-second safety margin instead of a minute.
            config = config.safety_margin(Duration::from_secs(1));
        }
        config
    }

    #[allow(clippy::too_many_lines)]
    async fn checkout<'s>(
        self,
        database: &str,
        mut web: tokio::sync::mpsc::UnboundedReceiver<Web>,
        scope: &'s std::thread::Scope<'s, '_>,
    ) -> Result<(), CliError>
    where
        'a: 's,
    {
        let timeline = &self.timeline;
        let store = CheckoutStore::connect(database)
            .await
            .map_err(durable::store_error)?;
        timeline.say(format!("checkouts stored in {database}"));
        let api = Api::new(
            BaseUrl::custom(self.sim.base_url()).map_err(other)?,
            Credentials::new(self.sim.username(), self.sim.password()),
        );
        let config = RuntimeConfig::default()
            .request_timeout(Duration::from_secs(10))
            .place_order_on_authorization(true)
            .capture_on_order(self.mode != Mode::Capture);
        let transport = || Logged {
            inner: ReqwestTransport::with_timeouts(Duration::from_secs(5), Duration::from_secs(10)),
            timeline: Arc::clone(timeline),
        };
        // The shop's web handlers and the worker are separate lease holders, as they would be in
        // separate processes.
        let shop = Runtime::new(store.clone(), api.clone(), transport(), config.clone());
        let worker = Worker::new(
            Runtime::new(store.clone(), api, transport(), config),
            WorkerConfig::default().idle(Duration::from_millis(100)),
        );
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let worker = tokio::spawn(worker.run(async move {
            let _ = stop_rx.await;
        }));
        timeline.say(format!(
            "runtime: worker running; policies: place the order on authorization, {}",
            if self.mode == Mode::Capture {
                "HPP captures"
            } else {
                "capture on placement (goods ship at once)"
            }
        ));

        let result = self.drive(&shop, &mut web, scope).await;
        let _ = stop_tx.send(());
        let _ = worker.await;
        let result = match result {
            Ok(id) => self.report(&shop, &id).await,
            Err(e) => Err(e),
        };
        store.close().await;
        result
    }

    /// Starts the checkout and follows it until it ends; returns its id.
    async fn drive<'s>(
        &self,
        shop: &Runtime<Logged>,
        web: &mut tokio::sync::mpsc::UnboundedReceiver<Web>,
        scope: &'s std::thread::Scope<'s, '_>,
    ) -> Result<String, CliError>
    where
        'a: 's,
    {
        let timeline = &self.timeline;
        let started = shop.start(self.config()).await.map_err(runtime_error)?;
        let id = started.checkout_id.clone();
        timeline.say(format!(
            "runtime: checkout {id} started and stored ({:?}): mode {}, consumer will {:?}",
            started.state,
            place_order_mode(self.mode),
            self.outcome
        ));
        let link = started
            .link
            .ok_or_else(|| other("Klarna gave no consumer link within the handler wait"))?;
        if self.outcome == Outcome::Expire {
            timeline.say(
                "the consumer never comes: the session is 47 hours old (the emulator's clock \
                 started then), its deadline is seconds away",
            );
        } else {
            let sim = self.sim;
            let tl = Arc::clone(timeline);
            let session = link.session_id.clone();
            let page = link.redirect_url.clone().unwrap_or_default();
            let outcome = self.outcome;
            scope.spawn(move || consumer(sim, &tl, &session, &page, outcome));
        }
        let mut seen = 0i64;
        let mut disabled = false;
        let give_up = Instant::now() + Duration::from_secs(120);
        loop {
            // Print what the runtime committed, and play the merchant's manual decision.
            let events = shop.store().events_of(&id).await.map_err(runtime_store)?;
            let last = seen;
            for e in events.iter().filter(|e| e.seq > last) {
                seen = e.seq;
                let event: Option<Event> = serde_json::from_str(&e.payload).ok();
                let text = event.as_ref().map_or_else(|| e.kind.clone(), describe);
                timeline.say(format!("event {}: {text}", e.seq));
                match &event {
                    Some(Event::Authorized { .. }) => timeline
                        .say("runtime: placing the order with the authorization token (policy)"),
                    Some(Event::OrderPlaced { .. }) if self.mode != Mode::Capture => {
                        timeline
                            .say("runtime: goods ship at once; capturing the full amount (policy)");
                    }
                    Some(Event::StatusChanged { status }) if !disabled => {
                        let gives_up = matches!(
                            (self.outcome, status),
                            (Outcome::Decline, HppStatus::Failed)
                                | (Outcome::Cancel, HppStatus::Back)
                        );
                        if gives_up {
                            disabled = true;
                            timeline.say("merchant: the consumer gave up; disabling the session");
                            match shop.disable(&id).await {
                                Ok(view) => {
                                    timeline.say(format!("runtime: disable → {:?}", view.state))
                                }
                                Err(e) => timeline.say(format!("runtime: disable refused: {e}")),
                            }
                        }
                    }
                    _ => {}
                }
            }
            let view = shop.show(&id).await.map_err(runtime_error)?;
            if done(&view) {
                return Ok(id);
            }
            if Instant::now() >= give_up {
                return Err(other(format!(
                    "the demo did not finish: checkout {id} is still {:?}",
                    view.state
                )));
            }
            // The shop's web handlers: each redirect or callback goes to the runtime.
            match tokio::time::timeout(Duration::from_millis(100), web.recv()).await {
                Ok(Some(msg)) => self.handle(shop, &id, msg).await,
                Ok(None) => return Err(other("the shop server stopped")),
                Err(_) => {}
            }
        }
    }

    async fn handle(&self, shop: &Runtime<Logged>, id: &str, msg: Web) {
        let timeline = &self.timeline;
        match msg {
            Web::Callback { uri, body } => match shop.handle_callback(id, &uri, &body).await {
                Ok(v) => timeline.say(format!("status callback → runtime: {}", verified(&v))),
                Err(e) => timeline.say(format!("status callback refused: {e}")),
            },
            Web::Redirect { uri } => {
                let path = uri.split('?').next().unwrap_or_default().to_owned();
                match shop.handle_redirect(id, &uri).await {
                    Ok(v) => timeline.say(format!(
                        "consumer back at the shop ({path}) → runtime: {}",
                        verified(&v)
                    )),
                    Err(e) => timeline.say(format!("redirect to {path} refused: {e}")),
                }
            }
        }
    }

    /// The final state, read back from the store.
    async fn report(&self, shop: &Runtime<Logged>, id: &str) -> Result<(), CliError> {
        let timeline = &self.timeline;
        let view = shop.show(id).await.map_err(runtime_error)?;
        let row = shop
            .store()
            .get(id)
            .await
            .map_err(runtime_store)?
            .ok_or_else(|| other(format!("checkout {id} is not in the store")))?;
        timeline.say(format!(
            "final state (from the store): {}; order {}; captured {} of {}; refunded {}",
            row.state,
            view.order_id.as_deref().unwrap_or("-"),
            view.captured,
            session().order_amount,
            view.refunded
        ));
        let callbacks = self.sim.callbacks();
        timeline.say(format!(
            "Klarna sent {} status callback(s)",
            callbacks.len()
        ));
        Ok(())
    }
}

fn runtime_store(e: klarna_hpp_runtime::StoreError) -> CliError {
    durable::store_error(e)
}

fn place_order_mode(mode: Mode) -> PlaceOrderMode {
    match mode {
        Mode::None => PlaceOrderMode::None,
        Mode::Place => PlaceOrderMode::PlaceOrder,
        Mode::Capture => PlaceOrderMode::CaptureOrder,
    }
}

fn verified(v: &Verified) -> String {
    match v {
        Verified::Applied {
            state, hpp_status, ..
        } => match hpp_status {
            Some(s) => format!("applied: HPP {s}, checkout {state:?}"),
            None => format!("applied: checkout {state:?}"),
        },
        Verified::Queued => "queued for the instance holding the checkout".to_owned(),
        _ => "applied".to_owned(),
    }
}

fn done(view: &CheckoutView) -> bool {
    view.state.is_terminal() || view.state == State::Captured
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

/// One consumer action on the hosted page.
type Act = fn(
    &klarna_hpp_sim::Consumer<'_>,
) -> Result<klarna_hpp_sim::ConsumerOutcome, klarna_hpp_sim::ConsumerError>;

/// The consumer: opens the hosted page (real HTTP), acts, and follows the redirect back.
fn consumer(sim: &SimHandle, timeline: &Timeline, id: &str, page: &str, outcome: Outcome) {
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
