//! A small web shop on axum that takes payments through Klarna's hosted payment page, with its
//! checkouts kept durably by `klarna-hpp-runtime`.
//!
//! One copy of this code serves two purposes: the `web_shop` example of `klarna-hpp-runtime`
//! (`cargo run -p klarna-hpp-runtime --example web_shop`) includes this file, and the browser
//! test (`tests/tests/browser_shop.rs`) runs it in-process.
//!
//! | route | what it does |
//! |---|---|
//! | `GET /` | the cart with a "Pay with Klarna" button |
//! | `POST /checkout` | [`Runtime::start`]: stores the checkout, creates the sessions, answers 303 to Klarna's hosted page |
//! | `GET /klarna/{success,cancel,back,failure,error}` | the consumer's return: [`Runtime::handle_redirect`] (a verifying read; on COMPLETED the runtime places the order and captures it), then renders `#order-id` and `#state` |
//! | `POST /klarna/callback` | Klarna's status callback: [`Runtime::handle_callback`] |
//!
//! The patterns a real shop needs, shown small:
//!
//! - **Durable checkouts**: every handler is one runtime call, load → apply → drive → persist
//!   under a lease, on an SQLite file (the default) or PostgreSQL (several instances). A
//!   restarted shop carries on with the checkouts of the one before.
//! - **Route by checkout id**: every merchant URL carries `checkout=<id>`
//!   ([`web::with_checkout_id`]); handlers read it back with [`web::checkout_id`].
//! - **Handlers never sleep through Klarna's pace**: anything due later (the next status poll,
//!   a retry after a 503, a deadline) is the runtime's [`Worker`], which runs in the shop's
//!   process and wakes checkouts whose consumer never comes back.
//! - **Money-moving work is not cancelled by a browser that goes away**: each runtime call runs
//!   on a spawned task.
//! - **The order system consumes the outbox**: the runtime writes each event in the same
//!   transaction as the state that produced it; the shop's order book (tables `shop_orders`
//!   and `shop_order_events` in the same database) applies each event once, keyed by its id,
//!   then acknowledges it.
//! - **Trust only API reads**: the return page shows what the checkout learned by reading the
//!   session and the order, never the redirect's query string.

use std::fmt::Write as _;
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State as AxumState};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use klarna_hpp_async::{web, ReqwestTransport};
use klarna_hpp_core::checkout::{Checkout, CheckoutConfig, Event, InputError, Seed, State};
use klarna_hpp_core::hpp::{MerchantUrls, Options};
use klarna_hpp_core::kp::SessionCreate;
use klarna_hpp_core::model::{OrderLine, OrderLineType};
use klarna_hpp_core::template::UrlKind;
use klarna_hpp_core::Api;
use klarna_hpp_runtime::{
    CheckoutStore, OutboxEvent, Runtime, RuntimeConfig, RuntimeError, StoreError, Verified, Worker,
    WorkerConfig,
};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::Row as _;

/// How long the consumer's return page waits for the verifying read, the order and the capture
/// before it shows a "confirming" page that refreshes itself.
const RETURN_WAIT: Duration = Duration::from_secs(3);

/// How often the order system looks at the outbox (the return page also catches it up).
const ORDERS_EVERY: Duration = Duration::from_millis(250);

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

fn millis_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Why the shop could not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// The checkout store (the runtime's tables) could not be opened or migrated.
    Store(StoreError),
    /// The order book (the shop's tables) could not be opened.
    Orders(String),
    /// The listening socket.
    Io(std::io::Error),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Store(e) => write!(f, "the checkout store: {e}"),
            StartError::Orders(e) => write!(f, "the order book: {e}"),
            StartError::Io(e) => write!(f, "listening: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

/// What the shop's order system recorded for one checkout, from the runtime's outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRecord {
    /// The OM order id (once `OrderPlaced` was handled).
    pub order_id: Option<String>,
    /// The sum of the `Captured` events handled (each once).
    pub captured: i64,
    /// The sum of the `Refunded` events handled (each once).
    pub refunded: i64,
    /// The last status the order system gave it (`placed`, `captured`, `cancelled`, …).
    pub status: String,
}

