//! A small web shop on axum that takes payments through Klarna's hosted payment page.
//!
//! One copy of this code serves two purposes: the `web_shop` example of `klarna-hpp-async`
//! (`cargo run -p klarna-hpp-async --example web_shop`) includes this file, and the browser test
//! (`tests/tests/browser_shop.rs`) runs it in-process.
//!
//! | route | what it does |
//! |---|---|
//! | `GET /` | the cart with a "Pay with Klarna" button |
//! | `POST /checkout` | creates a [`Checkout`], drives it until the consumer link is ready, stores its snapshot and answers 303 to Klarna's hosted page |
//! | `GET /klarna/{success,cancel,back,failure,error}` | the consumer's return: restore, `handle_redirect`, drive (the checkout reads the session; on COMPLETED the shop places the order and captures it), render `#order-id` and `#state` |
//! | `POST /klarna/callback` | Klarna's status callback: `handle_callback`, then the same drive |
//!
//! The patterns a real shop needs, shown small:
//!
//! - **Persist between requests**: checkouts live only as [`Checkout::snapshot`] bytes in a map
//!   (your database). Every request loads a row, locks it (one writer per checkout), restores,
//!   acts, drives, and stores the new snapshot.
//! - **Route by checkout id**: every merchant URL carries `checkout=<id>`
//!   ([`web::with_checkout_id`]); handlers read it back with [`web::checkout_id`].
//! - **Handlers never sleep**: they drive only what is due now. Anything due later (the next
//!   status poll, a retry after a 503) is picked up by a background sweeper that drives rows
//!   whose [`Checkout::poll_timeout`] has come, or by the next request.
//! - **Money-moving work is not cancelled by a browser that goes away**: it runs on a spawned
//!   task, and the snapshot is written before each request is sent (so a crash leaves a
//!   checkout that [`Checkout::resume_after_restart`] resolves without paying twice).
//! - **Trust only API reads**: the return page shows what the checkout learned by reading the
//!   session and the order, never the redirect's query string.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State as AxumState};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use klarna_hpp_async::{web, AsyncClock, AsyncTransport, Driver, ReqwestTransport, TokioClock};
use klarna_hpp_core::checkout::{
    Checkout, CheckoutConfig, Event, InputError, Output, RedirectKind, Seed, State,
};
use klarna_hpp_core::hpp::{MerchantUrls, Options};
use klarna_hpp_core::kp::SessionCreate;
use klarna_hpp_core::model::{OrderLine, OrderLineType};
use klarna_hpp_core::template::UrlKind;
use klarna_hpp_core::{Api, Timestamp};

/// How long the consumer's return page waits for a verifying read that is due soon.
const RETURN_WAIT: Duration = Duration::from_secs(3);

/// The cart every visitor buys (a shop would take it from the session).
pub fn cart() -> SessionCreate {
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
    let mut session = SessionCreate::new("SE", "SEK", lines);
    session.locale = Some("sv-SE".into());
    session
}

/// One stored checkout: its snapshot and what happened to it, for the pages.
#[derive(Debug, Default)]
struct Row {
    snapshot: Vec<u8>,
    /// When the sweeper must drive it next (`Checkout::poll_timeout`).
    due: Option<Timestamp>,
    /// Events and merchant actions, in order.
    log: Vec<String>,
}

impl Row {
    /// Most recent log lines kept per checkout (forged callbacks must not grow it without end).
    const LOG_LIMIT: usize = 100;

    fn note(&mut self, line: String) {
        if self.log.len() >= Self::LOG_LIMIT {
            self.log.remove(0);
        }
        self.log.push(line);
    }
}

type Rows = Mutex<HashMap<String, Arc<tokio::sync::Mutex<Row>>>>;

struct Inner {
    api: Api,
    base: String,
    seed: Seed,
    instance: String,
    next: AtomicU64,
    driver: Driver<ReqwestTransport, TokioClock>,
    rows: Rows,
}

/// The shop: its configuration and its (in-memory) checkout store. Cheap to clone.
#[derive(Clone)]
pub struct Shop {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Shop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shop")
            .field("base", &self.inner.base)
            .finish_non_exhaustive()
    }
}

/// Why a shop request failed.
#[derive(Debug)]
enum ShopError {
    NotFound,
    BadRequest(String),
    Unauthorized(String),
    Upstream(String),
}

