//! Background maintenance: sealing frozen memtables into segments, and
//! retention by age and size (compaction has its own thread, see
//! `compaction`). Every operation here runs under `Inner::manifest`, which
//! serialises them, and ends by storing a new manifest before any file it
//! replaced is unlinked.

use super::partition::{day_name, entry_of, open_handles, partition_dir, segment_writer};
use super::workers::WorkerMsg;
use super::Inner;
use crate::error::{Error, Result};
use crate::fsutil::sync_dir;
use crate::manifest::{Manifest, SegmentEntry};
use crate::memtable::Memtable;
use crate::model::Timestamp;
use crate::row::StoredEvent;
use crate::segment::{segment_file_name, SegmentMeta};
use crate::superseded;
use crossbeam_channel::{Receiver, RecvTimeoutError};
use std::collections::BTreeMap;
use std::sync::Arc;

pub(crate) fn spawn(inner: Arc<Inner>, rx: Receiver<WorkerMsg>) -> Result<std::thread::JoinHandle<()>> {
    super::workers::spawn(inner, "maintenance", move |inner| loop {
        match rx.recv_timeout(inner.options.maintenance_interval) {
            Ok(WorkerMsg::Stop) | Err(RecvTimeoutError::Disconnected) => break,
            Ok(WorkerMsg::Wake) | Err(RecvTimeoutError::Timeout) => {}
        }
        let outcome = seal_frozen(inner).and_then(|()| enforce_retention(inner, Timestamp::now()).map(drop));
        inner.workers.wake_compaction();
        if let Err(e) = outcome {
            // A seal or retention pass that fails leaves files and memory in
            // a state only a reopen can be sure of.
            inner.poison(format!("background maintenance failed: {e}"));
            break;
        }
    })
}

/// Superseded-set files are folded into one once a seal would list more
/// than this many (see `seal_one`).
pub(crate) const MAX_SUPERSEDED_FILES: usize = 16;

/// Seals every frozen memtable, oldest first.
pub(crate) fn seal_frozen(inner: &Inner) -> Result<()> {
    let mut manifest = inner.manifest.lock();
    loop {
        let Some(frozen) = inner.version().frozen.first().cloned() else {
            return Ok(());
        };
        seal_one(inner, &mut manifest, &frozen)?;
    }
}

fn seal_one(inner: &Inner, manifest: &mut Manifest, frozen: &Arc<Memtable>) -> Result<()> {
    inner.options.failpoints.hit("seal")?;
    let started = std::time::Instant::now();
    let sealed_seq = frozen.max_seq().unwrap_or(manifest.sealed_seq).max(manifest.sealed_seq);
    let mut by_day: BTreeMap<i32, Vec<&StoredEvent>> = BTreeMap::new();
    for row in frozen.iter() {
        by_day.entry(row.last_seen().day()).or_default().push(row);
    }
    let mut written: Vec<SegmentMeta> = Vec::new();
    let mut next_id = manifest.next_segment_id;
    let result = (|| -> Result<()> {
        for (day, mut rows) in by_day {
            rows.sort_by_key(|r| (r.last_seen(), r.seq));
            let mut w = segment_writer(inner, day, next_id)?;
            next_id += 1;
            if let Err(e) = w.push_all(&rows) {
                w.abort();
                return Err(e);
            }
            written.push(w.finish()?);
        }
        Ok(())
    })();
    if let Err(e) = result {
        for m in &written {
            let _ = std::fs::remove_file(&m.path);
        }
        return Err(e);
    }
    let mut next = manifest.clone();
    next.next_segment_id = next_id;
    next.sealed_seq = sealed_seq;
    next.segments.extend(written.iter().map(entry_of));
    let sup_dir = inner.dir.join("superseded");
    let mut folded = Vec::new();
    if !frozen.superseded.is_empty() {
        let name = superseded::file_name(sealed_seq);
        if next.superseded.len() >= MAX_SUPERSEDED_FILES {
            // Fold every listed file into this one: each costs a read at open.
            let mut all = frozen.superseded.clone();
            for old in &next.superseded {
                all |= superseded::load_file(&sup_dir.join(old))?;
            }
            superseded::store_file(&sup_dir, &name, &all)?;
            folded = std::mem::replace(&mut next.superseded, vec![name]);
        } else {
            superseded::store_file(&sup_dir, &name, &frozen.superseded)?;
            next.superseded.push(name);
        }
    }
    let handles = open_handles(&written)?;
    next.store(&inner.dir)?;
    *manifest = next;
    if !folded.is_empty() {
        superseded::remove_files(&sup_dir, &folded)?;
    }
    inner.publish(|version, _| {
        let mut next = version.clone();
        next.segments.extend(handles);
        next.frozen.retain(|m| !Arc::ptr_eq(m, frozen));
        next
    });
    inner.signals.sealed.notify();
    // The sealed rows are now found through the segments' identity blocks.
    inner.ingest.lock().cache.retain(|_, latest| latest.seq.0 > sealed_seq);
    tracing::info!(
        segments = written.len(),
        rows = written.iter().map(|m| m.rows).sum::<u64>(),
        bytes = written.iter().map(|m| m.bytes).sum::<u64>(),
        sealed_seq,
        ms = started.elapsed().as_millis() as u64,
        "sealed a memtable"
    );
    delete_sealed_wal(inner, sealed_seq)
}

