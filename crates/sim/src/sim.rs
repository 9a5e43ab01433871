//! Starting, controlling and stopping an emulator from Rust.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::Env;
use crate::clock::{to_datetime, Clock};
use crate::config::SimConfig;
use crate::consumer::{Action, ConsumerOutcome};
use crate::error::{ConsumerError, Error};
use crate::faults::Fault;
use crate::ids::IdGen;
use crate::records::{CallbackDelivery, RequestRecord, SentMessage};
use crate::rules::{Categories, Category};
use crate::schema::Schemas;
use crate::shared::{CallbackSettings, Shared};

/// Starts emulators. See [`Sim::start`] (inside a tokio runtime) and [`Sim::start_background`]
/// (from blocking code).
#[derive(Debug)]
pub struct Sim(());

/// A running emulator: its address, its clock, its consumer, its faults and logs.
///
/// Dropping the handle stops the server (without waiting); [`SimHandle::shutdown`] or
/// [`SimHandle::shutdown_blocking`] stop it and wait.
#[derive(Debug)]
pub struct SimHandle {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
    runtime: Option<tokio::runtime::Runtime>,
}

async fn build(config: SimConfig) -> Result<(Arc<Shared>, tokio::net::TcpListener), Error> {
    let runtime = tokio::runtime::Handle::try_current()
        .map_err(|e| Error::Runtime(std::io::Error::other(e)))?;
    let mut categories = Categories::default();
    for name in &config.payment_method_categories {
        let c = Category::parse(name)
            .ok_or_else(|| Error::Config(format!("unknown payment method category {name:?}")))?;
        categories.insert(c);
    }
    if categories.is_empty() {
        return Err(Error::Config(
            "at least one payment method category is needed".into(),
        ));
    }
    let schemas = Schemas::compile().map_err(Error::Config)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| Error::Bind {
            addr: config.listen,
            source,
        })?;
    let local_addr = listener.local_addr().map_err(|source| Error::Bind {
        addr: config.listen,
        source,
    })?;
    let start = config.start_time.unwrap_or_else(OffsetDateTime::now_utc);
    let seed = config.seed.unwrap_or_else(|| {
        let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
        (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32)
    });
    // When the workspace also builds reqwest with TLS but without a bundled crypto provider
    // (klarna-hpp-async does, to use ring), a client needs a process-wide provider: install
    // ring's. Harmless when one is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .map_err(|e| Error::Runtime(std::io::Error::other(e)))?;
    let env = Env {
        base_url: format!("http://{local_addr}"),
        ids: IdGen::new(seed),
        schemas,
        categories,
    };
    let shared = Shared::new(
        env,
        Clock::new(start, config.clock),
        local_addr,
        config.username,
        config.password,
        CallbackSettings {
            timeout: config.callback_timeout,
            attempts: config.callback_attempts.max(1),
            retry_delay: config.callback_retry_delay,
        },
        http,
        runtime,
        config.log_limit,
        config.log_bytes,
    );
    Ok((Arc::new(shared), listener))
}

/// Runs `f` on a fresh thread and waits for it: blocking on a runtime is not allowed on a
/// thread that is already driving one. `None` if the thread could not run `f` to the end.
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> Option<T> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("klarna-hpp-sim-control".into())
            .spawn_scoped(scope, f)
            .ok()?
            .join()
            .ok()
    })
}

