//! Status callbacks over real HTTP to a merchant server: body, rendered URL, retries, timeouts.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

mod support;

use std::time::{Duration, Instant};

use klarna_hpp_sim::DeliveryOutcome;
use serde_json::{json, Value};
use support::*;

#[tokio::test(flavor = "multi_thread")]
async fn every_status_change_is_posted() {
    let sim = start().await;
    let api = Api::new(&sim);
    let merchant = Merchant::start().await;
    let (_, hpp) = api
        .checkout(json!({"merchant_urls": merchant.urls(), "options": {"place_order_mode": "PLACE_ORDER"}}))
        .await;
    sim.consumer(&hpp).decline().unwrap();
    sim.consumer(&hpp).pay().unwrap();
    // WAITING → IN_PROGRESS → FAILED → IN_PROGRESS → COMPLETED: four changes.
    eventually("4 deliveries", || {
        sim.callbacks()
            .iter()
            .filter(|d| d.outcome == DeliveryOutcome::Delivered)
            .count()
            == 4
    })
    .await;
    let hits = merchant.hits();
    assert_eq!(hits.len(), 4);
    let mut statuses = Vec::new();
    let mut events = std::collections::HashSet::new();
    for hit in &hits {
        assert_eq!(hit.method, "POST");
        assert_eq!(
            hit.uri,
            format!("/cb?sid={hpp}&secret=s3cr3t"),
            "placeholders rendered"
        );
        assert_eq!(hit.headers["content-type"], "application/json");
        let body: Value = serde_json::from_slice(&hit.body).unwrap();
        assert_valid("hpp", "SessionResponseV1", &body["session"]);
        assert_eq!(body["session"]["session_id"], hpp.as_str());
        assert!(
            events.insert(body["event_id"].as_str().unwrap().to_owned()),
            "event ids are unique"
        );
        statuses.push(body["session"]["status"].as_str().unwrap().to_owned());
    }
    statuses.sort();
    assert_eq!(
        statuses,
        ["COMPLETED", "FAILED", "IN_PROGRESS", "IN_PROGRESS"]
    );
    let completed = hits
        .iter()
        .map(|h| serde_json::from_slice::<Value>(&h.body).unwrap())
        .find(|b| b["session"]["status"] == "COMPLETED")
        .unwrap();
    assert!(completed["session"]["order_id"].is_string());
    assert!(completed["session"]["klarna_reference"].is_string());
    // The recorded deliveries carry the exact bodies.
    let recorded = sim.callbacks();
    assert_eq!(recorded.len(), 4);
    assert!(recorded
        .iter()
        .all(|d| d.attempts.len() == 1 && d.attempts[0].status == Some(200)));
    assert_eq!(recorded[0].status, "IN_PROGRESS");
    assert_eq!(
        recorded[0].url,
        format!("{}/cb?sid={hpp}&secret=s3cr3t", merchant.base)
    );

    // Disabling is a status change too.
    let (_, hpp2) = api
        .checkout(json!({"merchant_urls": merchant.urls()}))
        .await;
    assert_eq!(
        api.delete(&format!("/hpp/v1/sessions/{hpp2}")).await.status,
        204
    );
    eventually("DISABLED delivered", || {
        sim.callbacks().iter().any(|d| {
            d.session_id == hpp2
                && d.status == "DISABLED"
                && d.outcome == DeliveryOutcome::Delivered
        })
    })
    .await;
    // Reopening an open page is no change: no callback.
    let (_, hpp3) = api
        .checkout(json!({"merchant_urls": merchant.urls()}))
        .await;
    sim.consumer(&hpp3).open().unwrap();
    sim.consumer(&hpp3).open().unwrap();
    eventually("settled", || sim.pending_callbacks() == 0).await;
    assert_eq!(
        sim.callbacks()
            .iter()
            .filter(|d| d.session_id == hpp3)
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_attempts_are_retried_up_to_four_times() {
    let sim = start().await;
    let api = Api::new(&sim);
    let merchant = Merchant::start().await;
    merchant.answer_with(&[500, 503, 404, 204]);
    let (_, hpp) = api
        .checkout(json!({"merchant_urls": merchant.urls()}))
        .await;
    sim.consumer(&hpp).open().unwrap();
    eventually("delivered", || {
        sim.callbacks()[0].outcome == DeliveryOutcome::Delivered
    })
    .await;
    let d = &sim.callbacks()[0];
    let statuses: Vec<Option<u16>> = d.attempts.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [Some(500), Some(503), Some(404), Some(204)]);
    assert_eq!(merchant.hits().len(), 4);
    let bodies: std::collections::HashSet<_> =
        merchant.hits().iter().map(|h| h.body.clone()).collect();
    assert_eq!(bodies.len(), 1, "every attempt posts the same body");

    let merchant = Merchant::start().await;
    merchant.answer_with(&[500, 500, 500, 500, 200]);
    let (_, hpp) = api
        .checkout(json!({"merchant_urls": merchant.urls()}))
        .await;
    sim.consumer(&hpp).open().unwrap();
    eventually("failed", || {
        sim.callbacks()
            .iter()
            .any(|d| d.session_id == hpp && d.outcome == DeliveryOutcome::Failed)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(merchant.hits().len(), 4, "no fifth attempt");
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_merchants_time_out() {
    let sim = start_with(config().with_callback_timeout(Duration::from_millis(150))).await;
    let api = Api::new(&sim);
    let merchant = Merchant::start().await;
    merchant.delay(Duration::from_secs(2));
    let (_, hpp) = api
        .checkout(json!({"merchant_urls": merchant.urls()}))
        .await;
    let started = Instant::now();
    sim.consumer(&hpp).open().unwrap();
    eventually("failed", || {
        sim.callbacks()[0].outcome == DeliveryOutcome::Failed
    })
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "attempts are cut at the timeout"
    );
    let d = &sim.callbacks()[0];
    assert_eq!(d.attempts.len(), 4);
    assert!(d
        .attempts
        .iter()
        .all(|a| a.status.is_none() && a.error.as_deref().unwrap().contains("timed out")));

    // Nobody listening: connection errors, four attempts.
    let (_, hpp) = api
        .checkout(json!({"merchant_urls": {"status_update": "http://127.0.0.1:9/cb"}}))
        .await;
    sim.consumer(&hpp).open().unwrap();
    eventually("failed", || {
        sim.callbacks()
            .iter()
            .any(|d| d.session_id == hpp && d.outcome == DeliveryOutcome::Failed)
    })
    .await;
    let d = sim
        .callbacks()
        .into_iter()
        .find(|d| d.session_id == hpp)
        .unwrap();
    assert_eq!(d.attempts.len(), 4);
    assert!(d.attempts[0].error.is_some());

    // No status_update URL: nothing is sent.
    let before = sim.callbacks().len();
    let (_, hpp) = api.checkout(json!({})).await;
    sim.consumer(&hpp).pay().unwrap();
    assert_eq!(sim.callbacks().len(), before);
}
