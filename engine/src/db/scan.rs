//! Query execution by scan: a lazy k-way merge over the memtables and every
//! segment, newest (or oldest) first, that decodes a row group only when the
//! merge reaches it. Row groups outside the time window or above the
//! snapshot's seq are pruned from their footer statistics.

use super::{plan, Inner, SegmentHandle};
use crate::error::Result;
use crate::model::StrField;
use crate::query::{FieldView, Order, Query};
use crate::row::StoredEvent;
use crate::segment::{DecodedGroup, ALL_COLUMNS, FIRST_SEEN_COLUMN};
use kevdb_index::{OwnedBitmap, TextQuery};
use std::collections::{BinaryHeap, VecDeque};
use std::sync::Arc;

/// A merge key in output order: the heap always pops the largest.
type Key = (i64, u64);

fn key(order: Order, last_seen: i64, seq: u64) -> Key {
    match order {
        Order::NewestFirst => (last_seen, seq),
        Order::OldestFirst => (!last_seen, !seq),
    }
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Head {
    key: Key,
    /// A lazy head stands for a row group not decoded yet; its key bounds
    /// every row in the group.
    lazy: bool,
    source: usize,
}

/// The rows of one decoded row group that passed every check, in output
/// order.
#[derive(Debug)]
enum GroupRows {
    /// Built already (label and text checks needed the built event).
    Built(VecDeque<StoredEvent>),
    /// Row indexes into `group`, built when taken.
    Lazy { group: Arc<DecodedGroup>, rows: VecDeque<usize> },
}

impl GroupRows {
    /// (last seen, seq) of the next row.
    fn front_key(&self) -> Option<(i64, u64)> {
        match self {
            GroupRows::Built(rows) => rows.front().map(|r| (r.last_seen().0, r.seq.0)),
            GroupRows::Lazy { group, rows } => rows.front().map(|&i| (group.last_seen[i], group.seq[i])),
        }
    }

    fn pop_front(&mut self) -> Option<StoredEvent> {
        match self {
            GroupRows::Built(rows) => rows.pop_front(),
            GroupRows::Lazy { group, rows } => rows.pop_front().map(|i| group.event(i)),
        }
    }
}

#[derive(Debug)]
enum Source {
    Rows(VecDeque<StoredEvent>),
    Segment {
        segment: Arc<SegmentHandle>,
        groups: Vec<usize>,
        buf: GroupRows,
        /// Rows the indexes allow (`None`: all; then every filter is
        /// checked on decoded rows), and each group's first row.
        candidates: Option<Arc<OwnedBitmap>>,
        group_starts: Vec<u32>,
    },
}

/// Where a scan starts: the snapshot's seq high-water mark, and (when
/// resuming a page) the last row already returned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ScanStart {
    /// Rows above this seq are invisible; `None` = what is visible now.
    pub hi: Option<u64>,
    /// Resume strictly after this (last seen µs, seq), in the query's order.
    pub after: Option<(i64, u64)>,
}

/// Streaming query results. Each item is one stored observation.
#[derive(Debug)]
pub struct QueryIter {
    inner: Arc<Inner>,
    query: Query,
    text: Option<Arc<TextQuery>>,
    hi: u64,
    /// Only keys below this (in output order) are returned.
    below: Key,
    heap: BinaryHeap<Head>,
    sources: Vec<Source>,
    emitted: usize,
}

/// Row `.1` of a decoded group, seen through its filterable fields.
pub(crate) struct GroupRow<'a>(pub &'a DecodedGroup, pub usize);

impl FieldView for GroupRow<'_> {
    fn cluster(&self) -> &str {
        self.0.cluster(self.1)
    }
    fn field(&self, f: StrField) -> Option<&str> {
        self.0.str(f, self.1)
    }
}