impl Sim {
    /// Binds `config.listen` (default `127.0.0.1:0`) and serves on the current tokio runtime.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), klarna_hpp_sim::Error> {
    /// use klarna_hpp_sim::{Sim, SimConfig};
    /// let sim = Sim::start(SimConfig::default().with_seed(1)).await?;
    /// assert!(sim.base_url().starts_with("http://127.0.0.1:"));
    /// sim.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub async fn start(config: SimConfig) -> Result<SimHandle, Error> {
        let limits = crate::server::Limits {
            max_connections: config.max_connections.max(1),
            header_read_timeout: config.header_read_timeout,
        };
        let (shared, listener) = build(config).await?;
        let (stop, stopped) = watch::channel(false);
        let app = crate::router(Arc::clone(&shared));
        let server = tokio::spawn(crate::server::serve(listener, app, stopped, limits));
        Ok(SimHandle {
            shared,
            stop,
            server: Some(server),
            runtime: None,
        })
    }

    /// Starts an emulator on its own small tokio runtime (two worker threads), for callers
    /// without one (it also works inside another runtime). The handle's methods are plain
    /// calls that never block on I/O; stop it with [`SimHandle::shutdown_blocking`] or by
    /// dropping it.
    ///
    /// ```
    /// use klarna_hpp_sim::{Sim, SimConfig};
    /// let sim = Sim::start_background(SimConfig::default()).unwrap();
    /// let before = sim.now();
    /// sim.advance(std::time::Duration::from_secs(3600));
    /// assert_eq!(sim.now() - before, time::Duration::hours(1));
    /// sim.shutdown_blocking();
    /// ```
    pub fn start_background(config: SimConfig) -> Result<SimHandle, Error> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("klarna-hpp-sim")
            .enable_all()
            .build()
            .map_err(Error::Runtime)?;
        // `block_on` on a thread of its own, so that this also works when called from inside
        // another runtime.
        let (runtime, started) = off_runtime(move || {
            let started = runtime.block_on(Sim::start(config));
            (runtime, started)
        })
        .ok_or_else(|| Error::Runtime(std::io::Error::other("the start-up thread failed")))?;
        let mut handle = started?;
        handle.runtime = Some(runtime);
        Ok(handle)
    }
}

impl SimHandle {
    /// `http://127.0.0.1:PORT`: the base URL of Klarna's API, the hosted page and `/_sim/`.
    pub fn base_url(&self) -> &str {
        &self.shared.env.base_url
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local_addr
    }

    /// The API username it accepts.
    pub fn username(&self) -> &str {
        &self.shared.username
    }

    /// The API password it accepts.
    pub fn password(&self) -> &str {
        &self.shared.password
    }

    /// The emulator's current instant.
    pub fn now(&self) -> OffsetDateTime {
        to_datetime(self.shared.clock.now())
    }

    /// Moves the emulator's clock forward; what expires is forgotten. Returns the new instant.
    pub fn advance(&self, by: Duration) -> OffsetDateTime {
        to_datetime(self.shared.advance(by))
    }

