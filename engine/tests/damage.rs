//! Damage is detected, reported, and never served: torn WAL tails, flipped
//! bits in segment blocks and footers, and leftovers of interrupted seals.

mod common;

use common::*;
use kevdb_engine::{Db, Query};
use std::path::{Path, PathBuf};

fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_with_ext(&p, ext));
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn append_singles(db: &Db, n: i64, prefix: &str) {
    for i in 0..n {
        db.append(vec![event(&format!("{prefix}{i}"), "ns", "Pulled", "Pod", "p", 1, BASE + i * HOUR)]).unwrap();
    }
}

#[test]
fn torn_wal_tail_is_truncated_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), small_options()).unwrap();
    append_singles(&db, 40, "t");
    db.close().unwrap();
    let wal = files_with_ext(&dir.path().join("wal"), "wal");
    let last = wal.last().unwrap();
    let len = std::fs::metadata(last).unwrap().len();
    // Cut the last frame in half: its append was (for this test) never acknowledged.
    std::fs::OpenOptions::new().write(true).open(last).unwrap().set_len(len - 20).unwrap();

    let db = Db::open(dir.path(), small_options()).unwrap();
    let report = db.open_report().clone();
    assert_eq!(report.wal_truncated.len(), 1, "{report:?}");
    assert!(report.is_clean());
    assert_eq!(db.query(&Query::new().namespace("ns")).unwrap().count(), 39);
    // Appends continue cleanly after the cut.
    append_singles(&db, 5, "after");
    db.close().unwrap();
    let db = Db::open(dir.path(), small_options()).unwrap();
    assert!(db.open_report().wal_truncated.is_empty());
    assert_eq!(db.query(&Query::new().namespace("ns")).unwrap().count(), 44);
}

#[test]
fn garbage_after_the_wal_tail_is_cut_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), small_options()).unwrap();
    append_singles(&db, 10, "g");
    db.close().unwrap();
    let wal = files_with_ext(&dir.path().join("wal"), "wal");
    let mut bytes = std::fs::read(wal.last().unwrap()).unwrap();
    bytes.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07]);
    std::fs::write(wal.last().unwrap(), bytes).unwrap();
    let db = Db::open(dir.path(), small_options()).unwrap();
    assert_eq!(db.open_report().wal_truncated.len(), 1);
    assert_eq!(db.query(&Query::new().namespace("ns")).unwrap().count(), 10);
}

#[test]
fn a_flipped_bit_in_a_segment_block_loses_only_that_row_group() {
    let dir = tempfile::tempdir().unwrap();
    let opts = kevdb_engine::Options { row_group_rows: 10, memtable_rows: 10_000, ..small_options() };
    let db = Db::open(dir.path(), opts.clone()).unwrap();
    // 100 events on one day: one segment of 10 row groups.
    let events: Vec<_> =
        (0..100).map(|i| event(&format!("b{i}"), "ns", "Pulled", "Pod", "p", 1, BASE + i * 1_000_000)).collect();
    db.append(events).unwrap();
    db.flush().unwrap();
    db.close().unwrap();
    let segs = files_with_ext(&dir.path().join("partitions"), "kseg");
    assert_eq!(segs.len(), 1);
    let mut bytes = std::fs::read(&segs[0]).unwrap();
    bytes[200] ^= 0x20; // inside the data area of an early row group
    std::fs::write(&segs[0], bytes).unwrap();

    let db = Db::open(dir.path(), opts).unwrap();
    assert!(db.open_report().is_clean(), "the footer is intact, so open is clean");
    let served: Vec<_> = db.query(&Query::new().namespace("ns")).unwrap().collect();
    assert_eq!(served.len(), 90, "exactly one group of 10 rows is withheld");
    for r in &served {
        let i: i64 = r.event.uid()[1..].parse().unwrap();
        assert_eq!(r.last_seen().0, BASE + i * 1_000_000, "served row {} is intact", r.event.uid());
    }
    let damage = db.damage();
    assert_eq!(damage.len(), 1, "{damage:?}");
    assert!(damage[0].problem.contains("crc"), "{damage:?}");
    assert_eq!(damage[0].file.as_deref(), Some(segs[0].as_path()), "the report names the damaged file");
    assert!(damage[0].lost.contains("row group"), "{damage:?}");
}

#[test]
fn a_damaged_segment_footer_is_reported_and_other_segments_still_served() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), small_options()).unwrap();
    // Two days: two segments.
    db.append((0..20).map(|i| event(&format!("d{i}"), "ns", "Pulled", "Pod", "p", 1, BASE + (i % 2) * DAY)).collect())
        .unwrap();
    db.flush().unwrap();
    db.close().unwrap();
    let segs = files_with_ext(&dir.path().join("partitions"), "kseg");
    assert_eq!(segs.len(), 2);
    let mut bytes = std::fs::read(&segs[1]).unwrap();
    let at = bytes.len() - 30; // inside the footer
    bytes[at] ^= 0x01;
    std::fs::write(&segs[1], bytes).unwrap();

    let db = Db::open(dir.path(), small_options()).unwrap();
    let report = db.open_report();
    assert_eq!(report.damaged.len(), 1, "{report:?}");
    assert!(report.damaged[0].problem.contains("crc"), "{report:?}");
    assert_eq!(report.damaged[0].file.as_deref(), Some(segs[1].as_path()), "{report:?}");
    assert_eq!(db.health().damage, report.damaged, "damage found at open is part of the health report");
    assert_eq!(db.query(&Query::new().namespace("ns")).unwrap().count(), 10);
}

#[test]
fn leftovers_of_an_interrupted_seal_are_removed_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), small_options()).unwrap();
    append_singles(&db, 10, "l");
    db.flush().unwrap();
    db.close().unwrap();
    // A segment written but never committed to the manifest, and a temporary file.
    let seg = files_with_ext(&dir.path().join("partitions"), "kseg")[0].clone();
    let orphan = seg.with_file_name("00000000000000ff.kseg");
    std::fs::copy(&seg, &orphan).unwrap();
    let tmp = seg.with_file_name("0000000000000100.kevdb-tmp");
    std::fs::write(&tmp, b"half a segment").unwrap();

    let db = Db::open(dir.path(), small_options()).unwrap();
    let report = db.open_report();
    assert_eq!(report.removed_leftovers.len(), 2, "{report:?}");
    assert!(!orphan.exists() && !tmp.exists());
    assert_eq!(db.query(&Query::new().namespace("ns")).unwrap().count(), 10, "the orphan's rows are not served twice");
}

#[test]
fn redeliveries_of_sealed_events_are_recognised_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), small_options()).unwrap();
    append_singles(&db, 30, "i");
    db.flush().unwrap();
    db.close().unwrap();
    let db = Db::open(dir.path(), small_options()).unwrap();
    let again: Vec<_> =
        (0..30).map(|i| event(&format!("i{i}"), "ns", "Pulled", "Pod", "p", 1, BASE + i * HOUR)).collect();
    assert_eq!(db.append(again).unwrap().duplicates, 30);
    let newer: Vec<_> =
        (0..30).map(|i| event(&format!("i{i}"), "ns", "Pulled", "Pod", "p", 2, BASE + i * HOUR + 60_000_000)).collect();
    assert_eq!(db.append(newer).unwrap().accepted, 30);
    assert_eq!(db.query(&Query::new().namespace("ns")).unwrap().count(), 30);
    assert_eq!(db.query(&Query::new().namespace("ns").history(true)).unwrap().count(), 60);
}
