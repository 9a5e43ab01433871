//! Crash safety over real processes: `klarna-hpp-runtime-worker` binaries drive checkouts
//! against the emulator from an SQLite file (WAL; one worker) or a PostgreSQL database (four
//! workers) and are killed with SIGKILL at random instants (the emulator delays the
//! money-moving calls, so many kills land between "in flight" committed and the answer
//! persisted) and restarted, with faults on (503s and 429s on session reads, 500s on captures,
//! 503s on refunds, answers dropped after commit). The checkouts mix the three
//! `place_order_mode`s (NONE, PLACE_ORDER, CAPTURE_ORDER) with consumers who pay and leave, pay
//! and return, pay and are refunded by the shop, are declined, cancel (and the shop disables),
//! and never come. Checked against the emulator's own ledger: 0 duplicate orders, 0 captures
//! beyond an order's amount, 0 double refunds, 0 lost checkouts, every checkout in the state
//! its consumer implies (or waiting on a deadline); every number printed.
//!
//! `KLARNA_HPP_CRASH_CHECKOUTS` (default 200) and `KLARNA_HPP_CRASH_SEED` size and seed it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use klarna_hpp_async::ReqwestTransport;
use klarna_hpp_core::hpp::PlaceOrderMode;
use klarna_hpp_runtime::{Runtime, RuntimeConfig, RuntimeError};
use klarna_hpp_sim::{Fault, SimHandle};
use support::Db;

/// xorshift64*: reproducible kill instants from a printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }
}

fn spawn_worker(db_url: &str, sim: &SimHandle, log: &std::path::Path) -> Child {
    spawn_worker_at(db_url, sim.base_url(), sim.username(), sim.password(), log)
}

fn spawn_worker_at(
    db_url: &str,
    base_url: &str,
    username: &str,
    password: &str,
    log: &std::path::Path,
) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    Command::new(env!("CARGO_BIN_EXE_klarna-hpp-runtime-worker"))
        .args([
            "--database",
            db_url,
            "--klarna",
            base_url,
            "--request-timeout-ms",
            "2000",
            "--lease-margin-ms",
            "1000",
            "--capture-on-order",
            "--idle-ms",
            "50",
        ])
        .env("KLARNA_USERNAME", username)
        .env("KLARNA_PASSWORD", password)
        .env("KLARNA_HPP_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .expect("the worker binary starts")
}

/// What the consumer of checkout `i` does (and the shop after it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Behaviour {
    /// Pays and closes the browser: the worker must find out by polling.
    PaysAndLeaves,
    /// Pays and is redirected back to the shop (this process), often while the worker holds
    /// the checkout.
    PaysAndReturns,
    /// Pays and leaves; once captured, the shop refunds part of it (while workers are killed).
    PaysThenRefunded,
    /// Is declined: the session is FAILED, which Klarna lets the consumer retry until it
    /// expires, so the checkout waits on its deadline; no order.
    Declined,
    /// Presses Cancel (BACK for an e-commerce session), and the shop disables the checkout.
    Cancels,
    /// Never comes: the checkout waits on its deadline.
    NeverComes,
}

impl Behaviour {
    fn pays(self) -> bool {
        matches!(
            self,
            Behaviour::PaysAndLeaves | Behaviour::PaysAndReturns | Behaviour::PaysThenRefunded
        )
    }

    /// The state the behaviour implies.
    fn expected_state(self) -> &'static str {
        match self {
            Behaviour::PaysAndLeaves | Behaviour::PaysAndReturns | Behaviour::PaysThenRefunded => {
                "Captured"
            }
            Behaviour::Cancels => "Disabled",
            Behaviour::Declined | Behaviour::NeverComes => "AwaitingConsumer",
        }
    }
}

fn behaviour(i: usize) -> Behaviour {
    match i % 10 {
        5 => Behaviour::PaysAndReturns,
        6 => Behaviour::PaysThenRefunded,
        7 => Behaviour::Declined,
        8 => Behaviour::Cancels,
        9 => Behaviour::NeverComes,
        _ => Behaviour::PaysAndLeaves,
    }
}

