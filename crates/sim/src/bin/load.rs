//! `klarna-hpp-sim-load`: a load generator for the emulator, run as a separate process.
//!
//! `klarna-hpp-sim-load` (alias `run`) starts two servers as child processes — the emulator
//! (`klarna-hpp-sim`, next to this binary) and a bare hello-world on the same stack (axum on
//! tokio, same accept loop; `klarna-hpp-sim-load hello`) — and measures, in the same run:
//!
//! * requests per second of `GET /` on the hello-world (the baseline),
//! * requests per second of HPP session reads, HPP session creates and KP session creates,
//! * memory per held HPP session and per held KP session (RSS delta / sessions).
//!
//! Build it with `--release`; numbers from a debug build mean little.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use serde_json::{json, Value};

#[derive(Parser, Debug)]
#[command(
    name = "klarna-hpp-sim-load",
    about = "Load generator for klarna-hpp-sim"
)]
struct Args {
    #[command(subcommand)]
    command: Option<Cmd>,
    /// Seconds per throughput measurement (split over the rounds).
    #[arg(long, default_value_t = 3.0)]
    duration: f64,
    /// Rounds: each row is measured once per round, interleaved; the median is reported.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Concurrent connections.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Sessions created for the memory measurement (of each kind).
    #[arg(long, default_value_t = 20_000)]
    sessions: usize,
    /// Path of the emulator binary (default: next to this one).
    #[arg(long)]
    sim_bin: Option<std::path::PathBuf>,
    /// The emulator's `--log-limit` (its request log keeps bodies; a small limit keeps the
    /// memory measurement about sessions).
    #[arg(long, default_value_t = 100)]
    log_limit: usize,
    /// Print the results as JSON too.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Run the measurements (the default).
    Run,
    /// Serve the hello-world baseline and print its URL.
    Hello {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: std::net::SocketAddr,
    },
}

/// A server child process and its URL; killed on drop.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn spawn(mut cmd: Command) -> Result<Server, String> {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        let url = line.trim().to_owned();
        if !url.starts_with("http://") {
            let _ = child.kill();
            return Err(format!("{cmd:?} printed {url:?}, not a URL"));
        }
        Ok(Server { child, url })
    }

    /// Resident set size in bytes (Linux `/proc`).
    fn rss(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn kp_body() -> Value {
    json!({
        "purchase_country": "SE", "purchase_currency": "SEK", "locale": "sv-SE",
        "order_amount": 62400, "order_tax_amount": 12480,
        "order_lines": [
            {"type": "physical", "reference": "19-402", "name": "Battery Power Pack", "quantity": 1,
             "unit_price": 59500, "tax_rate": 2500, "total_amount": 59500, "total_tax_amount": 11900},
            {"type": "shipping_fee", "name": "Shipping", "quantity": 1,
             "unit_price": 2900, "tax_rate": 2500, "total_amount": 2900, "total_tax_amount": 580}
        ]
    })
}

fn hpp_body(base: &str, kp: &str) -> Value {
    json!({
        "payment_session_url": format!("{base}/payments/v1/sessions/{kp}"),
        "merchant_urls": {
            "success": "https://shop.example/success?sid={{session_id}}&token={{authorization_token}}",
            "cancel": "https://shop.example/cancel?sid={{session_id}}",
            "back": "https://shop.example/back?sid={{session_id}}",
            "failure": "https://shop.example/failure?sid={{session_id}}",
            "error": "https://shop.example/error?sid={{session_id}}",
            "status_update": "https://shop.example/klarna/callback?sid={{session_id}}&secret=0123456789abcdef"
        },
        "options": {"place_order_mode": "NONE"}
    })
}

#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    fn new(base: &str) -> Client {
        Client {
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(1024)
                .build()
                .expect("client"),
            base: base.to_owned(),
        }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), String> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .basic_auth("DemoMerchant", Some("DemoPassword"));
        if let Some(b) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.map_err(|e| e.to_string())?;
        let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok((status, v))
    }
}