/// The shop's order system: its own two tables in the checkouts' database. Each outbox event is
/// applied in one transaction with the record of its id, so a redelivered event (at least once)
/// changes nothing the second time.
#[derive(Clone)]
enum OrderBook {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

const ORDER_TABLES: [&str; 3] = [
    "CREATE TABLE IF NOT EXISTS shop_orders (checkout_id TEXT PRIMARY KEY NOT NULL, \
     order_id TEXT, captured BIGINT NOT NULL DEFAULT 0, refunded BIGINT NOT NULL DEFAULT 0, \
     status TEXT NOT NULL, updated_at BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS shop_order_events (event_id TEXT PRIMARY KEY NOT NULL, \
     checkout_id TEXT NOT NULL, seq BIGINT NOT NULL, note TEXT NOT NULL, \
     handled_at BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS shop_order_events_checkout ON shop_order_events (checkout_id, seq)",
];

/// Runs `$body` with `$p` bound to the concrete pool and `$q(sql)` the SQL with its `$n`
/// placeholders in the backend's syntax.
macro_rules! with_book {
    ($book:expr, |$p:ident, $q:ident| $body:expr) => {
        match $book {
            OrderBook::Sqlite($p) => {
                let $q = |sql: &str| sql.replace('$', "?");
                $body
            }
            OrderBook::Postgres($p) => {
                let $q = |sql: &str| sql.to_owned();
                $body
            }
        }
    };
}

/// What one event changes in `shop_orders`: `(sql, order id, amount, status)`.
fn order_change(event: &Event) -> Option<(&'static str, Option<&str>, i64, &'static str)> {
    const PLACED: &str = "INSERT INTO shop_orders (checkout_id, order_id, status, updated_at) \
        VALUES ($1, $2, $4, $5) ON CONFLICT (checkout_id) DO UPDATE SET \
        order_id = excluded.order_id, status = excluded.status, updated_at = excluded.updated_at";
    const CAPTURED: &str = "INSERT INTO shop_orders (checkout_id, order_id, captured, status, \
        updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (checkout_id) DO UPDATE SET \
        captured = shop_orders.captured + excluded.captured, status = excluded.status, \
        updated_at = excluded.updated_at";
    const REFUNDED: &str = "INSERT INTO shop_orders (checkout_id, order_id, refunded, status, \
        updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (checkout_id) DO UPDATE SET \
        refunded = shop_orders.refunded + excluded.refunded, status = excluded.status, \
        updated_at = excluded.updated_at";
    const STATUS: &str = "INSERT INTO shop_orders (checkout_id, order_id, status, updated_at) \
        VALUES ($1, $2, $4, $5) ON CONFLICT (checkout_id) DO UPDATE SET \
        status = excluded.status, updated_at = excluded.updated_at";
    match event {
        Event::OrderPlaced { order_id, .. } => Some((PLACED, Some(order_id), 0, "placed")),
        Event::Captured { amount, .. } => Some((CAPTURED, None, *amount, "captured")),
        Event::Refunded { amount, .. } => Some((REFUNDED, None, *amount, "refunded")),
        Event::Cancelled { .. } => Some((STATUS, None, 0, "cancelled")),
        Event::Failed { .. } => Some((STATUS, None, 0, "failed")),
        Event::Expired { .. } => Some((STATUS, None, 0, "expired")),
        _ => None,
    }
}

impl OrderBook {
    /// Opens the order book in the database at `url` (the runtime's URL forms) and creates its
    /// tables when missing.
    async fn open(url: &str) -> Result<Self, sqlx::Error> {
        let book = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)?;
            OrderBook::Postgres(
                PgPoolOptions::new()
                    .max_connections(4)
                    .acquire_timeout(Duration::from_secs(5))
                    .connect_with(options)
                    .await?,
            )
        } else {
            let path = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
                .unwrap_or(url);
            let options = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(30));
            OrderBook::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(2)
                    .connect_with(options)
                    .await?,
            )
        };
        for sql in ORDER_TABLES {
            with_book!(&book, |p, _q| sqlx::query(sql).execute(p).await.map(|_| ()))?;
        }
        Ok(book)
    }

    /// Applies one outbox event unless its id was applied before; `true` when applied now.
    async fn apply(&self, event: &OutboxEvent) -> Result<bool, sqlx::Error> {
        let parsed: Option<Event> = serde_json::from_str(&event.payload).ok();
        let note = match &parsed {
            Some(e) => describe(e),
            None => format!("{} (not understood by this shop)", event.kind),
        };
        let now = millis_now();
        let record =
            "INSERT INTO shop_order_events (event_id, checkout_id, seq, note, handled_at) \
                      VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING";
        with_book!(self, |p, q| {
            let mut tx = p.begin().await?;
            let fresh = sqlx::query(&q(record))
                .bind(&event.id)
                .bind(&event.checkout_id)
                .bind(event.seq)
                .bind(&note)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            if fresh {
                if let Some((sql, order_id, amount, status)) =
                    parsed.as_ref().and_then(order_change)
                {
                    sqlx::query(&q(sql))
                        .bind(&event.checkout_id)
                        .bind(order_id)
                        .bind(amount)
                        .bind(status)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await?;
            Ok(fresh)
        })
    }

    async fn order(&self, checkout_id: &str) -> Result<Option<OrderRecord>, sqlx::Error> {
        let sql = "SELECT order_id, captured, refunded, status FROM shop_orders \
                   WHERE checkout_id = $1";
        with_book!(self, |p, q| {
            let row = sqlx::query(&q(sql))
                .bind(checkout_id)
                .fetch_optional(p)
                .await?;
            row.map(|r| {
                Ok(OrderRecord {
                    order_id: r.try_get("order_id")?,
                    captured: r.try_get("captured")?,
                    refunded: r.try_get("refunded")?,
                    status: r.try_get("status")?,
                })
            })
            .transpose()
        })
    }

    /// What the order system handled for a checkout, in order (the last 100).
    async fn history(&self, checkout_id: &str) -> Result<Vec<String>, sqlx::Error> {
        let sql = "SELECT note FROM (SELECT seq, note FROM shop_order_events \
                   WHERE checkout_id = $1 ORDER BY seq DESC LIMIT 100) AS last ORDER BY seq";
        with_book!(self, |p, q| {
            sqlx::query_scalar(&q(sql))
                .bind(checkout_id)
                .fetch_all(p)
                .await
        })
    }

    async fn close(&self) {
        with_book!(self, |p, _q| p.close().await);
    }
}

struct Inner {
    api: Api,
    base: String,
    seed: Seed,
    instance: String,
    next: AtomicU64,
    runtime: Runtime<ReqwestTransport>,
    orders: OrderBook,
    /// One outbox pass at a time in this process (the event ids keep other processes honest).
    syncing: tokio::sync::Mutex<()>,
}

/// The shop: its configuration, its durable checkouts (the runtime) and its order book. Cheap
/// to clone.
#[derive(Clone)]
pub struct Shop {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Shop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shop")
            .field("base", &self.inner.base)
            .field("runtime", &self.inner.runtime)
            .finish_non_exhaustive()
    }
}

