//! The web shop (`tests/src/shop.rs`, also the `web_shop` example of `klarna-hpp-runtime`) in a
//! real browser: Debian's headless Chromium opens the cart, presses "Pay with Klarna", pays on
//! the emulator's hosted page, and lands back on the shop's confirmation showing the order the
//! emulator created and its state. Screenshots go to `tests/artifacts/`. The shop keeps its
//! checkouts in the runtime: an SQLite file of the test's own, or (one plain-HTTP variant) a
//! PostgreSQL database of the test's own (`DATABASE_URL`, else the shared server); another
//! variant stops the shop and starts a new one on the same SQLite file.
//!
//! Chromium is required: when `/usr/bin/chromium` is missing the test runs
//! `tests/install-browser`, and fails loudly if that does not produce it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] functions

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::{Browser, LaunchOptions, Tab};
use klarna_hpp_async::ReqwestTransport;
use klarna_hpp_core::checkout::State;
use klarna_hpp_core::{Api, BaseUrl, Credentials};
use klarna_hpp_sim::{DeliveryOutcome, Sim, SimConfig, SimHandle};
use klarna_hpp_tests::shop::{cart, RunningShop};
use sqlx::Connection as _;

const CHROMIUM: &str = "/usr/bin/chromium";

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

/// A fresh SQLite file of the test's own (not created yet); removed by [`SqliteFile`]'s drop.
struct SqliteFile(PathBuf);

impl SqliteFile {
    fn new() -> Self {
        let dir = std::env::temp_dir().join("klarna-hpp-shop-tests");
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir.join(format!("shop_{}.db", unique())))
    }

    fn url(&self) -> String {
        format!("sqlite:{}", self.0.display())
    }
}

