//! The control API over real HTTP (clock, consumer, logs, reset) and the binary.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use support::*;

async fn get_json(url: String) -> (u16, Value) {
    let r = reqwest::get(url).await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn post_json(url: String, body: Option<Value>) -> (u16, Value) {
    let mut req = reqwest::Client::new().post(url);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn clock() {
    let sim = start().await;
    let base = sim.base_url().to_owned();
    assert_eq!(
        get_json(format!("{base}/_sim/clock")).await.1["now"],
        "2024-05-01T12:00:00.000Z"
    );
    let (s, v) = post_json(
        format!("{base}/_sim/clock/advance"),
        Some(json!({"seconds": 90061.5})),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["now"], "2024-05-02T13:01:01.500Z");
    assert_eq!(
        sim.now(),
        klarna_hpp_sim::time::macros::datetime!(2024-05-02 13:01:01.5 UTC)
    );
    let (s, _) = post_json(
        format!("{base}/_sim/clock/advance"),
        Some(json!({"seconds": -1})),
    )
    .await;
    assert_eq!(s, 400);
    let (s, _) = post_json(format!("{base}/_sim/clock/advance"), Some(json!({}))).await;
    assert_eq!(s, 400);
    let (_, info) = get_json(format!("{base}/_sim/")).await;
    assert_eq!(info["base_url"], base.as_str());
    assert_eq!(
        info["operations"].as_array().unwrap().len(),
        klarna_hpp_sim::OPERATIONS.len()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn consumer_over_http() {
    let sim = start().await;
    let api = Api::new(&sim);
    let merchant = Merchant::start().await;
    let (kp, hpp) = api
        .checkout(json!({"merchant_urls": merchant.urls(), "options": {"payment_method_categories": ["PAY_NOW", "PAY_LATER"]}}))
        .await;
    let base = &api.base;
    let (s, v) = get_json(format!("{base}/_sim/hpp/{hpp}")).await;
    assert_eq!(s, 200);
    assert_eq!(v["kp_session_id"], kp.as_str());
    assert_eq!(
        v["payment_method_categories"],
        json!(["pay_now", "pay_later"])
    );
    assert_eq!(v["place_order_mode"], "NONE");

    let (s, v) = post_json(format!("{base}/_sim/hpp/{hpp}/open"), None).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("IN_PROGRESS")));
    for (action, status) in [
        ("decline", "FAILED"),
        ("back", "BACK"),
        ("cancel", "BACK"),
        ("error", "ERROR"),
    ] {
        let (s, v) = post_json(format!("{base}/_sim/hpp/{hpp}/{action}"), None).await;
        assert_eq!((s, v["status"].as_str()), (200, Some(status)), "{action}");
    }
    let (s, v) = post_json(
        format!("{base}/_sim/hpp/{hpp}/pay"),
        Some(json!({"payment_method_category": "pay_later"})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "COMPLETED");
    let token = v["authorization_token"].as_str().unwrap();
    assert!(v["redirect_url"].as_str().unwrap().contains(token));
    let order = api
        .post(
            &format!("/payments/v1/authorizations/{token}/order"),
            &order_body(),
        )
        .await;
    assert_eq!(
        order.body["authorized_payment_method"]["type"], "invoice",
        "paid with pay_later"
    );

    let (s, v) = post_json(format!("{base}/_sim/hpp/{hpp}/pay"), None).await;
    assert_eq!(s, 409, "{v}");
    let (s, _) = post_json(format!("{base}/_sim/hpp/{hpp}/dance"), None).await;
    assert_eq!(s, 404);
    let (s, _) = post_json(format!("{base}/_sim/hpp/nope/pay"), None).await;
    assert_eq!(s, 404);
    let (_, hpp2) = api.checkout(json!({})).await;
    let (s, _) = post_json(
        format!("{base}/_sim/hpp/{hpp2}/pay"),
        Some(json!({"payment_method_category": "direct_debit"})),
    )
    .await;
    assert_eq!(s, 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_and_reset() {
    let sim = start().await;
    let api = Api::new(&sim);
    let (kp, hpp) = api.checkout(json!({})).await;
    api.without_auth()
        .get(&format!("/hpp/v1/sessions/{hpp}"))
        .await;
    let (_, log) = get_json(format!("{}/_sim/requests", api.base)).await;
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0]["operation"], "kp.create_session");
    assert_eq!(log[0]["status"], 200);
    assert_eq!(log[0]["method"], "POST");
    assert_eq!(log[0]["path"], "/payments/v1/sessions");
    assert_eq!(log[0]["user_agent"], "klarna-hpp-sim-tests/1");
    assert!(log[0]["body"]
        .as_str()
        .unwrap()
        .contains("Battery Power Pack"));
    assert_eq!(log[1]["operation"], "hpp.create_session");
    assert_eq!(log[1]["status"], 201);
    assert_eq!(log[2]["status"], 401);
    let rust_log = sim.requests();
    assert_eq!(rust_log.len(), 3);
    assert_eq!(rust_log[2].seq, 3);
    assert!(
        !format!("{:?}", rust_log[0]).contains("Battery"),
        "Debug hides bodies"
    );
    // Correlation ids are the ones sent back.
    let r = api.get(&format!("/hpp/v1/sessions/{hpp}")).await;
    assert_eq!(
        sim.requests().last().unwrap().correlation_id,
        r.header("klarna-correlation-id").unwrap()
    );

    sim.advance(hours(5));
    let (s, _) = post_json(format!("{}/_sim/reset", api.base), None).await;
    assert_eq!(s, 204);
    assert_eq!(
        sim.now(),
        klarna_hpp_sim::time::macros::datetime!(2024-05-01 12:00 UTC)
    );
    assert!(sim.requests().is_empty());
    api.get(&format!("/hpp/v1/sessions/{hpp}"))
        .await
        .assert_error(404, "NOT_FOUND");
    api.get(&format!("/payments/v1/sessions/{kp}"))
        .await
        .assert_error(404, "NOT_FOUND");
    let (_, stats) = get_json(format!("{}/_sim/stats", api.base)).await;
    assert_eq!(stats["hpp_sessions"], 0);
    // Ids keep counting after a reset.
    let (_, hpp_after) = api.checkout(json!({})).await;
    assert_ne!(hpp_after, hpp);
}

#[tokio::test(flavor = "multi_thread")]
async fn seeded_ids_are_deterministic() {
    let mut ids = Vec::new();
    for _ in 0..2 {
        let sim = start().await;
        let api = Api::new(&sim);
        ids.push(api.checkout(json!({})).await);
        sim.shutdown().await;
    }
    assert_eq!(ids[0], ids[1]);
}

#[test]
fn background_handle_for_blocking_code() {
    let sim = klarna_hpp_sim::Sim::start_background(config()).unwrap();
    let base = sim.base_url().to_owned();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let status = rt.block_on(async {
        reqwest::Client::new()
            .post(format!("{base}/payments/v1/sessions"))
            .basic_auth("DemoMerchant", Some("DemoPassword"))
            .json(&kp_body())
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 200);
    sim.advance(hours(1));
    assert_eq!(sim.requests().len(), 1);
    sim.shutdown_blocking();
    let after = rt.block_on(async { reqwest::get(format!("{base}/_sim/clock")).await });
    assert!(after.is_err(), "stopped");
}

#[test]
fn the_binary_prints_its_url_and_stops_on_ctrl_c() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_klarna-hpp-sim"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--username",
            "shop",
            "--password",
            "secret",
            "--seed",
            "3",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line.trim().to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let statuses = rt.block_on(async {
        let c = reqwest::Client::new();
        let ok = c
            .post(format!("{base}/payments/v1/sessions"))
            .basic_auth("shop", Some("secret"))
            .json(&kp_body())
            .send()
            .await
            .unwrap()
            .status();
        let denied = c
            .post(format!("{base}/payments/v1/sessions"))
            .basic_auth("DemoMerchant", Some("DemoPassword"))
            .json(&kp_body())
            .send()
            .await
            .unwrap()
            .status();
        (ok.as_u16(), denied.as_u16())
    });
    assert_eq!(statuses, (200, 401));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    for _ in 0..100 {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "clean exit on Ctrl-C: {status}");
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    panic!("the emulator did not stop on SIGINT");
}

#[tokio::test(flavor = "multi_thread")]
async fn background_handle_inside_a_runtime() {
    let sim = klarna_hpp_sim::Sim::start_background(config()).unwrap();
    let api = Api::new(&sim);
    let (_, hpp) = api.checkout(json!({})).await;
    assert_eq!(sim.consumer(&hpp).pay().unwrap().status, "COMPLETED");
    sim.shutdown_blocking();
}

#[test]
fn handles_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<klarna_hpp_sim::SimHandle>();
    assert_send_sync::<klarna_hpp_sim::Consumer<'static>>();
    assert_send_sync::<klarna_hpp_sim::SimConfig>();
}
