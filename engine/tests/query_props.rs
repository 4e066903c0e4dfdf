//! The query engine against a brute-force model: random events (with
//! re-deliveries and newer observations), random seals and compactions, and
//! thousands of random queries — filters of every kind, windows, orders,
//! history, labels and page sizes. Results must be identical.

mod common;

use common::*;
use kevdb_engine::{Db, Event, FieldFilter, GroupBy, LabelOp, LabelRequirement, Order, Query, QueryField, Timestamp};
use proptest::prelude::*;
use std::collections::HashMap;

const NAMESPACES: &[&str] = &["a", "b", "c"];
const REASONS: &[&str] = &["BackOff", "Pulled", "Failed", "Scheduled"];
const KINDS: &[&str] = &["Pod", "Node", "Job"];

#[derive(Debug, Clone)]
struct Delivery {
    uid: u8,
    count: i64,
    ns: usize,
    reason: usize,
    kind: usize,
    hour: i64,
    label: Option<&'static str>,
}

fn delivery() -> impl Strategy<Value = Delivery> {
    (
        0u8..60,
        1i64..5,
        0..NAMESPACES.len(),
        0..REASONS.len(),
        0..KINDS.len(),
        0i64..(24 * 6),
        prop::option::of(prop::sample::select(vec!["web", "db"])),
    )
        .prop_map(|(uid, count, ns, reason, kind, hour, label)| Delivery {
            uid,
            count,
            ns,
            reason,
            kind,
            hour,
            label,
        })
}