impl QueryIter {
    pub(crate) fn new(inner: Arc<Inner>, query: Query, start: ScanStart) -> Result<QueryIter> {
        let text = query.compile_text()?.map(Arc::new);
        let super::Snapshot { version, chunks, visible } = inner.snapshot();
        let hi = start.hi.map_or(visible, |h| h.min(visible));
        let order = query.order;
        let below = start.after.map_or((i64::MAX, u64::MAX), |(ls, seq)| key(order, ls, seq));
        let mut it =
            QueryIter { inner, query, text, hi, below, heap: BinaryHeap::new(), sources: Vec::new(), emitted: 0 };
        // Memtable rows: few enough to filter and sort up front.
        let mut rows: Vec<StoredEvent> = {
            let superseded = it.inner.superseded.read();
            let purged = it.inner.purged.read();
            chunks
                .iter()
                .flat_map(|c| c.iter())
                .filter(|r| {
                    r.seq.0 <= hi
                        && !purged.contains(r.seq.0)
                        && key(order, r.last_seen().0, r.seq.0) < below
                        && it.query.matches_with(&r.event, it.text.as_deref())
                })
                .filter(|r| it.query.history || superseded.is_latest(r.seq.0, hi))
                .cloned()
                .collect()
        };
        rows.sort_by_key(|r| std::cmp::Reverse(key(order, r.last_seen().0, r.seq.0)));
        if let Some(first) = rows.first() {
            let k = key(order, first.last_seen().0, first.seq.0);
            it.heap.push(Head { key: k, lazy: false, source: 0 });
        }
        it.sources.push(Source::Rows(rows.into()));
        let indexed = plan::uses_indexes(&it.query);
        for segment in &version.segments {
            let footer = segment.reader.footer();
            let mut group_starts = Vec::with_capacity(footer.row_groups.len());
            let mut next = 0u32;
            for g in footer.row_groups.iter() {
                group_starts.push(next);
                next = next.saturating_add(g.rows.to_native());
            }
            let in_range = |g: usize| {
                let m = &footer.row_groups[g];
                let smallest = match order {
                    Order::NewestFirst => (m.min_last_seen.to_native(), 0),
                    Order::OldestFirst => (!m.max_last_seen.to_native(), 0),
                };
                m.min_seq.to_native() <= hi
                    && smallest < below
                    && it.query.in_window(m.min_first_seen.to_native(), m.max_last_seen.to_native())
            };
            if !(0..footer.row_groups.len()).any(in_range) {
                continue;
            }
            let candidates = if indexed {
                match plan::candidates(segment, &it.query, it.text.as_deref()) {
                    Ok(Some(c)) if c.is_empty() => continue,
                    Ok(c) => c.map(Arc::new),
                    Err(e) => {
                        it.inner.report_damage(format!("index not used, checking every row: {e}"));
                        None
                    }
                }
            } else {
                None
            };
            let mut groups: Vec<usize> = (0..footer.row_groups.len())
                .filter(|&g| {
                    let rows = group_starts[g]..group_starts[g].saturating_add(footer.row_groups[g].rows.to_native());
                    in_range(g) && candidates.as_ref().is_none_or(|c| c.range_cardinality(rows) > 0)
                })
                .collect();
            if groups.is_empty() {
                continue;
            }
            // Groups are consumed from the end: newest last for newest-first.
            if order == Order::OldestFirst {
                groups.reverse();
            }
            let source = it.sources.len();
            it.sources.push(Source::Segment {
                segment: segment.clone(),
                groups,
                buf: GroupRows::Built(VecDeque::new()),
                candidates,
                group_starts,
            });
            it.push_lazy(source);
        }
        Ok(it)
    }

    /// Pushes a lazy head for the next undecoded group of `source`.
    fn push_lazy(&mut self, source: usize) {
        let order = self.query.order;
        if let Source::Segment { segment, groups, .. } = &self.sources[source] {
            if let Some(&g) = groups.last() {
                let m = &segment.reader.footer().row_groups[g];
                let k = match order {
                    Order::NewestFirst => (m.max_last_seen.to_native(), u64::MAX),
                    Order::OldestFirst => (!m.min_last_seen.to_native(), u64::MAX),
                };
                self.heap.push(Head { key: k, lazy: true, source });
            }
        }
    }

