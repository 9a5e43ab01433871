//! One complete checkout over the blocking driver, against the emulator started in-process.
//!
//! ```sh
//! cargo run -p klarna-hpp-blocking --example blocking_checkout
//! ```
//!
//! The merchant creates the checkout and reacts to its events: when the consumer link is ready a
//! real shop redirects the browser to it; here the emulator's consumer pays and "the browser"
//! comes back to the success URL (`handle_redirect`). The checkout verifies by reading the
//! session, the merchant places the order with the authorization token, and captures it.

use std::error::Error;
use std::time::Instant;

use klarna_hpp_blocking::{Driver, SystemClock, UreqTransport};
use klarna_hpp_core::checkout::{Checkout, CheckoutConfig, Event, State};
use klarna_hpp_core::hpp::MerchantUrls;
use klarna_hpp_core::kp::SessionCreate;
use klarna_hpp_core::model::{OrderLine, OrderLineType};
use klarna_hpp_core::template::UrlKind;
use klarna_hpp_core::{Api, BaseUrl, Credentials};
use klarna_hpp_sim::{Sim, SimConfig};

fn cart() -> SessionCreate {
    let lines = vec![
        OrderLine::new("Trail running shoes", 1, 129_900)
            .kind(OrderLineType::Physical)
            .reference("SHOE-42")
            .tax_rate(2500),
        OrderLine::new("Merino socks", 2, 14_900)
            .kind(OrderLineType::Physical)
            .reference("SOCK-7")
            .tax_rate(2500),
    ];
    let mut session = SessionCreate::new("SE", "SEK", lines);
    session.locale = Some("sv-SE".into());
    session.merchant_reference1 = Some("blocking-example-1001".into());
    session
}

fn main() -> Result<(), Box<dyn Error>> {
    let started = Instant::now();
    // Klarna, emulated: its API and hosted page on a loopback port.
    let sim = Sim::start_background(SimConfig::default())?;
    println!("emulator on {}", sim.base_url());

    let api = Api::new(
        BaseUrl::custom(sim.base_url())?,
        Credentials::new(sim.username(), sim.password()),
    );
    // The shop's URLs: nothing listens there in this example; the consumer's return is fed in
    // by hand below.
    let shop = "https://shop.example";
    let urls = MerchantUrls::default()
        .with(
            UrlKind::Success,
            format!("{shop}/klarna/success?sid={{{{session_id}}}}"),
        )
        .with(
            UrlKind::Cancel,
            format!("{shop}/klarna/cancel?sid={{{{session_id}}}}"),
        )
        .with(
            UrlKind::Failure,
            format!("{shop}/klarna/failure?sid={{{{session_id}}}}"),
        );
    // The seed comes from your key store; the checkout id must be unique per purchase.
    let config = CheckoutConfig::new(
        "blocking-example-1001",
        "example-seed-from-your-key-store",
        cart(),
    )
    .merchant_urls(urls);

    let driver = Driver::new(UreqTransport::default(), SystemClock);
    let mut checkout = Checkout::new(api, config, driver.now())?;
    println!("checkout {} started", checkout.checkout_id());

    while let Some(event) = driver.next_event(&mut checkout) {
        let now = driver.now();
        match &event {
            Event::ConsumerLinkReady(link) => {
                println!(
                    "event: consumer link ready (HPP session {}, expires {})",
                    link.session_id, link.expires_at
                );
                // A shop redirects the browser to `link.redirect_url`. Here the consumer pays on
                // the emulated hosted page ...
                let paid = sim.consumer(&link.session_id).pay()?;
                println!("consumer pays: HPP status {}", paid.status);
                // ... and the browser returns to the success URL: a hint that schedules a read.
                let kind = checkout.handle_redirect(&paid.redirect_url, now)?;
                println!("consumer back at the shop: {kind:?}");
            }
            Event::Authorized { expires_at } => {
                println!("event: authorized (place the order before {expires_at})");
                checkout.place_order(None, now)?;
            }
            Event::OrderUpdated {
                status,
                captured_amount: 0,
                remaining_authorized_amount,
                ..
            } if *remaining_authorized_amount > 0 => {
                println!("event: order {status}, {remaining_authorized_amount} authorized; capturing it all");
                checkout.capture(None, now)?;
            }
            other => println!("event: {other:?}"),
        }
        if checkout.state() == State::Captured || checkout.state().is_terminal() {
            break;
        }
    }

    println!(
        "final state {:?}: order {}, captured {} of {} (in {:.0} ms)",
        checkout.state(),
        checkout.order_id().unwrap_or("-"),
        checkout.captured_amount(),
        cart().order_amount,
        started.elapsed().as_secs_f64() * 1000.0
    );
    sim.shutdown_blocking();
    if checkout.state() == State::Captured {
        Ok(())
    } else {
        Err(format!("the checkout ended {:?}", checkout.state()).into())
    }
}
