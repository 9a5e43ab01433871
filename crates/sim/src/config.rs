//! How to start an emulator.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use time::OffsetDateTime;

use crate::clock::ClockMode;

/// The API username the emulator accepts when none is configured.
pub const DEFAULT_USERNAME: &str = "DemoMerchant";
/// The API password the emulator accepts when none is configured.
pub const DEFAULT_PASSWORD: &str = "DemoPassword";

/// Settings of one emulator instance. Start from [`SimConfig::default`] and change what you need:
///
/// ```
/// use std::time::Duration;
/// use klarna_hpp_sim::SimConfig;
///
/// let config = SimConfig::default()
///     .with_seed(7)
///     .with_start_time(time::macros::datetime!(2024-05-01 12:00 UTC))
///     .with_callback_retry_delay(Duration::from_millis(50));
/// assert_eq!(config.username, "DemoMerchant");
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct SimConfig {
    /// Where to listen. Default `127.0.0.1:0` (an ephemeral port; read it back from the handle).
    pub listen: SocketAddr,
    /// The API username (HTTP Basic). Default [`DEFAULT_USERNAME`].
    pub username: String,
    /// The API password (HTTP Basic). Default [`DEFAULT_PASSWORD`].
    pub password: String,
    /// The instant the clock starts at. `None` (default): the real time at start.
    pub start_time: Option<OffsetDateTime>,
    /// How the clock moves: [`ClockMode::Frozen`] (default here: it stands still until
    /// advanced) or [`ClockMode::Real`] (it advances with real time; the program's default).
    pub clock: ClockMode,
    /// Seed of the id generator. `None` (default): derived from the real time at start; set it
    /// for ids that are the same in every run.
    pub seed: Option<u64>,
    /// The payment method categories every KP session offers, as KP identifiers
    /// (`pay_now`, `pay_later`, `pay_over_time`, `klarna`, `direct_debit`, `direct_bank_transfer`).
    /// Default: `pay_now`, `pay_later`, `pay_over_time`.
    pub payment_method_categories: Vec<String>,
    /// How long one status callback attempt may take (Klarna: 3 s).
    pub callback_timeout: Duration,
    /// How many times a status callback is attempted in total (Klarna: 4).
    pub callback_attempts: u32,
    /// The pause between callback attempts (Klarna: "a few seconds"; default 3 s).
    pub callback_retry_delay: Duration,
    /// How many entries the request log, the message log and the callback log each keep
    /// (oldest dropped first). Default 10 000.
    pub log_limit: usize,
    /// The most bytes the request log holds (bodies are cut at 16 KiB and marked; requests
    /// without valid credentials are logged without their body); the oldest entries go first.
    /// Default 32 MiB.
    pub log_bytes: usize,
    /// The most connections served at once; one more is answered 503 and closed. Default 1024.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers (from the connection's start or
    /// the end of its previous request) before the connection is closed. Default 30 s.
    pub header_read_timeout: Duration,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            username: DEFAULT_USERNAME.to_owned(),
            password: DEFAULT_PASSWORD.to_owned(),
            start_time: None,
            clock: ClockMode::Frozen,
            seed: None,
            payment_method_categories: ["pay_now", "pay_later", "pay_over_time"]
                .map(String::from)
                .to_vec(),
            callback_timeout: Duration::from_secs(3),
            callback_attempts: 4,
            callback_retry_delay: Duration::from_secs(3),
            log_limit: 10_000,
            log_bytes: 32 << 20,
            max_connections: 1024,
            header_read_timeout: Duration::from_secs(30),
        }
    }
}

impl SimConfig {
    /// Listen on this address.
    #[must_use]
    pub fn with_listen(mut self, listen: SocketAddr) -> Self {
        self.listen = listen;
        self
    }

    /// Accept these API credentials.
    #[must_use]
    pub fn with_credentials(
        mut self,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        self.username = username.into();
        self.password = password.into();
        self
    }

    /// Start the clock at this instant.
    #[must_use]
    pub fn with_start_time(mut self, start: OffsetDateTime) -> Self {
        self.start_time = Some(start);
        self
    }

    /// Move the clock this way.
    #[must_use]
    pub fn with_clock(mut self, mode: ClockMode) -> Self {
        self.clock = mode;
        self
    }

    /// Seed the id generator (deterministic ids).
    #[must_use]
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Offer these KP payment method categories (KP identifiers, e.g. `pay_later`).
    #[must_use]
    pub fn with_payment_method_categories<I, S>(mut self, categories: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.payment_method_categories = categories.into_iter().map(Into::into).collect();
        self
    }

    /// Wait this long between status callback attempts.
    #[must_use]
    pub fn with_callback_retry_delay(mut self, delay: Duration) -> Self {
        self.callback_retry_delay = delay;
        self
    }

    /// Keep at most this many bytes in the request log.
    #[must_use]
    pub fn with_log_bytes(mut self, bytes: usize) -> Self {
        self.log_bytes = bytes;
        self
    }

    /// Serve at most this many connections at once.
    #[must_use]
    pub fn with_max_connections(mut self, max: usize) -> Self {
        self.max_connections = max;
        self
    }

    /// Close a connection whose request headers take longer than this to arrive.
    #[must_use]
    pub fn with_header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// Give up on one callback attempt after this long.
    #[must_use]
    pub fn with_callback_timeout(mut self, timeout: Duration) -> Self {
        self.callback_timeout = timeout;
        self
    }
}

impl fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimConfig")
            .field("listen", &self.listen)
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .field("start_time", &self.start_time)
            .field("clock", &self.clock)
            .field("seed", &self.seed)
            .field("payment_method_categories", &self.payment_method_categories)
            .field("callback_timeout", &self.callback_timeout)
            .field("callback_attempts", &self.callback_attempts)
            .field("callback_retry_delay", &self.callback_retry_delay)
            .field("log_limit", &self.log_limit)
            .field("log_bytes", &self.log_bytes)
            .field("max_connections", &self.max_connections)
            .field("header_read_timeout", &self.header_read_timeout)
            .finish()
    }
}
