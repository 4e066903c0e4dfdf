//! Points in time on the command line: RFC 3339 (`2026-11-20T10:00:00Z`), a
//! date (`2026-11-20`, midnight UTC), or a duration before now (`15m`, `7d`,
//! `1h30m`, `2w`).

use kevdb_engine::model::time::parse_rfc3339;
use kevdb_engine::Timestamp;

/// Parses a duration such as `90s`, `15m`, `1h30m`, `7d`, `2w` into
/// microseconds.
pub fn parse_duration_micros(s: &str) -> Result<i64, String> {
    let bad = || format!("invalid duration {s:?} (expected e.g. 90s, 15m, 1h30m, 7d, 2w)");
    if s.is_empty() {
        return Err(bad());
    }
    let mut total: i64 = 0;
    let mut digits = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit: i64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return Err(bad()),
        };
        let n: i64 = digits.parse().map_err(|_| bad())?;
        digits.clear();
        total = n.checked_mul(unit * Timestamp::MICROS_PER_SEC).and_then(|v| total.checked_add(v)).ok_or_else(bad)?;
    }
    if !digits.is_empty() {
        return Err(bad());
    }
    Ok(total)
}

/// Parses a point in time relative to `now`.
pub fn parse_time(s: &str, now: Timestamp) -> Result<Timestamp, String> {
    if let Some(t) = parse_rfc3339(s) {
        return Ok(t);
    }
    if s.len() == 10 {
        if let Some(t) = parse_rfc3339(&format!("{s}T00:00:00Z")) {
            return Ok(t);
        }
    }
    parse_duration_micros(s).map(|d| now.saturating_add_micros(-d)).map_err(|_| {
        format!("invalid time {s:?} (expected RFC 3339, YYYY-MM-DD, or a duration before now such as 15m or 7d)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        let s = Timestamp::MICROS_PER_SEC;
        assert_eq!(parse_duration_micros("90s"), Ok(90 * s));
        assert_eq!(parse_duration_micros("1h30m"), Ok(5400 * s));
        assert_eq!(parse_duration_micros("7d"), Ok(7 * 86_400 * s));
        assert_eq!(parse_duration_micros("2w"), Ok(14 * 86_400 * s));
        assert!(parse_duration_micros("7").is_err());
        assert!(parse_duration_micros("d").is_err());
        assert!(parse_duration_micros("5y").is_err());
    }

    #[test]
    fn times_parse() {
        let now = parse_rfc3339("2026-11-24T12:00:00Z").unwrap();
        assert_eq!(parse_time("2026-11-20", now), Ok(parse_rfc3339("2026-11-20T00:00:00Z").unwrap()));
        assert_eq!(parse_time("12h", now), Ok(parse_rfc3339("2026-11-24T00:00:00Z").unwrap()));
        assert_eq!(parse_time("2026-11-20T10:00:00+01:00", now), Ok(parse_rfc3339("2026-11-20T09:00:00Z").unwrap()));
        assert!(parse_time("last tuesday", now).unwrap_err().contains("invalid time"));
    }
}
