//! What a checkout is made of: the purchase, the hosted page's settings and the policies.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::digest::HmacKey;
use crate::hpp::{MerchantUrls, Options};
use crate::kp::SessionCreate;
use crate::secret::Secret;

/// Everything needed to start one checkout.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CheckoutConfig {
    /// The merchant's own id for this purchase (1..=64 printable ASCII, no spaces). It names the
    /// idempotency keys of every money-moving call, so it must be unique per purchase.
    pub checkout_id: String,
    /// A secret seed (≥16 bytes) from the merchant's RNG or key store. The callback secret and
    /// the idempotency keys are derived from it and `checkout_id`.
    pub seed: Seed,
    /// The KP session: order lines, amounts, country, currency, locale.
    pub session: SessionCreate,
    /// Merchant URL templates for the hosted page. `status_update`, when set, is the merchant's
    /// callback endpoint: the checkout appends `sid={{session_id}}` and its secret to it.
    pub merchant_urls: MerchantUrls,
    /// HPP options (`place_order_mode`, categories, ...).
    pub options: Options,
    /// When to read the HPP session while waiting for the consumer.
    pub poll: PollPolicy,
    /// How transient failures are retried.
    pub retry: RetryPolicy,
    /// Subtracted from every deadline Klarna states, to absorb clock skew (default 60 s).
    pub safety_margin: Duration,
}

impl CheckoutConfig {
    /// A configuration with default merchant URLs (none), options (NONE mode) and policies.
    pub fn new(
        checkout_id: impl Into<String>,
        seed: impl Into<Seed>,
        session: SessionCreate,
    ) -> Self {
        Self {
            checkout_id: checkout_id.into(),
            seed: seed.into(),
            session,
            merchant_urls: MerchantUrls::default(),
            options: Options::default(),
            poll: PollPolicy::default(),
            retry: RetryPolicy::default(),
            safety_margin: Duration::from_secs(60),
        }
    }

    /// Sets the merchant URL templates.
    pub fn merchant_urls(mut self, urls: MerchantUrls) -> Self {
        self.merchant_urls = urls;
        self
    }

    /// Sets the HPP options.
    pub fn options(mut self, options: Options) -> Self {
        self.options = options;
        self
    }

    /// Sets the polling policy.
    pub fn poll(mut self, poll: PollPolicy) -> Self {
        self.poll = poll;
        self
    }

    /// Sets the retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the safety margin subtracted from deadlines.
    pub fn safety_margin(mut self, margin: Duration) -> Self {
        self.safety_margin = margin;
        self
    }
}

/// The merchant's secret seed, ready to derive per-checkout secrets (HMAC-SHA-256 keyed by it).
///
/// Build it once (from the key store, at startup) and clone it into every [`CheckoutConfig`]:
/// the key's hashing is done at construction (`hmac`'s keyed state), so each checkout's
/// derivation costs two SHA-256 compressions instead of four. It keeps only that hash state, a
/// MAC of the empty message (to compare seeds, in constant time) and the seed's length, never
/// the seed's bytes; `Debug` prints `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Seed {
    key: HmacKey,
    len: usize,
}

impl Seed {
    /// A seed from its bytes (at least 16 are required when a checkout starts).
    pub fn new(seed: &[u8]) -> Self {
        Self {
            key: HmacKey::new(seed),
            len: seed.len(),
        }
    }

    /// The seed's length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the seed is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(super) fn key(&self) -> &HmacKey {
        &self.key
    }
}

impl fmt::Debug for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Seed([redacted])")
    }
}

impl From<&str> for Seed {
    fn from(seed: &str) -> Self {
        Self::new(seed.as_bytes())
    }
}

impl From<String> for Seed {
    fn from(seed: String) -> Self {
        Self::new(seed.as_bytes())
    }
}

impl From<&Secret> for Seed {
    fn from(seed: &Secret) -> Self {
        Self::new(seed.expose().as_bytes())
    }
}

impl From<Secret> for Seed {
    fn from(seed: Secret) -> Self {
        Self::from(&seed)
    }
}

/// When to read the HPP session while waiting for the consumer: `initial` after the link is
/// ready or the status last changed, then growing by `factor` up to `max`; never past the
/// session's deadline. A redirect or a callback triggers a read at once.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PollPolicy {
    /// First interval.
    #[serde(with = "millis")]
    pub initial: Duration,
    /// Growth per poll without a status change (≥ 1.0).
    pub factor: f64,
    /// Longest interval.
    #[serde(with = "millis")]
    pub max: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(2),
            factor: 1.5,
            max: Duration::from_secs(60),
        }
    }
}

impl PollPolicy {
    /// The interval before the `n`th poll since the last status change (0-based).
    pub fn interval(&self, n: u32) -> Duration {
        let factor = if self.factor.is_finite() && self.factor >= 1.0 {
            self.factor
        } else {
            1.0
        };
        let secs = self.initial.as_secs_f64() * factor.powi(i32::try_from(n.min(64)).unwrap_or(64));
        let max = self.max.max(self.initial);
        if secs.is_finite() && secs < max.as_secs_f64() {
            Duration::from_secs_f64(secs)
        } else {
            max
        }
    }
}

/// How transient failures (429, 5xx, any other status that is neither 2xx nor 4xx, transport
/// errors) are retried: exponential backoff from `base` by doubling up to `max`, with a
/// deterministic jitter of up to 20% derived from the checkout (no RNG in the core), at least
/// `Retry-After` when Klarna sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Attempts per call before giving up (reads never give up before their deadline).
    pub max_attempts: u32,
    /// First delay.
    #[serde(with = "millis")]
    pub base: Duration,
    /// Longest delay.
    #[serde(with = "millis")]
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base: Duration::from_millis(500),
            max: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The delay after failed attempt `attempt` (1-based), before jitter.
    pub fn delay(&self, attempt: u32) -> Duration {
        let shift = attempt.saturating_sub(1).min(20);
        self.base
            .saturating_mul(1u32 << shift)
            .min(self.max.max(self.base))
    }
}

/// Serde for `Duration` as whole milliseconds (compact snapshots).
pub(crate) mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_intervals_grow_to_max() {
        let p = PollPolicy::default();
        assert_eq!(p.interval(0), Duration::from_secs(2));
        assert_eq!(p.interval(1), Duration::from_secs(3));
        assert_eq!(p.interval(100), Duration::from_secs(60));
        let weird = PollPolicy {
            initial: Duration::from_secs(1),
            factor: f64::NAN,
            max: Duration::ZERO,
        };
        assert_eq!(weird.interval(5), Duration::from_secs(1));
    }

    #[test]
    fn seed_keeps_no_seed_bytes_and_debug_is_redacted() {
        let seed = Seed::from("correct-horse-battery-staple");
        assert_eq!(format!("{seed:?}"), "Seed([redacted])");
        assert_eq!(seed.len(), 28);
        assert!(!seed.is_empty());
        // Equal seeds give equal keys; the same seed from a Secret or a String too.
        assert!(seed == Seed::from(Secret::new("correct-horse-battery-staple".to_owned())));
        assert!(seed != Seed::from("correct-horse-battery-stapler"));
    }

    #[test]
    fn retry_delays_double_to_max() {
        let r = RetryPolicy::default();
        assert_eq!(r.delay(1), Duration::from_millis(500));
        assert_eq!(r.delay(2), Duration::from_secs(1));
        assert_eq!(r.delay(40), Duration::from_secs(30));
    }
}
