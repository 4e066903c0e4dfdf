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
