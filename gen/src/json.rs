//! The JSON text of generated events that needs more than `format!`: string
//! literals and RFC 3339 UTC timestamps, written with std alone so the crate
//! needs no dependencies. Output matches serde_json's string escaping and
//! chrono's `%Y-%m-%dT%H:%M:%S` byte for byte (the tests check both), so the
//! generated data is the same as when the generator used those crates.

use std::fmt::Write;

/// `s` as a JSON string literal: quotes, backslashes and control characters
/// escaped, everything else as is.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c < ' ' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `secs` since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn time(secs: i64) -> String {
    let mut out = String::with_capacity(20);
    write_date_time(&mut out, secs);
    out.push('Z');
    out
}

/// `secs` since the Unix epoch plus `micros` (< 1,000,000) as
/// `YYYY-MM-DDTHH:MM:SS.ffffffZ`, the MicroTime of events.k8s.io.
pub fn micro_time(secs: i64, micros: u32) -> String {
    let mut out = String::with_capacity(27);
    write_date_time(&mut out, secs);
    let _ = write!(out, ".{micros:06}Z");
    out
}

fn write_date_time(out: &mut String, secs: i64) {
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let second_of_day = secs.rem_euclid(86_400);
    // Years outside 0..=9999 carry a sign, as RFC 3339's extension (and
    // chrono) writes them.
    if (0..=9999).contains(&year) {
        let _ = write!(out, "{year:04}");
    } else {
        let _ = write!(out, "{year:+05}");
    }
    let _ = write!(
        out,
        "-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    );
}

/// The proleptic Gregorian (year, month, day) of a day number counted from
/// 1970-01-01, by whole 400-year eras (146,097 days each) starting on March 1
/// so that the leap day ends the year (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468; // days from 0000-03-01
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 } as u32;
    let year = era * 400 + year_of_era + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_escapes_as_serde_json_does() {
        let all_ascii: String = (0u8..0x80).map(char::from).collect();
        for s in [
            all_ascii.as_str(),
            "",
            "plain",
            "Back-off \"restarting\" C:\\ 5m0s",
            "ünïcödé ✓ 🚀",
            "\u{7f}\u{80}\u{2028}",
        ] {
            assert_eq!(quote(s), serde_json::to_string(s).expect("serialise"), "{s:?}");
        }
    }

    #[test]
    fn times_match_chrono() {
        let chrono_time =
            |secs: i64, micros: u32| chrono::DateTime::from_timestamp(secs, micros * 1000).expect("in chrono's range");
        // Era, century, leap-year and year-length boundaries, then a stride
        // through 1900..2600 that lands on every time of day over time.
        let mut samples = vec![
            0,
            -1,
            951_782_399,   // 2000-02-28T23:59:59
            951_868_800,   // 2000-03-01
            4_107_456_000, // 2100-02-28
            4_107_542_400, // 2100-03-01 (2100 is no leap year)
            253_402_300_799,
            253_402_300_800, // 10000-01-01
            -62_167_219_200, // 0000-01-01
            -62_167_219_201,
        ];
        samples.extend((-2_208_988_800..19_880_000_000i64).step_by(86_400 * 3 + 3_607));
        for secs in samples {
            let micros = (secs.rem_euclid(1_000_000)) as u32;
            let expected = chrono_time(secs, 0).format("%Y-%m-%dT%H:%M:%SZ").to_string();
            assert_eq!(time(secs), expected, "{secs}");
            let expected = chrono_time(secs, micros).format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
            assert_eq!(micro_time(secs, micros), expected, "{secs}.{micros}");
        }
    }
}
