//! The decoded row-group cache: row groups that queries decompressed and
//! decoded, kept within `Options::cache_bytes`, so that the next query over
//! the same recent data skips zstd and varint decoding — the work that
//! dominates warm queries.
//!
//! Entries are keyed by (segment id, row group). Segment ids are never
//! reused and segments are immutable, so an entry never goes stale; entries
//! of segments that compaction or retention removed just age out. An entry
//! may hold only some columns; a query needing more extends a clone of it
//! (columns are shared, see `DecodedGroup`) and stores that instead.
//!
//! The map is a `quick_cache` sync cache weighted by the decoded heap bytes
//! of each group: a few shards, each with its own lock and an equal part of
//! the budget, so concurrent queries share it without a global lock, and
//! eviction is O(1) (a modified CLOCK-Pro close to S3-FIFO: new entries
//! wait in a small queue, entries hit again move to the main one, and keys
//! evicted recently are remembered so that a second miss admits them
//! directly).

use super::{Inner, SegmentHandle};
use crate::error::Result;
use crate::segment::DecodedGroup;
use quick_cache::sync::{Cache, DefaultLifecycle};
use quick_cache::{DefaultHashBuilder, OptionsBuilder, Weighter};
use std::sync::Arc;

/// (segment id, row group).
type GroupKey = (u64, usize);

/// A cached group with its weight, computed once when it is stored: the
/// cache weighs entries again while evicting, and an entry's weight must
/// never change.
#[derive(Clone)]
struct Cached {
    group: Arc<DecodedGroup>,
    bytes: u64,
}

/// Weighs an entry by the heap bytes of its decoded columns.
#[derive(Clone, Copy)]
struct ByHeapBytes;

impl Weighter<GroupKey, Cached> for ByHeapBytes {
    fn weight(&self, _key: &GroupKey, cached: &Cached) -> u64 {
        cached.bytes
    }
}

/// Shards of the cache. Each holds a quarter of the budget, so the largest
/// group a shard admits (97% of its part) is about the largest the cache
/// takes anyway (a quarter of the budget, see `GroupCache::insert`); more
/// shards would turn away the 5–10 MiB fully decoded groups of the default
/// 16k-row groups at the default budget. Four independent locks, each held
/// for a hash lookup, are plenty for the threads a query runs on.
const SHARDS: usize = 4;

/// The size assumed for an average entry when telling the cache how many
/// entries to expect (it sizes the memory of recently evicted keys from
/// that, and uses fewer shards when each would hold fewer than 32 entries,
/// as with small test budgets). Between a group's seq and time columns
/// (24 bytes a row) and a whole group (hundreds of bytes a row).
const TYPICAL_ENTRY_BYTES: usize = 256 << 10;

/// Bytes-bounded, sharded map of decoded row groups; `None` inside when the
/// budget is 0 (the cache is off).
pub(crate) struct GroupCache {
    budget: usize,
    entries: Option<Cache<GroupKey, Cached, ByHeapBytes>>,
}

impl std::fmt::Debug for GroupCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCache").field("budget", &self.budget).field("used", &self.used()).finish()
    }
}

impl GroupCache {
    /// A cache holding at most `budget` bytes of decoded groups (rounded down
    /// to a multiple of the shard count, so that the shards' parts add up to
    /// no more than it); 0 turns it off.
    pub(crate) fn new(budget: usize) -> GroupCache {
        let capacity = budget - budget % SHARDS;
        let entries = (capacity > 0).then(|| {
            let options = OptionsBuilder::new()
                .shards(SHARDS)
                .estimated_items_capacity((budget / TYPICAL_ENTRY_BYTES).max(1))
                .weight_capacity(capacity as u64)
                .build()
                .expect("both capacities are set");
            Cache::with_options(options, ByHeapBytes, DefaultHashBuilder::default(), DefaultLifecycle::default())
        });
        GroupCache { budget, entries }
    }

    /// The cached group under `key`, if any (the same `Arc` that was stored).
    fn get(&self, key: GroupKey) -> Option<Arc<DecodedGroup>> {
        self.entries.as_ref()?.get(&key).map(|cached| cached.group)
    }

