//! 10,000 concurrent checkouts in one process: the async adapter (`Driver` + a shared
//! `ReqwestTransport`) on a multi-thread tokio runtime, against one in-process emulator on the
//! same runtime, on the emulator's virtual clock (no real sleeping; it moves, as tokio's paused
//! clock does, only when every running checkout waits for time).
//!
//! Each checkout is mode NONE: create the KP session, create the HPP session, the consumer pays
//! (in-process, right after `ConsumerLinkReady`), read the HPP session (COMPLETED), place the
//! order, read the OM order, capture. Six HTTP requests. All checkouts are spawned at once as
//! tasks and stay in flight together; HTTP requests in flight are bounded by a semaphore around
//! the shared transport (`--connections`, default 256), because 10,000 simultaneous loopback
//! connections need 20,000 descriptors in one process (client and server end), above the usual
//! limit. `--connections 0` removes the bound.
//!
//! Reports total time, checkouts/s, per-checkout latency, peak RSS (`VmHWM` of
//! `/proc/self/status` before and after), peak open descriptors, peak checkouts in flight and
//! errors (must be zero), and the transport errors the checkouts retried.
//!
//! `cargo bench -p klarna-hpp-async --bench concurrent -- --checkouts 10000 --connections 256`
//! (also `--workers N` for the runtime's worker threads, `--deadline S`: give up after S s).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use klarna_hpp_async::{AsyncClock, AsyncTransport, Driver, ReqwestTransport, TransportError};
use klarna_hpp_core::checkout::{Checkout, CheckoutConfig, Event};
use klarna_hpp_core::hpp::{MerchantUrls, Options, PlaceOrderMode};
use klarna_hpp_core::http::{Request, Response};
use klarna_hpp_core::kp::SessionCreate;
use klarna_hpp_core::model::{OrderLine, OrderLineType};
use klarna_hpp_core::template::UrlKind;
use klarna_hpp_core::{Api, BaseUrl, Credentials, Timestamp};
use klarna_hpp_sim::{Sim, SimConfig, SimHandle};
use tokio::sync::{oneshot, Semaphore};

fn sim_now(sim: &SimHandle) -> Timestamp {
    Timestamp::from_offset_date_time(sim.now()).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The emulator's clock, shared by every checkout, advanced the way tokio's paused clock is:
/// only when every running checkout is waiting for time, and then straight to the earliest
/// deadline (so 10,000 consumers "take 2 s" together, not one after another).
#[derive(Clone)]
struct SimClock(Arc<VirtualTime>);

struct VirtualTime {
    sim: Arc<SimHandle>,
    sched: Mutex<Sched>,
}

#[derive(Default)]
struct Sched {
    /// Checkouts running (entered and not yet finished).
    active: usize,
    /// Checkouts waiting for an instant.
    sleepers: Vec<(Timestamp, oneshot::Sender<()>)>,
}

/// A running checkout; dropping it (when the checkout ends) may let time move.
struct Running(Arc<VirtualTime>);

impl Drop for Running {
    fn drop(&mut self) {
        let mut sched = self.0.lock();
        sched.active -= 1;
        self.0.maybe_advance(&mut sched);
    }
}

impl VirtualTime {
    fn lock(&self) -> std::sync::MutexGuard<'_, Sched> {
        self.sched
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn enter(self: &Arc<Self>) -> Running {
        self.lock().active += 1;
        Running(Arc::clone(self))
    }

    /// When every running checkout sleeps: moves the emulator to the earliest deadline and
    /// wakes those due.
    fn maybe_advance(&self, sched: &mut Sched) {
        while !sched.sleepers.is_empty() && sched.sleepers.len() >= sched.active {
            let Some(earliest) = sched.sleepers.iter().map(|(at, _)| *at).min() else {
                return;
            };
            let wait = earliest.duration_since(sim_now(&self.sim));
            if wait > Duration::ZERO {
                self.sim.advance(wait);
            }
            let now = sim_now(&self.sim);
            let (due, later): (Vec<_>, Vec<_>) =
                sched.sleepers.drain(..).partition(|(at, _)| *at <= now);
            sched.sleepers = later;
            for (_, wake) in due {
                let _ = wake.send(());
            }
        }
    }
}

impl AsyncClock for SimClock {
    fn now(&self) -> Timestamp {
        sim_now(&self.0.sim)
    }

    fn sleep_until(&self, deadline: Timestamp) -> impl std::future::Future<Output = ()> + Send {
        let woken = if deadline > self.now() {
            let (tx, rx) = oneshot::channel();
            let mut sched = self.0.lock();
            sched.sleepers.push((deadline, tx));
            self.0.maybe_advance(&mut sched);
            Some(rx)
        } else {
            None
        };
        async move {
            if let Some(rx) = woken {
                let _ = rx.await;
            }
        }
    }
}

/// The shared transport with at most `permits` requests in flight (`None`: unbounded); counts
/// transport errors by message.
#[derive(Clone)]
struct Bounded {
    inner: ReqwestTransport,
    permits: Option<Arc<Semaphore>>,
    errors: Arc<Mutex<BTreeMap<String, usize>>>,
}

impl AsyncTransport for Bounded {
    async fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        let _permit = match &self.permits {
            Some(s) => Some(
                s.acquire()
                    .await
                    .map_err(|_| TransportError::not_sent("semaphore closed"))?,
            ),
            None => None,
        };
        let result = self.inner.send(request).await;
        if let Err(e) = &result {
            let mut errors = self.errors.lock().unwrap_or_else(PoisonError::into_inner);
            *errors.entry(e.to_string()).or_default() += 1;
        }
        result
    }
}

