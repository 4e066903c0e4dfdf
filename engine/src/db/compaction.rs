//! Compaction: merging a partition's small segments into larger ones, one
//! bounded merge at a time, on its own thread.
//!
//! Sealing runs on the maintenance thread and compaction here, so that a long
//! merge never holds sealing (and, through `append::wait_for_sealing`,
//! ingest) back. A merge takes `Inner::manifest` only to pick its inputs and
//! to install its output; it reads the inputs through their segment handles
//! (mmaps that outlive any unlink) with no lock held. If retention dropped
//! an input meanwhile, the output is discarded.
//!
//! Policy: a partition with at least `compaction_min_segments` small
//! segments (fewer rows than `cap`, eight memtables' worth) gets its oldest
//! small segments merged, as many as fit in `cap` rows (at least two). Each
//! merge is thus bounded in time and memory (the index builders of at most
//! `cap` rows), and a row is rewritten about log4(cap / memtable) times.

use super::partition::{day_name, entry_of, open_handles, partition_dir, segment_writer};
use super::workers::WorkerMsg;
use super::{Inner, SegmentHandle};
use crate::error::{Error, Result};
use crate::fsutil::sync_dir;
use crate::row::StoredEvent;
use crate::segment::{DecodedGroup, SegmentMeta};
use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::sync::Arc;

pub(crate) fn spawn(inner: Arc<Inner>, rx: Receiver<WorkerMsg>) -> Result<std::thread::JoinHandle<()>> {
    super::workers::spawn(inner, "compaction", move |inner| loop {
        match rx.recv_timeout(inner.options.maintenance_interval) {
            Ok(WorkerMsg::Stop) | Err(RecvTimeoutError::Disconnected) => break,
            Ok(WorkerMsg::Wake) | Err(RecvTimeoutError::Timeout) => {}
        }
        let mut stopping = false;
        let outcome = compact_while(inner, || {
            stopping = matches!(rx.try_recv(), Ok(WorkerMsg::Stop) | Err(TryRecvError::Disconnected));
            !stopping
        });
        if let Err(e) = outcome {
            // Damaged inputs are reported and skipped inside the merge; an
            // error here is an I/O failure on the files compaction owns.
            inner.poison(format!("background compaction failed: {e}"));
            break;
        }
        if stopping {
            break;
        }
    })
}

/// Segments at or above this many rows are left alone by compaction, and no
/// merge writes more than about this many.
fn compaction_cap(inner: &Inner) -> u64 {
    (inner.options.memtable_rows as u64).saturating_mul(8).max(2)
}

/// Runs merges while there is work and `keep_going()` says so. Returns the
/// number of input segments merged away.
pub(crate) fn compact_while(inner: &Inner, mut keep_going: impl FnMut() -> bool) -> Result<usize> {
    let mut failed_days = BTreeSet::new();
    let mut merged = 0;
    while keep_going() {
        match compact_step(inner, &mut failed_days)? {
            Some(n) => merged += n,
            None => break,
        }
    }
    Ok(merged)
}

