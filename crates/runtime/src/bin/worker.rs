//! `klarna-hpp-runtime-worker`: one reconciling worker against a database and Klarna.
//!
//! ```sh
//! KLARNA_USERNAME=… KLARNA_PASSWORD=… klarna-hpp-runtime-worker \
//!     --database sqlite:/var/lib/shop/checkouts.db --klarna https://api.klarna.com
//! ```
//!
//! Stops on SIGINT/SIGTERM after the round under way. Logs go to stderr (`RUST_LOG`-style
//! level from `KLARNA_HPP_LOG`, default `info`).

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use klarna_hpp_async::ReqwestTransport;
use klarna_hpp_core::{Api, BaseUrl, Credentials};
use klarna_hpp_runtime::{
    connect_when_up, shutdown_signal, Runtime, RuntimeConfig, Worker, WorkerConfig,
};

/// Runs one klarna-hpp worker.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The database: `sqlite:PATH`, a file path, or `postgres://…`.
    #[arg(long, env = "KLARNA_HPP_DATABASE")]
    database: String,
    /// Klarna's base URL (or the emulator's).
    #[arg(long, env = "KLARNA_BASE_URL")]
    klarna: String,
    /// The API username.
    #[arg(long, env = "KLARNA_USERNAME", hide_env_values = true)]
    username: String,
    /// The API password (prefer the environment variable).
    #[arg(long, env = "KLARNA_PASSWORD", hide_env_values = true)]
    password: String,
    /// The longest one Klarna call may take, in milliseconds.
    #[arg(long, default_value_t = 30_000)]
    request_timeout_ms: u64,
    /// Added to the request timeout to make the lease, in milliseconds.
    #[arg(long, default_value_t = 15_000)]
    lease_margin_ms: u64,
    /// Capture each order as soon as it is placed.
    #[arg(long)]
    capture_on_order: bool,
    /// Checkouts claimed per round.
    #[arg(long, default_value_t = 32)]
    batch: i64,
    /// Idle wait between empty rounds, in milliseconds.
    #[arg(long, default_value_t = 200)]
    idle_ms: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let level = std::env::var("KLARNA_HPP_LOG")
        .ok()
        .and_then(|l| l.parse::<tracing::Level>().ok())
        .unwrap_or(tracing::Level::INFO);
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let base = match BaseUrl::custom(&args.klarna) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: --klarna: {e}");
            return ExitCode::from(2);
        }
    };
    let api = Api::new(base, Credentials::new(args.username, args.password));
    let store = match connect_when_up(&args.database).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let timeout = Duration::from_millis(args.request_timeout_ms);
    let config = RuntimeConfig::default()
        .request_timeout(timeout)
        .lease_margin(Duration::from_millis(args.lease_margin_ms))
        .capture_on_order(args.capture_on_order);
    let transport = ReqwestTransport::with_timeouts(timeout.min(Duration::from_secs(10)), timeout);
    let runtime = Runtime::new(store, api, transport, config);
    let worker = Worker::new(
        runtime,
        WorkerConfig::default()
            .batch(args.batch)
            .idle(Duration::from_millis(args.idle_ms)),
    );
    tracing::info!("worker started");
    let stats = worker.run(shutdown_signal()).await;
    tracing::info!(?stats, "worker stopped");
    ExitCode::SUCCESS
}
