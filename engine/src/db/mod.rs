//! [`Db`]: the embedded database. Ties the WAL, memtable, segments,
//! identity map and superseded set together.
//!
//! Threads and locks:
//! - callers of [`Db::append`] take `Inner::ingest` to dedup and assign seqs,
//!   then hand the batch to the **commit thread** over a channel (still under
//!   the lock, so batches reach the WAL in seq order) and wait for its ack;
//! - the commit thread group-commits everything queued, fsyncs, applies rows
//!   to the memtable (`Inner::state` write lock) and superseded set, then acks;
//!   it freezes the memtable when it is full or old and starts a new WAL file;
//! - sealing, retention and compaction run under `Inner::manifest` (which
//!   serialises them), on the **maintenance thread** or in [`Db::flush`].
//!
//! Lock order: `ingest` → `manifest` → `state` → `superseded`. Readers take
//! `state` and `superseded` briefly and never hold them across I/O.

mod aggregate;
mod append;
mod cache;
mod commit;
mod compaction;
mod maintenance;
mod page;
mod plan;
mod purge;
mod recover;
mod scan;
mod subscribe;
mod visit;

pub use aggregate::{Bucket, GroupBy, GroupCount};
pub use append::{AppendReport, Rejected};
pub use maintenance::RetentionReport;
pub use page::Page;
pub use recover::OpenReport;
pub use scan::QueryIter;
pub use subscribe::Subscription;

use crate::error::{Error, Result};
use crate::identity::{IdentityIndex, IdentityKey, IdentitySource, Latest};
use crate::manifest::{Manifest, SegmentEntry};
use crate::memtable::Memtable;
use crate::options::Options;
use crate::query::Query;
use crate::segment::SegmentReader;
use crate::superseded::Superseded;
use crossbeam_channel::Sender;
use parking_lot::{Mutex, RwLock};
use std::collections::HashMap;
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

/// The set of live segments at one moment. Readers hold an `Arc` of it;
/// files of segments removed later stay readable through their mmap.
#[derive(Debug, Default)]
pub(crate) struct Version {
    pub segments: Vec<Arc<SegmentHandle>>,
}

/// Mutable engine state behind `Inner::state`.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub active: Memtable,
    /// Frozen memtables awaiting seal, oldest first.
    pub frozen: Vec<Arc<Memtable>>,
    pub version: Arc<Version>,
}

/// State owned by the ingest path.
#[derive(Debug)]
pub(crate) struct IngestState {
    /// The seq the next accepted observation gets.
    pub next_seq: u64,
    /// Latest observation of every event with unsealed rows.
    pub cache: HashMap<IdentityKey, Latest>,
    /// Lookup caches for sealed rows.
    pub index: IdentityIndex,
}

impl IdentitySource for SegmentHandle {
    fn id(&self) -> u64 {
        self.entry.id
    }
    fn span(&self) -> (i64, i64) {
        let f = self.reader.footer();
        (f.min_first_seen.to_native(), f.max_last_seen.to_native())
    }
    fn group_spans(&self) -> Vec<(i64, i64)> {
        self.reader
            .footer()
            .row_groups
            .iter()
            .map(|g| (g.min_first_seen.to_native(), g.max_last_seen.to_native()))
            .collect()
    }
    fn fingerprints(&self) -> Result<Vec<u32>> {
        self.reader.fingerprints()
    }
    fn group(&self, g: usize) -> Result<crate::segment::DecodedGroup> {
        self.reader.read_group(g)
    }
}

impl IngestState {
    /// The latest stored observation of `event` (identity `key`): unsealed
    /// rows first, then sealed segments. Damage met is reported, not fatal.
    pub(crate) fn latest(
        &mut self,
        inner: &Inner,
        version: &Version,
        event: &crate::model::Event,
        key: IdentityKey,
    ) -> Option<Latest> {
        if let Some(latest) = self.cache.get(&key) {
            return Some(*latest);
        }
        let mut damage = Vec::new();
        let found = self.index.latest_sealed(
            version.segments.iter().map(|s| &**s as &dyn IdentitySource),
            event,
            key,
            &mut damage,
        );
        for d in damage {
            inner.report_damage(d);
        }
        found
    }
}

