//! The reconciler: claims due checkouts, drives each until it waits, persists, releases.

use std::future::Future;
use std::time::Duration;

use klarna_hpp_async::AsyncTransport;

use crate::runtime::{millis_now, Runtime, RuntimeError, Until};
use crate::store::StoreError;
use crate::telemetry;

/// How a [`Worker`] claims.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WorkerConfig {
    /// Checkouts claimed (and driven concurrently) per round. Default 32.
    pub batch: i64,
    /// How long to wait when nothing was due. Default 200 ms.
    pub idle: Duration,
    /// The longest back-off while the database is away. Default 5 s.
    pub max_backoff: Duration,
    /// How often to publish the per-state gauges. Default 10 s.
    pub gauges_every: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            batch: 32,
            idle: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            gauges_every: Duration::from_secs(10),
        }
    }
}

impl WorkerConfig {
    /// Sets the batch size (at least 1).
    #[must_use]
    pub fn batch(mut self, batch: i64) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// Sets the idle wait.
    #[must_use]
    pub fn idle(mut self, idle: Duration) -> Self {
        self.idle = idle;
        self
    }
}

/// What a worker did, returned when it stops.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerStats {
    /// Checkouts claimed.
    pub claimed: u64,
    /// Of which processed and released.
    pub processed: u64,
    /// Lost leases (writes dropped).
    pub leases_lost: u64,
    /// Rows quarantined.
    pub quarantined: u64,
    /// Back-offs while the database was away.
    pub backoffs: u64,
}

/// Claims due checkouts and drives them; run one or more per database (PostgreSQL: any number,
/// on any machines; SQLite: one process per file).
#[derive(Debug)]
pub struct Worker<T> {
    runtime: Runtime<T>,
    config: WorkerConfig,
}

impl<T: AsyncTransport + Send + Sync + 'static> Worker<T> {
    /// A worker on `runtime`.
    pub fn new(runtime: Runtime<T>, config: WorkerConfig) -> Self {
        Self { runtime, config }
    }

    /// Runs until `shutdown` completes (finishing the round under way). Database outages are
    /// waited out with exponential back-off; nothing here ends the loop but `shutdown`.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> WorkerStats {
        tokio::pin!(shutdown);
        let mut stats = WorkerStats::default();
        let mut backoff = Duration::from_millis(100);
        let mut gauges_at = std::time::Instant::now();
        loop {
            let round = self.round(&mut stats);
            let pause = tokio::select! {
                biased;
                () = &mut shutdown => break,
                result = round => match result {
                    Ok(0) => {
                        backoff = Duration::from_millis(100);
                        self.config.idle
                    }
                    Ok(_) => {
                        backoff = Duration::from_millis(100);
                        Duration::ZERO
                    }
                    Err(e) => {
                        stats.backoffs += 1;
                        metrics::counter!(telemetry::DB_BACKOFFS).increment(1);
                        tracing::warn!(error = %e, backoff_ms = backoff.as_millis() as u64, "database away: backing off");
                        let pause = backoff;
                        backoff = (backoff * 2).min(self.config.max_backoff);
                        pause
                    }
                },
            };
            if gauges_at.elapsed() >= self.config.gauges_every {
                gauges_at = std::time::Instant::now();
                self.publish_gauges().await;
            }
            if !pause.is_zero() {
                tokio::select! {
                    biased;
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(pause) => {}
                }
            }
        }
        stats
    }

    /// One round: claim a batch and drive it. Returns how many were claimed.
    pub async fn round(&self, stats: &mut WorkerStats) -> Result<usize, StoreError> {
        let store = self.runtime.store();
        let now = millis_now();
        let claimed = store
            .claim_due(
                self.runtime.owner(),
                now,
                self.config.batch,
                now + i64::try_from(self.runtime.config().lease_duration().as_millis())
                    .unwrap_or(i64::MAX / 2),
            )
            .await?;
        let n = claimed.len();
        stats.claimed += n as u64;
        metrics::counter!(telemetry::CLAIMED).increment(n as u64);
        let mut tasks = tokio::task::JoinSet::new();
        for c in claimed {
            let runtime = self.runtime.clone();
            let span = tracing::info_span!("checkout", checkout_id = %c.lease.checkout_id, action = "work");
            tasks.spawn(tracing::Instrument::instrument(
                async move { runtime.process(c, Until::Waiting, None).await.map(|_| ()) },
                span,
            ));
        }
        let mut transient = None;
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(Ok(())) => stats.processed += 1,
                Ok(Err(RuntimeError::Store(StoreError::LeaseLost { .. }))) => {
                    stats.leases_lost += 1
                }
                Ok(Err(RuntimeError::CorruptSnapshot { .. })) => stats.quarantined += 1,
                Ok(Err(RuntimeError::Store(e))) if e.is_transient() => transient = Some(e),
                Ok(Err(e)) => tracing::error!(error = %e, "checkout not processed"),
                Err(e) => tracing::error!(error = %e, "checkout task failed"),
            }
        }
        match transient {
            Some(e) => Err(e),
            None => Ok(n),
        }
    }

    async fn publish_gauges(&self) {
        if let Ok(counts) = self.runtime.store().counts(millis_now()).await {
            for c in counts {
                let state = c.state;
                metrics::gauge!(telemetry::CHECKOUTS, "state" => state.clone()).set(c.total as f64);
                metrics::gauge!(telemetry::DUE, "state" => state.clone()).set(c.due as f64);
                metrics::gauge!(telemetry::LEASED, "state" => state).set(c.leased as f64);
            }
        }
    }
}

/// Opens the store at `url`, waiting out a database that is not up yet (a transient error is
/// retried every second, logged at WARN without the URL); any other error is returned.
pub async fn connect_when_up(url: &str) -> Result<crate::store::CheckoutStore, StoreError> {
    loop {
        match crate::store::CheckoutStore::connect(url).await {
            Ok(store) => return Ok(store),
            Err(e) if e.is_transient() => {
                tracing::warn!(error = %e, "database away at start: retrying in 1 s");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Completes on Ctrl-C (SIGINT) or, on Unix, SIGTERM: the future to pass to [`Worker::run`]
/// for a process that stops after the round under way.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
    tracing::info!("shutting down after the round under way");
}
