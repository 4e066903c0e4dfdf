//! Retention by age and by size drops whole partitions, oldest first, frees
//! their disk space, and does so while ingest goes on.

mod common;

use common::*;
use kevdb_engine::{Db, Options, Query, Timestamp};
use std::time::Duration;

fn days_ago(d: i64) -> i64 {
    Timestamp::now().0 - d * DAY
}

/// Fills 20 daily partitions ending today.
fn fill(dir: &std::path::Path) {
    let db = Db::open(dir, small_options()).unwrap();
    for day in 0..20 {
        let events: Vec<_> = (0..200)
            .map(|i| {
                event(
                    &format!("d{day}-{i}"),
                    "ns",
                    "Pulled",
                    "Pod",
                    &format!("p{i}"),
                    1,
                    days_ago(19 - day) + i * 1_000_000,
                )
            })
            .collect();
        db.append(events).unwrap();
    }
    db.flush().unwrap();
    assert!(db.stats().partitions >= 20);
    db.close().unwrap();
}

fn run_ingest_while(
    db: &Db,
    f: impl FnOnce() -> kevdb_engine::RetentionReport,
) -> (kevdb_engine::RetentionReport, usize) {
    std::thread::scope(|s| {
        let writer = s.spawn(|| {
            let mut accepted = 0;
            for i in 0..400 {
                accepted += db
                    .append(vec![event(&format!("live-{i}"), "live", "Pulled", "Pod", "p", 1, Timestamp::now().0)])
                    .unwrap()
                    .accepted;
            }
            accepted
        });
        std::thread::sleep(Duration::from_millis(5));
        let report = f();
        (report, writer.join().unwrap())
    })
}

#[test]
fn retention_by_age_drops_old_partitions_while_ingest_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path());
    let before = dir_bytes(&dir.path().join("partitions"));
    let opts = Options { retention: Some(Duration::from_secs(7 * 86_400)), ..small_options() };
    let db = Db::open(dir.path(), opts).unwrap();
    let (report, accepted) = run_ingest_while(&db, || db.enforce_retention().unwrap());
    assert_eq!(accepted, 400, "ingest kept going");
    // Days 19..=8 ago are wholly older than 7 days; the partition 7 days ago straddles the cutoff.
    assert!((12..=13).contains(&report.partitions.len()), "{report:?}");
    assert!(report.bytes > 0);
    let after = dir_bytes(&dir.path().join("partitions"));
    assert!(after + report.bytes <= before + 4096 * 4, "space freed: {before} -> {after}");
    let oldest =
        db.query(&Query::new().namespace("ns").order(kevdb_engine::Order::OldestFirst)).unwrap().next().unwrap();
    assert!(oldest.last_seen().0 >= days_ago(8), "nothing older than the cutoff day is served");
    assert_eq!(db.query(&Query::new().namespace("live")).unwrap().count(), 400);
    // Events older than the retention period are refused at ingest.
    let r = db.append(vec![event("ancient", "ns", "Pulled", "Pod", "p", 1, days_ago(30))]).unwrap();
    assert!(r.rejected[0].reason.contains("retention"), "{r:?}");
    // Streams cannot resume from before what retention deleted.
    assert!(db.resume_floor() > 0);
    // The deletion is durable.
    db.close().unwrap();
    let db = Db::open(dir.path(), small_options()).unwrap();
    assert!(db.stats().partitions <= 9, "{:?}", db.stats());
}

#[test]
fn retention_by_size_drops_oldest_partitions_until_under_budget() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path());
    let db = Db::open(dir.path(), small_options()).unwrap();
    let total = db.stats().segment_bytes;
    let budget = total / 4;
    db.close().unwrap();
    let opts = Options { max_disk_bytes: Some(budget), ..small_options() };
    let db = Db::open(dir.path(), opts).unwrap();
    let (report, accepted) = run_ingest_while(&db, || db.enforce_retention().unwrap());
    assert_eq!(accepted, 400);
    let stats = db.stats();
    assert!(stats.segment_bytes <= budget, "{stats:?} over {budget}");
    assert!(report.partitions.len() >= 14, "{report:?}");
    // The oldest went first: what is left is the most recent days.
    let oldest_left =
        db.query(&Query::new().namespace("ns").order(kevdb_engine::Order::OldestFirst)).unwrap().next().unwrap();
    let newest_dropped = report.partitions.last().unwrap().clone();
    assert!(kevdb_engine::model::time::format_time(oldest_left.last_seen()).as_str() > newest_dropped.as_str());
}

#[test]
fn background_maintenance_seals_and_applies_retention_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path());
    let opts = Options {
        retention: Some(Duration::from_secs(3 * 86_400)),
        maintenance_interval: Duration::from_millis(20),
        memtable_max_age: Duration::from_millis(50),
        background: true,
        ..small_options()
    };
    let db = Db::open(dir.path(), opts).unwrap();
    db.append(vec![event("fresh", "ns", "Pulled", "Pod", "p", 1, Timestamp::now().0)]).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let s = db.stats();
        if s.partitions <= 4 && s.memtable_rows == 0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "background work did not happen: {s:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        db.query(&Query::new().namespace("ns").since(Timestamp(days_ago(1))))
            .unwrap()
            .filter(|r| r.event.uid() == "fresh")
            .count(),
        1
    );
}
