//! Durable throughput and claim latency, each against a baseline measured in the same run.
//!
//! ```sh
//! cargo run -p klarna-hpp-runtime --example throughput -- [CHECKOUTS] [MAX_ROWS]
//! ```
//!
//! 1. The baseline: CHECKOUTS (default 200) whole checkouts (link → pay → redirect → order →
//!    capture) with the in-memory async driver, all at once, against the in-process emulator.
//! 2. The same checkouts through the runtime, durable, on SQLite and on PostgreSQL
//!    (`DATABASE_URL` or the local server; a fresh database), with 1, 2 and 4 runtime instances
//!    (separate pools and lease owners) sharing them: checkouts/s, the ratio to the baseline,
//!    and row writes per checkout (the row version: one per save, claim or acquire).
//! 3. PostgreSQL's durable-commit ceiling on the same server: `pgbench -N` (simple update) tps
//!    on a scratch database created and dropped here, when `pgbench` is installed, divided by
//!    the commits per checkout (row writes plus the redirect's hint insert).
//! 4. Claim latency (claim 32 due rows and release them) with 10k, 100k and up to MAX_ROWS
//!    (default 1,000,000) finished rows in the table, against the same at 10k.

use std::error::Error;
use std::time::{Duration, Instant};

use klarna_hpp_async::{Driver, ReqwestTransport, TokioClock};
use klarna_hpp_core::checkout::{Checkout, CheckoutConfig, Event, PollPolicy, State};
use klarna_hpp_core::hpp::MerchantUrls;
use klarna_hpp_core::kp::SessionCreate;
use klarna_hpp_core::model::{OrderLine, OrderLineType};
use klarna_hpp_core::template::UrlKind;
use klarna_hpp_core::{Api, BaseUrl, Credentials};
use klarna_hpp_runtime::store::Save;
use klarna_hpp_runtime::{CheckoutStore, Runtime, RuntimeConfig};
use klarna_hpp_sim::{Sim, SimConfig, SimHandle};
use sqlx::Connection;

type BoxError = Box<dyn Error + Send + Sync>;

fn config(id: &str) -> CheckoutConfig {
    let lines = vec![OrderLine::new("Headlamp", 1, 49_900)
        .kind(OrderLineType::Physical)
        .tax_rate(2500)];
    let mut session = SessionCreate::new("SE", "SEK", lines);
    session.merchant_reference1 = Some(id.to_owned());
    let urls = MerchantUrls::default().with(
        UrlKind::Success,
        "https://shop.example/klarna/success?sid={{session_id}}",
    );
    CheckoutConfig::new(id, "throughput-seed-0123456789", session)
        .merchant_urls(urls)
        .poll(PollPolicy {
            initial: Duration::from_secs(30),
            factor: 1.0,
            max: Duration::from_secs(30),
        })
}

