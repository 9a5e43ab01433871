//! # klarna-hpp (the command)
//!
//! One binary for the people who run a shop's Klarna integration:
//!
//! - `session`, `kp`, `order`: one-off operator actions on real Klarna accounts (playground or
//!   production) or on the emulator (`--base-url`): create an HPP session from a cart file and
//!   print its links and QR code, watch a session until the consumer pays, distribute a link,
//!   read and change KP sessions, place, capture, refund, cancel, release and extend orders.
//!   Each action is one request built with the core's typed operations and sent with the
//!   blocking crate's ureq transport; money-moving ones confirm first and carry an idempotency
//!   key.
//! - `config`: credential profiles in the user's config directory; `completions`: shell
//!   completions.
//! - `demo`: a whole checkout through the durable runtime (`klarna-hpp-runtime`) on an SQLite
//!   file against the embedded emulator; `sim`: the emulator on its own.
//! - `worker`: the runtime's reconciling worker against a database and Klarna; `checkouts
//!   list|show`: the stored checkouts, read-only and without secrets.
//!
//! In scope: what an operator does by hand, and starting and inspecting the runtime's worker.
//! Out of scope: the machinery a merchant's production system runs unattended (that is the
//! library crates: the checkout state machine with its deadlines, retries and snapshots in the
//! core, persistence, leases and the worker's loop in `klarna-hpp-runtime`). `docs/cli.md` lists every command and exit code.
//!
//! Adding a command group: write a module with an `Args` (clap `Subcommand`) type and a
//! `run(args, &Global) -> Result<(), CliError>`, add a variant to [`Command`] and a line to
//! `main`'s dispatch.

mod completions;
mod config;
mod confirm;
mod connect;
mod demo;
mod durable;
mod error;
mod kp;
mod order;
mod output;
mod qr;
mod session;
mod watch;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::error::CliError;

/// klarna-hpp: Klarna Payments through the Hosted Payment Page, from your terminal.
///
/// Operate a live integration (sessions, payment links, QR codes, orders) in Klarna's
/// playground or production, or run everything offline against the embedded emulator.
#[derive(Debug, Parser)]
#[command(
    name = "klarna-hpp",
    version,
    after_help = "Examples:\n  klarna-hpp --playground session read 3e1c4c6b-1f5d-4f0e-9d3a-5b2f0c1d2e3f\n  klarna-hpp --playground order capture 0b1d9815-165e-42e2-8867-35bc03789e00 --amount 5000\n  klarna-hpp demo --mode place --outcome pay"
)]
pub(crate) struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Options every Klarna command understands: where to send, as whom, how to print.
#[derive(Debug, Clone, Args)]
pub(crate) struct Global {
    /// Klarna's region: eu (api.klarna.com), na (api-na.klarna.com), oc (api-oc.klarna.com).
    #[arg(long, value_enum, global = true, env = "KLARNA_REGION")]
    region: Option<RegionArg>,
    /// Use Klarna's playground (test) environment instead of production.
    #[arg(long, global = true)]
    playground: bool,
    /// Send to this base URL instead of Klarna's (the emulator: http://127.0.0.1:8089).
    #[arg(long, global = true, env = "KLARNA_BASE_URL", value_name = "URL")]
    base_url: Option<String>,
    /// The credential profile to use (see `config set-profile`); default `default`.
    #[arg(long, global = true, env = "KLARNA_PROFILE", value_name = "NAME")]
    profile: Option<String>,
    /// Print the exact bodies Klarna returned instead of tables.
    #[arg(long, global = true)]
    json: bool,
}

