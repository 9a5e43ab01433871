//! Everything the runtime emits during whole checkouts (every tracing event and span field of
//! the runtime, the drivers, the core and sqlx, at TRACE, and every metric name and label)
//! is captured and searched for the secrets in play: the API password and its Basic header,
//! the authorization token, the callback secret, the seed, the customer's e-mail. Status
//! callbacks reach the shop over HTTP from the emulator and go through the runtime.
//!
//! The emulator's own log lines (target `klarna_hpp_sim`) stand for Klarna's side and are not
//! searched.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{StatusCode, Uri};
use klarna_hpp_async::{web, ReqwestTransport};
use klarna_hpp_core::checkout::{Checkout, State};
use klarna_hpp_core::hpp::MerchantUrls;
use klarna_hpp_core::template::UrlKind;
use klarna_hpp_runtime::{Runtime, RuntimeConfig, Worker, WorkerConfig, WorkerStats};
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use support::Db;

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Records every metric key (name and labels) registered.
#[derive(Default)]
struct Keys(Mutex<Vec<String>>);

impl Keys {
    fn note(&self, key: &Key) {
        let labels: Vec<String> = key
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        self.0
            .lock()
            .unwrap()
            .push(format!("{}{{{}}}", key.name(), labels.join(",")));
    }
}

struct KeyRecorder(&'static Keys);

impl Recorder for KeyRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        self.0.note(key);
        Counter::noop()
    }
    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        self.0.note(key);
        Gauge::noop()
    }
    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        self.0.note(key);
        Histogram::noop()
    }
}

fn capture() -> (Buffer, &'static Keys) {
    static CAPTURED: OnceLock<(Buffer, &'static Keys)> = OnceLock::new();
    CAPTURED
        .get_or_init(|| {
            let buffer = Buffer::default();
            let writer = buffer.clone();
            tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .init();
            let keys: &'static Keys = Box::leak(Box::default());
            metrics::set_global_recorder(KeyRecorder(keys)).unwrap();
            (buffer, keys)
        })
        .clone()
}

type Shop = Runtime<ReqwestTransport>;

async fn callback(AxState(shop): AxState<Shop>, uri: Uri, body: Bytes) -> StatusCode {
    let Ok(id) = web::checkout_id(&uri) else {
        return StatusCode::BAD_REQUEST;
    };
    let uri = web::redirect_url(&uri);
    match shop.handle_callback(&id, &uri, &body).await {
        Ok(_) => StatusCode::OK,
        Err(_) => StatusCode::BAD_REQUEST,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_secret_is_emitted_during_whole_checkouts() {
    let (buffer, keys) = capture();
    let sim = support::sim().await;
    let (store, _) = support::fresh_store(Db::Sqlite).await;
    let shop = Runtime::new(
        store,
        support::api(&sim),
        ReqwestTransport::default(),
        RuntimeConfig::default()
            .request_timeout(Duration::from_secs(5))
            .lease_margin(Duration::from_secs(2))
            .capture_on_order(true),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let shop_url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/klarna/callback", axum::routing::post(callback))
        .with_state(shop.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let mut secrets = vec![
        sim.password().to_owned(),
        "runtime-test-seed-0123456789".to_owned(),
        "consumer@example.com".to_owned(),
    ];
    for (n, id) in ["tel-1", "tel-2"].into_iter().enumerate() {
        let mut config = support::config(id, 1);
        config.merchant_urls = MerchantUrls::default()
            .with(
                UrlKind::Success,
                "https://shop.example/klarna/success?sid={{session_id}}",
            )
            .with(
                UrlKind::StatusUpdate,
                web::with_checkout_id(&format!("{shop_url}/klarna/callback"), id),
            );
        config.session.billing_address = serde_json::from_value(serde_json::json!({
            "given_name": "Testperson", "family_name": "Approved",
            "email": "consumer@example.com", "country": "SE"
        }))
        .unwrap();
        assert!(config.session.billing_address.is_some());
        let started = shop.start(config).await.unwrap();
        let paid = sim
            .consumer(&started.link.unwrap().session_id)
            .pay()
            .unwrap();
        secrets.push(paid.authorization_token.unwrap());
        let snapshot = shop.store().snapshot(id).await.unwrap();
        let checkout = Checkout::restore(support::api(&sim), &snapshot).unwrap();
        let status_url = checkout.status_update_url().unwrap().to_owned();
        let secret = status_url.rsplit("kh_secret=").next().unwrap().to_owned();
        assert!(secret.len() >= 16, "a callback secret: {}", secret.len());
        secrets.push(secret);
        if n == 0 {
            // One consumer returns; the other is found by the callback or by polling.
            shop.handle_redirect(id, &paid.redirect_url).await.unwrap();
        }
    }
    let worker = Worker::new(shop.clone(), WorkerConfig::default());
    let mut stats = WorkerStats::default();
    for _ in 0..200 {
        worker.round(&mut stats).await.unwrap();
        let a = shop.show("tel-1").await.unwrap().state;
        let b = shop.show("tel-2").await.unwrap().state;
        if a == State::Captured && b == State::Captured {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(shop.show("tel-1").await.unwrap().state, State::Captured);
    assert_eq!(shop.show("tel-2").await.unwrap().state, State::Captured);
    let delivered = sim.callbacks().len();
    server.abort();
    sim.shutdown().await;

    let basic =
        klarna_hpp_core::Credentials::new(sim_user(), sim_password()).authorization_header();
    secrets.push(basic.trim_start_matches("Basic ").to_owned());
    let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    if let Ok(path) = std::env::var("KLARNA_HPP_TELEMETRY_DUMP") {
        std::fs::write(path, &text).unwrap();
    }
    let ours: Vec<&str> = text
        .lines()
        .filter(|l| !l.contains(" klarna_hpp_sim"))
        .collect();
    // It did capture: spans per checkout and per call, with their fields.
    assert!(
        ours.iter()
            .any(|l| l.contains("klarna_call{operation=\"kp.create_order\"")),
        "no call spans captured"
    );
    assert!(
        ours.iter()
            .any(|l| l.contains("checkout{checkout_id=tel-2")),
        "no checkout spans captured"
    );
    assert!(
        ours.iter()
            .any(|l| l.contains("operation=\"om.create_capture\"")
                && l.contains("status=201")
                && l.contains("latency_ms=")
                && l.contains("correlation_id=")
                && l.contains("outcome=\"ok\"")
                && l.contains("klarna call done")),
        "no finished call with status, latency, correlation id and outcome"
    );
    let keys = keys.0.lock().unwrap().clone();
    assert!(
        keys.iter()
            .any(|k| k.starts_with("klarna_hpp_calls_total{operation=om.create_capture")),
        "{keys:?}"
    );
    assert!(
        keys.iter()
            .any(|k| k.starts_with("klarna_hpp_commits_total")),
        "{keys:?}"
    );
    for secret in &secrets {
        for line in &ours {
            assert!(
                !line.contains(secret.as_str()),
                "a secret in a log line: {line}"
            );
        }
        for key in &keys {
            assert!(
                !key.contains(secret.as_str()),
                "a secret in a metric key: {key}"
            );
        }
    }
    println!(
        "{} log lines and {} metric keys searched for {} secrets; {delivered} callbacks delivered",
        ours.len(),
        keys.len(),
        secrets.len()
    );
}

fn sim_user() -> &'static str {
    klarna_hpp_sim::DEFAULT_USERNAME
}

fn sim_password() -> &'static str {
    klarna_hpp_sim::DEFAULT_PASSWORD
}
