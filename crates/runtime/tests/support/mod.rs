//! Test support: fresh SQLite files and fresh PostgreSQL databases, the emulator, checkout
//! configurations.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use klarna_hpp_core::checkout::{CheckoutConfig, PollPolicy, RetryPolicy};
use klarna_hpp_core::hpp::{MerchantUrls, Options, PlaceOrderMode};
use klarna_hpp_core::kp::SessionCreate;
use klarna_hpp_core::model::{OrderLine, OrderLineType};
use klarna_hpp_core::template::UrlKind;
use klarna_hpp_core::{Api, BaseUrl, Credentials};
use klarna_hpp_runtime::CheckoutStore;
use klarna_hpp_sim::{Sim, SimConfig, SimHandle};
use sqlx::Connection;

fn unique() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        nanos % 1_000_000_000
    )
}

/// Whether the test process `pid` (from a database or file name) is gone.
fn dead(pid: &str) -> bool {
    pid.parse::<u32>().is_ok_and(|p| p != std::process::id())
        && !Path::new(&format!("/proc/{pid}")).exists()
}

/// A fresh SQLite file path (the file does not exist yet). Files left by test processes that
/// are gone are removed first.
pub fn sqlite_path() -> PathBuf {
    let dir = std::env::temp_dir().join("klarna-hpp-runtime-tests");
    std::fs::create_dir_all(&dir).unwrap();
    static SWEPT: std::sync::Once = std::sync::Once::new();
    SWEPT.call_once(|| {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let pid = name.strip_prefix("rt_").and_then(|r| r.split('_').next());
            if pid.is_some_and(dead) && entry.path().is_file() {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    });
    dir.join(format!("rt_{}.db", unique()))
}

/// The PostgreSQL server's URL: `DATABASE_URL`, else the shared test server.
pub fn pg_server() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A fresh PostgreSQL database of the test's own; returns its URL.
pub async fn pg_database() -> String {
    let server = pg_server();
    let name = format!("klarna_hpp_rt_{}", unique());
    let mut conn = sqlx::PgConnection::connect(&server)
        .await
        .expect("PostgreSQL reachable (DATABASE_URL or 127.0.0.1:5432)");
    // Databases left by test processes that are gone are dropped first (never another live
    // run's).
    let stale: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE datname LIKE 'klarna\\_hpp\\_rt\\_%'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    for db in stale {
        let pid = db
            .trim_start_matches("klarna_hpp_rt_")
            .split('_')
            .next()
            .unwrap_or("");
        if dead(pid) {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
                .execute(&mut conn)
                .await;
        }
    }
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    // Replace the database name (the last path segment, before any query).
    let (base, query) = match server.split_once('?') {
        Some((b, q)) => (b.to_owned(), format!("?{q}")),
        None => (server.clone(), String::new()),
    };
    let cut = base.rfind('/').unwrap();
    format!("{}/{name}{query}", &base[..cut])
}

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A fresh database URL of the test's own.
pub async fn fresh_url(db: Db) -> String {
    match db {
        Db::Sqlite => format!("sqlite:{}", sqlite_path().display()),
        Db::Postgres => pg_database().await,
    }
}

/// A fresh store.
pub async fn fresh_store(db: Db) -> (CheckoutStore, String) {
    let url = fresh_url(db).await;
    (CheckoutStore::connect(&url).await.unwrap(), url)
}

/// A fresh emulator on this runtime, with quick callback retries.
pub async fn sim() -> SimHandle {
    // The transport installs rustls' provider the emulator's client needs too.
    let _ = klarna_hpp_async::ReqwestTransport::default();
    let mut config = SimConfig::default()
        .with_seed(11)
        .with_callback_retry_delay(Duration::from_millis(50))
        .with_callback_timeout(Duration::from_secs(2));
    // The crash runs count every request the emulator saw.
    config.log_limit = 1_000_000;
    Sim::start(config).await.unwrap()
}

/// The emulator as Klarna.
pub fn api(sim: &SimHandle) -> Api {
    Api::new(
        BaseUrl::custom(sim.base_url()).unwrap(),
        Credentials::new(sim.username(), sim.password()),
    )
}

/// A checkout of `quantity` headlamps, polling quickly, in HPP's `place_order_mode` `mode`.
pub fn config_in(id: &str, quantity: i64, mode: PlaceOrderMode) -> CheckoutConfig {
    config(id, quantity).options(Options::default().with_place_order_mode(mode))
}

/// A checkout of `quantity` headlamps, polling quickly.
pub fn config(id: &str, quantity: i64) -> CheckoutConfig {
    let lines = vec![
        OrderLine::new("Headlamp", quantity, 49_900)
            .kind(OrderLineType::Physical)
            .reference("LAMP-1")
            .tax_rate(2500),
        OrderLine::new("Shipping", 1, 4_900)
            .kind(OrderLineType::ShippingFee)
            .tax_rate(2500),
    ];
    let mut session = SessionCreate::new("SE", "SEK", lines);
    session.merchant_reference1 = Some(id.to_owned());
    let urls = MerchantUrls::default()
        .with(
            UrlKind::Success,
            "https://shop.example/klarna/success?sid={{session_id}}",
        )
        .with(
            UrlKind::Failure,
            "https://shop.example/klarna/failure?sid={{session_id}}",
        );
    CheckoutConfig::new(id, "runtime-test-seed-0123456789", session)
        .merchant_urls(urls)
        .poll(PollPolicy {
            initial: Duration::from_millis(200),
            factor: 1.5,
            max: Duration::from_secs(2),
        })
        .retry(RetryPolicy {
            max_attempts: 50,
            base: Duration::from_millis(100),
            max: Duration::from_secs(1),
        })
}

/// The order's amount for `quantity` headlamps plus shipping.
pub fn amount(quantity: i64) -> i64 {
    quantity * 49_900 + 4_900
}

/// Klarna's (the emulator's) view of an order.
pub async fn om_order(sim: &SimHandle, order_id: &str) -> serde_json::Value {
    reqwest::Client::new()
        .get(format!(
            "{}/ordermanagement/v1/orders/{order_id}",
            sim.base_url()
        ))
        .basic_auth(sim.username(), Some(sim.password()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The emulator's counts (sessions, orders, …).
pub async fn sim_stats(sim: &SimHandle) -> serde_json::Value {
    reqwest::Client::new()
        .get(format!("{}/_sim/stats", sim.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
