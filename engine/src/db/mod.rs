//! [`Db`]: the embedded database. Ties the WAL, memtable, segments,
//! identity map and superseded set together.
//!
//! Who owns what:
//! - [`Version`]: the immutable set a reader sees besides the active
//!   memtable — sealed segments, frozen memtables, purged seqs. Replaced
//!   whole (never edited) by [`Inner::publish`] at freeze, seal,
//!   compaction, retention and purge; readers take it with the active
//!   memtable's chunks and the visible seq as one [`Snapshot`].
//! - `append` owns the ingest state (dedup, seq assignment); `commit` the
//!   WAL writer; `maintenance` sealing and retention; `compaction` merges;
//!   `health` poison and damage; `workers` the threads and their signals;
//!   `plan` how every read path reads a snapshot.
//!
//! Threads: callers of [`Db::append`] take `ingest` to dedup and assign
//! seqs, then hand the batch to the **commit thread** (still under the
//! lock, so batches reach the WAL in seq order) and wait for its ack. The
//! commit thread group-commits, fsyncs, applies rows to the active memtable
//! and the superseded set (under `state`), then acks; it freezes the
//! memtable when it is full or old. Sealing and retention run on the
//! **maintenance thread**, merges on the **compaction thread**; each takes
//! `manifest` to change the durable segment set.
//!
//! Lock order (a thread holding one may take only those after it):
//! `manifest` → `ingest` → `state` → `superseded`. Sealing holds
//! `manifest` across its writes and then prunes the ingest cache, so
//! `ingest` never waits for `manifest` to be taken the other way round.
//! Readers take `state` and `superseded` briefly and never across I/O; no
//! lock is held while waiting on a [`workers::Signal`].

mod aggregate;
mod append;
mod cache;
mod commit;
mod compaction;
mod health;
mod maintenance;
mod page;
mod partition;
mod plan;
mod purge;
mod recover;
mod scan;
mod subscribe;
mod visit;
mod workers;

pub use aggregate::{Bucket, GroupBy, GroupCount};
pub use append::{AppendReport, Rejected};
pub use health::{Damage, HealthReport};
pub use maintenance::RetentionReport;
pub use page::Page;
pub use recover::OpenReport;
pub use scan::QueryIter;
pub use subscribe::Subscription;

use crate::error::Result;
use crate::manifest::{Manifest, SegmentEntry};
use crate::memtable::{Chunk, Memtable};
use crate::options::Options;
use crate::query::Query;
use crate::segment::SegmentReader;
use crate::superseded::Superseded;
use parking_lot::{Mutex, RwLock};
use roaring::RoaringTreemap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// A sealed segment as the engine holds it.
#[derive(Debug)]
pub(crate) struct SegmentHandle {
    pub entry: SegmentEntry,
    pub reader: SegmentReader,
}

/// The immutable part of what readers see. Files of segments removed later
/// stay readable through their mmap for as long as a reader holds this.
/// A change clones it (pointers only) and publishes the clone.
#[derive(Debug, Default, Clone)]
pub(crate) struct Version {
    /// Live segments.
    pub segments: Vec<Arc<SegmentHandle>>,
    /// Frozen memtables awaiting seal, oldest first.
    pub frozen: Vec<Arc<Memtable>>,
    /// Seqs of purged observations (see `purge`).
    pub purged: Arc<RoaringTreemap>,
    /// Retention has deleted every observation up to this seq.
    pub retention_floor: u64,
}

/// What `Inner::state` guards: the active memtable and the current version.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub active: Memtable,
    pub version: Arc<Version>,
}

/// A reader's view: one version, the active memtable's chunks and the
/// highest visible seq, taken together under the state lock (the commit
/// thread changes all three under it, so they agree). The superseded set is
/// read later, through `Superseded::is_latest(seq, hi)`, which answers as of
/// the snapshot's `visible`.
#[derive(Debug)]
pub(crate) struct Snapshot {
    pub version: Arc<Version>,
    active: Vec<Chunk>,
    pub visible: u64,
}

impl Snapshot {
    /// Every in-memory chunk, frozen memtables first: ascending seq.
    pub(crate) fn chunks(&self) -> impl Iterator<Item = &Chunk> {
        self.version.frozen.iter().flat_map(|m| m.chunks()).chain(self.active.iter())
    }
}

pub(crate) struct Inner {
    dir: PathBuf,
    options: Options,
    /// Authenticates continue tokens (from the manifest).
    token_key: [u8; 32],
    ingest: Mutex<append::IngestState>,
    /// Serialises seal, retention and the install step of compaction; holds
    /// the durable manifest.
    manifest: Mutex<Manifest>,
    state: RwLock<State>,
    superseded: RwLock<Superseded>,
    /// Highest seq whose row is visible to readers (written under `state`).
    visible: AtomicU64,
    /// Decoded row groups kept for later queries (sharded, locks inside).
    cache: cache::GroupCache,
    /// Held for the whole of one compaction step: one merge at a time.
    compaction: Mutex<()>,
    health: health::Health,
    workers: workers::Workers,
    signals: workers::Signals,
    _lock: File,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner").field("dir", &self.dir).finish_non_exhaustive()
    }
}