/// HPP's `place_order_mode` of checkout `i`: NONE (the runtime places the order and captures
/// it), PLACE_ORDER (Klarna places it, the runtime captures), CAPTURE_ORDER (Klarna places and
/// captures it).
fn mode(i: usize) -> PlaceOrderMode {
    match (i / 10) % 3 {
        0 => PlaceOrderMode::None,
        1 => PlaceOrderMode::PlaceOrder,
        _ => PlaceOrderMode::CaptureOrder,
    }
}

fn quantity(i: usize) -> i64 {
    (i % 3 + 1) as i64
}

/// What the shop refunds of a `PaysThenRefunded` checkout.
const REFUND: i64 = 4_900;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_worker_killed_at_random_instants_moves_money_exactly_once() {
    crash_run(Db::Sqlite, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_four_workers_killed_at_random_instants_move_money_exactly_once() {
    crash_run(Db::Postgres, 4).await;
}

/// Retries a merchant command while another process holds the checkout.
async fn until_not_busy<F, Fut>(id: &str, mut call: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<klarna_hpp_runtime::CheckoutView, RuntimeError>>,
{
    for _ in 0..200 {
        match call().await {
            Ok(_) => return,
            Err(RuntimeError::Busy(_)) => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(e) => panic!("{id}: {e}"),
        }
    }
    panic!("{id}: busy for 200 tries");
}

/// `workers` worker processes on a fresh database of `db`; one of them, at random, is killed
/// and restarted every 100-700 ms.
async fn crash_run(db: Db, workers: usize) {
    let n: usize = std::env::var("KLARNA_HPP_CRASH_CHECKOUTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let seed: u64 = std::env::var("KLARNA_HPP_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed_cafe);
    let mut rng = Rng(seed.max(1));

    let sim = support::sim().await;
    for fault in [
        Fault::status("hpp.read_session", 503).times(40),
        Fault::status("hpp.read_session", 429)
            .retry_after(1)
            .times(20),
        Fault::status("om.create_capture", 500).times(10),
        Fault::status("om.create_refund", 503).times(5),
        Fault::drop_after_commit("kp.create_order").times(15),
        Fault::drop_after_commit("om.create_capture").times(15),
        Fault::drop_after_commit("om.create_refund").times(5),
        Fault::drop_after_commit("hpp.disable_session").times(5),
        Fault::delay("kp.create_order", 250).times(10_000),
        Fault::delay("om.create_capture", 250).times(10_000),
    ] {
        sim.add_fault(fault).unwrap();
    }
    let url = support::fresh_url(db).await;
    let log = support::sqlite_path().with_extension("worker.log");
    let store = klarna_hpp_runtime::CheckoutStore::connect(&url)
        .await
        .unwrap();
    let shop = Runtime::new(
        store.clone(),
        support::api(&sim),
        ReqwestTransport::default(),
        RuntimeConfig::default()
            .request_timeout(Duration::from_secs(2))
            .lease_margin(Duration::from_secs(1))
            .handler_wait(Duration::from_secs(1))
            .capture_on_order(true),
    );
    println!(
        "crash run: {db:?}, {workers} worker(s), {n} checkouts, seed {seed}, worker log {}",
        log.display()
    );

    // The killer: SIGKILL at random instants (100-700 ms apart) and restart, all along,
    // while the shop starts checkouts, consumers act and the workers move the money.
    let pool: Arc<Mutex<Vec<Child>>> = Arc::new(Mutex::new(
        (0..workers)
            .map(|_| spawn_worker(&url, &sim, &log))
            .collect(),
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let killer = {
        let (pool, stop, url, log) = (pool.clone(), stop.clone(), url.clone(), log.clone());
        let (base, user, pass) = (
            sim.base_url().to_owned(),
            sim.username().to_owned(),
            sim.password().to_owned(),
        );
        std::thread::spawn(move || {
            let mut kills = 0u32;
            while !stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(rng.between(100, 700)));
                let victim = rng.between(0, workers as u64) as usize;
                let mut pool = pool.lock().unwrap();
                pool[victim].kill().unwrap();
                pool[victim].wait().unwrap();
                kills += 1;
                pool[victim] = spawn_worker_at(&url, &base, &user, &pass, &log);
            }
            kills
        })
    };
    let mut redirects = Vec::new();
    let mut to_disable = Vec::new();
    let mut started = 0usize;
    while started < n {
        let wave = (n - started).min(25);
        let mut tasks = tokio::task::JoinSet::new();
        for i in started..started + wave {
            let shop = shop.clone();
            tasks.spawn(async move {
                let id = format!("crash-{i}");
                let s = shop
                    .start(support::config_in(&id, quantity(i), mode(i)))
                    .await
                    .unwrap();
                (i, s.link.map(|l| l.session_id))
            });
        }
        while let Some(joined) = tasks.join_next().await {
            let (i, session) = joined.unwrap();
            let Some(session) = session else {
                panic!("crash-{i}: no link from start (Klarna did not answer in time)")
            };
            let consumer = sim.consumer(&session);
            match behaviour(i) {
                Behaviour::NeverComes => {}
                Behaviour::PaysAndLeaves | Behaviour::PaysThenRefunded => {
                    consumer.pay().unwrap();
                }
                Behaviour::PaysAndReturns => {
                    let paid = consumer.pay().unwrap();
                    redirects.push((i, paid.redirect_url));
                }
                Behaviour::Declined => {
                    consumer.decline().unwrap();
                }
                Behaviour::Cancels => {
                    consumer.cancel().unwrap();
                    to_disable.push(i);
                }
            }
        }
        started += wave;
    }
    for (i, redirect) in &redirects {
        shop.handle_redirect(&format!("crash-{i}"), redirect)
            .await
            .unwrap();
    }
    for i in &to_disable {
        let id = format!("crash-{i}");
        until_not_busy(&id, || shop.disable(&id)).await;
    }

    // Kills go on until every checkout is in the state its consumer implies and every refund
    // is made (or for a bounded number of checks, after which the last workers finish
    // undisturbed). Refunds are made by the shop as soon as their checkout is captured.
    let mut refunded = std::collections::HashSet::new();
    let mut checks = 0;
    loop {
        let rows = states(&store).await;
        for i in (0..n).filter(|i| behaviour(*i) == Behaviour::PaysThenRefunded) {
            let id = format!("crash-{i}");
            if !refunded.contains(&i) && rows.get(&id).is_some_and(|s| s == "Captured") {
                until_not_busy(&id, || shop.refund(&id, REFUND)).await;
                refunded.insert(i);
            }
        }
        let done = (0..n).all(|i| {
            rows.get(&format!("crash-{i}"))
                .is_some_and(|s| s == behaviour(i).expected_state())
        });
        if done
            && refunded.len()
                == (0..n)
                    .filter(|i| behaviour(*i) == Behaviour::PaysThenRefunded)
                    .count()
        {
            break;
        }
        checks += 1;
        if checks == 300 {
            stop.store(true, Ordering::SeqCst);
        }
        assert!(
            checks < 1_500,
            "no progress to the end after {checks} checks: {:?}",
            count_states(&rows)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stop.store(true, Ordering::SeqCst);
    let kills = killer.join().unwrap();
    for w in pool.lock().unwrap().iter_mut() {
        w.kill().unwrap();
        w.wait().unwrap();
    }

    // The ledger: Klarna's (the emulator's) own view of every order.
    let rows = store.list("", i64::MAX).await.unwrap();
    let stats = support::sim_stats(&sim).await;
    let mut captured_total = 0i64;
    let mut refunded_total = 0i64;
    let (mut over_captured, mut captures, mut refunds, mut double_refunds) = (0, 0, 0, 0);
    let mut wrong = Vec::new();
    let mut by_case: std::collections::BTreeMap<String, usize> = Default::default();
    for i in 0..n {
        let id = format!("crash-{i}");
        let b = behaviour(i);
        *by_case.entry(format!("{:?}/{b:?}", mode(i))).or_insert(0) += 1;
        let Some(row) = rows.iter().find(|r| r.id == id) else {
            wrong.push(format!("{id}: lost"));
            continue;
        };
        if row.state != b.expected_state() {
            wrong.push(format!("{id} ({:?}, {b:?}): {}", mode(i), row.state));
        }
        if !b.pays() {
            if let Some(order) = &row.order_id {
                wrong.push(format!("{id} ({b:?}): an order {order}"));
            }
            if b.expected_state() == "AwaitingConsumer" && row.due_at.is_none() {
                wrong.push(format!("{id}: waiting on no deadline"));
            }
            continue;
        }
        let Some(order_id) = row.order_id.as_deref() else {
            wrong.push(format!("{id}: no order"));
            continue;
        };
        let order = support::om_order(&sim, order_id).await;
        let captured = order["captured_amount"].as_i64().unwrap();
        let refunded = order["refunded_amount"].as_i64().unwrap();
        let amount = order["order_amount"].as_i64().unwrap();
        let order_refunds = order["refunds"].as_array().map_or(0, Vec::len);
        let want_refund = if b == Behaviour::PaysThenRefunded {
            REFUND
        } else {
            0
        };
        captured_total += captured;
        refunded_total += refunded;
        captures += order["captures"].as_array().unwrap().len();
        refunds += order_refunds;
        if captured > amount {
            over_captured += 1;
        }
        if order_refunds > usize::from(want_refund > 0) || refunded > want_refund {
            double_refunds += 1;
        }
        if captured != support::amount(quantity(i)) || amount != captured {
            wrong.push(format!("{id}: captured {captured} of {amount}"));
        }
        if refunded != want_refund {
            wrong.push(format!("{id}: refunded {refunded}, want {want_refund}"));
        }
    }
    let paying = (0..n).filter(|i| behaviour(*i).pays()).count();
    let to_refund = (0..n)
        .filter(|i| behaviour(*i) == Behaviour::PaysThenRefunded)
        .count();
    let orders = stats["orders"].as_u64().unwrap() as usize;
    let quarantined = store.list_quarantined(1_000).await.unwrap().len();
    let unresolved = store.list_unresolved(1_000).await.unwrap().len();
    let requests = sim.requests();
    let calls = |op: &str| {
        requests
            .iter()
            .filter(|r| r.operation.as_deref() == Some(op))
            .count()
    };
    let replays = requests.iter().filter(|r| r.idempotent_replay).count();
    let dropped = requests.iter().filter(|r| r.status.is_none()).count();
    let mut final_states: std::collections::BTreeMap<&str, usize> = Default::default();
    for r in &rows {
        *final_states.entry(r.state.as_str()).or_insert(0) += 1;
    }
    println!("cases (mode/behaviour): {by_case:?}");
    println!("final states: {final_states:?}");
    println!(
        "checkouts {n} (stored {}), paying {paying}, worker kills {kills}, orders {orders}, \
         duplicate orders {}, captures {captures}, over-captured orders {over_captured}, \
         captured {captured_total}, refunds {refunds} (of {to_refund}), double refunds \
         {double_refunds}, refunded {refunded_total}, lost {}, quarantined {quarantined}, \
         unresolved {unresolved}, API requests {}, place-order calls {}, capture calls {}, \
         refund calls {}, disable calls {}, idempotent replays {replays}, answers dropped \
         {dropped}",
        rows.len(),
        orders.saturating_sub(paying),
        n.saturating_sub(rows.len()),
        requests.len(),
        calls("kp.create_order"),
        calls("om.create_capture"),
        calls("om.create_refund"),
        calls("hpp.disable_session"),
    );
    assert!(
        wrong.is_empty(),
        "{} wrong: {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(10)]
    );
    assert_eq!(rows.len(), n, "0 lost");
    assert_eq!(
        orders, paying,
        "one order per paying checkout, 0 duplicates"
    );
    assert_eq!(captures, paying, "one capture per order");
    assert_eq!(over_captured, 0);
    assert_eq!((refunds, double_refunds), (to_refund, 0), "one refund each");
    assert_eq!((quarantined, unresolved), (0, 0));
    assert!(kills >= 8, "the worker was killed {kills} times");
    sim.shutdown().await;
    if let Some(path) = url.strip_prefix("sqlite:") {
        let _ = std::fs::remove_file(path);
    }
}

async fn states(store: &klarna_hpp_runtime::CheckoutStore) -> HashMap<String, String> {
    store
        .list("", i64::MAX)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.state))
        .collect()
}

fn count_states(rows: &HashMap<String, String>) -> HashMap<&str, usize> {
    let mut counts = HashMap::new();
    for s in rows.values() {
        *counts.entry(s.as_str()).or_insert(0) += 1;
    }
    counts
}