    /// Stores `group` under `key`, replacing what was there, unless it is
    /// larger than a quarter of the budget: one group must not push
    /// everything else out.
    fn insert(&self, key: GroupKey, group: Arc<DecodedGroup>) {
        let Some(entries) = &self.entries else { return };
        let bytes = group.heap_bytes();
        if bytes > self.budget / 4 {
            return;
        }
        // A zero-weight entry would never be evicted; every entry costs
        // at least its map slot.
        entries.insert(key, Cached { group, bytes: bytes.max(1) as u64 });
    }

    /// Drops every entry.
    pub(crate) fn clear(&self) {
        if let Some(entries) = &self.entries {
            entries.clear();
        }
    }

    /// Bytes held: at most the budget at every moment, each shard evicting
    /// before it admits.
    pub(crate) fn used(&self) -> usize {
        self.entries.as_ref().map_or(0, |entries| entries.weight() as usize)
    }
}

impl Inner {
    /// Row group `g` of `segment` with at least the columns in `mask`
    /// decoded: from the cache when it holds them, else decoded (on top of
    /// whatever the cache holds) and cached.
    pub(crate) fn decoded_group(&self, segment: &SegmentHandle, g: usize, mask: u64) -> Result<Arc<DecodedGroup>> {
        let key = (segment.entry.id, g);
        let group = match self.cache.get(key) {
            Some(hit) if hit.has(mask) => return Ok(hit),
            Some(partial) => {
                let mut more = (*partial).clone();
                segment.reader.load_columns(&mut more, mask)?;
                more
            }
            None => segment.reader.read_group_cols(g, mask)?,
        };
        let group = Arc::new(group);
        self.cache.insert(key, group.clone());
        Ok(group)
    }
}

#[cfg(test)]
mod tests {
    use super::GroupCache;
    use crate::model::{ApiShape, Event, StrField, TimeField, Timestamp};
    use crate::row::{SeqNo, StoredEvent};
    use crate::segment::{DecodedGroup, SegmentReader, SegmentWriter, FIRST_SEEN_COLUMN};
    use crate::{Db, Options, Query};
    use std::sync::Arc;

    impl GroupCache {
        /// Sum of the stored weights of the entries, walked one by one.
        fn entry_bytes(&self) -> u64 {
            self.entries.as_ref().map_or(0, |entries| entries.iter().map(|(_, cached)| cached.bytes).sum())
        }

        fn shards(&self) -> usize {
            self.entries.as_ref().map_or(0, |entries| entries.num_shards())
        }
    }

    /// Event `i`; `pad` bytes are added to its message.
    fn event(i: usize, pad: usize) -> Event {
        let mut e = Event::new(ApiShape::CoreV1);
        e.set_str(StrField::MetadataUid, Some(format!("u{i}")));
        e.set_str(StrField::MetadataNamespace, Some(if i.is_multiple_of(2) { "a" } else { "b" }));
        e.set_str(StrField::Reason, Some("BackOff"));
        e.set_str(StrField::Message, Some(format!("message {i} {}", "x".repeat(pad))));
        e.set_time(TimeField::LastTimestamp, Some(Timestamp::from_secs(1_790_000_000 + i as i64)));
        e
    }

    fn events(n: usize) -> Vec<Event> {
        (0..n).map(|i| event(i, 0)).collect()
    }

    /// The groups of a real segment of 8 row groups of 64 rows, decoded with
    /// `mask`; messages grow from group to group, so the groups differ in size.
    fn decoded_groups(dir: &std::path::Path, mask: u64) -> Vec<Arc<DecodedGroup>> {
        let mut writer = SegmentWriter::create(dir, 1, 20_717, 3, 64).unwrap();
        for i in 0..8 * 64 {
            writer.push(StoredEvent { seq: SeqNo(i as u64 + 1), event: event(i, i / 64 * 50) }).unwrap();
        }
        let reader = SegmentReader::open(&writer.finish().unwrap().path).unwrap();
        assert_eq!(reader.group_count(), 8);
        (0..8).map(|g| Arc::new(reader.read_group_cols(g, mask).unwrap())).collect()
    }