    /// Decodes the next group of `source` into its buffer, filtered. Only
    /// the columns the remaining filters need are decoded first; the rest
    /// only when a row matches.
    fn load_group(&mut self, source: usize) {
        let (query, hi, below, text) = (&self.query, self.hi, self.below, self.text.as_deref());
        let Source::Segment { segment, groups, buf, candidates, group_starts } = &mut self.sources[source] else {
            return;
        };
        let Some(g) = groups.pop() else { return };
        let indexed = candidates.is_some();
        // Filters the postings answered exactly need no second look.
        let residual: Vec<&crate::query::FieldFilter> =
            query.filters.iter().filter(|f| !(indexed && plan::has_posting(f.field))).collect();
        let mask = plan::filter_columns(residual.iter().copied()) | FIRST_SEEN_COLUMN;
        let inner = &self.inner;
        let decoded = inner.decoded_group(segment, g, mask).and_then(|group| {
            let superseded = inner.superseded.read();
            let purged = inner.purged.read();
            let any_purged = !purged.is_empty();
            let ok = |i: usize| {
                let seq = group.seq[i];
                seq <= hi
                    && !(any_purged && purged.contains(seq))
                    && key(query.order, group.last_seen[i], seq) < below
                    && query.in_window(group.first_seen[i], group.last_seen[i])
                    && residual.iter().all(|f| f.matches(&GroupRow(&group, i)))
                    && (query.history || superseded.is_latest(seq, hi))
            };
            let range = group_starts[g]..group_starts[g] + group.rows as u32;
            let hits: Vec<usize> = plan::group_rows(candidates.as_deref(), range).filter(|&i| ok(i)).collect();
            drop(superseded);
            drop(purged);
            let group = if hits.is_empty() { group } else { inner.decoded_group(segment, g, ALL_COLUMNS)? };
            Ok((group, hits))
        });
        let (group, hits) = match decoded {
            Ok(x) => x,
            Err(e) => {
                self.inner.report_damage(format!("row group {g} skipped: {e}"));
                return;
            }
        };
        if query.labels.is_empty() && (indexed || text.is_none()) {
            // Every check is done: build each row only when the merge takes
            // it (a page often ends long before a group's last hit).
            let mut rows: VecDeque<usize> = hits.into();
            if query.order == Order::NewestFirst {
                rows.make_contiguous().reverse();
            }
            *buf = GroupRows::Lazy { group, rows };
            return;
        }
        let mut rows: Vec<StoredEvent> = hits
            .into_iter()
            .map(|i| group.event(i))
            .filter(|r| {
                query.matches_labels(&r.event) && (indexed || text.is_none_or(|t| t.matches(r.event.message())))
            })
            .collect();
        if query.order == Order::NewestFirst {
            rows.reverse();
        }
        *buf = GroupRows::Built(rows.into());
    }

    fn head_of(&self, source: usize) -> Option<Head> {
        let order = self.query.order;
        let (last_seen, seq) = match &self.sources[source] {
            Source::Rows(rows) => rows.front().map(|r| (r.last_seen().0, r.seq.0)),
            Source::Segment { buf, .. } => buf.front_key(),
        }?;
        Some(Head { key: key(order, last_seen, seq), lazy: false, source })
    }
}

impl QueryIter {
    /// The seq high-water mark this scan sees.
    pub fn snapshot_seq(&self) -> u64 {
        self.hi
    }
}

impl Iterator for QueryIter {
    type Item = StoredEvent;

    fn next(&mut self) -> Option<StoredEvent> {
        if self.query.limit.is_some_and(|l| self.emitted >= l) {
            return None;
        }
        loop {
            let head = self.heap.pop()?;
            if head.lazy {
                self.load_group(head.source);
                match self.head_of(head.source) {
                    Some(h) => self.heap.push(h),
                    None => self.push_lazy(head.source),
                }
                continue;
            }
            let row = match &mut self.sources[head.source] {
                Source::Rows(rows) => rows.pop_front(),
                Source::Segment { buf, .. } => buf.pop_front(),
            }?;
            match self.head_of(head.source) {
                Some(h) => self.heap.push(h),
                None => self.push_lazy(head.source),
            }
            self.emitted += 1;
            return Some(row);
        }
    }
}
