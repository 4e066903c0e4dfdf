//! One JSON object → one [`Event`]: fills the typed slots, records
//! `null`/`{}` keys in the presence word, and moves everything the slots do
//! not reproduce exactly into the residual object.
//!
//! **Invariant:** rendering the result in its own shape gives back the input
//! object (less `managedFields`), because every key ends up in exactly one
//! of: a slot written in its canonical spelling, a presence bit, or the
//! residual under its original key path. See `render` for the other half.

use super::node::{self, Entries, Node, ObjectRef};
use super::schema::{self, Top};
use super::ParseOptions;
use crate::model::event::{ApiShape, Event, TimeField, Timestamp};
use crate::model::presence::{self, Container, Slot};
use crate::model::time::parse_rfc3339;

/// How a timestamp string relates to its slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimeText {
    /// The API server's own spelling: the slot reproduces it.
    Canonical(Timestamp),
    /// A valid RFC 3339 time in another spelling (offset, other precision).
    Other(Timestamp),
    /// `""` or `"null"`: accepted as no time.
    Empty,
    /// Not a time.
    Invalid,
}

/// Classifies a timestamp string for a `metav1.Time` (`micro == false`) or
/// `metav1.MicroTime` slot.
pub(crate) fn classify_time(s: &str, micro: bool) -> TimeText {
    if let Some(t) = parse_canonical(s.as_bytes(), micro) {
        return TimeText::Canonical(t);
    }
    if s.is_empty() || s == "null" {
        return TimeText::Empty;
    }
    match parse_rfc3339(s) {
        Some(t) => TimeText::Other(t),
        None => TimeText::Invalid,
    }
}