    fn largest(groups: &[Arc<DecodedGroup>]) -> usize {
        groups.iter().map(|g| g.heap_bytes()).max().unwrap()
    }

    #[test]
    fn a_hit_returns_the_stored_arc() {
        let dir = tempfile::tempdir().unwrap();
        let groups = decoded_groups(dir.path(), crate::segment::ALL_COLUMNS);
        let cache = GroupCache::new(1 << 20);
        cache.insert((1, 0), groups[0].clone());
        cache.insert((1, 1), groups[1].clone());
        assert!(Arc::ptr_eq(&cache.get((1, 0)).unwrap(), &groups[0]));
        assert!(Arc::ptr_eq(&cache.get((1, 1)).unwrap(), &groups[1]));
        assert!(cache.get((1, 2)).is_none());
        assert!(cache.get((2, 0)).is_none());
        assert_eq!(cache.used(), groups[0].heap_bytes() + groups[1].heap_bytes());
    }

    /// The bound: after every insert the weight is at most the budget (each
    /// shard evicts before it admits, and the shards' parts add up to the
    /// budget), and the group just stored is there. With one shard (small
    /// budget) and with four.
    #[test]
    fn the_byte_bound_holds_well_past_capacity() {
        let dir = tempfile::tempdir().unwrap();
        let groups = decoded_groups(dir.path(), crate::segment::ALL_COLUMNS);
        let max = largest(&groups);
        for (budget, shards) in [(16 * max, 1), (32 << 20, 4)] {
            let cache = GroupCache::new(budget);
            assert_eq!(cache.shards(), shards);
            let inserts = 3 * budget / max;
            for i in 0..inserts {
                let key = (i as u64 / 8, i % 8);
                cache.insert(key, groups[i % 8].clone());
                assert!(cache.used() <= budget, "{} > {budget} after {i} inserts", cache.used());
                assert!(Arc::ptr_eq(&cache.get(key).unwrap(), &groups[i % 8]));
            }
            assert_eq!(cache.used() as u64, cache.entry_bytes());
            // Evicting made room, it did not empty the cache.
            assert!(cache.used() >= budget / 2, "{} of {budget}", cache.used());
        }
    }

    #[test]
    fn groups_over_a_quarter_of_the_budget_are_not_cached() {
        let dir = tempfile::tempdir().unwrap();
        let groups = decoded_groups(dir.path(), crate::segment::ALL_COLUMNS);
        let bytes = groups[7].heap_bytes();
        let cache = GroupCache::new(4 * bytes - 4);
        cache.insert((1, 7), groups[7].clone());
        assert!(cache.get((1, 7)).is_none());
        assert_eq!(cache.used(), 0);
        cache.insert((1, 0), groups[0].clone());
        assert!(cache.get((1, 0)).is_some());

        let off = GroupCache::new(0);
        off.insert((1, 0), groups[0].clone());
        assert!(off.get((1, 0)).is_none());
        assert_eq!(off.used(), 0);
    }

    #[test]
    fn clear_empties_it() {
        let dir = tempfile::tempdir().unwrap();
        let groups = decoded_groups(dir.path(), crate::segment::ALL_COLUMNS);
        let cache = GroupCache::new(64 * largest(&groups));
        for (g, group) in groups.iter().enumerate() {
            cache.insert((1, g), group.clone());
        }
        assert_eq!(cache.used(), groups.iter().map(|g| g.heap_bytes()).sum::<usize>());
        cache.clear();
        assert_eq!(cache.used(), 0);
        assert_eq!(cache.entry_bytes(), 0);
        assert!((0..8).all(|g| cache.get((1, g)).is_none()));
        cache.insert((1, 3), groups[3].clone());
        assert_eq!(cache.used(), groups[3].heap_bytes());
    }