/// Runs `op` from `concurrency` tasks for `duration`; returns successful requests per second.
async fn throughput<F, Fut>(concurrency: usize, duration: Duration, op: F) -> f64
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let op = Arc::new(op);
    let ok = Arc::new(AtomicU64::new(0));
    let seq = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (op, ok, seq) = (Arc::clone(&op), Arc::clone(&ok), Arc::clone(&seq));
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let n = seq.fetch_add(1, Ordering::Relaxed);
                if op(n).await {
                    ok.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    ok.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

/// Creates `n` of something with `concurrency` tasks; returns the ids.
async fn create_many<F, Fut>(n: usize, concurrency: usize, op: F) -> Vec<String>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Option<String>> + Send,
{
    let op = Arc::new(op);
    let left = Arc::new(AtomicU64::new(n as u64));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (op, left) = (Arc::clone(&op), Arc::clone(&left));
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            while left
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| v.checked_sub(1))
                .is_ok()
            {
                if let Some(id) = op().await {
                    ids.push(id);
                }
            }
            ids
        }));
    }
    let mut all = Vec::with_capacity(n);
    for t in tasks {
        all.extend(t.await.unwrap_or_default());
    }
    all
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

async fn settle() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}

async fn run(args: Args) -> Result<(), String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let sim_bin = args
        .sim_bin
        .clone()
        .unwrap_or_else(|| me.with_file_name("klarna-hpp-sim"));
    let mut hello_cmd = Command::new(&me);
    hello_cmd.arg("hello");
    let hello = Server::spawn(hello_cmd)?;
    let mut sim_cmd = Command::new(&sim_bin);
    let log_limit = args.log_limit.to_string();
    sim_cmd.args([
        "--listen",
        "127.0.0.1:0",
        "--seed",
        "1",
        "--log-limit",
        &log_limit,
    ]);
    let sim = Server::spawn(sim_cmd)?;
    let duration = Duration::from_secs_f64(args.duration);
    let c = args.concurrency;

    let api = Client::new(&sim.url);
    // Warm up both servers (runtime threads, allocator arenas, connection pools).
    let (_, v) = api
        .send(
            reqwest::Method::POST,
            "/payments/v1/sessions",
            Some(&kp_body()),
        )
        .await?;
    let kp = v["session_id"]
        .as_str()
        .ok_or("no KP session id")?
        .to_owned();
    let hello_client = Client::new(&hello.url);
    throughput(c, Duration::from_millis(500), {
        let h = hello_client.clone();
        move |_| {
            let h = h.clone();
            async move { h.send(reqwest::Method::GET, "/", None).await.is_ok() }
        }
    })
    .await;
    let warm_ids = create_many(500, c, {
        let (api, body) = (api.clone(), hpp_body(&sim.url, &kp));
        move || {
            let (api, body) = (api.clone(), body.clone());
            async move {
                let (s, v) = api
                    .send(reqwest::Method::POST, "/hpp/v1/sessions", Some(&body))
                    .await
                    .ok()?;
                (s == 201)
                    .then(|| v["session_id"].as_str().map(str::to_owned))
                    .flatten()
            }
        }
    })
    .await;
    if warm_ids.is_empty() {
        return Err("could not create HPP sessions".into());
    }

    // Memory per held session.
    settle().await;
    let hello_rss = hello.rss().unwrap_or(0);
    let rss0 = sim.rss().unwrap_or(0);
    let hpp_ids = create_many(args.sessions, c, {
        let (api, body) = (api.clone(), hpp_body(&sim.url, &kp));
        move || {
            let (api, body) = (api.clone(), body.clone());
            async move {
                let (s, v) = api
                    .send(reqwest::Method::POST, "/hpp/v1/sessions", Some(&body))
                    .await
                    .ok()?;
                (s == 201)
                    .then(|| v["session_id"].as_str().map(str::to_owned))
                    .flatten()
            }
        }
    })
    .await;
    settle().await;
    let rss1 = sim.rss().unwrap_or(0);
    let kp_ids = create_many(args.sessions, c, {
        let api = api.clone();
        move || {
            let api = api.clone();
            async move {
                let (s, v) = api
                    .send(
                        reqwest::Method::POST,
                        "/payments/v1/sessions",
                        Some(&kp_body()),
                    )
                    .await
                    .ok()?;
                (s == 200)
                    .then(|| v["session_id"].as_str().map(str::to_owned))
                    .flatten()
            }
        }
    })
    .await;
    settle().await;
    let rss2 = sim.rss().unwrap_or(0);
    let per_hpp = rss1.saturating_sub(rss0) as f64 / hpp_ids.len().max(1) as f64;
    let per_kp = rss2.saturating_sub(rss1) as f64 / kp_ids.len().max(1) as f64;

    // Throughput, interleaved: every round measures every row once, and each row reports its
    // median, so a neighbour's load that comes and goes hits all rows alike.
    let ids = Arc::new(hpp_ids);
    let rounds = args.rounds.max(1);
    let slice = duration / u32::try_from(rounds).unwrap_or(1);
    let mut samples: [Vec<f64>; 4] = Default::default();
    for _ in 0..rounds {
        samples[0].push(
            throughput(c, slice, {
                let h = hello_client.clone();
                move |_| {
                    let h = h.clone();
                    async move { matches!(h.send(reqwest::Method::GET, "/", None).await, Ok((200, _))) }
                }
            })
            .await,
        );
        samples[1].push(
            throughput(c, slice, {
                let (api, ids) = (api.clone(), Arc::clone(&ids));
                move |n| {
                    let (api, ids) = (api.clone(), Arc::clone(&ids));
                    async move {
                        let id = &ids[(n as usize).wrapping_mul(7919) % ids.len()];
                        matches!(
                            api.send(
                                reqwest::Method::GET,
                                &format!("/hpp/v1/sessions/{id}"),
                                None
                            )
                            .await,
                            Ok((200, _))
                        )
                    }
                }
            })
            .await,
        );
        samples[2].push(
            throughput(c, slice, {
                let (api, body) = (api.clone(), hpp_body(&sim.url, &kp));
                move |_| {
                    let (api, body) = (api.clone(), body.clone());
                    async move {
                        matches!(
                            api.send(reqwest::Method::POST, "/hpp/v1/sessions", Some(&body))
                                .await,
                            Ok((201, _))
                        )
                    }
                }
            })
            .await,
        );
        samples[3].push(
            throughput(c, slice, {
                let api = api.clone();
                move |_| {
                    let api = api.clone();
                    async move {
                        matches!(
                            api.send(
                                reqwest::Method::POST,
                                "/payments/v1/sessions",
                                Some(&kp_body())
                            )
                            .await,
                            Ok((200, _))
                        )
                    }
                }
            })
            .await,
        );
    }
    let [hello_rps, read_rps, create_rps, kp_rps] = samples.map(|mut v| median(&mut v));
    let sim_rss_end = sim.rss().unwrap_or(0);

    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!(
        "klarna-hpp-sim load run: {cores} cores, {c} connections, {:.1} s per row in {rounds} interleaved rounds (median)",
        args.duration
    );
    println!("(client and servers share the machine; compare rows, not absolute values)");
    println!("(emulator started with --log-limit {})", args.log_limit);
    println!();
    println!("{:<40} {:>12} {:>10}", "measurement", "req/s", "vs hello");
    for (name, rps) in [
        ("hello-world GET / (baseline)", hello_rps),
        ("HPP read  GET /hpp/v1/sessions/{id}", read_rps),
        ("HPP create POST /hpp/v1/sessions", create_rps),
        ("KP create POST /payments/v1/sessions", kp_rps),
    ] {
        println!("{name:<40} {rps:>12.0} {:>9.2}x", rps / hello_rps.max(1.0));
    }
    println!();
    println!("memory (RSS):");
    println!(
        "  hello-world idle RSS                 {:>10.1} MiB",
        hello_rss as f64 / 1048576.0
    );
    println!(
        "  emulator RSS before sessions         {:>10.1} MiB",
        rss0 as f64 / 1048576.0
    );
    println!(
        "  + {} HPP sessions                  {per_hpp:>10.0} bytes/session",
        ids.len()
    );
    println!(
        "  + {} KP sessions                   {:>10.0} bytes/session",
        kp_ids.len(),
        per_kp
    );
    println!(
        "  emulator RSS at the end              {:>10.1} MiB",
        sim_rss_end as f64 / 1048576.0
    );
    if args.json {
        println!(
            "{}",
            json!({
                "cores": cores, "concurrency": c, "duration_s": args.duration, "rounds": rounds,
                "hello_rps": hello_rps, "hpp_read_rps": read_rps, "hpp_create_rps": create_rps,
                "kp_create_rps": kp_rps, "hello_rss_bytes": hello_rss, "sim_rss_before_bytes": rss0,
                "bytes_per_hpp_session": per_hpp, "bytes_per_kp_session": per_kp,
                "hpp_sessions": ids.len(), "kp_sessions": kp_ids.len(), "sim_rss_end_bytes": sim_rss_end,
                "log_limit": args.log_limit,
            })
        );
    }
    Ok(())
}

async fn hello(listen: std::net::SocketAddr) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("http://{addr}");
    klarna_hpp_sim::bench::serve_hello(listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await;
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let mut args = Args::parse();
    let result = match args.command.take() {
        Some(Cmd::Hello { listen }) => hello(listen).await,
        Some(Cmd::Run) | None => run(args).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("klarna-hpp-sim-load: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
