//! Wall-clock instants as Klarna writes them (ISO 8601 / RFC 3339), always passed in by the caller.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::{Iso8601, Rfc3339};
use time::OffsetDateTime;

/// An instant on the wall clock, with nanosecond precision, in UTC.
///
/// The core never reads a clock: every `now` is a `Timestamp` the caller passes in. Inside it
/// is a count of nanoseconds since the Unix epoch, so comparing and shifting instants (which a
/// checkout does on every input, for its deadlines) is integer arithmetic; `time` is used at
/// the edges, to parse and write RFC 3339. Only instants RFC 3339 can write (years 0000..=9999
/// in UTC) exist.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i128);

/// Why a timestamp string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an ISO 8601 date-time with a zone")]
pub struct TimestampError;

/// 0000-01-01T00:00:00Z in nanoseconds since the epoch.
const MIN_NANOS: i128 = time::macros::datetime!(0000-01-01 00:00:00 UTC).unix_timestamp_nanos();
/// 9999-12-31T23:59:59.999999999Z in nanoseconds since the epoch.
const MAX_NANOS: i128 =
    time::macros::datetime!(9999-12-31 23:59:59.999_999_999 UTC).unix_timestamp_nanos();
const NANOS_PER_SECOND: i128 = 1_000_000_000;

impl Timestamp {
    /// The Unix epoch.
    pub const UNIX_EPOCH: Timestamp = Timestamp(0);

    /// The latest instant RFC 3339 can write (9999-12-31T23:59:59.999999999Z): "no limit".
    pub const MAX: Timestamp = Timestamp(MAX_NANOS);

    fn from_nanos(nanos: i128) -> Option<Self> {
        (MIN_NANOS..=MAX_NANOS)
            .contains(&nanos)
            .then_some(Self(nanos))
    }

    /// From whole seconds since the Unix epoch; `None` when out of the supported range.
    pub fn from_unix_seconds(seconds: i64) -> Option<Self> {
        Self::from_nanos(i128::from(seconds) * NANOS_PER_SECOND)
    }

    /// From milliseconds since the Unix epoch; `None` when out of the supported range.
    pub fn from_unix_millis(millis: i64) -> Option<Self> {
        Self::from_nanos(i128::from(millis) * 1_000_000)
    }

    /// Whole seconds since the Unix epoch (rounded down).
    pub fn unix_seconds(self) -> i64 {
        // Fits: the supported range is ±10000 years, well inside i64 seconds.
        i64::try_from(self.0.div_euclid(NANOS_PER_SECOND)).unwrap_or(i64::MAX)
    }

    /// Milliseconds since the Unix epoch (truncated).
    pub fn unix_millis(self) -> i64 {
        i64::try_from(self.0 / 1_000_000).unwrap_or(i64::MAX)
    }

    /// From a `time::OffsetDateTime` (converted to UTC).
    /// `None` outside years 0000..=9999 in UTC (they have no RFC 3339 form).
    pub fn from_offset_date_time(value: OffsetDateTime) -> Option<Self> {
        Self::from_nanos(value.unix_timestamp_nanos())
    }

    /// As a `time::OffsetDateTime` in UTC.
    pub fn to_offset_date_time(self) -> OffsetDateTime {
        // Every Timestamp is within `time`'s range (years 0000..=9999).
        OffsetDateTime::from_unix_timestamp_nanos(self.0).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// Parses RFC 3339 or ISO 8601 with a zone, with or without second fractions.
    ///
    /// Refuses instants outside years 0000..=9999 in UTC (e.g. `9999-12-31T23:59:59-01:00`):
    /// they cannot be written back as RFC 3339.
    pub fn parse(text: &str) -> Result<Self, TimestampError> {
        let value = OffsetDateTime::parse(text, &Rfc3339)
            .or_else(|_| OffsetDateTime::parse(text, &Iso8601::DEFAULT))
            .map_err(|_| TimestampError)?;
        Self::from_offset_date_time(value).ok_or(TimestampError)
    }

    /// `self + d`, saturating at the end of the supported range.
    pub fn saturating_add(self, d: Duration) -> Self {
        let d = i128::try_from(d.as_nanos()).unwrap_or(i128::MAX);
        Self(self.0.saturating_add(d).min(MAX_NANOS))
    }

    /// `self - d`, saturating at the start of year 0000 (the earliest RFC 3339 instant).
    pub fn saturating_sub(self, d: Duration) -> Self {
        let d = i128::try_from(d.as_nanos()).unwrap_or(i128::MAX);
        Self(self.0.saturating_sub(d).max(MIN_NANOS))
    }

    /// How long from `earlier` to `self`; zero when `earlier` is later.
    pub fn duration_since(self, earlier: Timestamp) -> Duration {
        let d = self.0 - earlier.0;
        if d <= 0 {
            return Duration::ZERO;
        }
        // At most 20000 years: the seconds fit in u64, the remainder in u32.
        let secs = u64::try_from(d / NANOS_PER_SECOND).unwrap_or(u64::MAX);
        let nanos = u32::try_from(d % NANOS_PER_SECOND).unwrap_or(0);
        Duration::new(secs, nanos)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = self.to_offset_date_time();
        match value.format(&Rfc3339) {
            Ok(s) => f.write_str(&s),
            Err(_) => write!(f, "{value}"),
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
        assert_eq!(far, Timestamp::MAX);
        assert_eq!(early.to_string(), "0000-01-01T00:00:00Z");
        assert_eq!(
            Timestamp::MAX.duration_since(early),
            Duration::from_nanos(1)
                + Timestamp::MAX.duration_since(early.saturating_add(Duration::from_nanos(1)))
        );
    }

    #[test]
    fn integer_representation_agrees_with_time() {
        let t = Timestamp::parse("1969-12-31T23:59:59.250Z").expect("before the epoch");
        assert_eq!(t.unix_seconds(), -1);
        assert_eq!(t.unix_millis(), -750);
        assert_eq!(t.to_offset_date_time().unix_timestamp(), -1);
        assert_eq!(t.to_string(), "1969-12-31T23:59:59.25Z");
        let u = Timestamp::from_unix_millis(1_764_158_400_123).expect("in range");
        assert_eq!(u.to_string(), "2025-11-26T12:00:00.123Z");
        assert_eq!(
            u.saturating_add(Duration::from_millis(877)).to_string(),
            "2025-11-26T12:00:01Z"
        );
        assert_eq!(
            u.duration_since(t),
            Duration::from_millis(1_764_158_400_123 + 750)
        );
    }
}
