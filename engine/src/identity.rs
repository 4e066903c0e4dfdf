//! Event identity: which observation of each event is the latest, so that
//! re-deliveries are dropped and older observations marked superseded.
//!
//! An event is identified by `(cluster, metadata.uid)`; events without a uid
//! fall back to `(cluster, namespace, name)`, and events with neither to a
//! hash of their content (so only exact repeats are dropped). Keys are
//! 128-bit XXH3 hashes of that identity; the low 32 bits are the
//! *fingerprint* stored, sorted, in every segment's identity block.
//!
//! Finding the latest stored observation of an event:
//! - rows not sealed yet: the ingest path's in-memory map (`IngestState`);
//! - sealed rows: [`IdentityIndex`] probes the fingerprints of the segments
//!   whose time span can hold an earlier observation (every observation of
//!   an event shares its first-seen time `F`, and has `F <= last seen`), and
//!   decodes a row group only on a fingerprint match to confirm it and read
//!   the version.
//!
//! NOTE: the design named sled for this map. Measured on 1M generated
//! observations it took 173 bytes per event on disk (more than all segment
//! data) and most of a 545 MB peak RSS; the identity blocks take about 1.7
//! bytes per row (a 4-byte fingerprint, zstd-compressed in sorted order) and
//! need no separate recovery. See docs/ARCHITECTURE.md.

use crate::error::Result;
use crate::model::{Event, StrField};
use crate::row::SeqNo;
use crate::segment::DecodedGroup;
use quick_cache::unsync::Cache;
use quick_cache::Weighter;
use std::sync::Arc;

/// The 128-bit identity of an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct IdentityKey(pub u128);

impl IdentityKey {
    /// The identity of `event` (whose cluster is already assigned).
    pub(crate) fn of(event: &Event) -> IdentityKey {
        use xxhash_rust::xxh3::Xxh3;
        let mut h = Xxh3::new();
        h.update(event.cluster().as_bytes());
        h.update(&[0]);
        let uid = event.uid();
        let name = event.name();
        if !uid.is_empty() {
            h.update(b"u");
            h.update(uid.as_bytes());
        } else if !name.is_empty() {
            h.update(b"n");
            h.update(event.namespace().as_bytes());
            h.update(&[0]);
            h.update(name.as_bytes());
        } else {
            h.update(b"c");
            let mut row = Vec::new();
            crate::row::encode_event(&mut row, event);
            h.update(&row);
        }
        IdentityKey(h.digest128())
    }

    /// The 32-bit fingerprint kept in segments' identity blocks.
    pub(crate) fn fingerprint(self) -> u32 {
        self.0 as u32
    }
}

/// How new an observation is, for deciding whether a re-delivery adds
/// anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Version {
    /// The source's `metadata.resourceVersion` when it is a number, else 0.
    pub resource_version: u64,
    /// Last-seen time (µs).
    pub last_seen: i64,
    /// Observation count.
    pub count: i64,
}

impl Version {
    pub(crate) fn of(event: &Event) -> Version {
        Version {
            resource_version: event.str(StrField::MetadataResourceVersion).and_then(|rv| rv.parse().ok()).unwrap_or(0),
            last_seen: event.last_seen().map_or(0, |t| t.0),
            count: event.observed_count(),
        }
    }

    /// True when an observation at `self` carries news over one at `old`:
    /// a higher resourceVersion when both have one, else a later last-seen
    /// time or a higher count.
    pub(crate) fn is_newer_than(&self, old: &Version) -> bool {
        if self.resource_version != 0 && old.resource_version != 0 {
            return self.resource_version > old.resource_version;
        }
        (self.last_seen, self.count) > (old.last_seen, old.count)
    }
}

/// The latest stored observation of one event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Latest {
    pub seq: SeqNo,
    pub version: Version,
}

/// The parts of a sealed segment the identity lookup needs.
pub(crate) trait IdentitySource {
    /// Segment id (cache key).
    fn id(&self) -> u64;
    /// Smallest first-seen and largest last-seen time of the segment.
    fn span(&self) -> (i64, i64);
    /// Spans of the row groups.
    fn group_spans(&self) -> Vec<(i64, i64)>;
    /// The sorted fingerprints.
    fn fingerprints(&self) -> Result<Vec<u32>>;
    /// A decoded row group.
    fn group(&self, g: usize) -> Result<DecodedGroup>;
}

