//! Crash safety over real processes: `klarna-hpp-runtime-worker` binaries drive checkouts
//! against the emulator from an SQLite file (WAL; one worker) or a PostgreSQL database (four
//! workers) and are killed with SIGKILL at random instants (the emulator delays the
//! money-moving calls, so many kills land between "in flight" committed and the answer
//! persisted) and restarted, with faults on (503s and 429s on session reads, 500s on captures,
//! answers dropped after commit). Checked against the emulator's own ledger: 0 duplicate
//! orders, 0 captures beyond an order's amount, 0 lost checkouts.
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
use klarna_hpp_runtime::{Runtime, RuntimeConfig};
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

/// What the consumer of checkout `i` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    /// Pays and closes the browser: the worker must find out by polling.
    PaysAndLeaves,
    /// Pays and is redirected back to the shop (this process), often while the worker holds
    /// the checkout.
    PaysAndReturns,
    /// Never pays: the checkout waits on its deadline.
    NeverPays,
}

fn behaviour(i: usize) -> Behaviour {
    match i % 10 {
        8 => Behaviour::PaysAndReturns,
        9 => Behaviour::NeverPays,
        _ => Behaviour::PaysAndLeaves,
    }
}

fn quantity(i: usize) -> i64 {
    (i % 3 + 1) as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_worker_killed_at_random_instants_moves_money_exactly_once() {
    crash_run(Db::Sqlite, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_four_workers_killed_at_random_instants_move_money_exactly_once() {
    crash_run(Db::Postgres, 4).await;
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
        Fault::drop_after_commit("kp.create_order").times(15),
        Fault::drop_after_commit("om.create_capture").times(15),
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
    // while the shop starts checkouts, consumers pay and the worker moves the money.
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
    let mut started = 0usize;
    while started < n {
        let wave = (n - started).min(25);
        let mut tasks = tokio::task::JoinSet::new();
        for i in started..started + wave {
            let shop = shop.clone();
            tasks.spawn(async move {
                let id = format!("crash-{i}");
                let s = shop.start(support::config(&id, quantity(i))).await.unwrap();
                (i, s.link.map(|l| l.session_id))
            });
        }
        while let Some(joined) = tasks.join_next().await {
            let (i, session) = joined.unwrap();
            let Some(session) = session else {
                panic!("crash-{i}: no link from start (Klarna did not answer in time)")
            };
            match behaviour(i) {
                Behaviour::NeverPays => {}
                Behaviour::PaysAndLeaves => {
                    sim.consumer(&session).pay().unwrap();
                }
                Behaviour::PaysAndReturns => {
                    let paid = sim.consumer(&session).pay().unwrap();
                    redirects.push((i, paid.redirect_url));
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

    let paying: Vec<usize> = (0..n)
        .filter(|i| behaviour(*i) != Behaviour::NeverPays)
        .collect();
    let all_captured = |rows: &HashMap<String, String>| {
        paying.iter().all(|i| {
            rows.get(&format!("crash-{i}"))
                .is_some_and(|s| s == "Captured")
        })
    };
    // Kills go on until every paying checkout is captured (or for a bounded number of
    // checks, after which the last worker finishes undisturbed).
    let mut checks = 0;
    loop {
        let rows = states(&store).await;
        if all_captured(&rows) {
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

    // The ledger.
    let rows = store.list("", i64::MAX).await.unwrap();
    let stats = support::sim_stats(&sim).await;
    let mut captured_total = 0i64;
    let mut over_captured = 0;
    let mut captures = 0usize;
    let mut wrong = Vec::new();
    for i in 0..n {
        let id = format!("crash-{i}");
        let Some(row) = rows.iter().find(|r| r.id == id) else {
            wrong.push(format!("{id}: lost"));
            continue;
        };
        match behaviour(i) {
            Behaviour::NeverPays => {
                if row.state != "AwaitingConsumer" || row.due_at.is_none() {
                    wrong.push(format!("{id}: {} due {:?}", row.state, row.due_at));
                }
            }
            _ => {
                let order_id = row.order_id.as_deref().unwrap();
                let order = support::om_order(&sim, order_id).await;
                let captured = order["captured_amount"].as_i64().unwrap();
                let amount = order["order_amount"].as_i64().unwrap();
                captured_total += captured;
                captures += order["captures"].as_array().unwrap().len();
                if captured > amount {
                    over_captured += 1;
                }
                if captured != support::amount(quantity(i)) || amount != captured {
                    wrong.push(format!("{id}: captured {captured} of {amount}"));
                }
            }
        }
    }
    let orders = stats["orders"].as_u64().unwrap() as usize;
    let quarantined = store.list_quarantined(1_000).await.unwrap().len();
    let unresolved = store.list_unresolved(1_000).await.unwrap().len();
    let requests = sim.requests();
    let replays = requests.iter().filter(|r| r.idempotent_replay).count();
    let place_calls = requests
        .iter()
        .filter(|r| r.operation.as_deref() == Some("kp.create_order"))
        .count();
    let capture_calls = requests
        .iter()
        .filter(|r| r.operation.as_deref() == Some("om.create_capture"))
        .count();
    let dropped = requests.iter().filter(|r| r.status.is_none()).count();
    println!(
        "checkouts {n} (stored {}), paying {}, worker kills {kills}, orders {orders}, \
         duplicate orders {}, captures {captures}, over-captured orders {over_captured}, \
         captured {captured_total}, lost {}, quarantined {quarantined}, unresolved {unresolved}, \
         API requests {}, place-order calls {place_calls}, capture calls {capture_calls}, \
         idempotent replays {replays}, answers dropped {dropped}",
        rows.len(),
        paying.len(),
        orders.saturating_sub(paying.len()),
        n.saturating_sub(rows.len()),
        requests.len(),
    );
    assert!(
        wrong.is_empty(),
        "{} wrong: {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(10)]
    );
    assert_eq!(rows.len(), n, "0 lost");
    assert_eq!(orders, paying.len(), "one order per paying checkout");
    assert_eq!(captures, paying.len(), "one capture per order");
    assert_eq!(over_captured, 0);
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