fn session(n: usize) -> SessionCreate {
    let lines = vec![
        OrderLine::new("Trail running shoes", 1, 129_900)
            .kind(OrderLineType::Physical)
            .reference("SHOE-42")
            .tax_rate(2500),
        OrderLine::new("Merino socks", 2, 14_900)
            .kind(OrderLineType::Physical)
            .reference("SOCK-7")
            .tax_rate(2500),
        OrderLine::new("Shipping", 1, 4_900)
            .kind(OrderLineType::ShippingFee)
            .tax_rate(2500),
    ];
    let mut s = SessionCreate::new("SE", "SEK", lines);
    s.locale = Some("sv-SE".into());
    s.merchant_reference1 = Some(format!("order-{n}"));
    s
}

fn config(n: usize) -> CheckoutConfig {
    let shop = "http://127.0.0.1:9/shop";
    let urls = MerchantUrls::default()
        .with(
            UrlKind::Success,
            format!("{shop}/success?sid={{{{session_id}}}}&token={{{{authorization_token}}}}"),
        )
        .with(
            UrlKind::Cancel,
            format!("{shop}/cancel?sid={{{{session_id}}}}"),
        )
        .with(
            UrlKind::Failure,
            format!("{shop}/failure?sid={{{{session_id}}}}"),
        )
        .with(
            UrlKind::Error,
            format!("{shop}/error?sid={{{{session_id}}}}"),
        );
    CheckoutConfig::new(
        format!("conc-{n}"),
        "bench-seed-0123456789abcdef",
        session(n),
    )
    .merchant_urls(urls)
    .options(Options::default().with_place_order_mode(PlaceOrderMode::None))
}

/// One checkout; `Ok` once the capture succeeded.
async fn checkout(
    driver: Driver<Bounded, SimClock>,
    api: Api,
    sim: Arc<SimHandle>,
    n: usize,
) -> Result<(), String> {
    let mut co = Checkout::new(api, config(n), driver.now()).map_err(|e| e.to_string())?;
    while let Some(event) = driver.next_event(&mut co).await {
        match event {
            Event::ConsumerLinkReady(link) => {
                sim.consumer(&link.session_id)
                    .pay()
                    .map_err(|e| e.to_string())?;
            }
            Event::Authorized { .. } => {
                co.place_order(None, driver.now())
                    .map_err(|e| e.to_string())?;
            }
            Event::OrderUpdated {
                captured_amount: 0, ..
            } => {
                co.capture(None, driver.now()).map_err(|e| e.to_string())?;
            }
            Event::Captured { .. } => return Ok(()),
            Event::CallFailed { .. } | Event::Failed { .. } => return Err(format!("{event:?}")),
            _ => {}
        }
    }
    Err(format!("stopped in {:?}", co.state()))
}

