//! The two runners: the same [`Script`] driven by the blocking adapter (`Driver` +
//! `UreqTransport`) and by the async adapter (`Driver` + `ReqwestTransport` on tokio), both on the
//! emulator's virtual clock and over real HTTP on 127.0.0.1.

use std::sync::Arc;
use std::time::{Duration, Instant};

use klarna_hpp_blocking::Clock;
use klarna_hpp_core::checkout::Checkout;
use klarna_hpp_sim::SimHandle;

use crate::clock::SimClock;
use crate::merchant::Shop;
use crate::record::{Recorded, Transcript};
use crate::scenario::{api, config, Case, Report, Script};

/// How to run one case.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The checkout's id (unique per emulator).
    pub checkout_id: String,
    /// Start a merchant web server for redirects and status callbacks.
    pub shop: bool,
    /// The transport's connect timeout.
    pub connect_timeout: Duration,
    /// The transport's whole-call timeout.
    pub call_timeout: Duration,
    /// Give up after this much real time.
    pub real_limit: Duration,
}

impl RunOptions {
    /// A run with a shop, 5 s transport timeouts and a 30 s limit.
    pub fn new(checkout_id: impl Into<String>) -> Self {
        Self {
            checkout_id: checkout_id.into(),
            shop: true,
            connect_timeout: Duration::from_secs(5),
            call_timeout: Duration::from_secs(5),
            real_limit: Duration::from_secs(30),
        }
    }

    /// Without a merchant web server (no redirects, no callbacks: polling only).
    #[must_use]
    pub fn without_shop(mut self) -> Self {
        self.shop = false;
        self
    }

    /// With this whole-call timeout.
    #[must_use]
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }
}

fn start(
    sim: &Arc<SimHandle>,
    case: &Case,
    options: &RunOptions,
) -> (Option<Shop>, Script, Transcript) {
    let transcript = Transcript::new();
    let shop = options.shop.then(Shop::start);
    let script = Script::new(
        case.clone(),
        Arc::clone(sim),
        transcript.clone(),
        shop.as_ref().map(|s| s.url().to_owned()),
    );
    transcript.say(
        sim,
        format!(
            "case {} ({:?}, consumer {:?}, {:?}) as checkout {}",
            case.name, case.mode, case.consumer, case.twist, options.checkout_id
        ),
    );
    (shop, script, transcript)
}

/// Runs `case` with the blocking adapter until the script is done.
pub fn run_blocking(sim: &Arc<SimHandle>, case: &Case, options: &RunOptions) -> Report {
    let (shop, mut script, transcript) = start(sim, case, options);
    let transport = Recorded::new(
        klarna_hpp_blocking::UreqTransport::with_timeouts(
            options.connect_timeout,
            options.call_timeout,
        ),
        sim,
        transcript,
    );
    let driver = klarna_hpp_blocking::Driver::new(transport, SimClock::new(sim));
    let cfg = config(case, &options.checkout_id, shop.as_ref().map(Shop::url));
    let mut co = Checkout::new(api(sim), cfg, driver.now()).expect("a valid checkout");
    let started = Instant::now();
    loop {
        if started.elapsed() > options.real_limit {
            script.problem(format!(
                "not done after {:?} (real time)",
                options.real_limit
            ));
            break;
        }
        if let Some(shop) = &shop {
            while let Some(msg) = shop.try_recv() {
                script.feed(&mut co, msg);
            }
        }
        while let Some(event) = driver.next_event_until(&mut co, driver.now()) {
            script.on_event(&mut co, event);
        }
        if script.done(&co) {
            break;
        }
        // Give the browser and Klarna's callbacks a moment (real time) ...
        if let Some(shop) = &shop {
            if let Some(msg) = shop.recv_timeout(script.real_wait()) {
                script.feed(&mut co, msg);
                continue;
            }
        }
        if script.settled(&co) {
            if shop.is_none() {
                break;
            }
            continue; // only waiting for the web
        }
        // ... then let virtual time pass to the checkout's next timeout.
        match co.poll_timeout() {
            Some(at) => {
                driver.clock().sleep_until(at);
                co.handle_timeout(driver.now());
            }
            None => {
                script.problem(format!("idle in {:?} with nothing scheduled", co.state()));
                break;
            }
        }
    }
    drain(&mut script, &mut co);
    script.finish(&co)
}

/// Hands the events still queued (e.g. `Cancelled` after the state changed) to the script.
fn drain(script: &mut Script, co: &mut Checkout) {
    while let Some(event) = co.poll_event() {
        script.on_event(co, event);
    }
}

/// Runs `case` with the async adapter (on a current-thread tokio runtime) until the script is
/// done. The async `Driver` has no `next_event_until`, so hints that arrive while it waits
/// for the next event are fed right after that event.
pub fn run_async(sim: &Arc<SimHandle>, case: &Case, options: &RunOptions) -> Report {
    let (shop, mut script, transcript) = start(sim, case, options);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let pause = match case.twist {
        crate::scenario::Twist::Race { .. } => Duration::from_millis(1),
        _ => Duration::ZERO,
    };
    let co = runtime.block_on(async {
        let transport = Recorded::new(
            klarna_hpp_async::ReqwestTransport::with_timeouts(
                options.connect_timeout,
                options.call_timeout,
            ),
            sim,
            transcript,
        );
        let driver = klarna_hpp_async::Driver::new(transport, SimClock::new(sim).with_pause(pause));
        let cfg = config(case, &options.checkout_id, shop.as_ref().map(Shop::url));
        let mut co = Checkout::new(api(sim), cfg, driver.now()).expect("a valid checkout");
        let started = Instant::now();
        loop {
            if started.elapsed() > options.real_limit {
                script.problem(format!(
                    "not done after {:?} (real time)",
                    options.real_limit
                ));
                break;
            }
            if let Some(shop) = &shop {
                while let Some(msg) = shop.try_recv() {
                    script.feed(&mut co, msg);
                }
            }
            if script.done(&co) {
                break;
            }
            if script.settled(&co) {
                if shop.is_none() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
                continue; // only waiting for the web
            }
            let left = options.real_limit.saturating_sub(started.elapsed());
            match tokio::time::timeout(left, driver.next_event(&mut co)).await {
                Ok(Some(event)) => script.on_event(&mut co, event),
                Ok(None) => {
                    script.problem(format!("idle in {:?} with nothing scheduled", co.state()));
                    break;
                }
                Err(_) => {
                    script.problem(format!(
                        "no event within {:?} (real time), in {:?}",
                        options.real_limit,
                        co.state()
                    ));
                    break;
                }
            }
        }
        drain(&mut script, &mut co);
        co
    });
    script.finish(&co)
}