/// Deletes WAL files whose every row is at or below `sealed_seq`.
fn delete_sealed_wal(inner: &Inner, sealed_seq: u64) -> Result<()> {
    let dir = inner.dir.join("wal");
    let files = crate::wal::list_wal_files(&dir)?;
    let mut removed = false;
    for pair in files.windows(2) {
        let (_, path) = &pair[0];
        let (next_first, _) = pair[1];
        if next_first.0.saturating_sub(1) <= sealed_seq {
            std::fs::remove_file(path).map_err(|e| Error::io("remove", path, e))?;
            removed = true;
        }
    }
    if removed {
        sync_dir(&dir)?;
    }
    Ok(())
}

/// What a retention pass deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionReport {
    /// Partitions dropped (`YYYY-MM-DD`).
    pub partitions: Vec<String>,
    /// Segments deleted.
    pub segments: usize,
    /// Rows deleted.
    pub rows: u64,
    /// Bytes freed.
    pub bytes: u64,
}

/// Drops whole partitions older than the retention period, then the oldest
/// partitions while segments exceed the disk budget (never the newest).
pub(crate) fn enforce_retention(inner: &Inner, now: Timestamp) -> Result<RetentionReport> {
    let (age, max_bytes) = (inner.options.retention, inner.options.max_disk_bytes);
    if age.is_none() && max_bytes.is_none() {
        return Ok(RetentionReport::default());
    }
    inner.options.failpoints.hit("retention")?;
    let started = std::time::Instant::now();
    let mut manifest = inner.manifest.lock();
    let mut day_bytes: BTreeMap<i32, u64> = BTreeMap::new();
    for s in &manifest.segments {
        *day_bytes.entry(s.day).or_default() += s.bytes;
    }
    let mut drop_days = Vec::new();
    if let Some(age) = age {
        let cutoff = now.saturating_add_micros(-(age.as_micros().min(i64::MAX as u128) as i64)).day();
        drop_days.extend(day_bytes.keys().copied().filter(|&d| d < cutoff));
    }
    if let Some(max) = max_bytes {
        let mut total: u64 = day_bytes.iter().filter(|(d, _)| !drop_days.contains(d)).map(|(_, b)| b).sum();
        let newest = day_bytes.keys().next_back().copied();
        for (&day, &bytes) in &day_bytes {
            if total <= max || Some(day) == newest {
                break;
            }
            if !drop_days.contains(&day) {
                drop_days.push(day);
                total -= bytes;
            }
        }
    }
    if drop_days.is_empty() {
        return Ok(RetentionReport::default());
    }
    let (gone, kept): (Vec<SegmentEntry>, Vec<SegmentEntry>) =
        manifest.segments.iter().cloned().partition(|s| drop_days.contains(&s.day));
    let mut next = manifest.clone();
    next.segments = kept;
    next.retention_floor = gone.iter().map(|s| s.max_seq).fold(next.retention_floor, u64::max);
    next.store(&inner.dir)?;
    *manifest = next;
    let ids: Vec<u64> = gone.iter().map(|s| s.id).collect();
    let floor = manifest.retention_floor;
    inner.publish(|version, _| {
        let mut next = version.clone();
        next.segments.retain(|s| !ids.contains(&s.entry.id));
        next.retention_floor = floor;
        next
    });
    inner.ingest.lock().index.retain(|id| !ids.contains(&id));
    for s in &gone {
        let path = partition_dir(&inner.dir, s.day).join(segment_file_name(s.id));
        std::fs::remove_file(&path).map_err(|e| Error::io("remove", &path, e))?;
    }
    drop_days.sort_unstable();
    for &day in &drop_days {
        let dir = partition_dir(&inner.dir, day);
        let _ = std::fs::remove_dir(&dir);
    }
    sync_dir(&inner.dir.join("partitions"))?;
    tracing::info!(
        partitions = drop_days.len(),
        segments = gone.len(),
        rows = gone.iter().map(|s| s.rows).sum::<u64>(),
        bytes_freed = gone.iter().map(|s| s.bytes).sum::<u64>(),
        ms = started.elapsed().as_millis() as u64,
        "retention dropped the oldest partitions"
    );
    Ok(RetentionReport {
        partitions: drop_days.iter().map(|&d| day_name(d)).collect(),
        segments: gone.len(),
        rows: gone.iter().map(|s| s.rows).sum(),
        bytes: gone.iter().map(|s| s.bytes).sum(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn superseded_files_are_folded_and_still_hide_replaced_observations() {
        use crate::model::{ApiShape, Event, IntField, StrField, TimeField};
        use crate::{Db, Options, Query};
        let obs = |uid: usize, count: i64| {
            let mut e = Event::new(ApiShape::CoreV1);
            e.set_str(StrField::MetadataUid, Some(format!("u{uid}")));
            e.set_str(StrField::MetadataNamespace, Some("ns"));
            e.set_str(StrField::MetadataResourceVersion, Some(count.to_string()));
            e.set_int(IntField::Count, Some(count));
            e.set_time(TimeField::FirstTimestamp, Some(Timestamp::from_secs(1_790_000_000)));
            e.set_time(TimeField::LastTimestamp, Some(Timestamp::from_secs(1_790_000_000 + count)));
            e
        };
        let dir = tempfile::tempdir().unwrap();
        let opts = Options { background: false, ..Options::default() };
        let db = Db::open(dir.path(), opts.clone()).unwrap();
        // Every seal after the first supersedes the previous observation of
        // each of 10 events: one superseded file per seal, 40 seals.
        for round in 1..=41 {
            db.append((0..10).map(|uid| obs(uid, round)).collect()).unwrap();
            db.flush().unwrap();
        }
        let files = || std::fs::read_dir(dir.path().join("superseded")).unwrap().count();
        assert!(files() <= MAX_SUPERSEDED_FILES, "{} files", files());
        let check = |db: &Db| {
            let latest: Vec<_> = db.query(&Query::new()).unwrap().collect();
            assert_eq!(latest.len(), 10);
            assert!(latest.iter().all(|r| r.event.int(IntField::Count) == Some(41)));
            assert_eq!(db.query(&Query::new().history(true)).unwrap().count(), 410);
        };
        check(&db);
        db.close().unwrap();
        let db = Db::open(dir.path(), opts.clone()).unwrap();
        assert!(db.open_report().is_clean(), "{:?}", db.open_report());
        check(&db);
        db.close().unwrap();

        // A database from before folding: one file per seal. Open folds them.
        let mut manifest = Manifest::load(dir.path()).unwrap().unwrap();
        let sup_dir = dir.path().join("superseded");
        let all = superseded::load_file(&sup_dir.join(&manifest.superseded[0])).unwrap();
        for (i, seq) in all.iter().enumerate() {
            let name = superseded::file_name(i as u64 + 1);
            superseded::store_file(&sup_dir, &name, &std::iter::once(seq).collect()).unwrap();
            manifest.superseded.push(name);
        }
        manifest.store(dir.path()).unwrap();
        assert!(files() > MAX_SUPERSEDED_FILES);
        let db = Db::open(dir.path(), opts).unwrap();
        assert!(db.open_report().is_clean(), "{:?}", db.open_report());
        assert_eq!(files(), 1);
        check(&db);
    }
}