/// Why a shop request failed.
#[derive(Debug)]
enum ShopError {
    NotFound,
    BadRequest(String),
    Unauthorized(String),
    Unavailable(String),
    Upstream(String),
    Internal(String),
}

impl From<RuntimeError> for ShopError {
    fn from(e: RuntimeError) -> Self {
        match e {
            RuntimeError::Store(StoreError::NotFound(_)) => ShopError::NotFound,
            RuntimeError::Input(InputError::BadCallbackSecret) => {
                ShopError::Unauthorized(e.to_string())
            }
            RuntimeError::Input(_) | RuntimeError::Command(_) | RuntimeError::Refused(_) => {
                ShopError::BadRequest(e.to_string())
            }
            RuntimeError::Busy(_) => ShopError::Unavailable(e.to_string()),
            RuntimeError::Store(ref s) if s.is_transient() => ShopError::Unavailable(e.to_string()),
            other => ShopError::Internal(other.to_string()),
        }
    }
}

impl From<StoreError> for ShopError {
    fn from(e: StoreError) -> Self {
        RuntimeError::Store(e).into()
    }
}

impl From<sqlx::Error> for ShopError {
    fn from(e: sqlx::Error) -> Self {
        ShopError::Unavailable(format!("the order book: {e}"))
    }
}

