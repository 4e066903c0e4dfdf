//! Kubernetes timestamps: RFC 3339 parsing and the API server's canonical
//! spellings (`metav1.Time` to the second, `metav1.MicroTime` to the
//! microsecond, both in UTC with a `Z`).

use super::event::Timestamp;
use chrono::{DateTime, SecondsFormat, Utc};

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