/// Klarna's API regions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RegionArg {
    /// Europe.
    Eu,
    /// North America.
    Na,
    /// Oceania.
    Oc,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// HPP sessions: create one from a cart, read, watch, distribute, disable.
    #[command(
        subcommand,
        after_help = "Example:\n  klarna-hpp --playground session create --cart cart.json --qr"
    )]
    Session(session::Args),
    /// Klarna Payments sessions and orders: read, update, place an order from a token.
    #[command(
        subcommand,
        after_help = "Example:\n  klarna-hpp --playground kp read 0b1d9815-165e-42e2-8867-35bc03789e00"
    )]
    Kp(kp::Args),
    /// Order Management: read, capture, refund, cancel, release, extend, references, shipping.
    #[command(
        subcommand,
        after_help = "Example:\n  klarna-hpp --playground order read f3392f8b-6116-4073-ab96-e330819e2c07"
    )]
    Order(order::Args),
    /// Credential profiles in the user's config directory.
    #[command(
        subcommand,
        after_help = "Example:\n  klarna-hpp --region eu --playground config set-profile test --username PK12345_abc"
    )]
    Config(config::Args),
    /// Print a shell completion script.
    #[command(
        after_help = "Example:\n  klarna-hpp completions bash > ~/.local/share/bash-completion/completions/klarna-hpp"
    )]
    Completions(completions::Args),
    /// Run a full checkout against the embedded emulator and print the timeline.
    #[command(after_help = "Example:\n  klarna-hpp demo --mode capture --outcome back")]
    Demo {
        /// What HPP does when the consumer pays.
        #[arg(long, value_enum, default_value_t = Mode::None)]
        mode: Mode,
        /// What the simulated consumer does.
        #[arg(long, value_enum, default_value_t = Outcome::Pay)]
        outcome: Outcome,
        /// Seed of the emulator's ids (runs are reproducible).
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Where the runtime keeps the checkout: `sqlite://PATH` (default: a new file under
        /// the system's temporary directory) or `postgres://…`.
        #[arg(long, value_name = "URL")]
        database: Option<String>,
    },
    /// Run the durable-checkout worker until Ctrl-C or SIGTERM: claims due checkouts in the
    /// database and drives them against Klarna (polls, places orders, enforces deadlines).
    #[command(
        after_help = "Example:\n  KLARNA_USERNAME=… KLARNA_PASSWORD=… klarna-hpp --playground worker --database sqlite:///var/lib/shop/checkouts.db"
    )]
    Worker(durable::WorkerArgs),
    /// Durable checkouts in a database: list them, show one (no credentials needed).
    #[command(
        subcommand,
        after_help = "Example:\n  klarna-hpp checkouts list --database sqlite:///var/lib/shop/checkouts.db"
    )]
    Checkouts(durable::CheckoutsArgs),
    /// Run the emulator until Ctrl-C (same as the `klarna-hpp-sim` binary).
    #[command(after_help = "Example:\n  klarna-hpp sim --listen 127.0.0.1:8089")]
    Sim {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8089")]
        listen: std::net::SocketAddr,
    },
}

/// `place_order_mode` of the HPP session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Mode {
    /// The merchant gets an authorization token and places the order.
    None,
    /// HPP places the order; the merchant captures.
    Place,
    /// HPP places and captures the order.
    Capture,
}

/// The simulated consumer's behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Outcome {
    /// Pays.
    Pay,
    /// Is declined and gives up; the merchant disables the session.
    Decline,
    /// Cancels (in e-commerce Klarna treats this as back); the merchant disables the session.
    Cancel,
    /// Goes back to the shop, returns, and pays.
    Back,
    /// Never comes; 47 hours pass and the session expires.
    Expire,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Session(args) => session::run(args, &cli.global),
        Command::Kp(args) => kp::run(args, &cli.global),
        Command::Order(args) => order::run(args, &cli.global),
        Command::Config(args) => config::run(args, &cli.global),
        Command::Completions(args) => completions::run(args),
        Command::Demo {
            mode,
            outcome,
            seed,
            database,
        } => demo::run(mode, outcome, seed, database),
        Command::Worker(args) => durable::worker(args, &cli.global),
        Command::Checkouts(args) => durable::checkouts(args, &cli.global),
        Command::Sim { listen } => demo::serve(listen).map_err(|e| CliError::Other(e.to_string())),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            e.report();
            ExitCode::from(e.exit_code())
        }
    }
}