impl IntoResponse for ShopError {
    fn into_response(self) -> Response {
        let (status, text) = match self {
            ShopError::NotFound => (StatusCode::NOT_FOUND, "No such checkout.".to_owned()),
            ShopError::BadRequest(t) => (StatusCode::BAD_REQUEST, t),
            ShopError::Unauthorized(t) => (StatusCode::UNAUTHORIZED, t),
            ShopError::Upstream(t) => (StatusCode::BAD_GATEWAY, t),
        };
        let body = page(
            "Something went wrong",
            &format!(
                "<p id=\"error\">{}</p><p><a href=\"/\">Back to the shop</a></p>",
                esc(&text)
            ),
            false,
        );
        (status, body).into_response()
    }
}

/// A random hex string from the standard library's per-process random hash keys (a real shop
/// takes its seed from a key store).
pub fn random_hex() -> String {
    let mut out = String::new();
    for i in 0u64..2 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(i);
        let _ = write!(out, "{:016x}", h.finish());
    }
    out
}

impl Shop {
    /// A shop that reaches Klarna through `api`, is reachable (by browsers and by Klarna's
    /// callbacks) at `public_url` (e.g. `http://127.0.0.1:8080`), and derives each checkout's
    /// callback secret and idempotency keys from `seed` (≥ 16 bytes, from your key store).
    pub fn new(api: Api, public_url: impl Into<String>, seed: impl Into<String>) -> Self {
        let base = public_url.into().trim_end_matches('/').to_owned();
        Self {
            inner: Arc::new(Inner {
                api,
                base,
                seed: Seed::from(seed.into()),
                instance: random_hex()[..8].to_owned(),
                next: AtomicU64::new(1001),
                driver: Driver::new(ReqwestTransport::default(), TokioClock),
                rows: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The shop's routes.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/", get(index))
            .route("/checkout", post(create))
            .route("/klarna/success", get(returned))
            .route("/klarna/cancel", get(returned))
            .route("/klarna/back", get(returned))
            .route("/klarna/failure", get(returned))
            .route("/klarna/error", get(returned))
            .route(
                "/klarna/callback",
                post(callback).layer(DefaultBodyLimit::max(web::MAX_CALLBACK_BODY)),
            )
            .with_state(self.clone())
    }

    /// The ids of the stored checkouts, oldest first.
    pub fn checkout_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.rows().keys().cloned().collect();
        ids.sort_by_key(|id| (id.len(), id.clone()));
        ids
    }

    /// The stored checkout `id`, restored from its snapshot (waits for a handler using it).
    pub async fn checkout(&self, id: &str) -> Option<Checkout> {
        let row = self.rows().get(id).cloned()?;
        let row = row.lock().await;
        Checkout::restore(self.inner.api.clone(), &row.snapshot).ok()
    }

    /// Drives every stored checkout whose next timeout has come (the status polls while the
    /// consumer is away, retries, deadlines). Run it every second or so.
    pub async fn sweep(&self) {
        let now = self.inner.driver.now();
        let rows: Vec<(String, Arc<tokio::sync::Mutex<Row>>)> = self
            .rows()
            .iter()
            .map(|(id, row)| (id.clone(), Arc::clone(row)))
            .collect();
        for (id, row) in rows {
            let due = row.lock().await.due.is_some_and(|at| at <= now);
            if due {
                let _ = self
                    .update(&id, None, Duration::ZERO, |_, _| Ok::<(), InputError>(()))
                    .await;
            }
        }
    }

    fn rows(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<tokio::sync::Mutex<Row>>>> {
        self.inner
            .rows
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn config(&self, id: &str) -> CheckoutConfig {
        let base = &self.inner.base;
        let url =
            |path: &str| web::with_checkout_id(&format!("{base}{path}?sid={{{{session_id}}}}"), id);
        let urls = MerchantUrls::default()
            .with(UrlKind::Success, url("/klarna/success"))
            .with(UrlKind::Cancel, url("/klarna/cancel"))
            .with(UrlKind::Back, url("/klarna/back"))
            .with(UrlKind::Failure, url("/klarna/failure"))
            .with(UrlKind::Error, url("/klarna/error"))
            .with(
                UrlKind::StatusUpdate,
                web::with_checkout_id(&format!("{base}/klarna/callback"), id),
            );
        let mut session = cart();
        session.merchant_reference1 = Some(id.to_owned());
        CheckoutConfig::new(id, self.inner.seed.clone(), session)
            .merchant_urls(urls)
            .options(Options::default().with_page_title("Ankeborg Outdoor"))
    }

    /// Creates a checkout and drives it until the consumer link is ready; returns the link.
    async fn start(&self) -> Result<String, ShopError> {
        let n = self.inner.next.fetch_add(1, Ordering::Relaxed);
        let id = format!("shop-{n}-{}", self.inner.instance);
        let driver = &self.inner.driver;
        let mut checkout = Checkout::new(self.inner.api.clone(), self.config(&id), driver.now())
            .map_err(|e| ShopError::BadRequest(e.to_string()))?;
        let mut row = Row::default();
        let link = loop {
            // The driver may wait here (retries after a 503); bound it.
            let next =
                tokio::time::timeout(Duration::from_secs(30), driver.next_event(&mut checkout));
            match next.await {
                Ok(Some(Event::ConsumerLinkReady(link))) => {
                    row.note(format!(
                        "consumer link ready (HPP session {})",
                        link.session_id
                    ));
                    break link.redirect_url;
                }
                Ok(Some(Event::Failed { reason })) => {
                    return Err(ShopError::Upstream(format!("Klarna refused: {reason:?}")))
                }
                Ok(Some(event)) => row.note(describe(&event)),
                Ok(None) => return Err(ShopError::Upstream("the checkout stopped".into())),
                Err(_) => return Err(ShopError::Upstream("Klarna did not answer in time".into())),
            }
        };
        let link = link.ok_or_else(|| ShopError::Upstream("no redirect URL".into()))?;
        row.snapshot = checkout.snapshot();
        row.due = checkout.poll_timeout();
        self.rows()
            .insert(id, Arc::new(tokio::sync::Mutex::new(row)));
        Ok(link)
    }

    /// Loads checkout `id`, applies `input`, drives what is due now (placing and capturing the
    /// order on the way), stores it, and returns what the pages show. Runs on its own task, so
    /// a browser that disconnects cannot cut it short.
    async fn update<R: std::fmt::Debug + Send + 'static>(
        &self,
        id: &str,
        what: Option<&'static str>,
        wait: Duration,
        input: impl FnOnce(&mut Checkout, Timestamp) -> Result<R, InputError> + Send + 'static,
    ) -> Result<(R, View), ShopError> {
        let row = self.rows().get(id).cloned().ok_or(ShopError::NotFound)?;
        let shop = self.clone();
        let task = tokio::spawn(async move {
            let mut row = row.lock().await;
            let driver = &shop.inner.driver;
            let mut checkout = Checkout::restore(shop.inner.api.clone(), &row.snapshot)
                .map_err(|e| ShopError::BadRequest(e.to_string()))?;
            // A request the snapshot shows in flight was cut short (a crash): resolve it.
            checkout.resume_after_restart(driver.now());
            let result = input(&mut checkout, driver.now());
            match (what, &result) {
                (Some(what), Ok(r)) => row.note(format!("{what}: {r:?}")),
                (Some(what), Err(e)) => row.note(format!("{what} refused: {e}")),
                (None, _) => {}
            }
            shop.settle(&mut checkout, &mut row, wait).await;
            row.snapshot = checkout.snapshot();
            row.due = checkout.poll_timeout();
            let view = View::of(&checkout, &row.log);
            let value = result.map_err(|e| match e {
                InputError::BadCallbackSecret => ShopError::Unauthorized(e.to_string()),
                other => ShopError::BadRequest(other.to_string()),
            })?;
            Ok((value, view))
        });
        task.await.unwrap_or_else(|e| {
            Err(ShopError::Upstream(format!(
                "the checkout task failed: {e}"
            )))
        })
    }

    /// Drives the checkout through everything due now; reacts to events. While the consumer's
    /// outcome is unknown it also waits up to `wait` for a read that is due soon (hints never
    /// bring reads closer together than the poll policy's first interval).
    async fn settle(&self, checkout: &mut Checkout, row: &mut Row, wait: Duration) {
        let driver = &self.inner.driver;
        loop {
            match checkout.poll_output() {
                Output::Event(event) => {
                    row.note(describe(&event));
                    self.react(checkout, &event, row);
                }
                Output::Request(id, request) => {
                    // Write ahead: if the process dies now, the stored snapshot knows a request
                    // was out and `resume_after_restart` resolves it.
                    row.snapshot = checkout.snapshot();
                    let result = driver.transport().send(request).await;
                    let now = driver.now();
                    // The id is the one just polled, so the checkout accepts it.
                    let _ = match result {
                        Ok(response) => checkout.handle_response(id, response, now),
                        Err(e) => checkout.handle_transport_error(id, e.failure, now),
                    };
                }
                Output::Timeout(at) if at <= driver.clock().now() => {
                    checkout.handle_timeout(driver.now());
                }
                Output::Timeout(at)
                    if checkout.state() == State::AwaitingConsumer
                        && at <= driver.now().saturating_add(wait) =>
                {
                    driver.clock().sleep_until(at).await;
                    checkout.handle_timeout(driver.now());
                }
                _ => break,
            }
        }
    }

    /// The merchant's decisions: place the order once authorized, capture it once placed (a
    /// real shop captures when it ships).
    fn react(&self, checkout: &mut Checkout, event: &Event, row: &mut Row) {
        let now = self.inner.driver.now();
        let action = match event {
            Event::Authorized { .. } => {
                Some(("placing the order", checkout.place_order(None, now)))
            }
            Event::OrderUpdated {
                captured_amount: 0,
                remaining_authorized_amount,
                ..
            } if *remaining_authorized_amount > 0 => {
                Some(("capturing the full amount", checkout.capture(None, now)))
            }
            _ => None,
        };
        match action {
            Some((what, Ok(()))) => row.note(format!("shop: {what}")),
            Some((what, Err(e))) => row.note(format!("shop: {what} refused: {e}")),
            None => {}
        }
    }
}

/// What the pages show of a checkout.
#[derive(Debug)]
struct View {
    state: State,
    order_id: Option<String>,
    captured: i64,
    amount: i64,
    link: Option<String>,
    log: Vec<String>,
}

impl View {
    fn of(checkout: &Checkout, log: &[String]) -> Self {
        Self {
            state: checkout.state(),
            order_id: checkout.order_id().map(str::to_owned),
            captured: checkout.captured_amount(),
            amount: cart().order_amount,
            link: checkout.consumer_link().and_then(|l| l.redirect_url),
            log: log.to_vec(),
        }
    }
}

fn describe(event: &Event) -> String {
    match event {
        Event::ConsumerLinkReady(link) => {
            format!("consumer link ready (HPP session {})", link.session_id)
        }
        other => format!("{other:?}"),
    }
}

fn money(minor: i64) -> String {
    format!("{}.{:02} SEK", minor / 100, (minor % 100).abs())
}

/// Escapes text for HTML.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(title: &str, body: &str, refresh: bool) -> Html<String> {
    let refresh = if refresh {
        "<meta http-equiv=\"refresh\" content=\"2\">"
    } else {
        ""
    };
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">{refresh}\
         <title>{t} · Ankeborg Outdoor</title><style>\
         body{{font-family:sans-serif;max-width:40em;margin:2em auto;color:#222}}\
         table{{border-collapse:collapse;width:100%}}td{{padding:.3em;border-bottom:1px solid #ddd}}\
         td.n{{text-align:right}}button{{background:#ffb3c7;border:0;padding:.8em 1.6em;\
         font-size:1.1em;border-radius:.4em;cursor:pointer}}code,#order-id{{font-family:monospace}}\
         </style></head><body><h1>{t}</h1>{body}</body></html>",
        t = esc(title)
    ))
}

