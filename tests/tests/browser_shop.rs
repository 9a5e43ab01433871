//! The web shop (`tests/src/shop.rs`, also the `web_shop` example) in a real browser: Debian's
//! headless Chromium opens the cart, presses "Pay with Klarna", pays on the emulator's hosted
//! page, and lands back on the shop's confirmation showing the order the emulator created and
//! its state. Screenshots go to `tests/artifacts/`.
//!
//! Chromium is required: when `/usr/bin/chromium` is missing the test runs
//! `tests/install-browser`, and fails loudly if that does not produce it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] functions

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::{Browser, LaunchOptions, Tab};
use klarna_hpp_async::ReqwestTransport;
use klarna_hpp_core::checkout::State;
use klarna_hpp_core::{Api, BaseUrl, Credentials};
use klarna_hpp_sim::{DeliveryOutcome, Sim, SimConfig, SimHandle};
use klarna_hpp_tests::shop::{cart, RunningShop};

const CHROMIUM: &str = "/usr/bin/chromium";

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
    let running = rt
        .block_on(RunningShop::start(
            api,
            "127.0.0.1:0".parse().unwrap(),
            None,
            "browser-shop-test-seed-0123456789",
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
    let [order_id, state, captured, checkout_id] =
        texts(&tab, ["order-id", "state", "captured", "checkout-id"]);
    screenshot(&tab, "success");
    assert_eq!(
        landed,
        format!("{shop_url}/klarna/success?sid={hpp_session}&checkout={checkout_id}")
    );
    assert_eq!(state, "Captured");
    assert!(!order_id.is_empty(), "the page shows an order id");
    assert_eq!(captured, "1646.00 SEK");

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

/// The same shop without a browser: the consumer goes back, returns and pays; forged and
/// malformed callbacks are refused; a refreshed success page changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shop_handles_back_resume_pay_and_refuses_bad_callbacks_over_http() {
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
    let checkout_id = running.shop().checkout_ids().pop().unwrap();

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

    running.shutdown().await;
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
