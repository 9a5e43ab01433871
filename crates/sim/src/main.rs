//! `klarna-hpp-sim`: the emulator as a program.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use klarna_hpp_sim::{ClockMode, Sim, SimConfig, DEFAULT_PASSWORD, DEFAULT_USERNAME};

/// A local emulator of Klarna Payments, the Hosted Payment Page and Order Management.
#[derive(Parser, Debug)]
#[command(name = "klarna-hpp-sim", version, about)]
struct Args {
    /// Address to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8089")]
    listen: SocketAddr,
    /// API username accepted (HTTP Basic).
    #[arg(long, default_value = DEFAULT_USERNAME)]
    username: String,
    /// API password accepted (HTTP Basic).
    #[arg(long, default_value = DEFAULT_PASSWORD)]
    password: String,
    /// Seed for deterministic ids.
    #[arg(long)]
    seed: Option<u64>,
    /// Start the clock at this instant (RFC 3339, e.g. 2024-05-01T12:00:00Z).
    #[arg(long, value_parser = parse_time)]
    start_time: Option<time::OffsetDateTime>,
    /// `real`: the clock advances with real time (default). `frozen`: it stands still until
    /// advanced through `/_sim/clock/advance`.
    #[arg(long, default_value = "real", value_parser = parse_clock)]
    clock: ClockMode,
    /// Entries kept in each inspection log (requests, messages, callbacks).
    #[arg(long, default_value_t = 10_000)]
    log_limit: usize,
    /// The most bytes the request log holds (bodies are cut at 16 KiB).
    #[arg(long, default_value_t = 32 << 20)]
    log_bytes: usize,
    /// Connections served at once; one more gets 503 and is closed.
    #[arg(long, default_value_t = 1024)]
    max_connections: usize,
    /// Seconds a client may take to send a request's headers before its connection is closed.
    #[arg(long, default_value_t = 30.0)]
    header_timeout: f64,
    /// Log every API request to stderr.
    #[arg(long, short)]
    verbose: bool,
    /// Payment method categories KP sessions offer (comma-separated KP identifiers).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "pay_now,pay_later,pay_over_time"
    )]
    categories: Vec<String>,
}

fn parse_clock(s: &str) -> Result<ClockMode, String> {
    match s {
        "real" => Ok(ClockMode::Real),
        "frozen" => Ok(ClockMode::Frozen),
        _ => Err("expected `real` or `frozen`".into()),
    }
}

fn parse_time(s: &str) -> Result<time::OffsetDateTime, String> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|e| e.to_string())
}

/// Ctrl-C (SIGINT) or SIGTERM, registered before the URL is printed so that a signal sent as
/// soon as the URL appears is not missed.
#[cfg(unix)]
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

#[cfg(not(unix))]
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if args.verbose {
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_target(false)
            .with_max_level(tracing::Level::INFO)
            .init();
    }
    let mut config = SimConfig::default()
        .with_listen(args.listen)
        .with_credentials(args.username, args.password)
        .with_payment_method_categories(args.categories);
    config.seed = args.seed;
    config.log_limit = args.log_limit;
    config.log_bytes = args.log_bytes;
    config.max_connections = args.max_connections;
    if !args.header_timeout.is_finite() || args.header_timeout <= 0.0 {
        eprintln!("klarna-hpp-sim: --header-timeout must be a positive number of seconds");
        return ExitCode::FAILURE;
    }
    config.header_read_timeout = Duration::from_secs_f64(args.header_timeout.min(86_400.0));
    config.start_time = args.start_time;
    config.clock = args.clock;
    let stop = match stop_signal() {
        Ok(stop) => stop,
        Err(e) => {
            eprintln!("klarna-hpp-sim: cannot listen for Ctrl-C: {e}");
            return ExitCode::FAILURE;
        }
    };
    let sim = match Sim::start(config).await {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("klarna-hpp-sim: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", sim.base_url());
    eprintln!(
        "klarna-hpp-sim listening on {} (username {:?}); Ctrl-C stops it",
        sim.base_url(),
        sim.username()
    );
    stop.await;
    sim.shutdown().await;
    eprintln!("klarna-hpp-sim stopped");
    ExitCode::SUCCESS
}
