//! The database goes away mid-run and comes back: a throwaway PostgreSQL cluster of the test's
//! own (never the shared server) is stopped with `pg_ctl -m immediate` (the closest to pulling
//! the plug) while a worker drives checkouts, and started again. The worker backs off with
//! typed transient errors, never panics, and finishes every checkout exactly once.
//!
//! Needs PostgreSQL's server binaries (`/usr/lib/postgresql/*/bin`, as Debian's `postgresql`
//! installs them); as root, the cluster runs as the `postgres` user.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use klarna_hpp_async::ReqwestTransport;
use klarna_hpp_core::checkout::State;
use klarna_hpp_runtime::{CheckoutStore, Runtime, RuntimeConfig, StoreError, Worker, WorkerConfig};

fn pg_bin() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect(
            "PostgreSQL's server binaries under /usr/lib/postgresql (apt-get install postgresql)",
        )
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("pg_ctl").exists())
        .collect();
    found.sort();
    found.pop().expect("a PostgreSQL version with pg_ctl")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a PostgreSQL tool (as `postgres` when we are root: initdb refuses root).
fn pg(bin: &Path, tool: &str, args: &[&str]) {
    let tool = bin.join(tool);
    let status = if is_root() {
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(&tool)
            .args(args)
            .status()
    } else {
        Command::new(&tool).args(args).status()
    }
    .unwrap();
    assert!(status.success(), "{} {args:?} failed", tool.display());
}

struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
}

impl Cluster {
    fn create() -> Cluster {
        let bin = pg_bin();
        let dir = support::sqlite_path().with_extension("pg");
        std::fs::create_dir_all(&dir).unwrap();
        if is_root() {
            assert!(Command::new("chown")
                .arg("postgres")
                .arg(&dir)
                .status()
                .unwrap()
                .success());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let data = dir.join("data");
        pg(
            &bin,
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
            ],
        );
        let cluster = Cluster { bin, dir, port };
        cluster.start();
        cluster
    }

    fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.display()
        );
        let data = self.dir.join("data");
        let log = self.dir.join("log");
        pg(
            &self.bin,
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-o",
                &options,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "start",
            ],
        );
    }

    fn crash(&self) {
        let data = self.dir.join("data");
        pg(
            &self.bin,
            "pg_ctl",
            &["-D", data.to_str().unwrap(), "-m", "immediate", "stop"],
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = Command::new(if is_root() { "runuser" } else { "true" })
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .args([
                "-D",
                data.to_str().unwrap_or_default(),
                "-m",
                "immediate",
                "stop",
            ])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_waits_out_a_database_crash_and_finishes_every_checkout() {
    let t0 = std::time::Instant::now();
    let cluster = Cluster::create();
    println!("{:?} cluster up", t0.elapsed());
    let sim = support::sim().await;
    let store = CheckoutStore::connect(&cluster.url()).await.unwrap();
    let shop = Runtime::new(
        store.clone(),
        support::api(&sim),
        ReqwestTransport::default(),
        RuntimeConfig::default()
            .request_timeout(Duration::from_secs(2))
            .lease_margin(Duration::from_secs(1))
            .capture_on_order(true),
    );
    let n = 12;
    for i in 0..n {
        let started = shop
            .start(support::config(&format!("outage-{i}"), 1))
            .await
            .unwrap();
        sim.consumer(&started.link.unwrap().session_id)
            .pay()
            .unwrap();
    }
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = Worker::new(
        shop.clone(),
        WorkerConfig::default().idle(Duration::from_millis(50)),
    );
    let running = tokio::spawn(worker.run(async {
        let _ = stopped.await;
    }));
    // Pull the plug while the worker polls and places orders.
    tokio::time::sleep(Duration::from_millis(150)).await;
    cluster.crash();
    // While it is away, the store answers with a typed transient error.
    println!("{:?} crashed", t0.elapsed());
    let away = store.get("outage-0").await;
    println!("{:?} get answered: {away:?}", t0.elapsed());
    assert!(
        matches!(&away, Err(e @ StoreError::Unavailable(_)) if e.is_transient()),
        "{away:?}"
    );
    println!("{:?} database away", t0.elapsed());
    tokio::time::sleep(Duration::from_secs(2)).await;
    cluster.start();
    println!("{:?} database back", t0.elapsed());
    let mut done = false;
    for _ in 0..600 {
        let mut captured = 0;
        for i in 0..n {
            if let Ok(view) = shop.show(&format!("outage-{i}")).await {
                captured += usize::from(view.state == State::Captured);
            }
        }
        if captured == n {
            done = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("{:?} all captured: {done}", t0.elapsed());
    let _ = stop.send(());
    let stats = running.await.expect("the worker never panics");
    println!("worker after the outage: {stats:?}");
    assert!(done, "every checkout captured after the database came back");
    assert!(stats.backoffs > 0, "the worker backed off: {stats:?}");
    let mut captures = 0;
    for i in 0..n {
        let view = shop.show(&format!("outage-{i}")).await.unwrap();
        let order = support::om_order(&sim, view.order_id.as_deref().unwrap()).await;
        assert_eq!(order["captured_amount"], support::amount(1));
        captures += order["captures"].as_array().unwrap().len();
    }
    assert_eq!(support::sim_stats(&sim).await["orders"], n);
    assert_eq!(captures, n, "one capture per order");
    sim.shutdown().await;
}