async fn index() -> Html<String> {
    let cart = cart();
    let mut rows = String::new();
    for line in &cart.order_lines {
        let _ = write!(
            rows,
            "<tr><td>{}</td><td class=\"n\">{} ×</td><td class=\"n\">{}</td></tr>",
            esc(&line.name),
            line.quantity,
            money(line.total_amount)
        );
    }
    page(
        "Your cart",
        &format!(
            "<table id=\"cart\">{rows}<tr><td><b>Total</b></td><td></td>\
             <td class=\"n\" id=\"total\"><b>{}</b></td></tr></table>\
             <form method=\"post\" action=\"/checkout\"><p>\
             <button id=\"pay-with-klarna\" type=\"submit\">Pay with Klarna</button></p></form>",
            money(cart.order_amount)
        ),
        false,
    )
}

async fn create(AxumState(shop): AxumState<Shop>) -> Result<Redirect, ShopError> {
    let link = shop.start().await?;
    Ok(Redirect::to(&link))
}

async fn returned(AxumState(shop): AxumState<Shop>, uri: Uri) -> Result<Html<String>, ShopError> {
    let id = web::checkout_id(&uri).map_err(|e| ShopError::BadRequest(e.to_string()))?;
    let url = web::redirect_url(&uri);
    let (kind, view) = shop
        .update(
            &id,
            Some("consumer returned"),
            RETURN_WAIT,
            move |checkout, now| checkout.handle_redirect(&url, now),
        )
        .await?;
    let settled = !matches!(
        view.state,
        State::AwaitingConsumer | State::Authorized | State::PlacingOrder | State::OrderPlaced
    );
    let (title, refresh) = match view.state {
        State::Captured | State::OrderPlaced => ("Thank you for your order!", !settled),
        State::AwaitingConsumer => (
            "Your payment is not completed",
            // Back from a success page but the read has not shown COMPLETED yet: look again.
            kind == RedirectKind::Success,
        ),
        _ if settled => ("Your payment did not go through", false),
        _ => ("Thank you! Confirming your payment…", true),
    };
    let mut body = format!(
        "<p>Order: <span id=\"order-id\">{}</span></p>\
         <p>State: <span id=\"state\">{:?}</span></p>\
         <p>Captured: <span id=\"captured\">{}</span> of {}</p>\
         <p>Checkout: <code id=\"checkout-id\">{}</code> (returned via {kind:?})</p>",
        esc(view.order_id.as_deref().unwrap_or("")),
        view.state,
        money(view.captured),
        money(view.amount),
        esc(&id),
    );
    if view.state == State::AwaitingConsumer {
        if let Some(link) = &view.link {
            let _ = write!(
                body,
                "<p><a id=\"resume\" href=\"{}\">Back to Klarna</a></p>",
                esc(link)
            );
        }
    }
    body.push_str("<h2>What happened</h2><ol id=\"events\">");
    for line in &view.log {
        let _ = write!(body, "<li>{}</li>", esc(line));
    }
    body.push_str("</ol><p><a href=\"/\">Back to the shop</a></p>");
    Ok(page(title, &body, refresh))
}