impl IntoResponse for ShopError {
    fn into_response(self) -> Response {
        let (status, text) = match self {
            ShopError::NotFound => (StatusCode::NOT_FOUND, "No such checkout.".to_owned()),
            ShopError::BadRequest(t) => (StatusCode::BAD_REQUEST, t),
            ShopError::Unauthorized(t) => (StatusCode::UNAUTHORIZED, t),
            ShopError::Unavailable(t) => (StatusCode::SERVICE_UNAVAILABLE, t),
            ShopError::Upstream(t) => (StatusCode::BAD_GATEWAY, t),
            ShopError::Internal(t) => (StatusCode::INTERNAL_SERVER_ERROR, t),
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

/// Runs a runtime call on its own task, so that a browser that disconnects cannot cut it short.
async fn detached<T: Send + 'static>(
    call: impl std::future::Future<Output = Result<T, RuntimeError>> + Send + 'static,
) -> Result<T, ShopError> {
    tokio::spawn(call)
        .await
        .map_err(|e| ShopError::Internal(format!("the checkout task failed: {e}")))?
        .map_err(ShopError::from)
}

impl Shop {
    /// A shop that keeps its checkouts and orders in `database` (`sqlite:PATH`, a file path, or
    /// `postgres://…`), reaches Klarna through `api`, is reachable (by browsers and by Klarna's
    /// callbacks) at `public_url` (e.g. `http://127.0.0.1:8080`), and derives each checkout's
    /// callback secret and idempotency keys from `seed` (≥ 16 bytes, from your key store).
    pub async fn open(
        api: Api,
        public_url: impl Into<String>,
        seed: impl Into<String>,
        database: &str,
    ) -> Result<Self, StartError> {
        let store = CheckoutStore::connect(database)
            .await
            .map_err(StartError::Store)?;
        let orders = OrderBook::open(database)
            .await
            .map_err(|e| StartError::Orders(e.to_string()))?;
        // The shop places the order as soon as the consumer authorizes and captures it at once
        // (a real shop captures when it ships: call `Runtime::capture` then).
        let runtime = Runtime::new(
            store,
            api.clone(),
            ReqwestTransport::default(),
            RuntimeConfig::default()
                .place_order_on_authorization(true)
                .capture_on_order(true),
        );
        let base = public_url.into().trim_end_matches('/').to_owned();
        Ok(Self {
            inner: Arc::new(Inner {
                api,
                base,
                seed: Seed::from(seed.into()),
                instance: random_hex()[..8].to_owned(),
                next: AtomicU64::new(1001),
                runtime,
                orders,
                syncing: tokio::sync::Mutex::new(()),
            }),
        })
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

    /// The runtime the shop's handlers call.
    pub fn runtime(&self) -> &Runtime<ReqwestTransport> {
        &self.inner.runtime
    }

    /// The ids of the stored checkouts, oldest first.
    pub async fn checkout_ids(&self) -> Result<Vec<String>, StoreError> {
        let store = self.inner.runtime.store();
        let mut rows = Vec::new();
        let mut after = String::new();
        loop {
            let page = store.list(&after, 500).await?;
            let Some(last) = page.last() else { break };
            after = last.id.clone();
            rows.extend(page);
        }
        rows.sort_by(|a, b| {
            (a.created_at, a.id.len(), &a.id).cmp(&(b.created_at, b.id.len(), &b.id))
        });
        Ok(rows.into_iter().map(|r| r.id).collect())
    }

    /// The stored checkout `id`, restored from its snapshot (read-only).
    pub async fn checkout(&self, id: &str) -> Option<Checkout> {
        let snapshot = self.inner.runtime.store().snapshot(id).await.ok()?;
        Checkout::restore(self.inner.api.clone(), &snapshot).ok()
    }

    /// What the order system recorded for checkout `id` (after catching up with the outbox).
    pub async fn order(&self, id: &str) -> Result<Option<OrderRecord>, StartError> {
        let orders = |e: String| StartError::Orders(e);
        self.sync_orders()
            .await
            .map_err(|e| orders(format!("{e:?}")))?;
        self.inner
            .orders
            .order(id)
            .await
            .map_err(|e| orders(e.to_string()))
    }

    /// The order system's pass over the outbox: applies every pending event (once, by its id)
    /// and acknowledges it. Returns how many it applied now.
    async fn sync_orders(&self) -> Result<usize, ShopError> {
        let _one = self.inner.syncing.lock().await;
        let store = self.inner.runtime.store();
        let mut applied = 0;
        loop {
            let events = store.pending_events(100).await?;
            for event in &events {
                if self.inner.orders.apply(event).await? {
                    applied += 1;
                }
                store.ack_event(&event.id, millis_now()).await?;
            }
            if events.len() < 100 {
                return Ok(applied);
            }
        }
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

    /// Starts a checkout through the runtime; returns the consumer link.
    async fn start(&self) -> Result<String, ShopError> {
        let n = self.inner.next.fetch_add(1, Ordering::Relaxed);
        let id = format!("shop-{n}-{}", self.inner.instance);
        let runtime = self.inner.runtime.clone();
        let config = self.config(&id);
        let started = detached(async move { runtime.start(config).await }).await?;
        match started.link.and_then(|l| l.redirect_url) {
            Some(link) => Ok(link),
            None if started.state.is_terminal() => Err(ShopError::Upstream(
                "Klarna refused the checkout; please try again later".into(),
            )),
            None => Err(ShopError::Upstream(
                "Klarna did not answer in time; please try again".into(),
            )),
        }
    }

    /// The stored checkout's view; while the consumer's claimed outcome (or the order and its
    /// capture) is not verified yet, looks again (the worker drives it) for up to `wait`.
    async fn view(&self, id: &str, kind: ReturnKind, wait: Duration) -> Result<View, ShopError> {
        let deadline = Instant::now() + wait;
        loop {
            let checkout = self.checkout(id).await.ok_or(ShopError::NotFound)?;
            let view = View::of(&checkout);
            let pending = match view.state {
                State::AwaitingConsumer => kind != ReturnKind::Back,
                State::Authorized | State::PlacingOrder => true,
                State::OrderPlaced => view.captured < view.amount,
                _ => false,
            };
            if !pending || Instant::now() >= deadline {
                return Ok(view);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Which merchant URL the consumer came back to (the route; what it means is verified by a
/// read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReturnKind {
    Success,
    Cancel,
    Back,
    Failure,
    Error,
}

impl ReturnKind {
    fn of(path: &str) -> Self {
        match path.rsplit('/').next() {
            Some("success") => ReturnKind::Success,
            Some("cancel") => ReturnKind::Cancel,
            Some("back") => ReturnKind::Back,
            Some("failure") => ReturnKind::Failure,
            _ => ReturnKind::Error,
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
}

impl View {
    fn of(checkout: &Checkout) -> Self {
        Self {
            state: checkout.state(),
            order_id: checkout.order_id().map(str::to_owned),
            captured: checkout.captured_amount(),
            amount: cart().order_amount,
            link: checkout.consumer_link().and_then(|l| l.redirect_url),
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
    let kind = ReturnKind::of(uri.path());
    let runtime = shop.inner.runtime.clone();
    let checkout_id = id.clone();
    let verified =
        detached(async move { runtime.handle_redirect(&checkout_id, &url).await }).await?;
    let view = shop.view(&id, kind, RETURN_WAIT).await?;
    shop.sync_orders().await?;
    let order = shop.inner.orders.order(&id).await?;
    let history = shop.inner.orders.history(&id).await?;

    let settled = !matches!(
        view.state,
        State::AwaitingConsumer | State::Authorized | State::PlacingOrder | State::OrderPlaced
    );
    let (title, refresh) = match view.state {
        State::Captured | State::OrderPlaced => ("Thank you for your order!", !settled),
        State::AwaitingConsumer => (
            "Your payment is not completed",
            // Back from a success page but the read has not shown COMPLETED yet: look again.
            kind == ReturnKind::Success,
        ),
        _ if settled => ("Your payment did not go through", false),
        _ => ("Thank you! Confirming your payment…", true),
    };
    let applied = match verified {
        Verified::Applied { .. } => "verified here",
        Verified::Queued => "queued for the instance holding the checkout",
        _ => "noted",
    };
    let mut body = format!(
        "<p>Order: <span id=\"order-id\">{}</span></p>\
         <p>State: <span id=\"state\">{:?}</span></p>\
         <p>Captured: <span id=\"captured\">{}</span> of {}</p>\
         <p>Checkout: <code id=\"checkout-id\">{}</code> (returned via {kind:?}, {applied})</p>",
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
    let order = order.unwrap_or(OrderRecord {
        order_id: None,
        captured: 0,
        refunded: 0,
        status: "none".into(),
    });
    let _ = write!(
        body,
        "<h2>Our order book</h2><p>Order <span id=\"booked-order\">{}</span>: \
         <span id=\"booked-status\">{}</span>, captured \
         <span id=\"booked-captured\">{}</span>, refunded {}</p>",
        esc(order.order_id.as_deref().unwrap_or("")),
        esc(&order.status),
        money(order.captured),
        money(order.refunded),
    );
    body.push_str("<h2>What happened</h2><ol id=\"events\">");
    for line in &history {
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
    let runtime = shop.inner.runtime.clone();
    let verified = detached(async move { runtime.handle_callback(&id, &uri, &body).await }).await?;
    let text = match verified {
        Verified::Applied { state, .. } => format!("applied: {state:?}"),
        _ => "queued".to_owned(),
    };
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], text).into_response())
}

/// A shop serving on a port, with the runtime's worker and the order system's outbox reader.
#[derive(Debug)]
pub struct RunningShop {
    url: String,
    shop: Shop,
    stop: tokio::sync::watch::Sender<bool>,
    server: tokio::task::JoinHandle<()>,
    worker: tokio::task::JoinHandle<()>,
    orders: tokio::task::JoinHandle<()>,
}

impl RunningShop {
    /// Opens `database` (see [`Shop::open`]), binds `listen` and serves the shop on the current
    /// tokio runtime, with a [`Worker`] on the same database and the order system reading the
    /// outbox. `public_url` is where browsers and Klarna reach it (default
    /// `http://<bound address>`).
    pub async fn start(
        api: Api,
        listen: SocketAddr,
        public_url: Option<String>,
        seed: impl Into<String>,
        database: &str,
    ) -> Result<Self, StartError> {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(StartError::Io)?;
        let addr = listener.local_addr().map_err(StartError::Io)?;
        let url = public_url.unwrap_or_else(|| format!("http://{addr}"));
        let shop = Shop::open(api, url.clone(), seed, database).await?;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let until_stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };
        let app = shop.router();
        let server = tokio::spawn({
            let stopped = until_stopped(stopped.clone());
            async move {
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(stopped)
                    .await;
            }
        });
        let worker = tokio::spawn({
            let worker = Worker::new(shop.runtime().clone(), WorkerConfig::default());
            let stopped = until_stopped(stopped.clone());
            async move {
                let stats = worker.run(stopped).await;
                tracing::info!(?stats, "worker stopped");
            }
        });
        let orders = tokio::spawn({
            let shop = shop.clone();
            let stopped = until_stopped(stopped);
            async move {
                tokio::pin!(stopped);
                loop {
                    if let Err(e) = shop.sync_orders().await {
                        tracing::warn!(error = ?e, "order system: outbox pass failed");
                    }
                    tokio::select! {
                        () = &mut stopped => break,
                        () = tokio::time::sleep(ORDERS_EVERY) => {}
                    }
                }
            }
        });
        Ok(Self {
            url,
            shop,
            stop,
            server,
            worker,
            orders,
        })
    }

    /// Where the shop is reachable, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The shop (its checkouts and orders).
    pub fn shop(&self) -> &Shop {
        &self.shop
    }

    /// Stops serving, the worker and the order system, waits for them, and closes the
    /// database: nothing of this shop stays in the process.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.server.await;
        let _ = self.worker.await;
        let _ = self.orders.await;
        self.shop.inner.runtime.store().close().await;
        self.shop.inner.orders.close().await;
    }
}