    #[test]
    fn an_extended_entry_replaces_the_partial_one() {
        let dir = tempfile::tempdir().unwrap();
        let partial = decoded_groups(dir.path(), FIRST_SEEN_COLUMN);
        let full = decoded_groups(&dir.path().join("full"), crate::segment::ALL_COLUMNS);
        assert!(partial[0].heap_bytes() < full[0].heap_bytes());
        let cache = GroupCache::new(1 << 20);
        cache.insert((1, 0), partial[0].clone());
        assert_eq!(cache.used(), partial[0].heap_bytes());
        cache.insert((1, 0), full[0].clone());
        assert_eq!(cache.used(), full[0].heap_bytes());
        assert!(Arc::ptr_eq(&cache.get((1, 0)).unwrap(), &full[0]));
    }

    /// Four threads get and insert over the four shards of a 32 MiB cache,
    /// with more keys than it holds so that entries are evicted all the
    /// time: every hit is the group stored under its key, the bound holds at
    /// every step, and the weight matches the entries at the end.
    #[test]
    fn threads_share_it_consistently() {
        let dir = tempfile::tempdir().unwrap();
        let groups = decoded_groups(dir.path(), crate::segment::ALL_COLUMNS);
        let budget = 32 << 20;
        let keys = 2 * budget / groups[0].heap_bytes();
        let cache = GroupCache::new(budget);
        assert_eq!(cache.shards(), 4);
        let (hits, misses) = std::thread::scope(|s| {
            let workers: Vec<_> = (0..4u64)
                .map(|t| {
                    let (cache, groups) = (&cache, &groups);
                    s.spawn(move || {
                        let (mut hits, mut misses) = (0u64, 0u64);
                        let mut x = t + 1;
                        for i in 0..10_000u32 {
                            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                            // Half the requests go to 64 hot keys.
                            let range = if i.is_multiple_of(2) { 64 } else { keys };
                            let k = (x >> 33) as usize % range;
                            let key = (k as u64, k % 8);
                            match cache.get(key) {
                                Some(hit) => {
                                    assert!(Arc::ptr_eq(&hit, &groups[k % 8]), "key {k}");
                                    hits += 1;
                                }
                                None => {
                                    cache.insert(key, groups[k % 8].clone());
                                    misses += 1;
                                }
                            }
                            assert!(cache.used() <= budget);
                        }
                        (hits, misses)
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
        });
        assert_eq!(hits + misses, 40_000);
        assert!(hits > misses / 2 && misses > 0, "{hits} hits, {misses} misses");
        assert_eq!(cache.used() as u64, cache.entry_bytes());
        assert!(cache.used() <= budget);
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
        let used = db.stats().cache_bytes as usize;
        assert!(used > 0 && used <= small, "{used}");
        db.clear_cache();
        assert_eq!(db.stats().cache_bytes, 0);

        // Without a cache the answers are the same.
        db.close().unwrap();
        let db = Db::open(dir.path(), Options { background: false, cache_bytes: 0, ..Options::default() }).unwrap();
        let uncached: Vec<_> = db.query(&q).unwrap().collect();
        assert_eq!(uncached, cold);
        assert_eq!(db.stats().cache_bytes, 0);
    }

    /// Queries on several threads through one small cache answer as one
    /// query alone does.
    #[test]
    fn concurrent_queries_answer_alike() {
        let dir = tempfile::tempdir().unwrap();
        let small = 64 * 1024;
        let opts = Options { background: false, row_group_rows: 256, cache_bytes: small, ..Options::default() };
        let db = Db::open(dir.path(), opts).unwrap();
        db.append(events(4_000)).unwrap();
        db.flush().unwrap();
        let queries = [Query::new().namespace("a"), Query::new().namespace("b"), Query::new()];
        let expected: Vec<Vec<_>> = queries.iter().map(|q| db.query(q).unwrap().collect()).collect();
        db.clear_cache();
        std::thread::scope(|s| {
            for t in 0..3 {
                let (db, queries, expected) = (&db, &queries, &expected);
                s.spawn(move || {
                    for round in 0..4 {
                        let i = (t + round) % queries.len();
                        let got: Vec<_> = db.query(&queries[i]).unwrap().collect();
                        assert_eq!(got, expected[i], "query {i}");
                        assert_eq!(db.count(&queries[i]).unwrap(), expected[i].len() as u64);
                    }
                });
            }
        });
        let used = db.stats().cache_bytes as usize;
        assert!(used > 0 && used <= small, "{used}");
    }
}