/// One merge. `None` when there is nothing to merge (outside `skip`); else
/// how many inputs were merged away (0 when the merge was discarded).
fn compact_step(inner: &Inner, skip: &mut BTreeSet<i32>) -> Result<Option<usize>> {
    let _one_merge = inner.compaction.lock();
    inner.options.failpoints.hit("compaction")?;
    let (day, inputs, id) = {
        let mut manifest = inner.manifest.lock();
        let Some((day, inputs)) = pick(inner, &manifest.segments, skip) else {
            return Ok(None);
        };
        let id = manifest.next_segment_id;
        manifest.next_segment_id += 1;
        (day, inputs, id)
    };
    let started = std::time::Instant::now();
    let Some(meta) = merge_segments(inner, day, id, &inputs)? else {
        skip.insert(day);
        return Ok(Some(0));
    };
    let ids: Vec<u64> = inputs.iter().map(|s| s.entry.id).collect();
    {
        let mut manifest = inner.manifest.lock();
        if !ids.iter().all(|id| manifest.segments.iter().any(|s| s.id == *id)) {
            // Retention dropped an input while we merged.
            drop(manifest);
            tracing::debug!(
                partition = %day_name(day),
                "compaction output discarded: retention dropped an input"
            );
            std::fs::remove_file(&meta.path).map_err(|e| Error::io("remove", &meta.path, e))?;
            let _ = std::fs::remove_dir(partition_dir(&inner.dir, day));
            return Ok(Some(0));
        }
        let handles = open_handles(std::slice::from_ref(&meta))?;
        let mut next = manifest.clone();
        next.segments.retain(|s| !ids.contains(&s.id));
        next.segments.push(entry_of(&meta));
        next.store(&inner.dir)?;
        *manifest = next;
        inner.publish(|version, _| {
            let mut next = version.clone();
            next.segments.retain(|s| !ids.contains(&s.entry.id));
            next.segments.extend(handles);
            next
        });
        inner.ingest.lock().index.retain(|id| !ids.contains(&id));
    }
    for input in &inputs {
        let path = input.reader.path();
        std::fs::remove_file(path).map_err(|e| Error::io("remove", path, e))?;
    }
    sync_dir(&partition_dir(&inner.dir, day))?;
    tracing::info!(
        partition = %day_name(day),
        inputs = inputs.len(),
        input_rows = inputs.iter().map(|s| s.entry.rows).sum::<u64>(),
        rows = meta.rows,
        bytes = meta.bytes,
        ms = started.elapsed().as_millis() as u64,
        "compacted segments"
    );
    Ok(Some(inputs.len()))
}

/// The next merge: the oldest partition (outside `skip`) with enough small
/// segments, and its oldest small segments up to `cap` rows (at least two).
fn pick(
    inner: &Inner,
    entries: &[crate::manifest::SegmentEntry],
    skip: &BTreeSet<i32>,
) -> Option<(i32, Vec<Arc<SegmentHandle>>)> {
    let cap = compaction_cap(inner);
    let mut by_day: BTreeMap<i32, Vec<(u64, u64)>> = BTreeMap::new();
    for s in entries.iter().filter(|s| s.rows < cap && !skip.contains(&s.day)) {
        by_day.entry(s.day).or_default().push((s.id, s.rows));
    }
    let version = inner.version();
    for (day, mut small) in by_day {
        if small.len() < inner.options.compaction_min_segments.max(2) {
            continue;
        }
        small.sort_unstable();
        let mut rows = 0;
        let chosen: Vec<u64> = small
            .iter()
            .enumerate()
            .take_while(|&(i, &(_, r))| {
                rows += r;
                i < 2 || rows <= cap
            })
            .map(|(_, &(id, _))| id)
            .collect();
        let inputs: Vec<Arc<SegmentHandle>> =
            version.segments.iter().filter(|s| chosen.contains(&s.entry.id)).cloned().collect();
        if inputs.len() == chosen.len() {
            return Some((day, inputs));
        }
        // A damaged segment is not served, and its partition is not compacted.
    }
    None
}

/// Rows of one segment in ascending (last-seen, seq) order. One decoded row
/// group is held at a time, in its columnar form: each row is built only
/// when the merge takes it, so a merge of N inputs holds N groups' columns,
/// not N groups of built events.
struct AscendingRows<'a> {
    segment: &'a SegmentHandle,
    next_group: usize,
    group: Option<DecodedGroup>,
    next_row: usize,
    /// Purged seqs: dropped here, which is how purges free disk space.
    purged: &'a roaring::RoaringTreemap,
}

impl AscendingRows<'_> {
    fn next_row(&mut self) -> Result<Option<StoredEvent>> {
        loop {
            if let Some(g) = &self.group {
                while self.next_row < g.rows {
                    let i = self.next_row;
                    self.next_row += 1;
                    if !self.purged.contains(g.seq[i]) {
                        return Ok(Some(g.event(i)));
                    }
                }
            }
            if self.next_group >= self.segment.reader.group_count() {
                self.group = None;
                return Ok(None);
            }
            self.group = Some(self.segment.reader.read_group(self.next_group)?);
            self.next_group += 1;
            self.next_row = 0;
        }
    }
}

