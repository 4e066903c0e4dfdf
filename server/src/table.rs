//! The columns `kubectl get events` prints, computed from an [`Event`]:
//! LAST SEEN, TYPE, REASON, OBJECT, MESSAGE, and with `-o wide` SUBOBJECT,
//! SOURCE, FIRST SEEN, COUNT, NAME. Shared by the CLI table and the server's
//! `Table` responses (`http::table`).

use kevdb_engine::{Event, StrField, Timestamp};

/// Kubernetes' `HumanDuration`: the age spellings kubectl prints.
pub fn human_duration(micros: i64) -> String {
    let seconds = micros / Timestamp::MICROS_PER_SEC;
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 { format!("{minutes}m") } else { format!("{minutes}m{s}s") };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 { format!("{hours}h") } else { format!("{hours}h{m}m") };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 { format!("{}d", hours / 24) } else { format!("{}d{h}h", hours / 24) };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let d = (hours / 24) % 365;
        return if d == 0 { format!("{}y", hours / 24 / 365) } else { format!("{}y{d}d", hours / 24 / 365) };
    }
    format!("{}y", hours / 24 / 365)
}

fn age(t: Option<Timestamp>, now: Timestamp) -> String {
    match t {
        Some(t) => human_duration(now.0.saturating_sub(t.0)),
        None => "<unknown>".into(),
    }
}

/// `kind/name` with the kind lower-cased, as kubectl prints OBJECT.
pub fn object(e: &Event) -> String {
    let kind = e.str(StrField::InvolvedObjectKind).unwrap_or("").to_lowercase();
    let name = e.str(StrField::InvolvedObjectName).unwrap_or("");
    format!("{kind}/{name}")
}

/// The SOURCE column: `component, host` (or the reporting controller).
pub fn source(e: &Event) -> String {
    let component = e.component();
    match e.str(StrField::SourceHost).filter(|h| !h.is_empty()) {
        Some(host) => format!("{component}, {host}"),
        None => component.to_string(),
    }
}

/// The printed columns of one event.
pub fn row(e: &Event, wide: bool, now: Timestamp) -> Vec<String> {
    let mut cols = vec![age(e.last_seen(), now), e.event_type().to_string(), e.reason().to_string(), object(e)];
    if wide {
        cols.push(e.str(StrField::InvolvedObjectFieldPath).unwrap_or("").to_string());
        cols.push(source(e));
    }
    cols.push(e.message().trim().replace('\n', " "));
    if wide {
        cols.push(age(e.first_seen(), now));
        cols.push(e.observed_count().to_string());
        cols.push(e.name().to_string());
    }
    cols
}

/// Column headers matching [`row`].
pub fn headers(wide: bool) -> Vec<&'static str> {
    if wide {
        vec!["LAST SEEN", "TYPE", "REASON", "OBJECT", "SUBOBJECT", "SOURCE", "MESSAGE", "FIRST SEEN", "COUNT", "NAME"]
    } else {
        vec!["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    }
}

/// Lays rows out like kubectl's tab writer: columns padded to the widest
/// cell plus three spaces; the last column is not padded.
pub fn layout(headers: &[&str], rows: &[Vec<String>]) -> String {
    let n = headers.len();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        for (i, c) in cells.enumerate() {
            out.push_str(c);
            if i + 1 < n {
                out.extend(std::iter::repeat_n(' ', widths[i] - c.chars().count() + 3));
            }
        }
        out.push('\n');
    };
    line(&mut headers.iter().copied());
    for r in rows {
        line(&mut r.iter().map(String::as_str));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations_match_kubectl() {
        let s = Timestamp::MICROS_PER_SEC;
        for (secs, want) in [
            (5, "5s"),
            (119, "119s"),
            (125, "2m5s"),
            (600, "10m"),
            (3 * 3600 + 60, "3h1m"),
            (10 * 3600, "10h"),
            (3 * 86_400 + 3600, "3d1h"),
            (30 * 86_400, "30d"),
            (3 * 365 * 86_400 + 86_400, "3y1d"),
        ] {
            assert_eq!(human_duration(secs * s), want, "{secs}s");
        }
        assert_eq!(human_duration(-5 * s), "<invalid>");
    }

    #[test]
    fn layout_pads_like_a_tab_writer() {
        let out = layout(&["A", "BB"], &[vec!["xyz".into(), "1".into()]]);
        assert_eq!(out, "A     BB\nxyz   1\n");
    }
}
