//! Wall-clock instants as Klarna writes them (ISO 8601 / RFC 3339), always passed in by the caller.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::{Iso8601, Rfc3339};
use time::OffsetDateTime;

/// An instant on the wall clock, with second-fraction precision, in UTC.
///
/// The core never reads a clock: every `now` is a `Timestamp` the caller passes in.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

/// Why a timestamp string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an ISO 8601 date-time with a zone")]
pub struct TimestampError;

impl Timestamp {
    /// The Unix epoch.
    pub const UNIX_EPOCH: Timestamp = Timestamp(OffsetDateTime::UNIX_EPOCH);

    /// The latest instant RFC 3339 can write (9999-12-31T23:59:59.999999999Z): "no limit".
    pub const MAX: Timestamp =
        Timestamp(time::macros::datetime!(9999-12-31 23:59:59.999_999_999 UTC));

    /// From whole seconds since the Unix epoch; `None` when out of the supported range.
    pub fn from_unix_seconds(seconds: i64) -> Option<Self> {
        OffsetDateTime::from_unix_timestamp(seconds)
            .ok()
            .and_then(Self::in_range)
    }

    /// From milliseconds since the Unix epoch; `None` when out of the supported range.
    pub fn from_unix_millis(millis: i64) -> Option<Self> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
            .ok()
            .and_then(Self::in_range)
    }

    /// Whole seconds since the Unix epoch.
    pub fn unix_seconds(self) -> i64 {
        self.0.unix_timestamp()
    }

    /// Milliseconds since the Unix epoch (truncated).
    pub fn unix_millis(self) -> i64 {
        // Fits: the supported range is ±9999 years, well inside i64 milliseconds.
        i64::try_from(self.0.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
    }

    /// From a `time::OffsetDateTime` (converted to UTC).
    /// `None` outside years 0000..=9999 in UTC (they have no RFC 3339 form).
    pub fn from_offset_date_time(value: OffsetDateTime) -> Option<Self> {
        value
            .checked_to_offset(time::UtcOffset::UTC)
            .and_then(Self::in_range)
    }

    /// Keeps only instants that RFC 3339 can write (years 0000..=9999).
    fn in_range(utc: OffsetDateTime) -> Option<Self> {
        (0..=9999).contains(&utc.year()).then_some(Self(utc))
    }

    /// As a `time::OffsetDateTime` in UTC.
    pub fn to_offset_date_time(self) -> OffsetDateTime {
        self.0
    }

    /// Parses RFC 3339 or ISO 8601 with a zone, with or without second fractions.
    ///
    /// Refuses instants outside years 0000..=9999 in UTC (e.g. `9999-12-31T23:59:59-01:00`):
    /// they cannot be converted to UTC or written back as RFC 3339.
    pub fn parse(text: &str) -> Result<Self, TimestampError> {
        let value = OffsetDateTime::parse(text, &Rfc3339)
            .or_else(|_| OffsetDateTime::parse(text, &Iso8601::DEFAULT))
            .map_err(|_| TimestampError)?;
        let utc = value
            .checked_to_offset(time::UtcOffset::UTC)
            .ok_or(TimestampError)?;
        if !(0..=9999).contains(&utc.year()) {
            return Err(TimestampError);
        }
        Ok(Self(utc))
    }

    /// `self + d`, saturating at the end of the supported range.
    pub fn saturating_add(self, d: Duration) -> Self {
        Self(self.0.saturating_add(time_duration(d)))
    }

    /// `self - d`, saturating at the start of year 0000 (the earliest RFC 3339 instant).
    pub fn saturating_sub(self, d: Duration) -> Self {
        let floor = time::macros::datetime!(0000-01-01 00:00:00 UTC);
        Self(self.0.saturating_sub(time_duration(d)).max(floor))
    }

    /// How long from `earlier` to `self`; zero when `earlier` is later.
    pub fn duration_since(self, earlier: Timestamp) -> Duration {
        let d = self.0 - earlier.0;
        if d.is_negative() {
            Duration::ZERO
        } else {
            d.try_into().unwrap_or(Duration::MAX)
        }
    }
}

fn time_duration(d: Duration) -> time::Duration {
    time::Duration::try_from(d).unwrap_or(time::Duration::MAX)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.format(&Rfc3339) {
            Ok(s) => f.write_str(&s),
            Err(_) => write!(f, "{}", self.0),
        }
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::str::FromStr for Timestamp {
    type Err = TimestampError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an ISO 8601 date-time")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Timestamp, E> {
                Timestamp::parse(v).map_err(|_| E::custom("not an ISO 8601 date-time with a zone"))
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_with_and_without_fractions() {
        let a = Timestamp::parse("2019-05-15T13:51:43.507Z").expect("with fraction");
        let b = Timestamp::parse("2019-05-15T13:51:43Z").expect("without fraction");
        assert_eq!(a.unix_seconds(), b.unix_seconds());
        assert_eq!(a.unix_millis() - b.unix_millis(), 507);
        let c = Timestamp::parse("2019-05-15T15:51:43+02:00").expect("offset");
        assert_eq!(c, b);
        assert!(Timestamp::parse("2019-05-15").is_err());
        assert!(Timestamp::parse("").is_err());
    }

    #[test]
    fn out_of_range_in_utc_is_refused_not_a_panic() {
        assert!(Timestamp::parse("9999-12-31T23:59:59-01:00").is_err());
        assert!(Timestamp::parse("0000-01-01T00:00:00+01:00").is_err());
        let edge = Timestamp::parse("9999-12-31T23:59:59Z").expect("in range");
        assert_eq!(Timestamp::parse(&edge.to_string()), Ok(edge));
    }

    #[test]
    fn arithmetic_saturates() {
        let t = Timestamp::from_unix_seconds(1_000).expect("in range");
        assert_eq!(
            t.saturating_add(Duration::from_secs(5)).unix_seconds(),
            1_005
        );
        assert_eq!(
            t.duration_since(t.saturating_add(Duration::from_secs(1))),
            Duration::ZERO
        );
        let far = t.saturating_add(Duration::MAX);
        assert!(far > t);
        assert_eq!(
            Timestamp::parse(&far.to_string()),
            Ok(far),
            "the far end still writes as RFC 3339"
        );
        let early = t.saturating_sub(Duration::MAX);
        assert_eq!(Timestamp::parse(&early.to_string()), Ok(early));
        assert_eq!(Timestamp::from_unix_seconds(-300_000_000_000), None);
    }
}
