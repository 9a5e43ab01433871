//! The hosted payment page in a real browser: Debian's headless Chromium, driven over the
//! DevTools protocol, opens `redirect_url`, picks a category, presses the buttons and lands on
//! the merchant's URLs with the placeholders filled in. Screenshots go to `tests/artifacts/`.
//!
//! Chromium is required: when `/usr/bin/chromium` is missing the test runs
//! `tests/install-browser`, and fails loudly if that does not produce it.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

mod support;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::{Browser, LaunchOptions, Tab};
use serde_json::json;
use support::*;

const CHROMIUM: &str = "/usr/bin/chromium";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn ensure_chromium() {
    if Path::new(CHROMIUM).exists() {
        return;
    }
    let script = repo_root().join("tests/install-browser");
    let status = Command::new(&script).status();
    assert!(
        Path::new(CHROMIUM).exists(),
        "Chromium is required for the hosted-page browser test and {} could not install it ({status:?}); \
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
    Browser::new(options).expect("headless Chromium starts")
}

fn screenshot(tab: &Tab, name: &str) {
    let dir = repo_root().join("tests/artifacts");
    std::fs::create_dir_all(&dir).expect("tests/artifacts is writable");
    let png = tab
        .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
        .expect("screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    std::fs::write(dir.join(format!("hosted-page-{name}.png")), png).expect("screenshot written");
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

#[test]
fn consumer_pays_goes_back_and_cancels_in_chromium() {
    ensure_chromium();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sim = rt.block_on(start());
    let api = Api::new(&sim);
    let merchant = rt.block_on(Merchant::start());
    let m = merchant.base.clone();

    let profile =
        std::env::temp_dir().join(format!("klarna-hpp-sim-chromium-{}", std::process::id()));
    let browser = launch(&profile);
    let tab = browser.new_tab().expect("a tab");
    tab.set_default_timeout(Duration::from_secs(15));

    // Pay: choose "Pay later", press #pay, land on the success URL with the token filled in.
    let (_, hpp) = rt.block_on(api.checkout(json!({"merchant_urls": merchant.urls(),
        "options": {"payment_method_categories": ["PAY_NOW", "PAY_LATER"], "page_title": "Ankeborg Outdoor"}})));
    tab.navigate_to(&format!("{}/hpp/pay/{hpp}", api.base))
        .unwrap()
        .wait_until_navigated()
        .unwrap();
    let content = tab.get_content().unwrap();
    assert!(content.contains("Ankeborg Outdoor") && content.contains("Battery Power Pack"));
    assert_eq!(rt.block_on(api.hpp_status(&hpp)), "IN_PROGRESS");
    tab.wait_for_element("#category-pay_later")
        .unwrap()
        .click()
        .unwrap();
    screenshot(&tab, "open");
    tab.wait_for_element("#pay").unwrap().click().unwrap();
    let landed = wait_for_url(&tab, &format!("{m}/success"));
    let session = rt
        .block_on(api.get(&format!("/hpp/v1/sessions/{hpp}")))
        .body;
    assert_eq!(session["status"], "COMPLETED");
    let token = session["authorization_token"].as_str().unwrap();
    assert_eq!(
        landed,
        format!("{m}/success?sid={hpp}&token={token}&order=")
    );
    tab.wait_for_element("#landed").unwrap();
    screenshot(&tab, "success");
    // Paid with the chosen category.
    let order = rt.block_on(api.post(
        &format!("/payments/v1/authorizations/{token}/order"),
        &order_body(),
    ));
    assert_eq!(order.body["authorized_payment_method"]["type"], "invoice");

    // Back: the back URL, status BACK.
    let (_, hpp) = rt.block_on(api.checkout(json!({"merchant_urls": merchant.urls()})));
    tab.navigate_to(&format!("{}/hpp/pay/{hpp}", api.base))
        .unwrap()
        .wait_until_navigated()
        .unwrap();
    tab.wait_for_element("#back").unwrap().click().unwrap();
    assert_eq!(
        wait_for_url(&tab, &format!("{m}/back")),
        format!("{m}/back?sid={hpp}")
    );
    assert_eq!(rt.block_on(api.hpp_status(&hpp)), "BACK");

    // Cancel (eCommerce: treated as back by Klarna): the cancel URL.
    tab.navigate_to(&format!("{}/hpp/pay/{hpp}", api.base))
        .unwrap()
        .wait_until_navigated()
        .unwrap();
    assert_eq!(rt.block_on(api.hpp_status(&hpp)), "IN_PROGRESS", "reopened");
    tab.wait_for_element("#cancel").unwrap().click().unwrap();
    assert_eq!(
        wait_for_url(&tab, &format!("{m}/cancel")),
        format!("{m}/cancel?sid={hpp}")
    );
    assert_eq!(rt.block_on(api.hpp_status(&hpp)), "BACK");

    // Decline without merchant URLs: Klarna's generic page.
    let (_, hpp) = rt.block_on(api.checkout(json!({})));
    tab.navigate_to(&format!("{}/hpp/pay/{hpp}", api.base))
        .unwrap()
        .wait_until_navigated()
        .unwrap();
    tab.wait_for_element("#decline").unwrap().click().unwrap();
    wait_for_url(&tab, &format!("{}/hpp/pay/{hpp}/status", api.base));
    let status = tab.wait_for_element("#status").unwrap();
    assert_eq!(
        status
            .get_attribute_value("data-status")
            .unwrap()
            .as_deref(),
        Some("FAILED")
    );
    screenshot(&tab, "declined");

    drop(tab);
    drop(browser);
    let _ = std::fs::remove_dir_all(&profile);
    drop(merchant);
    rt.block_on(sim.shutdown());
}