async fn in_memory(api: &Api, sim: &SimHandle, n: usize, tag: &str) -> Result<f64, BoxError> {
    let driver = Driver::new(ReqwestTransport::default(), TokioClock);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let (api, driver) = (api.clone(), driver.clone());
        let base = sim.base_url().to_owned();
        let id = format!("{tag}-{i}");
        tasks.spawn(async move {
            let mut checkout = Checkout::new(api, config(&id), driver.now())?;
            while let Some(event) = driver.next_event(&mut checkout).await {
                let now = driver.now();
                match event {
                    Event::ConsumerLinkReady(link) => {
                        let paid: serde_json::Value = reqwest::Client::new()
                            .post(format!("{base}/_sim/hpp/{}/pay", link.session_id))
                            .send()
                            .await?
                            .json()
                            .await?;
                        let url = paid["redirect_url"].as_str().unwrap_or_default().to_owned();
                        checkout.handle_redirect(&url, now)?;
                    }
                    Event::Authorized { .. } => checkout.place_order(None, now)?,
                    Event::OrderPlaced { .. } => checkout.capture(None, now)?,
                    _ => {}
                }
                if checkout.state() == State::Captured || checkout.state().is_terminal() {
                    break;
                }
            }
            Ok::<State, BoxError>(checkout.state())
        });
    }
    let mut captured = 0;
    while let Some(joined) = tasks.join_next().await {
        if matches!(joined?, Ok(State::Captured)) {
            captured += 1;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    if captured != n {
        return Err(format!("in-memory: {captured} of {n} captured").into());
    }
    Ok(n as f64 / secs)
}

/// `instances` runtimes on `url` share `n` checkouts; returns (checkouts/s, writes/checkout).
async fn durable(
    url: &str,
    api: &Api,
    sim: &SimHandle,
    n: usize,
    instances: usize,
    tag: &str,
) -> Result<(f64, f64), BoxError> {
    let mut runtimes = Vec::new();
    for _ in 0..instances {
        let store = CheckoutStore::connect(url).await?;
        runtimes.push(Runtime::new(
            store,
            api.clone(),
            ReqwestTransport::default(),
            RuntimeConfig::default().capture_on_order(true),
        ));
    }
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let shop = runtimes[i % instances].clone();
        let base = sim.base_url().to_owned();
        let id = format!("{tag}-{i}");
        tasks.spawn(async move {
            let s = shop.start(config(&id)).await?;
            let link = s.link.ok_or("no link")?;
            let paid: serde_json::Value = reqwest::Client::new()
                .post(format!("{base}/_sim/hpp/{}/pay", link.session_id))
                .send()
                .await?
                .json()
                .await?;
            let url = paid["redirect_url"].as_str().unwrap_or_default().to_owned();
            shop.handle_redirect(&id, &url).await?;
            Ok::<State, BoxError>(shop.show(&id).await?.state)
        });
    }
    let mut captured = 0;
    while let Some(joined) = tasks.join_next().await {
        if matches!(joined?, Ok(State::Captured)) {
            captured += 1;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    if captured != n {
        return Err(format!("durable: {captured} of {n} captured").into());
    }
    let store = runtimes[0].store();
    let rows = store.list(&format!("{tag}-"), i64::MAX).await?;
    let writes: i64 = rows
        .iter()
        .filter(|r| r.id.starts_with(&format!("{tag}-")))
        .map(|r| r.version)
        .sum();
    Ok((n as f64 / secs, writes as f64 / n as f64))
}

fn pg_server() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

async fn fresh_pg(tag: &str) -> Result<String, BoxError> {
    let server = pg_server();
    let name = format!("klarna_hpp_bench_{}_{tag}", std::process::id());
    let mut conn = sqlx::PgConnection::connect(&server).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
        .execute(&mut conn)
        .await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await?;
    let cut = server.rfind('/').ok_or("DATABASE_URL without a database")?;
    Ok(format!("{}/{name}", &server[..cut]))
}

fn fresh_sqlite(name: &str) -> String {
    let path =
        std::env::temp_dir().join(format!("klarna-hpp-bench-{}-{name}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    format!("sqlite:{}", path.display())
}

/// Fills the table with finished rows up to `total`, then times claims of 32 due rows.
async fn claim_latency(store: &CheckoutStore, have: &mut i64, total: i64) -> Result<f64, BoxError> {
    let sql = match store.backend() {
        klarna_hpp_runtime::Backend::Postgres => format!(
            "INSERT INTO hpp_checkouts (id, state, snapshot, due_at, version, created_at, updated_at) \
             SELECT 'filler-' || g, 'Captured', '\\x7b7d'::bytea, NULL, 1, 0, 0 \
             FROM generate_series({}, {}) AS g",
            *have,
            total - 1
        ),
        _ => format!(
            "WITH RECURSIVE g(x) AS (SELECT {} UNION ALL SELECT x + 1 FROM g WHERE x < {}) \
             INSERT INTO hpp_checkouts (id, state, snapshot, due_at, version, created_at, updated_at) \
             SELECT 'filler-' || x, 'Captured', X'7b7d', NULL, 1, 0, 0 FROM g",
            *have,
            total - 1
        ),
    };
    if total > *have {
        store.execute_raw(&sql).await?;
        *have = total;
    }
    if store.backend() == klarna_hpp_runtime::Backend::Postgres {
        store.execute_raw("ANALYZE hpp_checkouts").await?;
    }
    // 32 due rows, claimed and released 200 times.
    for i in 0..32 {
        let id = format!("due-{i}");
        if store.get(&id).await?.is_none() {
            let mut lease = store
                .insert(&id, "AwaitingConsumer", b"{}", "bench", 0, 0)
                .await?;
            store.save(&mut lease, &save_release()).await?;
        }
    }
    let rounds = 200;
    let started = Instant::now();
    for r in 0..rounds {
        let now = 1_000 + r;
        let claimed = store.claim_due("bench", now, 32, now + 1).await?;
        if claimed.len() != 32 {
            return Err(format!("claimed {} of 32", claimed.len()).into());
        }
        for mut c in claimed {
            store.save(&mut c.lease, &save_release()).await?;
        }
    }
    // Per claim statement, with its 32 releases.
    Ok(started.elapsed().as_secs_f64() * 1000.0 / rounds as f64)
}

fn save_release() -> Save<'static> {
    Save {
        state: "AwaitingConsumer",
        snapshot: b"{}",
        due_at: Some(0),
        order_id: None,
        unresolved: false,
        events: &[],
        hints_applied: 0,
        release: true,
        lease_until: 0,
        now: 0,
    }
}

fn pgbench_tps(url: &str) -> Option<f64> {
    let bin = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin/pgbench"))
        .find(|p| p.exists())?;
    let init = std::process::Command::new(&bin)
        .args(["-i", "-s", "10", "-q", url])
        .output()
        .ok()?;
    if !init.status.success() {
        return None;
    }
    let run = std::process::Command::new(&bin)
        .args(["-c", "4", "-j", "2", "-T", "15", "-N", url])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&run.stdout);
    text.lines()
        .find(|l| l.starts_with("tps = "))?
        .trim_start_matches("tps = ")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(Ok(200), |a| a.parse())?;
    let max_rows: i64 = args.next().map_or(Ok(1_000_000), |a| a.parse())?;
    let _ = ReqwestTransport::default();
    let sim = Sim::start(SimConfig::default().with_seed(3)).await?;
    let api = Api::new(
        BaseUrl::custom(sim.base_url())?,
        Credentials::new(sim.username(), sim.password()),
    );
    println!("{n} checkouts per run (link → pay → redirect → order → capture)");
    let base = in_memory(&api, &sim, n, "mem").await?;
    println!("in-memory async driver: {base:.1} checkouts/s (baseline)");
    let url = fresh_sqlite("tp");
    let (tps, writes) = durable(&url, &api, &sim, n, 1, "sqlite").await?;
    println!(
        "SQLite, 1 instance: {tps:.1} checkouts/s = {:.3}x baseline; {writes:.1} row writes per checkout",
        tps / base
    );
    let pg = fresh_pg("tp").await?;
    let mut pg_commits = 0.0;
    let mut best = 0.0f64;
    for instances in [1, 2, 4] {
        let (tps, writes) =
            durable(&pg, &api, &sim, n, instances, &format!("pg{instances}")).await?;
        // Each redirect is also queued as a hint (one insert, its own commit) before the
        // handler takes the lease.
        pg_commits = writes + 1.0;
        best = best.max(tps);
        println!(
            "PostgreSQL, {instances} instance(s): {tps:.1} checkouts/s = {:.3}x baseline; {writes:.1} row writes + 1 hint insert = {pg_commits:.1} commits per checkout",
            tps / base
        );
    }
    let base2 = in_memory(&api, &sim, n, "mem2").await?;
    println!("in-memory async driver again: {base2:.1} checkouts/s");
    match pgbench_tps(&fresh_pg("pgbench").await?) {
        Some(tps) => println!(
            "pgbench -N (4 clients, 2 threads, 15 s, scale 10, scratch database): {tps:.0} tps; \
             ceiling {:.1} checkouts/s at {pg_commits:.1} commits each; the best PostgreSQL run \
             ({best:.1}/s) is {:.0}% of it",
            tps / pg_commits,
            100.0 * best * pg_commits / tps
        ),
        None => println!("pgbench not found: no ceiling measured"),
    }
    for (name, store) in [
        (
            "SQLite",
            CheckoutStore::connect(&fresh_sqlite("claim")).await?,
        ),
        (
            "PostgreSQL",
            CheckoutStore::connect(&fresh_pg("claim").await?).await?,
        ),
    ] {
        let mut have = 0;
        let mut first = None;
        for total in [10_000, 100_000, max_rows] {
            if total <= have {
                continue;
            }
            let ms = claim_latency(&store, &mut have, total).await?;
            let baseline = *first.get_or_insert(ms);
            println!(
                "{name}: claim 32 + release with {total} rows: {ms:.2} ms = {:.2}x of 10k",
                ms / baseline
            );
        }
    }
    sim.shutdown().await;
    // The benchmark's databases and files go.
    let mut conn = sqlx::PgConnection::connect(&pg_server()).await?;
    for tag in ["tp", "claim", "pgbench"] {
        let name = format!("klarna_hpp_bench_{}_{tag}", std::process::id());
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn)
            .await?;
        let file =
            std::env::temp_dir().join(format!("klarna-hpp-bench-{}-{tag}.db", std::process::id()));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
        }
    }
    Ok(())
}
