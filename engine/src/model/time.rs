//! Kubernetes timestamps: [`Timestamp`] (microseconds since the epoch, UTC),
//! RFC 3339 parsing and the API server's canonical spellings (`metav1.Time`
//! to the second, `metav1.MicroTime` to the microsecond, both in UTC with a
//! `Z`).

use chrono::{DateTime, SecondsFormat, Utc};
use std::fmt;

/// A point in time: microseconds since the Unix epoch, UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Microseconds in a second.
    pub const MICROS_PER_SEC: i64 = 1_000_000;
    /// Microseconds in a UTC day.
    pub const MICROS_PER_DAY: i64 = 86_400 * Self::MICROS_PER_SEC;
    /// The smallest representable time.
    pub const MIN: Timestamp = Timestamp(i64::MIN);
    /// The largest representable time.
    pub const MAX: Timestamp = Timestamp(i64::MAX);

    /// From whole seconds since the epoch.
    pub fn from_secs(secs: i64) -> Timestamp {
        Timestamp(secs.saturating_mul(Self::MICROS_PER_SEC))
    }

    /// Microseconds since the epoch.
    pub fn micros(self) -> i64 {
        self.0
    }

    /// The current wall-clock time.
    pub fn now() -> Timestamp {
        Timestamp(chrono::Utc::now().timestamp_micros())
    }

    /// Days since the epoch (UTC), rounding towards negative infinity.
    pub fn day(self) -> i32 {
        self.0.div_euclid(Self::MICROS_PER_DAY) as i32
    }

    /// Adds a signed number of microseconds, saturating.
    pub fn saturating_add_micros(self, micros: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(micros))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_micros(*self))
    }
}

/// Parses an RFC 3339 timestamp with any offset and up to nanosecond
/// precision (truncated to microseconds).
pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
    let dt = DateTime::parse_from_rfc3339(s).ok()?;
    Some(Timestamp(dt.timestamp_micros()))
}

fn to_datetime(t: Timestamp) -> Option<DateTime<Utc>> {
    DateTime::<Utc>::from_timestamp_micros(t.0)
}

/// The API server's spelling of a `metav1.Time`: `2006-01-02T15:04:05Z`
/// (sub-second digits are dropped, as the API server drops them).
pub fn format_time(t: Timestamp) -> String {
    match to_datetime(t) {
        Some(dt) => dt.to_rfc3339_opts(SecondsFormat::Secs, true),
        None => String::new(),
    }
}

/// The API server's spelling of a `metav1.MicroTime`:
/// `2006-01-02T15:04:05.000000Z`.
pub fn format_micro_time(t: Timestamp) -> String {
    match to_datetime(t) {
        Some(dt) => dt.to_rfc3339_opts(SecondsFormat::Micros, true),
        None => String::new(),
    }
}

/// Human-oriented spelling: microseconds only when there are any.
pub fn format_micros(t: Timestamp) -> String {
    if t.0 % Timestamp::MICROS_PER_SEC == 0 {
        format_time(t)
    } else {
        format_micro_time(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_spellings_round_trip() {
        let t = parse_rfc3339("2018-01-19T09:26:50Z").unwrap();
        assert_eq!(format_time(t), "2018-01-19T09:26:50Z");
        let m = parse_rfc3339("2002-01-01T01:01:01.000002Z").unwrap();
        assert_eq!(format_micro_time(m), "2002-01-01T01:01:01.000002Z");
        assert_eq!(m.0 % 1_000_000, 2);
    }

    #[test]
    fn offsets_are_normalised_to_utc() {
        let t = parse_rfc3339("2018-01-19T11:26:50+02:00").unwrap();
        assert_eq!(format_time(t), "2018-01-19T09:26:50Z");
    }

    #[test]
    fn garbage_is_rejected() {
        assert_eq!(parse_rfc3339("yesterday"), None);
        assert_eq!(parse_rfc3339(""), None);
    }
}
