//! # klarna-hpp (the command)
//!
//! `klarna-hpp demo` starts the embedded Klarna emulator and runs one whole checkout against it
//! over real loopback HTTP, printing a timeline: KP session, HPP session, a simulated consumer
//! on the hosted page, the status callback and polling, place order, capture. `--mode` and
//! `--outcome` choose the scenario. `klarna-hpp sim` runs the emulator on its own.
//!
//! In scope: a readable demonstration and a way to run the emulator. Out of scope: anything a
//! merchant's production system needs (that is the library crates).

mod demo;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// klarna-hpp: Klarna Payments through the Hosted Payment Page, end to end, offline.
#[derive(Debug, Parser)]
#[command(name = "klarna-hpp", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a full checkout against the embedded emulator and print the timeline.
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
    },
    /// Run the emulator until Ctrl-C (same as the `klarna-hpp-sim` binary).
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
        Command::Demo {
            mode,
            outcome,
            seed,
        } => demo::run(mode, outcome, seed),
        Command::Sim { listen } => demo::serve(listen),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("klarna-hpp: {e}");
            ExitCode::FAILURE
        }
    }
}