/// A `/proc/self/status` field in kB.
fn status_kb(field: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count)
}

struct Args {
    checkouts: usize,
    connections: usize,
    workers: Option<usize>,
    /// Seconds after which unfinished checkouts count as errors.
    deadline: u64,
}

fn args() -> Args {
    let mut a = Args {
        checkouts: 10_000,
        connections: 256,
        workers: None,
        deadline: 300,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.iter().any(|x| x == "--test") {
        a.checkouts = 20;
        a.connections = 4;
    }
    let num = |i: usize, name: &str| -> usize {
        argv.get(i + 1)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} takes a number"))
    };
    for (i, arg) in argv.iter().enumerate() {
        match arg.as_str() {
            "--checkouts" => a.checkouts = num(i, arg),
            "--connections" => a.connections = num(i, arg),
            "--workers" => a.workers = Some(num(i, arg)),
            "--deadline" => a.deadline = num(i, arg) as u64,
            _ => {}
        }
    }
    a
}

#[allow(clippy::cast_precision_loss, clippy::too_many_lines)]
fn main() {
    let args = args();
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if let Some(w) = args.workers {
        rt.worker_threads(w);
    }
    let rt = rt.enable_all().build().expect("a tokio runtime");
    // The emulator builds a reqwest client too; with `reqwest/rustls-no-provider` (enabled by
    // this crate) that needs a crypto provider installed first, or reqwest panics.
    let _ = rustls::crypto::ring::default_provider().install_default();
    rt.block_on(async move {
        let sim = Arc::new(
            Sim::start(SimConfig::default().with_seed(11))
                .await
                .expect("the emulator"),
        );
        let api = Api::new(
            BaseUrl::custom(sim.base_url()).expect("the emulator's URL"),
            Credentials::new(sim.username(), sim.password()),
        );
        let reqwest = ReqwestTransport::default();
        let transport = Bounded {
            inner: reqwest,
            permits: (args.connections > 0).then(|| Arc::new(Semaphore::new(args.connections))),
            errors: Arc::default(),
        };
        let transport_errors = Arc::clone(&transport.errors);
        let time = Arc::new(VirtualTime {
            sim: Arc::clone(&sim),
            sched: Mutex::new(Sched::default()),
        });
        let driver = Driver::new(transport, SimClock(Arc::clone(&time)));

        // Warm-up (one-time initialisation, a pool of connections): one checkout per permit.
        let warm = args.connections.clamp(1, 256);
        let running: Vec<Running> = (0..warm).map(|_| time.enter()).collect();
        let mut tasks = Vec::with_capacity(warm);
        for (n, running) in running.into_iter().enumerate() {
            let task = checkout(driver.clone(), api.clone(), Arc::clone(&sim), n);
            tasks.push(tokio::spawn(async move {
                let result = task.await;
                drop(running);
                result
            }));
        }
        for t in tasks {
            t.await.expect("task").expect("warm-up checkout");
        }

        let rss_before = status_kb("VmRSS");
        let hwm_before = status_kb("VmHWM");
        let fds_before = open_fds();
        let virtual_before = sim.now();

        // Peak descriptors, sampled from a plain thread.
        let stop = Arc::new(AtomicBool::new(false));
        let sampler = {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut peak = 0;
                while !stop.load(Ordering::Relaxed) {
                    peak = peak.max(open_fds());
                    std::thread::sleep(Duration::from_millis(100));
                }
                peak
            })
        };

        let in_flight = Arc::new(AtomicUsize::new(0));
        let peak_in_flight = Arc::new(AtomicUsize::new(0));
        let start = Instant::now();
        // Every checkout counts as running before the first starts, so virtual time waits until
        // all of them are under way and waiting for the consumer.
        let running: Vec<Running> = (0..args.checkouts).map(|_| time.enter()).collect();
        let mut tasks = Vec::with_capacity(args.checkouts);
        for (n, running) in running.into_iter().enumerate() {
            let (driver, api, sim) = (driver.clone(), api.clone(), Arc::clone(&sim));
            let (in_flight, peak) = (Arc::clone(&in_flight), Arc::clone(&peak_in_flight));
            tasks.push(tokio::spawn(async move {
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                let began = Instant::now();
                let result = checkout(driver, api, sim, warm + n).await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                drop(running);
                (result, began.elapsed())
            }));
        }
        let mut errors = Vec::new();
        let mut latencies = Vec::with_capacity(args.checkouts);
        let give_up = tokio::time::Instant::now() + Duration::from_secs(args.deadline);
        for t in tasks {
            let abort = t.abort_handle();
            match tokio::time::timeout_at(give_up, t).await {
                Ok(Ok((Ok(()), took))) => latencies.push(took),
                Ok(Ok((Err(e), _))) => errors.push(e),
                Ok(Err(e)) => errors.push(format!("task: {e}")),
                Err(_) => {
                    abort.abort();
                    errors.push(format!("not finished after {} s", args.deadline));
                }
            }
        }
        let total = start.elapsed();
        stop.store(true, Ordering::Relaxed);
        let peak_fds = sampler.join().unwrap_or(0);
        let hwm_after = status_kb("VmHWM");
        let rss_after = status_kb("VmRSS");
        let virtual_elapsed = sim.now() - virtual_before;

        latencies.sort();
        let pct = |p: f64| {
            let i = ((latencies.len() as f64 - 1.0) * p).round() as usize;
            latencies.get(i).map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
        };
        let ok = latencies.len();
        let kb =
            |v: Option<u64>| v.map_or("?".to_owned(), |v| format!("{:.1} MiB", v as f64 / 1024.0));
        let per_checkout = hwm_after.zip(hwm_before).map_or("?".to_owned(), |(a, b)| {
            format!(
                "{:.1} KiB",
                a.saturating_sub(b) as f64 / args.checkouts as f64
            )
        });
        let bound = if args.connections == 0 {
            "unbounded".to_owned()
        } else {
            format!("bounded to {} requests in flight", args.connections)
        };
        println!();
        println!(
            "{} concurrent checkouts (mode NONE, 6 requests each), tokio multi-thread ({} \
             worker(s)), shared ReqwestTransport {bound}, one in-process emulator \
             on the same runtime, virtual clock; after a warm-up of {warm} checkouts",
            args.checkouts,
            args.workers.unwrap_or_else(
                || std::thread::available_parallelism().map_or(0, std::num::NonZero::get)
            )
        );
        println!();
        println!("| metric | value |");
        println!("|---|---:|");
        println!("| checkouts completed | {ok} |");
        println!("| errors | {} |", errors.len());
        println!("| total time | {:.2} s |", total.as_secs_f64());
        println!("| checkouts/s | {:.0} |", ok as f64 / total.as_secs_f64());
        println!(
            "| HTTP requests/s | {:.0} |",
            6.0 * ok as f64 / total.as_secs_f64()
        );
        println!(
            "| checkout latency p50 / p90 / p99 / max | {:.0} / {:.0} / {:.0} / {:.0} ms |",
            pct(0.5),
            pct(0.9),
            pct(0.99),
            pct(1.0)
        );
        println!(
            "| peak checkouts in flight | {} |",
            peak_in_flight.load(Ordering::SeqCst)
        );
        println!("| RSS before (after warm-up) | {} |", kb(rss_before));
        println!(
            "| VmHWM before / after | {} / {} |",
            kb(hwm_before),
            kb(hwm_after)
        );
        println!("| VmHWM growth per checkout | {per_checkout} |");
        println!("| RSS after | {} |", kb(rss_after));
        println!("| open descriptors before / peak | {fds_before} / {peak_fds} |");
        println!(
            "| virtual time passed | {} s |",
            virtual_elapsed.whole_seconds()
        );
        println!();
        let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
        for e in &errors {
            *kinds.entry(e.as_str()).or_default() += 1;
        }
        for (e, n) in kinds {
            println!("checkout error ({n}x): {e}");
        }
        let transport_errors = transport_errors
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for (e, n) in &transport_errors {
            println!("transport error ({n}x, retried by the checkout): {e}");
        }
        drop(driver);
        drop(time);
        if let Ok(sim) = Arc::try_unwrap(sim) {
            sim.shutdown().await;
        }
        assert!(errors.is_empty(), "{} checkout(s) failed", errors.len());
    });
}