    /// The consumer of an HPP session, acting as the hosted page's buttons do.
    pub fn consumer(&self, hpp_session_id: &str) -> Consumer<'_> {
        Consumer {
            shared: &self.shared,
            session_id: hpp_session_id.to_owned(),
        }
    }

    /// Arms a fault (see [`Fault`]).
    pub fn add_fault(&self, fault: Fault) -> Result<(), Error> {
        fault.validate()?;
        self.shared.faults().add(fault);
        Ok(())
    }

    /// The faults still armed (with their remaining `times`).
    pub fn faults(&self) -> Vec<Fault> {
        self.shared.faults().list()
    }

    /// Disarms every fault.
    pub fn clear_faults(&self) {
        self.shared.faults().clear();
    }

    /// The request log, oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.records().requests.iter().cloned().collect()
    }

    /// What the request log holds now, in bytes as it counts them (its strings and a fixed part
    /// per entry); never more than [`SimConfig::log_bytes`] plus one entry.
    pub fn request_log_bytes(&self) -> usize {
        self.shared.records().requests.bytes()
    }

    /// The messages distribution would have sent, oldest first.
    pub fn messages(&self) -> Vec<SentMessage> {
        self.shared.records().messages.iter().cloned().collect()
    }

    /// The status callbacks, oldest first, with their attempts so far.
    pub fn callbacks(&self) -> Vec<CallbackDelivery> {
        self.shared.records().callbacks.iter().cloned().collect()
    }

    /// How many callbacks are still being attempted.
    pub fn pending_callbacks(&self) -> usize {
        self.shared.records().pending_callbacks()
    }

    /// Forgets every session, order, fault and log entry and sets the clock back to its start.
    /// Ids keep counting (an old id never names a new object).
    pub fn reset(&self) {
        self.shared.reset();
    }

    fn signal_stop(&mut self) {
        let _ = self.stop.send(true);
    }

    /// Stops accepting, lets open requests finish (up to 2 s) and waits for the server to end.
    pub async fn shutdown(mut self) {
        self.signal_stop();
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }

    /// [`SimHandle::shutdown`] for blocking code (meant for a handle from
    /// [`Sim::start_background`]; a handle from [`Sim::start`] just has its server task
    /// aborted, as there is no runtime here to wait on).
    pub fn shutdown_blocking(mut self) {
        self.signal_stop();
        let server = self.server.take();
        match self.runtime.take() {
            Some(rt) => {
                let _ = off_runtime(move || {
                    if let Some(server) = server {
                        let _ = rt.block_on(server);
                    }
                    rt.shutdown_timeout(Duration::from_secs(1));
                });
            }
            None => {
                if let Some(server) = server {
                    server.abort();
                }
            }
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.signal_stop();
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// The consumer on one HPP session's page, without a browser. Each method is what the
/// matching button of the hosted page does (same code path), including the status callbacks.
///
/// Every action first (re)opens the page, so `pay()` on a WAITING session goes through
/// IN_PROGRESS to COMPLETED, with a callback for each step.
#[derive(Debug)]
pub struct Consumer<'a> {
    shared: &'a Arc<Shared>,
    session_id: String,
}

impl Consumer<'_> {
    fn act(
        &self,
        action: Action,
        category: Option<&str>,
    ) -> Result<ConsumerOutcome, ConsumerError> {
        self.shared
            .run(|state, cx| state.consumer_act(cx, &self.session_id, action, category))
    }

    /// Opens the page: the session becomes IN_PROGRESS.
    pub fn open(&self) -> Result<ConsumerOutcome, ConsumerError> {
        self.act(Action::Open, None)
    }

    /// Pays with the first offered category: COMPLETED, with an authorization token
    /// (`place_order_mode` NONE) or an order (PLACE_ORDER, CAPTURE_ORDER).
    pub fn pay(&self) -> Result<ConsumerOutcome, ConsumerError> {
        self.act(Action::Pay, None)
    }

    /// Pays with a category (`pay_later` or `PAY_LATER`).
    pub fn pay_with(&self, category: &str) -> Result<ConsumerOutcome, ConsumerError> {
        self.act(Action::Pay, Some(category))
    }

    /// Is declined (in the first offered category): FAILED, or, with `payment_fallback`,
    /// offered the other categories first.
    pub fn decline(&self) -> Result<ConsumerOutcome, ConsumerError> {
        self.act(Action::Decline, None)
    }

    /// Is declined in a category.
    pub fn decline_with(&self, category: &str) -> Result<ConsumerOutcome, ConsumerError> {
        self.act(Action::Decline, Some(category))
    }

    /// Presses Back: BACK (the session stays usable).
    pub fn back(&self) -> Result<ConsumerOutcome, ConsumerError> {
        self.act(Action::Back, None)
    }

    /// Presses Cancel: BACK for an ECOMMERCE payment session (Klarna treats cancel as back
    /// there), CANCELLED (final) for IN_STORE and TELESALES.
    pub fn cancel(&self) -> Result<ConsumerOutcome, ConsumerError> {
        self.act(Action::Cancel, None)
    }

    /// Hits a technical error: ERROR (the session stays usable).
    pub fn error(&self) -> Result<ConsumerOutcome, ConsumerError> {
        self.act(Action::Error, None)
    }
}
