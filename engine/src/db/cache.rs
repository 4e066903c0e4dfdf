//! The decoded row-group cache: row groups that queries decompressed and
//! decoded, kept (least recently used out first) within
//! `Options::cache_bytes`, so that the next query over the same recent data
//! skips zstd and varint decoding — the work that dominates warm queries.
//!
//! Entries are keyed by (segment id, row group). Segment ids are never
//! reused and segments are immutable, so an entry never goes stale; entries
//! of segments that compaction or retention removed just age out. An entry
//! may hold only some columns; a query needing more extends a clone of it
//! (columns are shared, see `DecodedGroup`) and stores that instead.

use super::{Inner, SegmentHandle};
use crate::error::Result;
use crate::segment::DecodedGroup;
use std::collections::HashMap;
use std::sync::Arc;

struct Entry {
    group: Arc<DecodedGroup>,
    bytes: usize,
    last_used: u64,
}

/// Bytes-bounded LRU map of decoded row groups.
#[derive(Default)]
pub(crate) struct GroupCache {
    budget: usize,
    used: usize,
    clock: u64,
    entries: HashMap<(u64, usize), Entry>,
}

impl std::fmt::Debug for GroupCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCache").field("budget", &self.budget).field("used", &self.used).finish()
    }
}

impl GroupCache {
    pub(crate) fn new(budget: usize) -> GroupCache {
        GroupCache { budget, ..GroupCache::default() }
    }

    fn get(&mut self, key: (u64, usize)) -> Option<Arc<DecodedGroup>> {
        self.clock += 1;
        let entry = self.entries.get_mut(&key)?;
        entry.last_used = self.clock;
        Some(entry.group.clone())
    }

    fn insert(&mut self, key: (u64, usize), group: Arc<DecodedGroup>) {
        let bytes = group.heap_bytes();
        // One group must not push everything else out.
        if bytes > self.budget / 4 {
            return;
        }
        self.clock += 1;
        if let Some(old) = self.entries.insert(key, Entry { group, bytes, last_used: self.clock }) {
            self.used -= old.bytes;
        }
        self.used += bytes;
        while self.used > self.budget {
            let Some(oldest) = self.entries.iter().min_by_key(|(_, e)| e.last_used).map(|(k, _)| *k) else {
                break;
            };
            if let Some(e) = self.entries.remove(&oldest) {
                self.used -= e.bytes;
            }
        }
    }

    /// Bytes held.
    pub(crate) fn used(&self) -> usize {
        self.used
    }
}

impl Inner {
    /// Row group `g` of `segment` with at least the columns in `mask`
    /// decoded: from the cache when it holds them, else decoded (on top of
    /// whatever the cache holds) and cached.
    pub(crate) fn decoded_group(&self, segment: &SegmentHandle, g: usize, mask: u64) -> Result<Arc<DecodedGroup>> {
        let key = (segment.entry.id, g);
        let cached = if self.options.cache_bytes > 0 { self.cache.lock().get(key) } else { None };
        let group = match cached {
            Some(hit) if hit.has(mask) => return Ok(hit),
            Some(partial) => {
                let mut more = (*partial).clone();
                segment.reader.load_columns(&mut more, mask)?;
                more
            }
            None => segment.reader.read_group_cols(g, mask)?,
        };
        let group = Arc::new(group);
        if self.options.cache_bytes > 0 {
            self.cache.lock().insert(key, group.clone());
        }
        Ok(group)
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{ApiShape, Event, StrField, TimeField, Timestamp};
    use crate::{Db, Options, Query};

    fn events(n: usize) -> Vec<Event> {
        (0..n)
            .map(|i| {
                let mut e = Event::new(ApiShape::CoreV1);
                e.set_str(StrField::MetadataUid, Some(format!("u{i}")));
                e.set_str(StrField::MetadataNamespace, Some(if i % 2 == 0 { "a" } else { "b" }));
                e.set_str(StrField::Reason, Some("BackOff"));
                e.set_str(StrField::Message, Some(format!("message {i}")));
                e.set_time(TimeField::LastTimestamp, Some(Timestamp::from_secs(1_790_000_000 + i as i64)));
                e
            })
            .collect()
    }

    #[test]
    fn cached_groups_answer_like_decoded_ones_within_the_budget() {
        let dir = tempfile::tempdir().unwrap();
        let small = 64 * 1024;
        let opts = Options { background: false, row_group_rows: 256, cache_bytes: small, ..Options::default() };
        let db = Db::open(dir.path(), opts).unwrap();
        db.append(events(4_000)).unwrap();
        db.flush().unwrap();
        let q = Query::new().namespace("a");
        // Cold, then warm (a count caches seq and time columns only; the
        // query then extends those entries with every column).
        let cold: Vec<_> = db.query(&q).unwrap().collect();
        assert_eq!(db.count(&q).unwrap(), 2_000);
        let warm: Vec<_> = db.query(&q).unwrap().collect();
        assert_eq!(cold.len(), 2_000);
        assert_eq!(cold, warm);
        let used = db.inner.cache.lock().used();
        assert!(used > 0 && used <= small, "{used}");

        // Without a cache the answers are the same.
        db.close().unwrap();
        let db = Db::open(dir.path(), Options { background: false, cache_bytes: 0, ..Options::default() }).unwrap();
        let uncached: Vec<_> = db.query(&q).unwrap().collect();
        assert_eq!(uncached, cold);
        assert_eq!(db.inner.cache.lock().used(), 0);
    }
}