/// Parses exactly `YYYY-MM-DDTHH:MM:SSZ` (or `…SS.ffffffZ` when `micro`),
/// the spellings `time::format_time` / `format_micro_time` produce, without
/// going through chrono: this is the hot path of ingest.
fn parse_canonical(b: &[u8], micro: bool) -> Option<Timestamp> {
    let len = if micro { 27 } else { 20 };
    if b.len() != len || b[len - 1] != b'Z' {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        b.get(from..to)?.iter().try_fold(0i64, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0')))
    };
    let seps = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if seps.iter().any(|&(i, c)| b[i] != c) || (micro && b[19] != b'.') {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let frac = if micro { num(20, 26)? } else { 0 };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if day < 1 || day > month_days || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    // Days from 1970-01-01 to year-month-day (proleptic Gregorian); the
    // civil-from-days inverse of Howard Hinnant's `days_from_civil`.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second;
    Some(Timestamp(secs * Timestamp::MICROS_PER_SEC + frac))
}

fn describe(value: &Node) -> String {
    match value {
        Node::String(s) if s.chars().count() <= 40 => format!("string {s:?}"),
        Node::Number(n) => format!("number {n}"),
        Node::Bool(b) => format!("boolean {b}"),
        other => other.type_name().to_owned(),
    }
}

/// How every error for an object that is not an Event at all begins (an
/// events-only parse skips those records instead of reporting them).
pub(crate) const NOT_AN_EVENT: &str = "not an Event: ";

/// Checks `kind`, `apiVersion` and `metadata`, and picks the shape.
fn check_object(map: &Entries) -> Result<ApiShape, String> {
    let has_kind = match node::get(map, "kind") {
        None | Some(Node::Null) => false,
        Some(Node::String(k)) if k == "Event" => true,
        Some(Node::String(k)) => return Err(format!("{NOT_AN_EVENT}kind {k}")),
        Some(v) => return Err(format!("kind: expected a string, got {}", describe(v))),
    };
    let shape = match node::get(map, "apiVersion") {
        Some(Node::String(v)) => match ApiShape::from_api_version(v) {
            Some(shape) => shape,
            None => return Err(format!("{NOT_AN_EVENT}apiVersion {v}")),
        },
        None | Some(Node::Null) => {
            if map.iter().any(|(k, _)| schema::is_events_only_key(k)) {
                ApiShape::EventsV1
            } else {
                ApiShape::CoreV1
            }
        }
        Some(v) => return Err(format!("apiVersion: expected a string, got {}", describe(v))),
    };
    if !has_kind && !map.iter().any(|(k, _)| schema::is_event_key(k)) {
        return Err(format!("{NOT_AN_EVENT}no kind and no Event fields"));
    }
    match node::get(map, "metadata") {
        Some(Node::Object(_)) => Ok(shape),
        None => Err("missing metadata".to_owned()),
        Some(v) => Err(format!("metadata: expected an object, got {}", describe(v))),
    }
}

/// Builds an [`Event`] from one Event object (either shape), taking the
/// tree apart without copying its strings. See [`super::event_from_value`].
pub(crate) fn event_from_node(value: Node, opts: &ParseOptions) -> Result<Event, String> {
    let map = match value {
        Node::Object(map) => map,
        other => return Err(format!("expected an object, got {}", other.type_name())),
    };
    let shape = check_object(&map)?;
    let events = shape.is_events_group();
    let mut event = Event::new(shape);
    let mut residual = Entries::new();
    for (key, value) in map {
        match schema::top_from_key(events, &key) {
            Some(Top::Kind) if value.as_str().is_some() => event.presence.0 |= presence::KIND,
            Some(Top::ApiVersion) if value.as_str().is_some() => event.presence.0 |= presence::API_VERSION,
            Some(Top::Container(c)) => put_container(&mut event, c, key, value, &mut residual, opts)?,
            Some(Top::Leaf(slot)) => put_leaf(&mut event, slot, None, key, value, &mut residual)?,
            _ => residual.push((key, value)),
        }
    }
    stamp_creation_if_timeless(&mut event, &mut residual);
    if !residual.is_empty() {
        let text = serde_json::to_string(&ObjectRef(&residual)).map_err(|e| format!("residual: {e}"))?;
        event.residual = Some(text.into_boxed_str());
    }
    Ok(event)
}

/// The API server sets `metadata.creationTimestamp` on create; do the same
/// for an event without any time, so that every event has a last-seen time.
fn stamp_creation_if_timeless(event: &mut Event, residual: &mut Entries) {
    if event.times.iter().any(Option::is_some) {
        return;
    }
    let now = Timestamp::now();
    let whole = now.0 - now.0.rem_euclid(Timestamp::MICROS_PER_SEC);
    event.set_time(TimeField::CreationTimestamp, Some(Timestamp(whole)));
    event.presence.0 &= !presence::null_bit(Slot::Time(TimeField::CreationTimestamp));
    // A spelling kept for the old empty value would no longer match the slot.
    let meta = residual.iter_mut().find(|(k, _)| k == "metadata").map(|(_, v)| v);
    if let Some(Node::Object(meta)) = meta {
        node::remove(meta, "creationTimestamp");
        if meta.is_empty() {
            node::remove(residual, "metadata");
        }
    }
}

fn put_container(
    event: &mut Event,
    container: Container,
    key: String,
    value: Node,
    residual: &mut Entries,
    opts: &ParseOptions,
) -> Result<(), String> {
    let map = match value {
        Node::Object(map) => map,
        Node::Null if container != Container::Metadata => {
            event.presence.0 |= presence::container_null_bit(container);
            return Ok(());
        }
        other => return Err(format!("{key}: expected an object, got {}", describe(&other))),
    };
    let mut sub = Entries::new();
    for (leaf_key, leaf_value) in map {
        if container == Container::Metadata && leaf_key == "managedFields" && !opts.keep_managed_fields {
            continue;
        }
        match schema::leaf_from_key(container, &leaf_key) {
            Some(slot) => put_leaf(event, slot, Some(&key), leaf_key, leaf_value, &mut sub)?,
            None => sub.push((leaf_key, leaf_value)),
        }
    }
    if !presence::container_has_leaves(event, event.presence.0, container) {
        event.presence.0 |= presence::empty_bit(container);
    }
    if !sub.is_empty() {
        residual.push((key, Node::Object(sub)));
    }
    Ok(())
}

fn path(parent: Option<&str>, key: &str) -> String {
    match parent {
        Some(p) => format!("{p}.{key}"),
        None => key.to_owned(),
    }
}

/// Fills one typed slot from `value`; whatever the slot cannot spell back
/// exactly also goes to `residual[key]`.
fn put_leaf(
    event: &mut Event,
    slot: Slot,
    parent: Option<&str>,
    key: String,
    value: Node,
    residual: &mut Entries,
) -> Result<(), String> {
    if value == Node::Null {
        event.presence.0 |= presence::null_bit(slot);
        return Ok(());
    }
    match slot {
        Slot::Str(f) => {
            let text = match value {
                Node::String(s) => {
                    event.strs[f.index()] = Some(s.into_boxed_str());
                    return Ok(());
                }
                // Accepted (YAML writes `name: 123` unquoted) but kept
                // verbatim: the slot's string alone would render as a string.
                Node::Number(ref n) => n.to_string(),
                Node::Bool(b) => b.to_string(),
                ref other => {
                    let msg = format!("{}: expected a string, got {}", path(parent, &key), other.type_name());
                    return Err(msg);
                }
            };
            event.strs[f.index()] = Some(text.into_boxed_str());
            residual.push((key, value));
        }
        Slot::Time(f) => {
            let Node::String(s) = &value else {
                let msg = format!("{}: expected a timestamp string, got {}", path(parent, &key), describe(&value));
                return Err(msg);
            };
            match classify_time(s, schema::is_micro(f)) {
                TimeText::Canonical(t) => event.times[f.index()] = Some(t),
                TimeText::Other(t) => {
                    event.times[f.index()] = Some(t);
                    residual.push((key, value));
                }
                TimeText::Empty => residual.push((key, value)),
                TimeText::Invalid => return Err(format!("{}: invalid timestamp {s:?}", path(parent, &key))),
            }
        }
        Slot::Int(f) => {
            let n = match &value {
                Node::Number(n) => n.as_i64().filter(|&i| i32::try_from(i).is_ok()),
                _ => None,
            };
            match n {
                Some(i) => event.ints[f.index()] = Some(i),
                None => {
                    let msg = format!("{}: expected an int32 integer, got {}", path(parent, &key), describe(&value));
                    return Err(msg);
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::time::{format_micro_time, format_time};

    #[test]
    fn canonical_fast_path_agrees_with_chrono() {
        for s in [
            "1970-01-01T00:00:00Z",
            "2000-02-29T23:59:59Z",
            "2018-01-19T09:26:50Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "1900-03-01T00:00:00Z",
        ] {
            let t = parse_canonical(s.as_bytes(), false).unwrap();
            assert_eq!(Some(t), parse_rfc3339(s), "{s}");
            assert_eq!(format_time(t), s);
        }
        let s = "2002-01-01T01:01:01.000002Z";
        let t = parse_canonical(s.as_bytes(), true).unwrap();
        assert_eq!((Some(t), format_micro_time(t).as_str()), (parse_rfc3339(s), s));
    }

    #[test]
    fn non_canonical_spellings_are_not_taken_by_the_fast_path() {
        for s in ["2018-02-30T00:00:00Z", "2018-01-19T24:00:00Z", "2018-01-19t09:26:50Z", "2018-01-19T09:26:60Z"] {
            assert_eq!(parse_canonical(s.as_bytes(), false), None, "{s}");
        }
        assert_eq!(classify_time("2018-01-19T09:26:50Z", true), TimeText::Other(Timestamp::from_secs(1_516_354_010)));
        assert!(matches!(classify_time("2018-01-19T11:26:50+02:00", false), TimeText::Other(_)));
        assert_eq!(classify_time("null", false), TimeText::Empty);
        assert_eq!(classify_time("yesterday", false), TimeText::Invalid);
    }
}
