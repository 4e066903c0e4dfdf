//! Shared helpers for the engine's integration tests.
#![allow(dead_code)]

use kevdb_engine::{ApiShape, Db, Event, IntField, Options, Query, StrField, TimeField, Timestamp};
use std::collections::BTreeMap;
use std::path::Path;

/// Midnight 2026-11-01 UTC.
pub const BASE: i64 = 1_793_491_200 * 1_000_000;
pub const HOUR: i64 = 3_600 * 1_000_000;
pub const DAY: i64 = 24 * HOUR;

/// A core/v1 event with the fields queries look at.
pub fn event(uid: &str, ns: &str, reason: &str, kind: &str, name: &str, count: i64, last_seen: i64) -> Event {
    let mut e = Event::new(ApiShape::CoreV1);
    e.set_str(StrField::MetadataName, Some(format!("{name}.{uid}")));
    e.set_str(StrField::MetadataNamespace, Some(ns));
    e.set_str(StrField::MetadataUid, Some(uid));
    e.set_str(StrField::MetadataResourceVersion, Some((count * 10).to_string()));
    e.set_str(StrField::InvolvedObjectKind, Some(kind));
    e.set_str(StrField::InvolvedObjectName, Some(name));
    e.set_str(StrField::InvolvedObjectNamespace, Some(ns));
    e.set_str(StrField::Reason, Some(reason));
    e.set_str(StrField::Type, Some(if reason == "BackOff" || reason == "Failed" { "Warning" } else { "Normal" }));
    e.set_str(StrField::Message, Some(format!("{reason} happened to {kind} {name} ({count} times)")));
    e.set_str(StrField::SourceComponent, Some("kubelet"));
    e.set_time(TimeField::FirstTimestamp, Some(Timestamp(last_seen - (count - 1) * 60_000_000)));
    e.set_time(TimeField::LastTimestamp, Some(Timestamp(last_seen)));
    e.set_int(IntField::Count, Some(count));
    e
}

/// Options for tests: small memtables and row groups so that a few
/// thousand events exercise seals, several segments and several groups.
pub fn small_options() -> Options {
    Options { memtable_rows: 500, row_group_rows: 64, background: false, ..Options::default() }
}

/// Every observation the database returns in history mode, keyed by
/// (uid, resourceVersion), with how many times each appears.
pub fn history(db: &Db) -> BTreeMap<(String, String), usize> {
    let mut seen = BTreeMap::new();
    for r in db.query(&Query::new().history(true)).unwrap() {
        let key = (r.event.uid().to_string(), r.event.str(StrField::MetadataResourceVersion).unwrap_or("").to_string());
        *seen.entry(key).or_insert(0) += 1;
    }
    seen
}

/// Total size of the files under `dir`.
pub fn dir_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            total += if p.is_dir() { dir_bytes(&p) } else { e.metadata().map(|m| m.len()).unwrap_or(0) };
        }
    }
    total
}