fn to_event(d: &Delivery) -> Event {
    // Properties of an event are fixed by its uid; only count and time vary.
    let ns = NAMESPACES[d.uid as usize % NAMESPACES.len()];
    let reason = REASONS[(d.uid as usize / 3) % REASONS.len()];
    let kind = KINDS[(d.uid as usize / 2) % KINDS.len()];
    let _ = (d.ns, d.reason, d.kind);
    // As the API server does, an event keeps its first-seen time across
    // observations; later ones are last seen later.
    let first = BASE + i64::from(d.uid % 24) * HOUR;
    let last = first.max(BASE + d.hour * HOUR) + d.count * 60_000_000;
    let mut e = event(&format!("u{}", d.uid), ns, reason, kind, &format!("o{}", d.uid % 7), d.count, last);
    e.set_time(kevdb_engine::TimeField::FirstTimestamp, Some(Timestamp(first)));
    if let Some(app) = d.label.filter(|_| d.uid.is_multiple_of(2)) {
        e.set_residual(Some(format!(r#"{{"metadata":{{"labels":{{"app":"{app}"}}}}}}"#).into()));
    }
    e
}

fn filter() -> impl Strategy<Value = FieldFilter> {
    let field = prop::sample::select(vec![
        QueryField::MetadataNamespace,
        QueryField::Reason,
        QueryField::Type,
        QueryField::InvolvedObjectKind,
        QueryField::InvolvedObjectName,
        QueryField::Component,
        QueryField::Cluster,
    ]);
    let values = prop::collection::vec(
        prop::sample::select(vec![
            "a", "b", "Pulled", "BackOff", "Warning", "Normal", "Pod", "Job", "o1", "o3", "kubelet", "default", "",
        ]),
        1..3,
    );
    (field, values, any::<bool>()).prop_map(|(field, values, negate)| {
        if negate {
            FieldFilter::not_in(field, values)
        } else {
            FieldFilter::is_in(field, values)
        }
    })
}

fn query() -> impl Strategy<Value = (Query, usize)> {
    (
        prop::collection::vec(filter(), 0..3),
        prop::option::of(0i64..(24 * 7)),
        prop::option::of(0i64..(24 * 7)),
        any::<bool>(),
        any::<bool>(),
        prop::option::of(prop::sample::select(vec![
            LabelRequirement { key: "app".into(), op: LabelOp::In(vec!["web".into()]) },
            LabelRequirement { key: "app".into(), op: LabelOp::DoesNotExist },
            LabelRequirement { key: "app".into(), op: LabelOp::NotIn(vec!["db".into()]) },
        ])),
        1usize..40,
        prop::option::of(prop::sample::select(vec![
            "BackOff",
            "happened pod",
            "\"happened to Job\"",
            "-Pulled",
            "o1 OR o3",
            "Sched*",
            "Node -BackOff",
            "(Failed OR Pulled) 2",
        ])),
    )
        .prop_map(|(filters, since, until, history, oldest, label, page, text)| {
            let q = Query {
                since: since.map(|h| Timestamp(BASE + h * HOUR)),
                until: until.map(|h| Timestamp(BASE + h * HOUR)),
                filters,
                labels: label.into_iter().collect(),
                text: text.map(str::to_string),
                history,
                order: if oldest { Order::OldestFirst } else { Order::NewestFirst },
                ..Query::default()
            };
            (q, page)
        })
}

/// The model: which deliveries are accepted (a higher count than stored),
/// their seqs, and which are latest.
fn model(batches: &[Vec<Delivery>]) -> Vec<(u64, Event, bool)> {
    let mut stored: HashMap<u8, (i64, usize)> = HashMap::new();
    let mut rows: Vec<(u64, Event, bool)> = Vec::new();
    for d in batches.iter().flatten() {
        if stored.get(&d.uid).is_some_and(|(c, _)| *c >= d.count) {
            continue;
        }
        if let Some((_, idx)) = stored.get(&d.uid) {
            rows[*idx].2 = false;
        }
        let mut e = to_event(d);
        e.set_cluster("default");
        rows.push((rows.len() as u64 + 1, e, true));
        stored.insert(d.uid, (d.count, rows.len() - 1));
    }
    rows
}

fn expected(rows: &[(u64, Event, bool)], q: &Query) -> Vec<u64> {
    let mut hits: Vec<&(u64, Event, bool)> =
        rows.iter().filter(|(_, e, latest)| (q.history || *latest) && q.matches(e)).collect();
    hits.sort_by_key(|(seq, e, _)| (e.last_seen().unwrap(), *seq));
    if q.order == Order::NewestFirst {
        hits.reverse();
    }
    hits.into_iter().map(|(seq, _, _)| *seq).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn planner_agrees_with_brute_force(
        batches in prop::collection::vec(prop::collection::vec(delivery(), 1..40), 1..12),
        seal_after in prop::collection::vec(any::<bool>(), 12),
        compact_at_end in any::<bool>(),
        queries in prop::collection::vec(query(), 60),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let opts = kevdb_engine::Options { memtable_rows: 64, row_group_rows: 8, compaction_min_segments: 2, ..small_options() };
        let db = Db::open(dir.path(), opts).unwrap();
        for (i, batch) in batches.iter().enumerate() {
            db.append(batch.iter().map(to_event).collect()).unwrap();
            if seal_after[i] {
                db.flush().unwrap();
            }
        }
        if compact_at_end {
            db.flush().unwrap();
            db.compact().unwrap();
        }
        let rows = model(&batches);
        for (q, page) in &queries {
            let want = expected(&rows, q);
            let got: Vec<u64> = db.query(q).unwrap().map(|r| r.seq.0).collect();
            prop_assert_eq!(&got, &want, "query {:?}", q);
            prop_assert_eq!(db.count(q).unwrap() as usize, want.len(), "count {:?}", q);
            let mut by_reason: std::collections::BTreeMap<String, u64> = Default::default();
            for (seq, e, _) in &rows {
                if want.contains(seq) {
                    *by_reason.entry(format!("{}/{}", e.reason(), e.namespace())).or_default() += 1;
                }
            }
            let groups = db.count_by(q, &[GroupBy::Reason, GroupBy::Namespace], None).unwrap();
            let got_groups: std::collections::BTreeMap<String, u64> =
                groups.into_iter().map(|g| (g.key.join("/"), g.count)).collect();
            prop_assert_eq!(got_groups, by_reason, "count_by {:?}", q);
            let mut paged = Vec::new();
            let mut token = None;
            loop {
                let p = db.query_page(q, *page, token.as_deref()).unwrap();
                paged.extend(p.items.iter().map(|r| r.seq.0));
                match p.continue_token { Some(t) => token = Some(t), None => break }
            }
            prop_assert_eq!(&paged, &want, "paged by {} {:?}", page, q);
        }
    }
}

/// The real data set, ingested once per test run, with every path of the
/// planner compared against filtering the unfiltered scan by brute force.
mod real_data {
    use super::*;
    use kevdb_engine::model::parse::{parse_bytes, ParseOptions};
    use std::path::Path;
    use std::sync::OnceLock;

    struct Loaded {
        _dir: tempfile::TempDir,
        db: Db,
        all: Vec<kevdb_engine::StoredEvent>,
        namespaces: Vec<String>,
        reasons: Vec<String>,
        names: Vec<String>,
    }

    fn loaded() -> &'static Loaded {
        static CELL: OnceLock<Loaded> = OnceLock::new();
        CELL.get_or_init(|| {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/events");
            assert!(root.is_dir(), "missing {}", root.display());
            let dir = tempfile::tempdir().unwrap();
            let opts = kevdb_engine::Options { memtable_rows: 700, row_group_rows: 64, ..small_options() };
            let db = Db::open(dir.path(), opts).unwrap();
            let mut files: Vec<_> = std::fs::read_dir(&root)
                .unwrap()
                .flatten()
                .flat_map(|d| std::fs::read_dir(d.path()).unwrap().flatten())
                .map(|f| f.path())
                .collect();
            files.sort();
            for (i, f) in files.iter().enumerate() {
                db.append(parse_bytes(&std::fs::read(f).unwrap(), &ParseOptions::default()).events).unwrap();
                if i % 9 == 0 {
                    db.flush().unwrap();
                }
            }
            db.flush().unwrap();
            db.compact().unwrap();
            // A few hundred rows stay in memory, so both paths are exercised.
            let tail = parse_bytes(&std::fs::read(&files[0]).unwrap(), &ParseOptions::default()).events;
            let bumped: Vec<Event> = tail
                .into_iter()
                .map(|mut e| {
                    e.set_str(kevdb_engine::StrField::MetadataUid, Some(format!("{}-again", e.uid())));
                    e
                })
                .collect();
            db.append(bumped).unwrap();
            let all: Vec<_> = db.query(&Query::new()).unwrap().collect();
            let distinct = |f: kevdb_engine::StrField| {
                let mut v: Vec<String> = all.iter().map(|r| r.event.str(f).unwrap_or("").to_string()).collect();
                v.sort();
                v.dedup();
                v
            };
            let namespaces = distinct(kevdb_engine::StrField::MetadataNamespace);
            let reasons = distinct(kevdb_engine::StrField::Reason);
            let names = distinct(kevdb_engine::StrField::InvolvedObjectName);
            Loaded { _dir: dir, db, all, namespaces, reasons, names }
        })
    }

    fn real_query() -> impl Strategy<Value = (usize, usize, usize, u8, bool, u8)> {
        (any::<usize>(), any::<usize>(), any::<usize>(), 0u8..8, any::<bool>(), 0u8..6)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        #[test]
        fn planner_agrees_with_brute_force_on_real_data((ns, reason, name, shape, oldest, text) in real_query()) {
            let l = loaded();
            let pick = |v: &Vec<String>, i: usize| v[i % v.len()].clone();
            let mut q = Query::new().order(if oldest { Order::OldestFirst } else { Order::NewestFirst });
            if shape & 1 != 0 { q = q.namespace(pick(&l.namespaces, ns)); }
            if shape & 2 != 0 { q = q.filter(FieldFilter::not_in(QueryField::Reason, [pick(&l.reasons, reason)])); }
            if shape & 4 != 0 { q = q.name(pick(&l.names, name)).event_type("Normal").event_type("Warning"); }
            q.text = ["", "pulled", "\"successfully assigned\"", "-started", "container OR image", "back*"][text as usize]
                .to_string()
                .into();
            if q.text.as_deref() == Some("") { q.text = None; }
            let mut want: Vec<_> = l.all.iter().filter(|r| q.matches(&r.event)).map(|r| (r.last_seen(), r.seq)).collect();
            want.sort();
            if !oldest { want.reverse(); }
            let got: Vec<_> = l.db.query(&q).unwrap().map(|r| (r.last_seen(), r.seq)).collect();
            prop_assert_eq!(&got, &want, "{:?}", q);
            prop_assert_eq!(l.db.count(&q).unwrap() as usize, want.len());
        }
    }
}