impl Inner {
    /// Takes a reader's [`Snapshot`].
    pub(crate) fn snapshot(&self) -> Snapshot {
        let state = self.state.read();
        Snapshot {
            version: state.version.clone(),
            active: state.active.chunks().to_vec(),
            visible: self.visible.load(Ordering::Acquire),
        }
    }

    /// The current version.
    pub(crate) fn version(&self) -> Arc<Version> {
        self.state.read().version.clone()
    }

    /// Publishes the version `change` makes of the current one (with the
    /// state lock held: `change` must not block).
    pub(crate) fn publish(&self, change: impl FnOnce(&Version, &mut State) -> Version) {
        let mut state = self.state.write();
        let current = state.version.clone();
        let next = change(&current, &mut state);
        state.version = Arc::new(next);
    }

    /// Fails once the database is poisoned.
    pub(crate) fn check_poisoned(&self) -> Result<()> {
        self.health.check()
    }

    /// Poisons the database and wakes every waiter, so that nothing waits
    /// for a thread that will not come.
    pub(crate) fn poison(&self, cause: String) {
        self.health.poison(cause);
        self.signals.sealed.notify();
        self.signals.committed.notify();
    }
}

/// Counters describing a database.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stats {
    /// Highest sequence number assigned.
    pub last_seq: u64,
    /// Rows sealed into segments.
    pub segment_rows: u64,
    /// Rows in the in-memory buffer.
    pub memtable_rows: u64,
    /// Live segments.
    pub segments: usize,
    /// Distinct partitions (days) with segments.
    pub partitions: usize,
    /// Bytes of live segments.
    pub segment_bytes: u64,
    /// Bytes of WAL files.
    pub wal_bytes: u64,
    /// Observations superseded by newer ones.
    pub superseded: u64,
    /// Bytes of decoded row groups held by the cache.
    pub cache_bytes: u64,
}

/// An open kevdb database. Cheap to share across threads (`&Db` is enough
/// for every operation).
///
/// ```
/// use kevdb_engine::{Db, Options, Query, model::parse::{parse_bytes, ParseOptions}};
///
/// let dir = tempfile::tempdir()?;
/// let db = Db::open(dir.path(), Options::default())?;
/// let json = br#"{"kind":"Event","apiVersion":"v1",
///   "metadata":{"name":"web.1","namespace":"shop","uid":"u1","resourceVersion":"7"},
///   "involvedObject":{"kind":"Pod","namespace":"shop","name":"web"},
///   "reason":"BackOff","message":"Back-off restarting failed container","type":"Warning",
///   "lastTimestamp":"2026-11-20T10:00:00Z","count":3}"#;
/// let parsed = parse_bytes(json, &ParseOptions::default());
/// let report = db.append(parsed.events)?;
/// assert_eq!(report.accepted, 1);
///
/// let warnings: Vec<_> = db.query(&Query::new().namespace("shop").event_type("Warning"))?.collect();
/// assert_eq!(warnings[0].event.reason(), "BackOff");
/// db.close()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Db {
    inner: Arc<Inner>,
    commit_thread: Option<JoinHandle<()>>,
    maintenance_thread: Option<JoinHandle<()>>,
    compaction_thread: Option<JoinHandle<()>>,
    report: OpenReport,
}

impl Db {
    /// Opens the database in `dir`, creating it if needed, and recovers
    /// whatever the last process left: the WAL tail is replayed (a torn last
    /// record is truncated), leftovers of interrupted seals are removed, and
    /// damaged files are reported and skipped.
    pub fn open(dir: impl AsRef<Path>, options: Options) -> Result<Db> {
        recover::open(dir.as_ref(), options)
    }

    /// What opening found and repaired.
    pub fn open_report(&self) -> &OpenReport {
        &self.report
    }

    /// The database directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Runs a query; results stream newest-first (or as `query.order` says).
    /// The result is a consistent snapshot as of the call.
    pub fn query(&self, query: &Query) -> Result<QueryIter> {
        QueryIter::new(self.inner.clone(), query.clone(), plan::Bounds::default())
    }

    /// Streams every observation matching `query` with a seq above
    /// `from_seq`, in seq order: first what is stored, then live.
    pub fn subscribe(&self, query: &Query, from_seq: u64) -> Result<Subscription> {
        Subscription::new(self.inner.clone(), query.clone(), from_seq)
    }

    /// The oldest seq a stream (subscription, watch, history page) can
    /// resume from without a gap: retention has deleted observations up to
    /// this seq. 0 when nothing was ever deleted.
    pub fn resume_floor(&self) -> u64 {
        self.inner.version().retention_floor
    }

    /// The highest seq visible to readers.
    pub fn last_seq(&self) -> u64 {
        self.inner.visible.load(Ordering::Acquire)
    }