/// k-way merges `inputs` into new segment `id`. A damaged input aborts the
/// merge (the inputs stay as they are) and is reported.
fn merge_segments(inner: &Inner, day: i32, id: u64, inputs: &[Arc<SegmentHandle>]) -> Result<Option<SegmentMeta>> {
    let mut w = segment_writer(inner, day, id)?;
    let purged = inner.version().purged.clone();
    let mut sources: Vec<AscendingRows<'_>> = inputs
        .iter()
        .map(|s| AscendingRows { segment: s, next_group: 0, group: None, next_row: 0, purged: &purged })
        .collect();
    let outcome = (|| -> Result<()> {
        let mut heap = BinaryHeap::new();
        for (i, s) in sources.iter_mut().enumerate() {
            if let Some(row) = s.next_row()? {
                heap.push(Reverse(((row.last_seen(), row.seq), i, HeapRow(row))));
            }
        }
        let mut merged = 0u64;
        while let Some(Reverse((_, i, HeapRow(row)))) = heap.pop() {
            merged += 1;
            if merged.is_multiple_of(4096) && inner.workers.closing() {
                return Err(Error::Closed);
            }
            w.push(row)?;
            if let Some(next) = sources[i].next_row()? {
                heap.push(Reverse(((next.last_seen(), next.seq), i, HeapRow(next))));
            }
        }
        Ok(())
    })();
    match outcome {
        Ok(()) => Ok(Some(w.finish()?)),
        Err(Error::Closed) => {
            w.abort();
            Ok(None)
        }
        Err(e) => {
            w.abort();
            inner.health.report_error(&e, format!("partition {} is not compacted", day_name(day)));
            Ok(None)
        }
    }
}

/// A row carried through the merge heap; ordering is decided by the key
/// before it, never by the row itself.
struct HeapRow(StoredEvent);

impl PartialEq for HeapRow {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for HeapRow {}
impl PartialOrd for HeapRow {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for HeapRow {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{ApiShape, Event, StrField, TimeField, Timestamp};
    use crate::{Db, Options, Query};

    #[test]
    fn merges_are_bounded_by_the_cap_and_keep_every_row() {
        let dir = tempfile::tempdir().unwrap();
        let opts = Options { memtable_rows: 100, background: false, ..Options::default() };
        let db = Db::open(dir.path(), opts).unwrap();
        let day = 1_790_035_200; // midnight: every row lands in one partition
        for s in 0..20 {
            let events = (s * 100..s * 100 + 100)
                .map(|i| {
                    let mut e = Event::new(ApiShape::CoreV1);
                    e.set_str(StrField::MetadataUid, Some(format!("u{i}")));
                    e.set_str(StrField::MetadataNamespace, Some("ns"));
                    e.set_str(StrField::MetadataResourceVersion, Some("1"));
                    e.set_time(TimeField::LastTimestamp, Some(Timestamp::from_secs(day + i as i64)));
                    e
                })
                .collect();
            db.append(events).unwrap();
            db.flush().unwrap();
        }
        assert_eq!(db.stats().segments, 20);
        // Cap 800 rows: 8 + 8 segments become two capped ones; the last four
        // make one more, which alone is left as it is.
        assert_eq!(db.compact().unwrap(), 20);
        let mut rows: Vec<u64> = db.inner.version().segments.iter().map(|s| s.entry.rows).collect();
        rows.sort_unstable();
        assert_eq!(rows, vec![400, 800, 800]);
        assert_eq!(db.compact().unwrap(), 0);
        assert_eq!(db.query(&Query::new()).unwrap().count(), 2_000);
        let seqs: Vec<u64> = db.query(&Query::new()).unwrap().map(|r| r.seq.0).collect();
        assert!(seqs.windows(2).all(|w| w[0] > w[1]), "newest first, no duplicates");
    }
}