async fn callback(
    AxumState(shop): AxumState<Shop>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ShopError> {
    let checked = web::checkout_id(&uri).and_then(|id| {
        let (uri_for_core, body) = web::callback(&uri, &headers, &body)?;
        Ok((id, uri_for_core, body.to_vec()))
    });
    let (id, uri, body) = match checked {
        Ok(checked) => checked,
        Err(e) => return Ok((e.status(), e.to_string()).into_response()),
    };
    let (outcome, _) = shop
        .update(
            &id,
            Some("status callback"),
            Duration::ZERO,
            move |checkout, now| checkout.handle_callback(&uri, &body, now),
        )
        .await?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain")],
        format!("{outcome:?}"),
    )
        .into_response())
}

/// A shop serving on a port, with its sweeper.
#[derive(Debug)]
pub struct RunningShop {
    url: String,
    shop: Shop,
    stop: tokio::sync::watch::Sender<bool>,
    server: tokio::task::JoinHandle<()>,
    sweeper: tokio::task::JoinHandle<()>,
}

impl RunningShop {
    /// Binds `listen` and serves the shop on the current tokio runtime. `public_url` is where
    /// browsers and Klarna reach it (default `http://<bound address>`).
    pub async fn start(
        api: Api,
        listen: SocketAddr,
        public_url: Option<String>,
        seed: impl Into<String>,
    ) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let url = public_url.unwrap_or_else(|| format!("http://{addr}"));
        let shop = Shop::new(api, url.clone(), seed);
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let app = shop.router();
        let mut stopped_server = stopped.clone();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped_server.changed().await;
                })
                .await;
        });
        let sweeping = shop.clone();
        let sweeper = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stopped.changed() => break,
                }
                sweeping.sweep().await;
            }
        });
        Ok(Self {
            url,
            shop,
            stop,
            server,
            sweeper,
        })
    }

    /// Where the shop is reachable, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The shop (its checkouts).
    pub fn shop(&self) -> &Shop {
        &self.shop
    }

    /// Stops serving and sweeping, and waits for both.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.sweeper.await;
        let _ = self.server.await;
    }
}
