//! Observation semantics: identity, idempotent re-delivery, latest versus
//! history, ordering, filters and windows, across the memtable, sealed
//! segments, compaction and reopen.

mod common;

use common::*;
use kevdb_engine::{Db, Order, Query, SyncPolicy, Timestamp};

#[test]
fn redelivery_is_a_no_op_and_a_newer_count_replaces_the_latest() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), small_options()).unwrap();
    let first = db.append(vec![event("u1", "shop", "BackOff", "Pod", "web-1", 1, BASE)]).unwrap();
    assert_eq!((first.accepted, first.duplicates), (1, 0));
    assert_eq!(first.seqs, Some(1..=1));

    let again = db.append(vec![event("u1", "shop", "BackOff", "Pod", "web-1", 1, BASE)]).unwrap();
    assert_eq!((again.accepted, again.duplicates), (0, 1));

    let newer = db.append(vec![event("u1", "shop", "BackOff", "Pod", "web-1", 5, BASE + HOUR)]).unwrap();
    assert_eq!((newer.accepted, newer.seqs), (1, Some(2..=2)));
    // An older observation arriving late is also a no-op.
    let stale = db.append(vec![event("u1", "shop", "BackOff", "Pod", "web-1", 3, BASE + 30 * 60_000_000)]).unwrap();
    assert_eq!(stale.duplicates, 1);

    let latest: Vec<_> = db.query(&Query::new()).unwrap().collect();
    assert_eq!(latest.len(), 1);
    assert_eq!(latest[0].event.observed_count(), 5);
    let all: Vec<_> = db.query(&Query::new().history(true)).unwrap().collect();
    assert_eq!(all.iter().map(|r| r.event.observed_count()).collect::<Vec<_>>(), vec![5, 1]);

    // The same holds once everything is sealed, and after a reopen.
    db.flush().unwrap();
    let dup = db.append(vec![event("u1", "shop", "BackOff", "Pod", "web-1", 5, BASE + HOUR)]).unwrap();
    assert_eq!(dup.duplicates, 1);
    db.close().unwrap();
    let db = Db::open(dir.path(), small_options()).unwrap();
    let dup = db.append(vec![event("u1", "shop", "BackOff", "Pod", "web-1", 5, BASE + HOUR)]).unwrap();
    assert_eq!(dup.duplicates, 1);
    assert_eq!(db.query(&Query::new()).unwrap().count(), 1);
    assert_eq!(db.query(&Query::new().history(true)).unwrap().count(), 2);
}

#[test]
fn the_same_uid_in_two_clusters_is_two_events() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), small_options()).unwrap();
    let mut a = event("u1", "ns", "Pulled", "Pod", "p", 1, BASE);
    a.set_cluster("prod");
    let mut b = a.clone();
    b.set_cluster("staging");
    assert_eq!(db.append(vec![a, b]).unwrap().accepted, 2);
    assert_eq!(db.query(&Query::new().cluster("prod")).unwrap().count(), 1);
    assert_eq!(db.query(&Query::new()).unwrap().count(), 2);
}

/// A reference implementation: the latest observation of every event,
/// filtered by brute force.
fn brute_force(all: &[kevdb_engine::Event], q: &Query) -> Vec<(String, i64)> {
    let mut latest: std::collections::BTreeMap<String, &kevdb_engine::Event> = Default::default();
    for e in all {
        let slot = latest.entry(e.uid().to_string()).or_insert(e);
        if e.observed_count() > slot.observed_count() {
            *slot = e;
        }
    }
    let mut rows: Vec<_> =
        latest.values().filter(|e| q.matches(e)).map(|e| (e.uid().to_string(), e.last_seen().unwrap().0)).collect();
    rows.sort_by_key(|(uid, t)| (std::cmp::Reverse(*t), uid.clone()));
    rows
}

