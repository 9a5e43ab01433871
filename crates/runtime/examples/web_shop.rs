//! A small web shop on axum that takes payments through Klarna's hosted payment page, its
//! checkouts kept durably by the runtime (a worker in the process wakes those whose consumer
//! never comes back; the order system reads the runtime's outbox).
//!
//! ```sh
//! cargo run -p klarna-hpp-runtime --example web_shop                     # embedded emulator
//! cargo run -p klarna-hpp-runtime --example web_shop -- --listen 127.0.0.1:8080
//! cargo run -p klarna-hpp-runtime --example web_shop -- --database postgres://postgres@127.0.0.1:5432/test
//! KLARNA_BASE_URL=http://127.0.0.1:8090 KLARNA_USERNAME=DemoMerchant KLARNA_PASSWORD=DemoPassword \
//!     cargo run -p klarna-hpp-runtime --example web_shop -- --database shop.db   # an emulator you run
//! ```
//!
//! Open the printed URL, press "Pay with Klarna", pay on the hosted page, and come back to the
//! shop's confirmation with the order id and its state.
//!
//! Options (each also as an environment variable):
//!
//! | option | env | default |
//! |---|---|---|
//! | `--klarna URL` | `KLARNA_BASE_URL` | none: `--embedded` |
//! | `--username U` | `KLARNA_USERNAME` | the emulator's `DemoMerchant` |
//! | `--password P` | `KLARNA_PASSWORD` | the emulator's `DemoPassword` |
//! | `--embedded` | | start the emulator in-process (the default without a URL) |
//! | `--listen ADDR` | `SHOP_LISTEN` | `127.0.0.1:0` |
//! | `--public-url URL` | `SHOP_PUBLIC_URL` | `http://<listen address>` |
//! | `--seed S` | `SHOP_SEED` | random per run (use your key store; keep it across restarts) |
//! | `--database URL` | `SHOP_DATABASE` | SQLite: a fresh file in the temporary directory with the embedded emulator (its sessions die with it), `web_shop.db` otherwise; or `postgres://…` |
//!
//! The shop's code lives in `tests/src/shop.rs`, shared with the browser test that drives this
//! shop in headless Chromium (`tests/tests/browser_shop.rs`).

#[path = "../../../tests/src/shop.rs"]
pub mod shop;

use std::error::Error;
use std::net::SocketAddr;

use klarna_hpp_runtime::klarna_hpp_core::{Api, BaseUrl, Credentials};
use klarna_hpp_sim::{Sim, SimConfig, DEFAULT_PASSWORD, DEFAULT_USERNAME};

type BoxError = Box<dyn Error + Send + Sync>;

/// A database URL without its password, for printing.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The command line, with environment fallbacks.
#[derive(Debug, Default)]
struct Args {
    klarna: Option<String>,
    username: Option<String>,
    password: Option<String>,
    embedded: bool,
    listen: Option<String>,
    public_url: Option<String>,
    seed: Option<String>,
    database: Option<String>,
}

fn args() -> Result<Args, BoxError> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let mut args = Args {
        klarna: env("KLARNA_BASE_URL"),
        username: env("KLARNA_USERNAME"),
        password: env("KLARNA_PASSWORD"),
        listen: env("SHOP_LISTEN"),
        public_url: env("SHOP_PUBLIC_URL"),
        seed: env("SHOP_SEED"),
        database: env("SHOP_DATABASE"),
        ..Args::default()
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--klarna" => args.klarna = Some(value()?),
            "--username" => args.username = Some(value()?),
            "--password" => args.password = Some(value()?),
            "--embedded" => args.embedded = true,
            "--listen" => args.listen = Some(value()?),
            "--public-url" => args.public_url = Some(value()?),
            "--seed" => args.seed = Some(value()?),
            "--database" => args.database = Some(value()?),
            "-h" | "--help" => {
                println!(
                    "usage: web_shop [--embedded | --klarna URL [--username U --password P]] \
                     [--listen ADDR] [--public-url URL] [--seed S] [--database URL]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?} (try --help)").into()),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = args()?;
    let listen: SocketAddr = args.listen.as_deref().unwrap_or("127.0.0.1:0").parse()?;
    let seed = args.seed.unwrap_or_else(shop::random_hex);
    if seed.len() < 16 {
        return Err("the seed needs at least 16 bytes".into());
    }

    // The transport installs rustls' crypto provider first; the emulator's HTTP client needs it.
    let _ = klarna_hpp_runtime::klarna_hpp_async::ReqwestTransport::default();
    let embedded = args.embedded || args.klarna.is_none();
    let database = args.database.unwrap_or_else(|| {
        if embedded {
            let file =
                std::env::temp_dir().join(format!("klarna-hpp-web-shop-{}.db", std::process::id()));
            format!("sqlite:{}", file.display())
        } else {
            "sqlite:web_shop.db".to_owned()
        }
    });
    let (base, sim) = match args.klarna {
        Some(url) if !args.embedded => (url, None),
        _ => {
            let sim = Sim::start(SimConfig::default()).await?;
            println!("Klarna emulator on {}", sim.base_url());
            (sim.base_url().to_owned(), Some(sim))
        }
    };
    let api = Api::new(
        BaseUrl::custom(&base)?,
        Credentials::new(
            args.username.as_deref().unwrap_or(DEFAULT_USERNAME),
            args.password.as_deref().unwrap_or(DEFAULT_PASSWORD),
        ),
    );
    let running = shop::RunningShop::start(api, listen, args.public_url, seed, &database).await?;
    println!(
        "Shop on {}  (checkouts in {}; Ctrl-C to stop)",
        running.url(),
        redact(&database)
    );

    tokio::signal::ctrl_c().await?;
    println!("stopping");
    running.shutdown().await;
    if let Some(sim) = sim {
        sim.shutdown().await;
    }
    Ok(())
}