/// Bytes of fingerprint tables kept decoded in memory.
const TABLE_BUDGET: usize = 48 << 20;
/// The size of a typical fingerprint table (a sealed memtable of 64k rows),
/// for telling the cache how many tables to expect.
const TYPICAL_TABLE_BYTES: usize = 256 << 10;
/// Decoded row groups kept for confirming matches.
const GROUP_CACHE: usize = 4;

/// Weighs a fingerprint table by its bytes; at least 1, since an entry of
/// weight 0 would never be evicted.
#[derive(Clone, Copy)]
struct TableBytes;

impl Weighter<u64, Arc<Vec<u32>>> for TableBytes {
    fn weight(&self, _segment: &u64, table: &Arc<Vec<u32>>) -> u64 {
        (table.len() as u64 * 4).max(1)
    }
}

/// Caches for looking identities up in sealed segments. Owned by the
/// ingest path (under its lock), so the caches are `quick_cache`'s unsynced
/// ones: the same O(1) eviction as the decoded-group cache (`db::cache`).
pub(crate) struct IdentityIndex {
    /// Fingerprint tables by segment id, at most `TABLE_BUDGET` bytes (a
    /// table over 97% of it is read but not kept).
    tables: Cache<u64, Arc<Vec<u32>>, TableBytes>,
    /// The last few row groups decoded to confirm a fingerprint match, by
    /// (segment id, row group).
    groups: Cache<(u64, usize), Arc<DecodedGroup>>,
}

impl Default for IdentityIndex {
    fn default() -> Self {
        IdentityIndex::with_table_budget(TABLE_BUDGET)
    }
}

impl std::fmt::Debug for IdentityIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityIndex")
            .field("tables", &self.tables.len())
            .field("bytes", &self.tables.weight())
            .finish()
    }
}

/// True when row `i` of `g` is an observation of the event `key` was made from.
fn same_identity(event: &Event, key: IdentityKey, g: &DecodedGroup, i: usize) -> bool {
    if g.cluster(i) != event.cluster() {
        return false;
    }
    let uid = event.uid();
    let row_uid = g.str(StrField::MetadataUid, i).unwrap_or("");
    if !uid.is_empty() {
        return row_uid == uid;
    }
    let name = event.name();
    if !name.is_empty() {
        return row_uid.is_empty()
            && g.str(StrField::MetadataName, i).unwrap_or("") == name
            && g.str(StrField::MetadataNamespace, i).unwrap_or("") == event.namespace();
    }
    IdentityKey::of(&g.event(i).event) == key
}

impl IdentityIndex {
    /// Caches keeping at most `budget` bytes of fingerprint tables.
    fn with_table_budget(budget: usize) -> IdentityIndex {
        IdentityIndex {
            tables: Cache::with_weighter((budget / TYPICAL_TABLE_BYTES).max(1), budget as u64, TableBytes),
            groups: Cache::new(GROUP_CACHE),
        }
    }

    fn table(&mut self, seg: &dyn IdentitySource) -> Result<Arc<Vec<u32>>> {
        if let Some(table) = self.tables.get(&seg.id()) {
            return Ok(table.clone());
        }
        let table = Arc::new(seg.fingerprints()?);
        self.tables.insert(seg.id(), table.clone());
        Ok(table)
    }

    fn group(&mut self, seg: &dyn IdentitySource, g: usize) -> Result<Arc<DecodedGroup>> {
        let key = (seg.id(), g);
        if let Some(group) = self.groups.get(&key) {
            return Ok(group.clone());
        }
        let group = Arc::new(seg.group(g)?);
        self.groups.insert(key, group.clone());
        Ok(group)
    }

