//! Many checkouts at once on tokio, against one in-process emulator: each consumer pays, each
//! merchant task places and captures its order.
//!
//! ```sh
//! cargo run -p klarna-hpp-async --example many_checkouts          # 200 checkouts
//! cargo run -p klarna-hpp-async --example many_checkouts -- 1000
//! ```
//!
//! Every checkout is one task with its own [`Checkout`]; they share one [`Driver`] (a reqwest
//! connection pool and the tokio clock). No task sleeps: after paying, the consumer's browser
//! "returns" to the success URL, which makes the checkout read the session at once.

use std::error::Error;
use std::time::{Duration, Instant};

use klarna_hpp_async::{Driver, ReqwestTransport, TokioClock};
use klarna_hpp_core::checkout::{Checkout, CheckoutConfig, Event, State};
use klarna_hpp_core::hpp::MerchantUrls;
use klarna_hpp_core::kp::SessionCreate;
use klarna_hpp_core::model::{OrderLine, OrderLineType};
use klarna_hpp_core::template::UrlKind;
use klarna_hpp_core::{Api, BaseUrl, Credentials};
use klarna_hpp_sim::{Sim, SimConfig, SimHandle};

type BoxError = Box<dyn Error + Send + Sync>;

/// What one checkout ended with.
struct Done {
    state: State,
    captured: i64,
    took: Duration,
}

fn cart(i: usize) -> SessionCreate {
    let quantity = i64::try_from(i % 3 + 1).unwrap_or(1);
    let lines = vec![
        OrderLine::new("Headlamp", quantity, 49_900)
            .kind(OrderLineType::Physical)
            .reference("LAMP-1")
            .tax_rate(2500),
        OrderLine::new("Shipping", 1, 4_900)
            .kind(OrderLineType::ShippingFee)
            .tax_rate(2500),
    ];
    let mut session = SessionCreate::new("SE", "SEK", lines);
    session.merchant_reference1 = Some(format!("many-{i}"));
    session
}

fn config(i: usize) -> CheckoutConfig {
    let urls = MerchantUrls::default()
        .with(
            UrlKind::Success,
            "https://shop.example/klarna/success?sid={{session_id}}",
        )
        .with(
            UrlKind::Failure,
            "https://shop.example/klarna/failure?sid={{session_id}}",
        );
    CheckoutConfig::new(
        format!("many-{i}"),
        "example-seed-from-your-key-store",
        cart(i),
    )
    .merchant_urls(urls)
}

/// One purchase, start to capture.
async fn one(
    i: usize,
    api: Api,
    driver: Driver<ReqwestTransport, TokioClock>,
    sim: &SimHandle,
) -> Result<Done, BoxError> {
    let started = Instant::now();
    let mut checkout = Checkout::new(api, config(i), driver.now())?;
    while let Some(event) = driver.next_event(&mut checkout).await {
        let now = driver.now();
        match event {
            Event::ConsumerLinkReady(link) => {
                // The consumer pays on the hosted page and the browser returns to the shop.
                let paid = sim.consumer(&link.session_id).pay()?;
                checkout.handle_redirect(&paid.redirect_url, now)?;
            }
            Event::Authorized { .. } => checkout.place_order(None, now)?,
            Event::OrderUpdated {
                captured_amount: 0,
                remaining_authorized_amount,
                ..
            } if remaining_authorized_amount > 0 => checkout.capture(None, now)?,
            _ => {}
        }
        if checkout.state() == State::Captured || checkout.state().is_terminal() {
            break;
        }
    }
    Ok(Done {
        state: checkout.state(),
        captured: checkout.captured_amount(),
        took: started.elapsed(),
    })
}

fn percentile(sorted: &[Duration], p: usize) -> f64 {
    let i = (sorted.len().saturating_sub(1) * p) / 100;
    sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let n: usize = match std::env::args().nth(1) {
        Some(arg) => arg
            .parse()
            .map_err(|_| format!("usage: many_checkouts [N] (got {arg:?})"))?,
        None => 200,
    };
    // First: the transport installs rustls' crypto provider, which the emulator's own HTTP
    // client (for callbacks) needs too when both share one reqwest build.
    let driver = Driver::new(ReqwestTransport::default(), TokioClock);
    let sim = std::sync::Arc::new(Sim::start(SimConfig::default()).await?);
    let api = Api::new(
        BaseUrl::custom(sim.base_url())?,
        Credentials::new(sim.username(), sim.password()),
    );
    println!("{n} checkouts against the emulator on {}", sim.base_url());

    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let (api, driver, sim) = (api.clone(), driver.clone(), sim.clone());
        tasks.spawn(async move { one(i, api, driver, &sim).await });
    }
    let (mut captured, mut failed, mut total) = (0usize, Vec::new(), 0i64);
    let mut latencies = Vec::with_capacity(n);
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(done)) if done.state == State::Captured => {
                captured += 1;
                total += done.captured;
                latencies.push(done.took);
            }
            Ok(Ok(done)) => failed.push(format!("ended {:?}", done.state)),
            Ok(Err(e)) => failed.push(e.to_string()),
            Err(e) => failed.push(e.to_string()),
        }
    }
    let elapsed = started.elapsed();
    latencies.sort();

    let requests = sim.requests().len();
    println!(
        "{captured} of {n} captured, {} failed; {}.{:02} SEK captured in total",
        failed.len(),
        total / 100,
        total % 100
    );
    println!(
        "{:.0} ms wall clock, {:.0} checkouts/s; per checkout p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        elapsed.as_secs_f64() * 1000.0,
        n as f64 / elapsed.as_secs_f64().max(1e-9),
        percentile(&latencies, 50),
        percentile(&latencies, 99),
        percentile(&latencies, 100)
    );
    println!("the emulator logged {requests} API requests");
    for f in failed.iter().take(5) {
        println!("failure: {f}");
    }
    match std::sync::Arc::try_unwrap(sim) {
        Ok(sim) => sim.shutdown().await,
        Err(sim) => drop(sim),
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("{} checkouts did not capture", failed.len()).into())
    }
}