impl Drop for SqliteFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A fresh PostgreSQL database of the test's own on `DATABASE_URL` (else the shared server at
/// 127.0.0.1:5432), as the runtime's tests make them; databases left by test processes that
/// are gone are dropped first. Returns its URL.
async fn pg_database() -> String {
    let server = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let name = format!("klarna_hpp_shop_{}", unique());
    let mut conn = sqlx::PgConnection::connect(&server)
        .await
        .expect("PostgreSQL reachable (DATABASE_URL or 127.0.0.1:5432)");
    let stale: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE datname LIKE 'klarna\\_hpp\\_shop\\_%'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    for db in stale {
        let pid = db
            .trim_start_matches("klarna_hpp_shop_")
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
    let (base, query) = match server.split_once('?') {
        Some((b, q)) => (b.to_owned(), format!("?{q}")),
        None => (server.clone(), String::new()),
    };
    let cut = base.rfind('/').unwrap();
    format!("{}/{name}{query}", &base[..cut])
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn ensure_chromium() {
    if Path::new(CHROMIUM).exists() {
        return;
    }
    let script = repo_root().join("tests/install-browser");
    let status = Command::new(&script).status();
    assert!(
        Path::new(CHROMIUM).exists(),
        "Chromium is required for the web shop's browser test and {} could not install it ({status:?}); \
         install Debian's `chromium` package",
        script.display()
    );
}

fn launch(profile: &Path) -> Browser {
    let args: Vec<&OsStr> = [
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    .iter()
    .map(OsStr::new)
    .collect();
    let options = LaunchOptions::default_builder()
        .path(Some(PathBuf::from(CHROMIUM)))
        .headless(true)
        .sandbox(false)
        .enable_gpu(false)
        .user_data_dir(Some(profile.to_path_buf()))
        .window_size(Some((900, 1200)))
        .idle_browser_timeout(Duration::from_secs(60))
        .args(args)
        .build()
        .expect("launch options");
    Browser::new(options)
        .unwrap_or_else(|e| panic!("headless Chromium ({CHROMIUM}) must start: {e}"))
}

fn screenshot(tab: &Tab, name: &str) {
    let dir = repo_root().join("tests/artifacts");
    std::fs::create_dir_all(&dir).expect("tests/artifacts is writable");
    let png = tab
        .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
        .expect("screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    std::fs::write(dir.join(format!("shop-{name}.png")), png).expect("screenshot written");
}

/// Waits until the tab's URL starts with `prefix`; returns the URL.
fn wait_for_url(tab: &Tab, prefix: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let url = tab.get_url();
        if url.starts_with(prefix) {
            return url;
        }
        assert!(
            Instant::now() < deadline,
            "browser stayed at {url}, expected {prefix}…"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The text of the elements with these ids, once the first one is on the page (one round trip
/// to the browser for all of them).
fn texts<const N: usize>(tab: &Tab, ids: [&str; N]) -> [String; N] {
    tab.wait_for_element(&format!("#{}", ids[0]))
        .unwrap_or_else(|e| panic!("#{} on {}: {e}", ids[0], tab.get_url()));
    let script = format!(
        "JSON.stringify({}.map(id => (document.getElementById(id) || {{}}).textContent ?? null))",
        serde_json::to_string(&ids[..]).unwrap()
    );
    let value = tab
        .evaluate(&script, false)
        .unwrap()
        .value
        .expect("a value");
    let list: Vec<Option<String>> = serde_json::from_str(value.as_str().unwrap()).unwrap();
    std::array::from_fn(|i| {
        list[i]
            .clone()
            .unwrap_or_else(|| panic!("#{} is missing on {}", ids[i], tab.get_url()))
    })
}

/// The order as the emulator holds it (Order Management, read over HTTP with the credentials).
fn om_order(rt: &tokio::runtime::Runtime, sim: &SimHandle, order_id: &str) -> serde_json::Value {
    rt.block_on(om_order_async(sim, order_id))
}

/// Waits until the emulator has delivered (or given up on) every status callback.
fn callbacks_settled(sim: &SimHandle) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while sim.pending_callbacks() > 0 {
        assert!(Instant::now() < deadline, "callbacks still pending");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn consumer_pays_with_klarna_in_chromium_and_sees_the_captured_order() {
    let started = Instant::now();
    ensure_chromium();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // The transport installs rustls' crypto provider, which the emulator's HTTP client needs too.
    drop(ReqwestTransport::default());
    let sim = rt.block_on(Sim::start(SimConfig::default())).unwrap();
    let api = Api::new(
        BaseUrl::custom(sim.base_url()).unwrap(),
        Credentials::new(sim.username(), sim.password()),
    );
    let db = SqliteFile::new();
    let running = rt
        .block_on(RunningShop::start(
            api,
            "127.0.0.1:0".parse().unwrap(),
            None,
            "browser-shop-test-seed-0123456789",
            &db.url(),
        ))
        .unwrap();
    let shop_url = running.url().to_owned();
    let hosted_prefix = format!("{}/hpp/pay/", sim.base_url());

    let profile =
        std::env::temp_dir().join(format!("klarna-hpp-shop-chromium-{}", std::process::id()));
    let browser = launch(&profile);
    let tab = browser.new_tab().expect("a tab");
    tab.set_default_timeout(Duration::from_secs(15));
    let launched = started.elapsed();

    // The cart.
    tab.navigate_to(&shop_url)
        .unwrap()
        .wait_until_navigated()
        .unwrap();
    let [total] = texts(&tab, ["total"]);
    assert_eq!(total, "1646.00 SEK");
    screenshot(&tab, "cart");

    // "Pay with Klarna": the shop creates the checkout and sends the browser to the hosted page.
    tab.wait_for_element("#pay-with-klarna")
        .unwrap()
        .click()
        .unwrap();
    let hosted = wait_for_url(&tab, &hosted_prefix);
    let hpp_session = hosted.strip_prefix(&hosted_prefix).unwrap().to_owned();
    let content = tab.get_content().unwrap();
    assert!(
        content.contains("Ankeborg Outdoor") && content.contains("Trail running shoes"),
        "the hosted page shows the shop's title and cart"
    );
    screenshot(&tab, "hosted-page");

    // Pay: back at the shop's success URL, which shows what the checkout verified.
    tab.wait_for_element("#pay").unwrap().click().unwrap();
    let landed = wait_for_url(&tab, &format!("{shop_url}/klarna/success?"));
    let [order_id, state, captured, checkout_id, booked_order, booked_captured] = texts(
        &tab,
        [
            "order-id",
            "state",
            "captured",
            "checkout-id",
            "booked-order",
            "booked-captured",
        ],
    );
    screenshot(&tab, "success");
    assert_eq!(
        landed,
        format!("{shop_url}/klarna/success?sid={hpp_session}&checkout={checkout_id}")
    );
    assert_eq!(state, "Captured");
    assert!(!order_id.is_empty(), "the page shows an order id");
    assert_eq!(captured, "1646.00 SEK");
    // The shop's order system booked it from the runtime's outbox, each event once.
    assert_eq!(booked_order, order_id);
    assert_eq!(booked_captured, "1646.00 SEK");

    // The emulator created exactly this order, and holds it captured in full.
    let placed: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.operation.as_deref() == Some("kp.create_order"))
        .collect();
    assert_eq!(placed.len(), 1, "one order placed");
    assert_eq!(placed[0].status, Some(200));
    let order = om_order(&rt, &sim, &order_id);
    assert_eq!(order["order_id"], order_id.as_str());
    assert_eq!(order["status"], "CAPTURED");
    assert_eq!(order["order_amount"], cart().order_amount);
    assert_eq!(order["captured_amount"], cart().order_amount);
    assert_eq!(order["merchant_reference1"], checkout_id.as_str());

    // The shop's stored checkout agrees, and every status callback was accepted.
    let stored = rt
        .block_on(running.shop().checkout(&checkout_id))
        .expect("stored");
    assert_eq!(stored.state(), State::Captured);
    assert_eq!(stored.order_id(), Some(order_id.as_str()));
    assert_eq!(stored.hpp_session_id(), Some(hpp_session.as_str()));
    callbacks_settled(&sim);
    let callbacks = sim.callbacks();
    assert!(!callbacks.is_empty(), "the emulator sent status callbacks");
    for c in &callbacks {
        assert_eq!(c.outcome, DeliveryOutcome::Delivered, "{c:?}");
        assert!(
            c.attempts.iter().all(|a| a.status == Some(200)),
            "the shop accepted every callback: {c:?}"
        );
    }
    let flow = started.elapsed();

    drop(tab);
    drop(browser);
    let _ = std::fs::remove_dir_all(&profile);
    rt.block_on(running.shutdown());
    rt.block_on(sim.shutdown());
    println!(
        "browser shop test: {:.2} s in all, Chromium up after {:.2} s",
        flow.as_secs_f64(),
        launched.as_secs_f64()
    );
}

/// The text of the element with `id` in a page the shop rendered (no nested markup).
fn element(html: &str, id: &str) -> Option<String> {
    let start = html.find(&format!("id=\"{id}\""))?;
    let rest = &html[start..];
    let rest = &rest[rest.find('>')? + 1..];
    Some(rest[..rest.find('<')?].to_owned())
}

/// The same shop without a browser, on an SQLite file: the consumer goes back, returns and
/// pays; forged and malformed callbacks are refused; a refreshed success page changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shop_handles_back_resume_pay_and_refuses_bad_callbacks_over_http() {
    let db = SqliteFile::new();
    back_resume_pay_and_refusals(&db.url()).await;
}

/// The same on PostgreSQL (a database of the test's own): the shop as several instances would
/// run it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shop_on_postgresql_handles_back_resume_pay_and_refuses_bad_callbacks_over_http() {
    let url = pg_database().await;
    back_resume_pay_and_refusals(&url).await;
}

async fn back_resume_pay_and_refusals(database: &str) {
    drop(ReqwestTransport::default());
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let api = Api::new(
        BaseUrl::custom(sim.base_url()).unwrap(),
        Credentials::new(sim.username(), sim.password()),
    );
    let running = RunningShop::start(
        api,
        "127.0.0.1:0".parse().unwrap(),
        None,
        "http-shop-test-seed-0123456789",
        database,
    )
    .await
    .unwrap();
    let shop = running.url().to_owned();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |url: String| {
        let http = http.clone();
        async move {
            let r = http.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };

    // Pay with Klarna: 303 to the hosted page.
    let created = http.post(format!("{shop}/checkout")).send().await.unwrap();
    assert_eq!(created.status(), 303);
    let hosted = created.headers()["location"].to_str().unwrap().to_owned();
    let hpp = hosted
        .strip_prefix(&format!("{}/hpp/pay/", sim.base_url()))
        .unwrap()
        .to_owned();
    let checkout_id = running.shop().checkout_ids().await.unwrap().pop().unwrap();

    // The consumer goes back to the shop: not paid, with a link back to Klarna.
    let back = sim.consumer(&hpp).back().unwrap();
    assert_eq!(
        back.redirect_url,
        format!("{shop}/klarna/back?sid={hpp}&checkout={checkout_id}")
    );
    let (status, page) = get(back.redirect_url).await;
    assert_eq!(status, 200);
    assert_eq!(element(&page, "state").as_deref(), Some("AwaitingConsumer"));
    assert_eq!(element(&page, "order-id").as_deref(), Some(""));
    assert!(
        page.contains(&format!("id=\"resume\" href=\"{hosted}\"")),
        "{page}"
    );

    // Callbacks that are not Klarna's, or not acceptable, are refused.
    let callback = |query: String, content_type: &'static str, body: Vec<u8>| {
        let http = http.clone();
        let url = format!("{shop}/klarna/callback{query}");
        async move {
            http.post(url)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let forged = serde_json::to_vec(&serde_json::json!({
        "event_id": "forged-1",
        "session": {"session_id": hpp, "status": "COMPLETED"}
    }))
    .unwrap();
    let q = |secret: &str| format!("?checkout={checkout_id}&sid={hpp}&kh_secret={secret}");
    assert_eq!(
        callback(q("guessed"), "application/json", forged.clone()).await,
        401
    );
    assert_eq!(
        callback(q("guessed"), "text/plain", forged.clone()).await,
        415
    );
    assert_eq!(
        callback(q("guessed"), "application/json", vec![b' '; 70 * 1024]).await,
        413
    );
    assert_eq!(
        callback(
            "?checkout=nobody&kh_secret=x".into(),
            "application/json",
            forged.clone()
        )
        .await,
        404
    );
    assert_eq!(
        callback(String::new(), "application/json", forged).await,
        400
    );
    // A return naming another session is refused too.
    let (status, _) = get(format!(
        "{shop}/klarna/success?sid=other&checkout={checkout_id}"
    ))
    .await;
    assert_eq!(status, 400);
    let still = running.shop().checkout(&checkout_id).await.unwrap();
    assert_eq!(still.state(), State::AwaitingConsumer);

    // The consumer returns to Klarna and pays: captured.
    let paid = sim.consumer(&hpp).pay().unwrap();
    let (status, page) = get(paid.redirect_url.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(element(&page, "state").as_deref(), Some("Captured"));
    let order_id = element(&page, "order-id").unwrap();
    assert_eq!(om_order_async(&sim, &order_id).await["status"], "CAPTURED");

    // Reloading the success page shows the same order and places nothing new.
    let (_, again) = get(paid.redirect_url).await;
    assert_eq!(element(&again, "order-id"), Some(order_id));
    assert_eq!(element(&again, "state").as_deref(), Some("Captured"));
    let placed = sim
        .requests()
        .iter()
        .filter(|r| r.operation.as_deref() == Some("kp.create_order"))
        .count();
    let captures = sim
        .requests()
        .iter()
        .filter(|r| r.operation.as_deref() == Some("om.create_capture"))
        .count();
    assert_eq!((placed, captures), (1, 1));
    // The order system booked the order and its capture once each.
    assert_eq!(element(&again, "booked-order"), element(&again, "order-id"));
    assert_eq!(
        element(&again, "booked-captured").as_deref(),
        Some("1646.00 SEK")
    );
    let booked = running.shop().order(&checkout_id).await.unwrap().unwrap();
    assert_eq!(booked.captured, cart().order_amount);
    assert_eq!(booked.status, "captured");
    // Every event the checkout produced was handed to the order system and acknowledged.
    let store = running.shop().runtime().store();
    assert!(store.pending_events(10).await.unwrap().is_empty());
    assert!(!store.events_of(&checkout_id).await.unwrap().is_empty());

    running.shutdown().await;
    sim.shutdown().await;
}

/// Restart survival: the shop is stopped (server, worker, order system, database pools: nothing
/// of it stays) while its consumer pays; a new shop on the same SQLite file and address (a
/// restarted process) resumes the checkout — its worker or Klarna's retried callback verifies
/// the payment, places the order and captures it — and the consumer's return shows the order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_shop_on_the_same_sqlite_file_resumes_the_checkout() {
    drop(ReqwestTransport::default());
    let sim =
        Sim::start(SimConfig::default().with_callback_retry_delay(Duration::from_millis(200)))
            .await
            .unwrap();
    let api = Api::new(
        BaseUrl::custom(sim.base_url()).unwrap(),
        Credentials::new(sim.username(), sim.password()),
    );
    let db = SqliteFile::new();
    let seed = "restart-shop-test-seed-0123456789";
    let first = RunningShop::start(
        api.clone(),
        "127.0.0.1:0".parse().unwrap(),
        None,
        seed,
        &db.url(),
    )
    .await
    .unwrap();
    let shop = first.url().to_owned();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let created = http.post(format!("{shop}/checkout")).send().await.unwrap();
    assert_eq!(created.status(), 303);
    let hosted = created.headers()["location"].to_str().unwrap().to_owned();
    let hpp = hosted
        .strip_prefix(&format!("{}/hpp/pay/", sim.base_url()))
        .unwrap()
        .to_owned();
    let checkout_id = first.shop().checkout_ids().await.unwrap().pop().unwrap();
    first.shutdown().await;

    // The consumer pays while no shop runs: the callback finds nobody, the redirect waits.
    let paid = sim.consumer(&hpp).pay().unwrap();
    assert_eq!(
        paid.redirect_url,
        format!("{shop}/klarna/success?sid={hpp}&checkout={checkout_id}")
    );

    // A new shop process on the same file and address.
    let second = RunningShop::start(
        api,
        shop.strip_prefix("http://").unwrap().parse().unwrap(),
        None,
        seed,
        &db.url(),
    )
    .await
    .unwrap();
    assert_eq!(second.url(), shop);
    assert_eq!(
        second.shop().checkout_ids().await.unwrap(),
        vec![checkout_id.clone()],
        "the stored checkout is there"
    );
    // Without the consumer: the new process's worker (or Klarna's retried callback) carries
    // the checkout to the captured order.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let state = second.shop().checkout(&checkout_id).await.unwrap().state();
        if state == State::Captured {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the restarted shop did not resume the checkout: {state:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The consumer's browser comes back: the order, captured, booked once.
    let r = http.get(&paid.redirect_url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert_eq!(element(&page, "state").as_deref(), Some("Captured"));
    let order_id = element(&page, "order-id").unwrap();
    assert!(!order_id.is_empty());
    assert_eq!(element(&page, "booked-order"), Some(order_id.clone()));
    assert_eq!(
        element(&page, "booked-captured").as_deref(),
        Some("1646.00 SEK")
    );
    let order = om_order_async(&sim, &order_id).await;
    assert_eq!(order["status"], "CAPTURED");
    assert_eq!(order["captured_amount"], cart().order_amount);
    assert_eq!(order["merchant_reference1"], checkout_id.as_str());
    let count = |op: &str| {
        sim.requests()
            .iter()
            .filter(|r| r.operation.as_deref() == Some(op))
            .count()
    };
    assert_eq!(
        (count("kp.create_order"), count("om.create_capture")),
        (1, 1)
    );

    second.shutdown().await;
    sim.shutdown().await;
}

async fn om_order_async(sim: &SimHandle, order_id: &str) -> serde_json::Value {
    let response = reqwest::Client::new()
        .get(format!(
            "{}/ordermanagement/v1/orders/{order_id}",
            sim.base_url()
        ))
        .basic_auth(sim.username(), Some(sim.password()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
}
