//! The clock (issue 12, item 5): the `klarna-hpp-sim` program runs on real, advancing time
//! unless `--clock frozen` is asked for; the library keeps a frozen clock (tests and the demo
//! rely on it) and offers the real one; `updated_at` moves on every status change; the `Date`
//! header agrees with the times in bodies; 405 answers carry `Allow`.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use klarna_hpp_sim::ClockMode;
use serde_json::json;
use support::*;

/// The program on a free port; its base URL.
struct Program(Child, String);

impl Program {
    fn start(args: &[&str]) -> Program {
        let mut child = Command::new(env!("CARGO_BIN_EXE_klarna-hpp-sim"))
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        Program(child, line.trim().to_owned())
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn program_now(client: &reqwest::Client, base: &str) -> String {
    let v: serde_json::Value = client
        .get(format!("{base}/_sim/clock"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["now"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_program_runs_on_real_time_unless_asked() {
    let client = reqwest::Client::new();
    let real = Program::start(&[]);
    let a = program_now(&client, &real.1).await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    let b = program_now(&client, &real.1).await;
    assert!(b > a, "real clock moves: {a} then {b}");
    let wall = klarna_hpp_sim::time::OffsetDateTime::now_utc();
    assert!(b.starts_with(&format!("{:04}-", wall.year())), "{b}");

    let frozen = Program::start(&["--clock", "frozen", "--start-time", "2024-05-01T12:00:00Z"]);
    let a = program_now(&client, &frozen.1).await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    let b = program_now(&client, &frozen.1).await;
    assert_eq!(a, "2024-05-01T12:00:00.000Z");
    assert_eq!(b, a, "frozen clock stands still");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_library_keeps_a_frozen_clock_and_offers_a_real_one() {
    let frozen = start().await;
    let a = frozen.now();
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(frozen.now(), a);

    let real = start_with(config().with_clock(ClockMode::Real)).await;
    let a = real.now();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let b = real.now();
    assert!(b > a, "{a} then {b}");
    // Advancing jumps ahead on top of real time.
    let c = real.advance(hours(2));
    assert!(c - b >= klarna_hpp_sim::time::Duration::hours(2));
}

#[tokio::test(flavor = "multi_thread")]
async fn updated_at_moves_on_every_change() {
    let sim = start().await;
    let api = Api::new(&sim);
    let (_, hpp) = api.checkout(json!({})).await;
    let read = || async {
        api.get(&format!("/hpp/v1/sessions/{hpp}")).await.body["updated_at"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let mut seen = vec![read().await];
    let consumer = sim.consumer(&hpp);
    consumer.open().unwrap();
    seen.push(read().await);
    consumer.back().unwrap();
    seen.push(read().await);
    consumer.open().unwrap();
    seen.push(read().await);
    let r = api.delete(&format!("/hpp/v1/sessions/{hpp}")).await;
    assert_eq!(r.status, 204);
    seen.push(read().await);
    for pair in seen.windows(2) {
        assert!(pair[1] > pair[0], "{seen:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_date_header_agrees_with_the_body() {
    let sim = start().await;
    let api = Api::new(&sim);
    let (_, hpp) = api.checkout(json!({})).await;
    let r = api.get(&format!("/hpp/v1/sessions/{hpp}")).await;
    assert_eq!(r.body["updated_at"], "2024-05-01T12:00:00.000Z");
    assert_eq!(r.header("date"), Some("Wed, 01 May 2024 12:00:00 GMT"));
    sim.advance(hours(25));
    let r = api.get(&format!("/hpp/v1/sessions/{hpp}")).await;
    assert_eq!(r.header("date"), Some("Thu, 02 May 2024 13:00:00 GMT"));
}

#[tokio::test(flavor = "multi_thread")]
async fn method_not_allowed_says_what_is() {
    let sim = start().await;
    let api = Api::new(&sim);
    let r = api.send("PUT", "/payments/v1/sessions", None, &[]).await;
    r.assert_error(405, "METHOD_NOT_ALLOWED");
    assert_eq!(r.header("allow"), Some("POST"));
    let r = api
        .send("PUT", "/payments/v1/sessions/abc", None, &[])
        .await;
    assert_eq!(r.header("allow"), Some("GET, POST, DELETE"));
    let r = api
        .send(
            "GET",
            "/ordermanagement/v1/orders/o/authorization",
            None,
            &[],
        )
        .await;
    assert_eq!(r.header("allow"), Some("PATCH"));
}
