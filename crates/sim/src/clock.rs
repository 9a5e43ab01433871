//! The emulator's clock, in one of two modes ([`ClockMode`]): **frozen** (it starts at a
//! configured instant and moves only when told to; the library's default, for tests) or **real**
//! (it advances with the machine's time from its start; the `klarna-hpp-sim` program's default).
//! In both, [`Clock::advance`] jumps ahead on top.
//!
//! Every lifetime (KP session 48 h, HPP session = KP − 1 h, authorization token 60 min, OM
//! authorization 28 days, idempotency keys 24 h) is checked against this clock, never against the
//! machine's, so tests can jump over a day in a microsecond.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use time::OffsetDateTime;

/// Milliseconds since the Unix epoch, on the emulator's clock.
pub(crate) type Millis = i64;

/// One second, one minute, one hour, one day in [`Millis`].
pub(crate) const SECOND: Millis = 1_000;
pub(crate) const MINUTE: Millis = 60 * SECOND;
pub(crate) const HOUR: Millis = 60 * MINUTE;
pub(crate) const DAY: Millis = 24 * HOUR;

/// How the emulator's clock moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ClockMode {
    /// Stands still at its start until advanced (`SimHandle::advance`, `/_sim/clock/advance`):
    /// every timestamp is reproducible. The library's default.
    #[default]
    Frozen,
    /// Moves with the machine's time from its start (advances jump ahead on top). The
    /// `klarna-hpp-sim` program's default.
    Real,
}

/// The emulator's clock: its start, the advances made, and in [`ClockMode::Real`] the real time
/// elapsed since it was made.
#[derive(Debug)]
pub(crate) struct Clock {
    start: Millis,
    offset: AtomicI64,
    /// Set in [`ClockMode::Real`]: when the clock was made.
    origin: Option<Instant>,
}

impl Clock {
    pub(crate) fn new(start: OffsetDateTime, mode: ClockMode) -> Self {
        Self {
            start: to_millis(start),
            offset: AtomicI64::new(0),
            origin: (mode == ClockMode::Real).then(Instant::now),
        }
    }

    /// Real milliseconds since the clock was made (0 when frozen).
    fn elapsed(&self) -> Millis {
        self.origin.map_or(0, |o| {
            i64::try_from(o.elapsed().as_millis()).unwrap_or(i64::MAX)
        })
    }

    /// The current instant.
    pub(crate) fn now(&self) -> Millis {
        self.start
            .saturating_add(self.offset.load(Ordering::SeqCst))
            .saturating_add(self.elapsed())
    }

    /// Moves the clock forward and returns the new instant.
    pub(crate) fn advance(&self, by: Duration) -> Millis {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        let offset = self
            .offset
            .fetch_add(by, Ordering::SeqCst)
            .saturating_add(by);
        self.start
            .saturating_add(offset)
            .saturating_add(self.elapsed())
    }

    /// Drops the advances: a frozen clock is back at its start, a real one at the real time.
    pub(crate) fn reset(&self) {
        self.offset.store(0, Ordering::SeqCst);
    }
}

/// An HTTP `Date` (`Wed, 01 May 2024 12:00:00 GMT`) for [`Millis`].
pub(crate) fn http_date(ms: Millis) -> String {
    let t = to_datetime(ms);
    let weekday = match t.weekday() {
        time::Weekday::Monday => "Mon",
        time::Weekday::Tuesday => "Tue",
        time::Weekday::Wednesday => "Wed",
        time::Weekday::Thursday => "Thu",
        time::Weekday::Friday => "Fri",
        time::Weekday::Saturday => "Sat",
        time::Weekday::Sunday => "Sun",
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS[usize::from(u8::from(t.month())).saturating_sub(1) % 12];
    format!(
        "{weekday}, {:02} {month} {:04} {:02}:{:02}:{:02} GMT",
        t.day(),
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
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
    fn http_dates() {
        let t = time::macros::datetime!(2024-05-01 12:00:00.999 UTC);
        assert_eq!(http_date(to_millis(t)), "Wed, 01 May 2024 12:00:00 GMT");
    }

    #[test]
    fn a_real_clock_moves_by_itself() {
        let c = Clock::new(
            time::macros::datetime!(2024-01-01 00:00 UTC),
            ClockMode::Real,
        );
        let a = c.now();
        std::thread::sleep(Duration::from_millis(5));
        assert!(c.now() > a);
        assert!(c.advance(Duration::from_secs(3600)) >= a + HOUR);
        c.reset();
        assert!(c.now() < a + HOUR);
    }

    #[test]
    fn advances_only_when_told() {
        let c = Clock::new(
            time::macros::datetime!(2024-01-01 00:00 UTC),
            ClockMode::Frozen,
        );
        let a = c.now();
        assert_eq!(c.now(), a);
        assert_eq!(c.advance(Duration::from_secs(3600)), a + HOUR);
        c.reset();
        assert_eq!(c.now(), a);
    }
}
