//! The emulator's virtual clock: it starts at a configured instant and moves only when told to.
//!
//! Every lifetime (KP session 48 h, HPP session = KP − 1 h, authorization token 60 min, OM
//! authorization 28 days, idempotency keys 24 h) is checked against this clock, never against the
//! machine's, so tests can jump over a day in a microsecond.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use time::OffsetDateTime;

/// Milliseconds since the Unix epoch, on the emulator's clock.
pub(crate) type Millis = i64;

/// One second, one minute, one hour, one day in [`Millis`].
pub(crate) const SECOND: Millis = 1_000;
pub(crate) const MINUTE: Millis = 60 * SECOND;
pub(crate) const HOUR: Millis = 60 * MINUTE;
pub(crate) const DAY: Millis = 24 * HOUR;

/// A clock that stands still until [`Clock::advance`] moves it.
#[derive(Debug)]
pub(crate) struct Clock {
    start: Millis,
    offset: AtomicI64,
}

impl Clock {
    pub(crate) fn new(start: OffsetDateTime) -> Self {
        Self {
            start: to_millis(start),
            offset: AtomicI64::new(0),
        }
    }

    /// The current instant.
    pub(crate) fn now(&self) -> Millis {
        self.start
            .saturating_add(self.offset.load(Ordering::SeqCst))
    }

    /// Moves the clock forward and returns the new instant.
    pub(crate) fn advance(&self, by: Duration) -> Millis {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        let offset = self
            .offset
            .fetch_add(by, Ordering::SeqCst)
            .saturating_add(by);
        self.start.saturating_add(offset)
    }

    /// Back to the starting instant.
    pub(crate) fn reset(&self) {
        self.offset.store(0, Ordering::SeqCst);
    }
}

/// An `OffsetDateTime` as [`Millis`] (sub-millisecond digits dropped).
pub(crate) fn to_millis(t: OffsetDateTime) -> Millis {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// [`Millis`] as an `OffsetDateTime` (UTC); out-of-range values clamp to the epoch.
pub(crate) fn to_datetime(ms: Millis) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// ISO 8601 in Klarna's style: `2019-05-15T13:51:43.507Z`.
pub(crate) fn format(ms: Millis) -> String {
    let t = to_datetime(ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_klarna() {
        let t = time::macros::datetime!(2019-05-15 13:51:43.507 UTC);
        assert_eq!(format(to_millis(t)), "2019-05-15T13:51:43.507Z");
    }

    #[test]
    fn advances_only_when_told() {
        let c = Clock::new(time::macros::datetime!(2024-01-01 00:00 UTC));
        let a = c.now();
        assert_eq!(c.now(), a);
        assert_eq!(c.advance(Duration::from_secs(3600)), a + HOUR);
        c.reset();
        assert_eq!(c.now(), a);
    }
}
