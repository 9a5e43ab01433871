//! The emulator's shared core: configuration, clock, state, faults and logs, and the one way
//! every change happens (lock, run, unlock, then send callbacks and record messages).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::api::{Ctx, Effects, Env};
use crate::callbacks;
use crate::clock::Clock;
use crate::faults::Faults;
use crate::records::Records;
use crate::state::State;

/// How status callbacks are delivered.
#[derive(Debug, Clone)]
pub(crate) struct CallbackSettings {
    pub(crate) timeout: Duration,
    pub(crate) attempts: u32,
    pub(crate) retry_delay: Duration,
}

/// Everything one emulator instance holds.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) env: Env,
    pub(crate) clock: Clock,
    pub(crate) local_addr: SocketAddr,
    pub(crate) username: String,
    pub(crate) password: String,
    pub(crate) callback: CallbackSettings,
    pub(crate) http: reqwest::Client,
    pub(crate) runtime: tokio::runtime::Handle,
    state: Mutex<State>,
    /// When the state was last swept of what expired.
    last_sweep: std::sync::atomic::AtomicI64,
    faults: Mutex<Faults>,
    records: Mutex<Records>,
    /// The last answer to each order read (by path), for stale reads ([`crate::Fault::stale`]).
    last_reads: Mutex<std::collections::HashMap<String, crate::api::Reply>>,
}

/// Locks a mutex; a panic elsewhere while it was held does not make the data unusable here
/// (every critical section leaves the data consistent before it can panic).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        env: Env,
        clock: Clock,
        local_addr: SocketAddr,
        username: String,
        password: String,
        callback: CallbackSettings,
        http: reqwest::Client,
        runtime: tokio::runtime::Handle,
        log_limit: usize,
        log_bytes: usize,
    ) -> Self {
        let started = clock.now();
        Self {
            env,
            clock,
            local_addr,
            username,
            password,
            callback,
            http,
            runtime,
            last_sweep: std::sync::atomic::AtomicI64::new(started),
            state: Mutex::new(State::default()),
            faults: Mutex::new(Faults::default()),
            records: Mutex::new(Records::new(log_limit, log_bytes)),
            last_reads: Mutex::new(std::collections::HashMap::new()),
        }
    }

    /// The previous answer to the read of `path`, if any; remembers `fresh` (when given) as
    /// the answer to the next stale read.
    pub(crate) fn last_read(
        &self,
        path: &str,
        fresh: Option<&crate::api::Reply>,
    ) -> Option<crate::api::Reply> {
        let mut reads = lock(&self.last_reads);
        match fresh {
            Some(reply) => reads.insert(path.to_owned(), reply.clone()),
            None => reads.get(path).cloned(),
        }
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, Faults> {
        lock(&self.faults)
    }

    pub(crate) fn records(&self) -> MutexGuard<'_, Records> {
        lock(&self.records)
    }

    /// Reads the state without changing it.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&lock(&self.state))
    }

    /// Runs `f` against the state at the current instant, then carries out its effects
    /// (callbacks, messages) outside the lock.
    pub(crate) fn run<R>(self: &Arc<Self>, f: impl FnOnce(&mut State, &mut Ctx<'_>) -> R) -> R {
        let mut cx = Ctx {
            env: &self.env,
            now: self.clock.now(),
            fx: Effects::default(),
        };
        let out = {
            let mut state = lock(&self.state);
            // On a real clock time passes without `advance`: forget what expired now and then.
            let last = self.last_sweep.load(std::sync::atomic::Ordering::Relaxed);
            if cx.now >= last.saturating_add(crate::clock::MINUTE) {
                self.last_sweep
                    .store(cx.now, std::sync::atomic::Ordering::Relaxed);
                state.sweep(cx.now);
            }
            f(&mut state, &mut cx)
        };
        let fx = cx.fx;
        self.apply(fx);
        out
    }

    fn apply(self: &Arc<Self>, fx: Effects) {
        if !fx.messages.is_empty() {
            let mut records = self.records();
            for mut m in fx.messages {
                records.messages.push(|seq| {
                    m.seq = seq;
                    m
                });
            }
        }
        for job in fx.callbacks {
            callbacks::dispatch(self, job);
        }
    }

    /// Moves the clock and forgets what expired.
    pub(crate) fn advance(&self, by: Duration) -> crate::clock::Millis {
        let now = self.clock.advance(by);
        lock(&self.state).sweep(now);
        now
    }

    /// Back to an empty emulator at its starting instant (ids keep counting).
    pub(crate) fn reset(&self) {
        *lock(&self.state) = State::default();
        self.faults().clear();
        self.records().clear();
        lock(&self.last_reads).clear();
        self.clock.reset();
    }
}