#[test]
fn queries_agree_with_brute_force_across_memtable_segments_and_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), small_options()).unwrap();
    let reasons = ["BackOff", "Pulled", "Failed", "Scheduled"];
    let kinds = ["Pod", "Node", "Deployment"];
    let mut all = Vec::new();
    // 3000 events over 10 days, each delivered once or twice; later
    // deliveries have higher counts.
    for i in 0..3000i64 {
        let uid = format!("uid-{i}");
        let t = BASE + (i * 7919 % 3000) * (10 * DAY / 3000);
        let ns = format!("ns-{}", i % 5);
        let e = event(&uid, &ns, reasons[(i % 4) as usize], kinds[(i % 3) as usize], &format!("obj-{}", i % 40), 1, t);
        all.push(e);
        if i % 3 == 0 {
            all.push(event(
                &uid,
                &ns,
                reasons[(i % 4) as usize],
                kinds[(i % 3) as usize],
                &format!("obj-{}", i % 40),
                4,
                t + HOUR,
            ));
        }
    }
    for chunk in all.chunks(250) {
        db.append(chunk.to_vec()).unwrap();
    }
    let queries = [
        Query::new(),
        Query::new().namespace("ns-2"),
        Query::new().event_type("Warning").kind("Pod"),
        Query::new().reason("Pulled").reason("Scheduled"),
        Query::new().since(Timestamp(BASE + 3 * DAY)).until(Timestamp(BASE + 5 * DAY)),
        Query::new().name("obj-7").since(Timestamp(BASE + 8 * DAY)),
        Query::new().component("kubelet").namespace("ns-0"),
    ];
    let check = |db: &Db, stage: &str| {
        for q in &queries {
            let got: Vec<_> = db.query(q).unwrap().map(|r| (r.event.uid().to_string(), r.last_seen().0)).collect();
            let want = brute_force(&all, q);
            // Ties on last-seen are ordered by seq, not uid: compare as multisets per timestamp.
            let norm = |mut v: Vec<(String, i64)>| {
                v.sort_by_key(|(u, t)| (std::cmp::Reverse(*t), u.clone()));
                v
            };
            let got_sorted = norm(got.clone());
            assert_eq!(got_sorted, want, "{stage}: {q:?}");
            assert!(got.windows(2).all(|w| w[0].1 >= w[1].1), "{stage}: not newest first");
            let oldest: Vec<_> =
                db.query(&q.clone().order(Order::OldestFirst)).unwrap().map(|r| r.last_seen().0).collect();
            assert!(oldest.windows(2).all(|w| w[0] <= w[1]), "{stage}: not oldest first");
            assert_eq!(oldest.len(), want.len());
            let limited: Vec<_> = db.query(&q.clone().limit(7)).unwrap().collect();
            assert_eq!(limited.len(), want.len().min(7));
        }
        assert_eq!(db.query(&Query::new().history(true)).unwrap().count(), all.len(), "{stage}: history");
    };
    check(&db, "memtable and sealed");
    db.flush().unwrap();
    check(&db, "all sealed");
    assert!(db.stats().segments >= 10, "{:?}", db.stats());
    let merged = db.compact().unwrap();
    assert!(merged > 0);
    check(&db, "compacted");
    db.close().unwrap();
    let db = Db::open(dir.path(), small_options()).unwrap();
    assert!(db.open_report().is_clean());
    check(&db, "reopened");
}

#[test]
fn unsealed_rows_survive_close_and_are_replayed() {
    let dir = tempfile::tempdir().unwrap();
    for policy in [SyncPolicy::Always, SyncPolicy::Never, SyncPolicy::Interval(std::time::Duration::from_millis(5))] {
        let sub = dir.path().join(format!("{policy:?}").replace(['(', ')', ' ', ','], "_"));
        let opts = kevdb_engine::Options { sync: policy, ..small_options() };
        let db = Db::open(&sub, opts.clone()).unwrap();
        for i in 0..300 {
            db.append(vec![event(&format!("u{i}"), "ns", "Pulled", "Pod", "p", 1, BASE + i)]).unwrap();
        }
        db.close().unwrap();
        let db = Db::open(&sub, opts).unwrap();
        assert_eq!(db.open_report().replayed_rows, 300, "{policy:?}");
        assert_eq!(db.query(&Query::new().namespace("ns")).unwrap().count(), 300);
        // Seqs continue after the replayed ones.
        let r = db.append(vec![event("new", "ns", "Pulled", "Pod", "p", 1, BASE)]).unwrap();
        assert_eq!(r.seqs, Some(301..=301));
    }
}

#[test]
fn events_without_timestamps_are_stamped_and_bad_ones_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), small_options()).unwrap();
    let mut bare = kevdb_engine::Event::new(kevdb_engine::ApiShape::CoreV1);
    bare.set_str(kevdb_engine::StrField::MetadataUid, Some("bare"));
    let mut far = event("far", "ns", "Pulled", "Pod", "p", 1, BASE);
    far.set_time(kevdb_engine::TimeField::LastTimestamp, Some(Timestamp(i64::MAX / 2)));
    let good = event("good", "ns", "Pulled", "Pod", "p", 1, BASE);
    let r = db.append(vec![bare, far, good]).unwrap();
    assert_eq!(r.accepted, 2);
    assert_eq!(r.rejected.len(), 1);
    assert_eq!(r.rejected[0].index, 1);
    assert!(r.rejected[0].reason.contains("out of range"), "{}", r.rejected[0].reason);
    let bare = db.query(&Query::new().since(Timestamp::now().saturating_add_micros(-HOUR))).unwrap().next().unwrap();
    assert!(bare.event.time(kevdb_engine::TimeField::CreationTimestamp).is_some());
}

#[test]
fn a_second_open_of_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _db = Db::open(dir.path(), small_options()).unwrap();
    let err = Db::open(dir.path(), small_options()).unwrap_err();
    assert!(err.to_string().contains("locked"), "{err}");
}