pub(crate) struct Inner {
    pub dir: PathBuf,
    pub options: Options,
    pub ingest: Mutex<IngestState>,
    pub commit_tx: Sender<commit::CommitMsg>,
    /// Serialises seal, retention and compaction; holds the durable manifest.
    pub manifest: Mutex<Manifest>,
    pub state: RwLock<State>,
    pub superseded: RwLock<Superseded>,
    /// Seqs of purged observations (see `db::purge`).
    pub purged: RwLock<roaring::RoaringTreemap>,
    /// Highest seq whose row is visible to readers.
    pub visible: AtomicU64,
    /// Set after a write failed to become durable.
    pub poisoned: Mutex<Option<String>>,
    /// Damage found while serving (damaged blocks skipped).
    pub damage: Mutex<Vec<String>>,
    pub maintenance_tx: Mutex<Option<Sender<maintenance::MaintenanceMsg>>>,
    /// Notified by the commit thread whenever rows become visible.
    pub commit_signal: (Mutex<()>, parking_lot::Condvar),
    /// Notified whenever a frozen memtable has been sealed (appends held
    /// back by `append::wait_for_sealing` wait on it).
    pub sealed_signal: (Mutex<()>, parking_lot::Condvar),
    /// Decoded row groups kept for later queries (sharded, locks inside).
    pub cache: cache::GroupCache,
    /// Held for the whole of one compaction step: one merge at a time.
    pub compaction: Mutex<()>,
    /// Set when the database closes: a merge in progress gives up.
    pub closing: std::sync::atomic::AtomicBool,
    pub compaction_tx: Mutex<Option<Sender<maintenance::MaintenanceMsg>>>,
    /// Authenticates continue tokens (from the manifest).
    pub token_key: [u8; 32],
    _lock: File,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner").field("dir", &self.dir).finish_non_exhaustive()
    }
}

/// What a reader sees: the sealed segments, the memtable chunks and the
/// highest visible seq, taken together under the state lock (the commit
/// thread updates all three under it, so they agree).
pub(crate) struct Snapshot {
    pub version: Arc<Version>,
    pub chunks: Vec<crate::memtable::Chunk>,
    pub visible: u64,
}

impl Inner {
    /// Takes a reader's [`Snapshot`].
    pub(crate) fn snapshot(&self) -> Snapshot {
        let state = self.state.read();
        let mut chunks: Vec<crate::memtable::Chunk> = state.frozen.iter().flat_map(|m| m.chunks().to_vec()).collect();
        chunks.extend(state.active.chunks().iter().cloned());
        Snapshot { version: state.version.clone(), chunks, visible: self.visible.load(Ordering::Acquire) }
    }

    pub(crate) fn check_poisoned(&self) -> Result<()> {
        match &*self.poisoned.lock() {
            Some(why) => Err(Error::Poisoned(why.clone())),
            None => Ok(()),
        }
    }

    pub(crate) fn report_damage(&self, what: String) {
        let mut damage = self.damage.lock();
        if !damage.contains(&what) {
            damage.push(what);
        }
    }

    fn wake_maintenance(&self) {
        if let Some(tx) = &*self.maintenance_tx.lock() {
            let _ = tx.try_send(maintenance::MaintenanceMsg::Wake);
        }
    }

    fn wake_compaction(&self) {
        if let Some(tx) = &*self.compaction_tx.lock() {
            let _ = tx.try_send(maintenance::MaintenanceMsg::Wake);
        }
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
        QueryIter::new(self.inner.clone(), query.clone(), scan::ScanStart::default())
    }

    /// Streams every observation matching `query` with a seq above
    /// `from_seq`, in seq order: first what is stored, then live.
    pub fn subscribe(&self, query: &Query, from_seq: u64) -> Result<Subscription> {
        self.inner.check_poisoned()?;
        Subscription::new(self.inner.clone(), query.clone(), from_seq)
    }

    /// The oldest seq a stream (subscription, watch, history page) can
    /// resume from without a gap: retention has deleted observations up to
    /// this seq. 0 when nothing was ever deleted.
    pub fn resume_floor(&self) -> u64 {
        self.inner.manifest.lock().retention_floor
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

    /// Damage found while serving queries (damaged blocks are skipped, never
    /// served).
    pub fn damage(&self) -> Vec<String> {
        self.inner.damage.lock().clone()
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        let state = self.inner.state.read();
        let segs = &state.version.segments;
        let mut days: Vec<i32> = segs.iter().map(|s| s.entry.day).collect();
        days.sort_unstable();
        days.dedup();
        let memtable_rows = state.active.rows() + state.frozen.iter().map(|m| m.rows()).sum::<usize>();
        let wal_bytes = crate::wal::list_wal_files(&self.inner.dir.join("wal"))
            .map(|files| files.iter().filter_map(|(_, p)| std::fs::metadata(p).ok()).map(|m| m.len()).sum())
            .unwrap_or(0);
        Stats {
            last_seq: self.inner.visible.load(Ordering::Acquire),
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
        if let Some(tx) = self.inner.maintenance_tx.lock().take() {
            let _ = tx.send(maintenance::MaintenanceMsg::Stop);
        }
        self.inner.closing.store(true, Ordering::Release);
        if let Some(tx) = self.inner.compaction_tx.lock().take() {
            let _ = tx.send(maintenance::MaintenanceMsg::Stop);
        }
        for t in [self.maintenance_thread.take(), self.compaction_thread.take()].into_iter().flatten() {
            let _ = t.join();
        }
        let _ = self.inner.commit_tx.send(commit::CommitMsg::Stop);
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

pub(crate) fn append_events(db: &Db, events: Vec<crate::model::Event>) -> Result<AppendReport> {
    append::append(&db.inner, events)
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
        let seg = db.inner.state.read().version.segments[0].clone();
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
        assert!(damage.iter().any(|d| d.contains("identity block")), "{damage:?}");
        assert_eq!(db.query(&Query::new()).unwrap().count(), 50);
    }
}
