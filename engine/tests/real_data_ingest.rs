//! Every file of `shared/data/events` (real dumps from public projects)
//! ingested into a database: one row per event with its latest count, and
//! counts by type, reason, kind and namespace equal to what this test
//! computes straight from the files with serde_json / serde_norway.

mod common;

use kevdb_engine::model::parse::{parse_bytes, ParseOptions};
use kevdb_engine::{Db, Event, IntField, Query, StrField, TimeField};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

fn data_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/events");
    assert!(dir.is_dir(), "real event data missing at {} (the repo expects shared/ beside it)", dir.display());
    dir
}

fn files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for sub in std::fs::read_dir(data_dir()).unwrap().flatten() {
        for f in std::fs::read_dir(sub.path()).unwrap().flatten() {
            out.push(f.path());
        }
    }
    out.sort();
    assert!(out.len() > 50, "expected the full data set, found {} files", out.len());
    out
}

/// Event objects of a file, found without kevdb's parser.
fn raw_events(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    let docs: Vec<Value> = if path.extension().is_some_and(|e| e == "json") {
        serde_json::Deserializer::from_str(&text).into_iter::<Value>().map(Result::unwrap).collect()
    } else {
        use serde::Deserialize;
        serde_norway::Deserializer::from_str(&text)
            .map(|d| Value::deserialize(d).unwrap())
            .filter(|v| !v.is_null())
            .collect()
    };
    let mut out = Vec::new();
    for doc in docs {
        match doc {
            Value::Array(items) => out.extend(items),
            Value::Object(ref o) if o.contains_key("items") => out.extend(o["items"].as_array().unwrap().clone()),
            Value::Object(ref o) if o.contains_key("object") => out.push(o["object"].clone()),
            other => out.push(other),
        }
    }
    out
}

fn s<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    path.iter().try_fold(v, |v, k| v.get(k)).and_then(Value::as_str).unwrap_or("")
}

#[derive(Debug, Clone)]
struct Expected {
    rv: u64,
    count: i64,
    event_type: String,
    reason: String,
    kind: String,
    namespace: String,
}

fn expected_of(v: &Value) -> Expected {
    let count = ["count", "deprecatedCount"]
        .iter()
        .find_map(|k| v.get(k).and_then(Value::as_i64))
        .or_else(|| v.get("series").and_then(|s| s.get("count")).and_then(Value::as_i64));
    let count = v.get("series").and_then(|s| s.get("count")).and_then(Value::as_i64).or(count).unwrap_or(1);
    let obj = if v.get("regarding").is_some() { "regarding" } else { "involvedObject" };
    Expected {
        rv: s(v, &["metadata", "resourceVersion"]).parse().unwrap_or(0),
        count,
        event_type: s(v, &["type"]).into(),
        reason: s(v, &["reason"]).into(),
        kind: s(v, &[obj, "kind"]).into(),
        namespace: s(v, &["metadata", "namespace"]).into(),
    }
}

fn tally<'a>(items: impl Iterator<Item = (&'a str, &'a str, &'a str, &'a str)>) -> BTreeMap<String, usize> {
    let mut t = BTreeMap::new();
    for (ty, reason, kind, ns) in items {
        for key in [format!("type={ty}"), format!("reason={reason}"), format!("kind={kind}"), format!("namespace={ns}")]
        {
            *t.entry(key).or_insert(0) += 1;
        }
    }
    t
}

#[test]
fn every_real_event_is_stored_once_with_its_latest_count() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), common::small_options()).unwrap();
    let mut expected: HashMap<String, Expected> = HashMap::new();
    let mut total = 0;
    for path in files() {
        let parsed = parse_bytes(&std::fs::read(&path).unwrap(), &ParseOptions::default());
        assert!(parsed.errors.is_empty(), "{}: {:?}", path.display(), parsed.errors);
        let raw = raw_events(&path);
        assert_eq!(parsed.events.len(), raw.len(), "{}", path.display());
        total += raw.len();
        for v in &raw {
            let uid = s(v, &["metadata", "uid"]);
            assert!(!uid.is_empty(), "{}: event without uid", path.display());
            let e = expected_of(v);
            let slot = expected.entry(uid.to_string()).or_insert_with(|| e.clone());
            if (e.rv, e.count) > (slot.rv, slot.count) {
                *slot = e;
            }
        }
        let report = db.append(parsed.events).unwrap();
        assert!(report.rejected.is_empty(), "{}: {:?}", path.display(), report.rejected);
    }
    assert!(total > 4000, "{total}");

    let check = |db: &Db, stage: &str| {
        let rows: Vec<_> = db.query(&Query::new()).unwrap().collect();
        assert_eq!(rows.len(), expected.len(), "{stage}: one row per event");
        let mut seen = std::collections::HashSet::new();
        for r in &rows {
            assert!(seen.insert(r.event.uid().to_string()), "{stage}: {} twice", r.event.uid());
            let want = &expected[r.event.uid()];
            assert_eq!(r.event.observed_count(), want.count, "{stage}: count of {}", r.event.uid());
        }
        let got = tally(rows.iter().map(|r| {
            let e = &r.event;
            (e.event_type(), e.reason(), e.str(StrField::InvolvedObjectKind).unwrap_or(""), e.namespace())
        }));
        let want = tally(
            expected
                .values()
                .map(|e| (e.event_type.as_str(), e.reason.as_str(), e.kind.as_str(), e.namespace.as_str())),
        );
        assert_eq!(got, want, "{stage}: counts by type, reason, kind and namespace");
    };
    check(&db, "fresh");
    db.flush().unwrap();
    check(&db, "sealed");

    // Ingesting everything again adds nothing.
    for path in files() {
        let parsed = parse_bytes(&std::fs::read(&path).unwrap(), &ParseOptions::default());
        let n = parsed.events.len();
        let report = db.append(parsed.events).unwrap();
        assert_eq!((report.accepted, report.duplicates), (0, n), "{}", path.display());
    }
    check(&db, "re-ingested");

    // A newer observation of a real event replaces it; history shows both.
    let original = db.query(&Query::new().event_type("Warning").limit(1)).unwrap().next().unwrap().event;
    let mut newer: Event = original.clone();
    let count = original.observed_count() + 7;
    newer.set_int(IntField::Count, Some(count));
    if newer.int(IntField::SeriesCount).is_some() {
        newer.set_int(IntField::SeriesCount, Some(count));
    }
    let rv: u64 = original.str(StrField::MetadataResourceVersion).and_then(|r| r.parse().ok()).unwrap_or(0);
    newer.set_str(StrField::MetadataResourceVersion, Some((rv + 1000).to_string()));
    newer.set_time(TimeField::LastTimestamp, Some(original.last_seen().unwrap().saturating_add_micros(3_600_000_000)));
    assert_eq!(db.append(vec![newer]).unwrap().accepted, 1);
    let uid = original.uid().to_string();
    let latest: Vec<_> = db.query(&Query::new()).unwrap().filter(|r| r.event.uid() == uid).collect();
    assert_eq!(latest.len(), 1);
    assert_eq!(latest[0].event.observed_count(), count);
    let history: Vec<_> = db.query(&Query::new().history(true)).unwrap().filter(|r| r.event.uid() == uid).collect();
    assert_eq!(
        history.iter().map(|r| r.event.observed_count()).collect::<Vec<_>>(),
        vec![count, original.observed_count()]
    );
}