    /// The latest sealed observation of `event` (identity `key`), if any.
    /// Segments that cannot be read are skipped and returned as damage.
    pub(crate) fn latest_sealed<'a>(
        &mut self,
        segments: impl IntoIterator<Item = &'a dyn IdentitySource>,
        event: &Event,
        key: IdentityKey,
        damage: &mut Vec<String>,
    ) -> Option<Latest> {
        let last = event.last_seen().map_or(0, |t| t.0);
        let first = event.first_seen().map_or(last, |t| t.0).min(last);
        let fp = key.fingerprint();
        let mut best: Option<Latest> = None;
        for seg in segments {
            let (min_first, max_last) = seg.span();
            if min_first > last || max_last < first {
                continue;
            }
            match self.table(seg) {
                Ok(t) if t.binary_search(&fp).is_ok() => {}
                Ok(_) => continue,
                // Without its fingerprints the segment must be searched row
                // by row: slower, but a re-delivery is still recognised.
                Err(e) => damage.push(format!("identity block unreadable, searching rows instead: {e}")),
            }
            for (g, (g_first, g_last)) in seg.group_spans().into_iter().enumerate() {
                if g_first > last || g_last < first {
                    continue;
                }
                let group = match self.group(seg, g) {
                    Ok(group) => group,
                    Err(e) => {
                        damage.push(format!("row group skipped in identity lookup: {e}"));
                        continue;
                    }
                };
                for i in 0..group.rows {
                    let seq = SeqNo(group.seq[i]);
                    if best.is_some_and(|b| b.seq >= seq) || !same_identity(event, key, &group, i) {
                        continue;
                    }
                    best = Some(Latest { seq, version: Version::of(&group.event(i).event) });
                }
            }
        }
        best
    }

    /// Forgets cached tables and groups of segments that no longer exist.
    pub(crate) fn retain(&mut self, live: impl Fn(u64) -> bool) {
        self.tables.retain(|id, _| live(*id));
        self.groups.retain(|(id, _), _| live(*id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ApiShape, Timestamp};

    fn event(uid: &str, rv: &str, count: i64) -> Event {
        let mut e = Event::new(ApiShape::CoreV1);
        e.set_cluster("c");
        e.set_str(StrField::MetadataUid, Some(uid));
        e.set_str(StrField::MetadataResourceVersion, Some(rv));
        e.set_int(crate::model::IntField::Count, Some(count));
        e.set_time(crate::model::TimeField::LastTimestamp, Some(Timestamp(count)));
        e
    }

    #[test]
    fn resource_version_decides_when_both_are_numeric() {
        let old = Version::of(&event("a", "100", 5));
        assert!(Version::of(&event("a", "101", 1)).is_newer_than(&old));
        assert!(!Version::of(&event("a", "100", 9)).is_newer_than(&old));
        assert!(!Version::of(&event("a", "99", 9)).is_newer_than(&old));
        // Without numeric versions, time and count decide.
        let old = Version::of(&event("a", "x", 5));
        assert!(Version::of(&event("a", "y", 6)).is_newer_than(&old));
        assert!(!Version::of(&event("a", "y", 5)).is_newer_than(&old));
    }

    const BASE: i64 = 1_790_000_000;

    /// An observation of `uid`, first seen at `BASE` and last at `last` (s).
    fn observation(uid: &str, count: i64, last: i64) -> Event {
        let mut e = Event::new(ApiShape::CoreV1);
        e.set_cluster("c");
        e.set_str(StrField::MetadataUid, Some(uid));
        e.set_int(crate::model::IntField::Count, Some(count));
        e.set_time(crate::model::TimeField::FirstTimestamp, Some(Timestamp::from_secs(BASE)));
        e.set_time(crate::model::TimeField::LastTimestamp, Some(Timestamp::from_secs(last)));
        e
    }

    /// `n` real segments (ids 0..n) of row groups of 4 rows. Segment `s`
    /// holds `u{s}-0`..`u{s}-7` (seqs `9s + 1..`), then an observation of
    /// `shared` with count `s + 1`; times grow with `s`.
    fn segments(dir: &std::path::Path, n: u64) -> Vec<crate::db::SegmentHandle> {
        (0..n)
            .map(|s| {
                let mut writer = crate::segment::SegmentWriter::create(dir, s, 20_717, 3, 4).unwrap();
                for i in 0..9 {
                    let last = BASE + (s * 100 + i) as i64;
                    let event = match i {
                        8 => observation("shared", s as i64 + 1, last),
                        _ => observation(&format!("u{s}-{i}"), 1, last),
                    };
                    writer.push(crate::row::StoredEvent { seq: SeqNo(9 * s + i + 1), event }).unwrap();
                }
                let meta = writer.finish().unwrap();
                let reader = crate::segment::SegmentReader::open(&meta.path).unwrap();
                let entry = crate::manifest::SegmentEntry {
                    id: meta.id,
                    day: meta.day,
                    rows: meta.rows,
                    bytes: meta.bytes,
                    min_seq: meta.min_seq,
                    max_seq: meta.max_seq,
                };
                crate::db::SegmentHandle { entry, reader }
            })
            .collect()
    }

    fn lookup(index: &mut IdentityIndex, segments: &[crate::db::SegmentHandle], event: &Event) -> Option<Latest> {
        let mut damage = Vec::new();
        let sources = segments.iter().map(|s| s as &dyn IdentitySource);
        let found = index.latest_sealed(sources, event, IdentityKey::of(event), &mut damage);
        assert!(damage.is_empty(), "{damage:?}");
        found
    }

    /// Bytes of one test segment's fingerprint table (9 rows).
    const TABLE: u64 = 9 * 4;

    /// Every lookup probes the tables of all 24 segments while only five
    /// fit: the tables stay within their budget after every lookup, the
    /// decoded groups within their count, and every answer is right.
    #[test]
    fn lookups_stay_right_within_the_cache_bounds() {
        let dir = tempfile::tempdir().unwrap();
        let segs = segments(dir.path(), 24);
        let mut index = IdentityIndex::with_table_budget(5 * TABLE as usize);
        for s in (0..24).chain((0..24).rev()) {
            let probe = observation(&format!("u{s}-3"), 2, BASE + (s * 100 + 3) as i64);
            let found = lookup(&mut index, &segs, &probe).unwrap();
            assert_eq!(found.seq, SeqNo(9 * s + 4));
            assert_eq!(found.version.count, 1);
            assert!(index.tables.weight() <= 5 * TABLE, "{}", index.tables.weight());
            assert!(index.tables.len() <= 5 && index.groups.len() <= GROUP_CACHE);
        }
        assert!(!index.tables.is_empty());
        let latest = lookup(&mut index, &segs, &observation("shared", 30, BASE + 2_400)).unwrap();
        assert_eq!((latest.seq, latest.version.count), (SeqNo(9 * 23 + 9), 24));
        assert_eq!(lookup(&mut index, &segs, &observation("unknown", 1, BASE + 2_400)), None);
        assert!(index.tables.weight() <= 5 * TABLE);
    }

    #[test]
    fn tables_over_the_budget_are_read_but_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let segs = segments(dir.path(), 3);
        let mut index = IdentityIndex::with_table_budget(TABLE as usize - 1);
        let latest = lookup(&mut index, &segs, &observation("shared", 9, BASE + 300)).unwrap();
        assert_eq!(latest.seq, SeqNo(9 * 2 + 9));
        assert!(index.tables.is_empty());
        assert_eq!(index.tables.weight(), 0);
    }

    #[test]
    fn retain_forgets_removed_segments() {
        let dir = tempfile::tempdir().unwrap();
        let segs = segments(dir.path(), 6);
        let mut index = IdentityIndex::default();
        assert!(lookup(&mut index, &segs, &observation("shared", 9, BASE + 600)).is_some());
        assert_eq!(index.tables.len(), 6);
        assert!(!index.groups.is_empty());
        index.retain(|id| id.is_multiple_of(2));
        let mut kept: Vec<u64> = index.tables.iter().map(|(id, _)| *id).collect();
        kept.sort_unstable();
        assert_eq!(kept, [0, 2, 4]);
        assert_eq!(index.tables.weight(), 3 * TABLE);
        assert!(index.groups.iter().all(|((id, _), _)| id.is_multiple_of(2)));
    }

    #[test]
    fn identity_is_per_cluster_and_uid() {
        let a = event("a", "1", 1);
        let mut b = event("a", "2", 2);
        assert_eq!(IdentityKey::of(&a), IdentityKey::of(&b));
        b.set_cluster("other");
        assert_ne!(IdentityKey::of(&a), IdentityKey::of(&b));
    }
}