    /// Seals everything in memory into segments and makes it durable. On
    /// return, the WAL holds nothing that is not also in a segment.
    pub fn flush(&self) -> Result<()> {
        self.inner.check_poisoned()?;
        commit::freeze(&self.inner)?;
        maintenance::seal_frozen(&self.inner)
    }

    /// The value of checkpoint `name` (see [`crate::checkpoint`]), if set.
    pub fn checkpoint(&self, name: &str) -> Result<Option<String>> {
        crate::checkpoint::read(&self.inner.dir, name)
    }

    /// Durably sets checkpoint `name` (see [`crate::checkpoint`]). Store a
    /// checkpoint only after the appends it covers were acknowledged.
    pub fn set_checkpoint(&self, name: &str, value: &str) -> Result<()> {
        self.inner.check_poisoned()?;
        crate::checkpoint::write(&self.inner.dir, name, value)
    }

    /// Applies the retention policy now (it also runs in the background).
    pub fn enforce_retention(&self) -> Result<RetentionReport> {
        maintenance::enforce_retention(&self.inner, crate::model::Timestamp::now())
    }

    /// Compacts small segments now (it also runs in the background), until
    /// no partition has enough of them. Returns how many segments were
    /// merged away.
    pub fn compact(&self) -> Result<usize> {
        compaction::compact_while(&self.inner, || true)
    }

    /// Empties the cache of decoded row groups (see `Options::cache_bytes`).
    pub fn clear_cache(&self) {
        self.inner.cache.clear();
    }

    /// Damage found at open and while serving (damaged blocks are skipped,
    /// never served), oldest first.
    pub fn damage(&self) -> Vec<Damage> {
        self.inner.health.damage()
    }

    /// Whether the database is poisoned (refusing writes until reopened),
    /// and the damage it has found.
    pub fn health(&self) -> HealthReport {
        self.inner.health.report_now()
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        let snapshot = self.inner.snapshot();
        let segs = &snapshot.version.segments;
        let mut days: Vec<i32> = segs.iter().map(|s| s.entry.day).collect();
        days.sort_unstable();
        days.dedup();
        let memtable_rows: usize = snapshot.chunks().map(|c| c.len()).sum();
        let wal_bytes = crate::wal::list_wal_files(&self.inner.dir.join("wal"))
            .map(|files| files.iter().filter_map(|(_, p)| std::fs::metadata(p).ok()).map(|m| m.len()).sum())
            .unwrap_or(0);
        Stats {
            last_seq: snapshot.visible,
            segment_rows: segs.iter().map(|s| s.entry.rows).sum(),
            memtable_rows: memtable_rows as u64,
            segments: segs.len(),
            partitions: days.len(),
            segment_bytes: segs.iter().map(|s| s.entry.bytes).sum(),
            wal_bytes,
            superseded: self.inner.superseded.read().len(),
            cache_bytes: self.inner.cache.used() as u64,
        }
    }

    /// Stops background work, makes every acknowledged write durable in the
    /// WAL, and closes the database. Unsealed rows stay in the WAL and are
    /// replayed at the next open (call [`Db::flush`] first to seal them).
    pub fn close(mut self) -> Result<()> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<()> {
        self.inner.workers.stop_background();
        for t in [self.maintenance_thread.take(), self.compaction_thread.take()].into_iter().flatten() {
            let _ = t.join();
        }
        let _ = self.inner.workers.commit.send(commit::CommitMsg::Stop);
        if let Some(t) = self.commit_thread.take() {
            let _ = t.join();
        }
        self.inner.check_poisoned()
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ApiShape, Event, StrField, TimeField, Timestamp};

    fn event(uid: &str, t: i64) -> Event {
        let mut e = Event::new(ApiShape::CoreV1);
        e.set_str(StrField::MetadataUid, Some(uid));
        e.set_str(StrField::MetadataNamespace, Some("ns"));
        e.set_str(StrField::MetadataResourceVersion, Some("5"));
        e.set_time(TimeField::LastTimestamp, Some(Timestamp(t)));
        e
    }

    #[test]
    fn a_damaged_identity_block_still_recognises_redeliveries() {
        let dir = tempfile::tempdir().unwrap();
        let opts = Options { background: false, ..Options::default() };
        let db = Db::open(dir.path(), opts.clone()).unwrap();
        let events: Vec<_> = (0..50).map(|i| event(&format!("u{i}"), 1_700_000_000_000_000 + i)).collect();
        db.append(events.clone()).unwrap();
        db.flush().unwrap();
        let seg = db.inner.version().segments[0].clone();
        let block = seg.reader.footer().identities.offset.to_native() as usize;
        let path = seg.reader.path().to_owned();
        drop(seg);
        db.close().unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[block + 3] ^= 0x40;
        std::fs::write(&path, bytes).unwrap();

        let db = Db::open(dir.path(), opts).unwrap();
        let report = db.append(events).unwrap();
        assert_eq!((report.accepted, report.duplicates), (0, 50));
        let damage = db.damage();
        assert!(damage.iter().any(|d| d.to_string().contains("identity block")), "{damage:?}");
        assert_eq!(db.query(&Query::new()).unwrap().count(), 50);
    }
}
