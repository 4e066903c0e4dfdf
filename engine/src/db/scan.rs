//! Query execution by scan: a lazy k-way merge over the memtables and every
//! segment, newest (or oldest) first, that decodes a row group only when the
//! merge reaches it. Row groups outside the time window or above the
//! snapshot's seq are pruned from their footer statistics.

use super::{Inner, SegmentHandle};
use crate::model::StrField;
use crate::query::{FieldView, Order, Query};
use crate::row::StoredEvent;
use crate::segment::DecodedGroup;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::atomic::Ordering;
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

#[derive(Debug)]
enum Source {
    Rows(VecDeque<StoredEvent>),
    Segment { segment: Arc<SegmentHandle>, groups: Vec<usize>, buf: VecDeque<StoredEvent> },
}

/// Streaming query results. Each item is one stored observation.
#[derive(Debug)]
pub struct QueryIter {
    inner: Arc<Inner>,
    query: Query,
    hi: u64,
    heap: BinaryHeap<Head>,
    sources: Vec<Source>,
    emitted: usize,
}

struct GroupRow<'a>(&'a DecodedGroup, usize);

impl FieldView for GroupRow<'_> {
    fn cluster(&self) -> &str {
        self.0.cluster(self.1)
    }
    fn field(&self, f: StrField) -> Option<&str> {
        self.0.str(f, self.1)
    }
}

impl QueryIter {
    pub(crate) fn new(inner: Arc<Inner>, query: Query) -> QueryIter {
        let (version, chunks, hi) = {
            let state = inner.state.read();
            let mut chunks: Vec<_> = state.frozen.iter().flat_map(|m| m.chunks().to_vec()).collect();
            chunks.extend(state.active.chunks().iter().cloned());
            (state.version.clone(), chunks, inner.visible.load(Ordering::Acquire))
        };
        let mut it = QueryIter { inner, query, hi, heap: BinaryHeap::new(), sources: Vec::new(), emitted: 0 };
        let order = it.query.order;
        // Memtable rows: few enough to filter and sort up front.
        let mut rows: Vec<StoredEvent> = {
            let superseded = it.inner.superseded.read();
            chunks
                .iter()
                .flat_map(|c| c.iter())
                .filter(|r| r.seq.0 <= hi && it.query.matches(&r.event))
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
        for segment in &version.segments {
            let footer = segment.reader.footer();
            let mut groups: Vec<usize> = (0..footer.row_groups.len())
                .filter(|&g| {
                    let m = &footer.row_groups[g];
                    m.min_seq.to_native() <= hi
                        && it.query.in_window(m.min_first_seen.to_native(), m.max_last_seen.to_native())
                })
                .collect();
            // Groups are consumed from the end: newest last for newest-first.
            if order == Order::OldestFirst {
                groups.reverse();
            }
            let source = it.sources.len();
            it.sources.push(Source::Segment { segment: segment.clone(), groups: groups.clone(), buf: VecDeque::new() });
            it.push_lazy(source);
        }
        it
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

    /// Decodes the next group of `source` into its buffer, filtered.
    fn load_group(&mut self, source: usize) {
        let (query, hi) = (&self.query, self.hi);
        let Source::Segment { segment, groups, buf } = &mut self.sources[source] else {
            return;
        };
        let Some(g) = groups.pop() else { return };
        let group = match segment.reader.read_group(g) {
            Ok(group) => group,
            Err(e) => {
                self.inner.report_damage(format!("row group {g} skipped: {e}"));
                return;
            }
        };
        let superseded = self.inner.superseded.read();
        let mut rows: Vec<StoredEvent> = (0..group.rows)
            .filter(|&i| {
                group.seq[i] <= hi
                    && query.in_window(group.first_seen[i], group.last_seen[i])
                    && query.matches_fields(&GroupRow(&group, i))
                    && (query.history || superseded.is_latest(group.seq[i], hi))
            })
            .map(|i| group.event(i))
            .collect();
        drop(superseded);
        if query.order == Order::NewestFirst {
            rows.reverse();
        }
        *buf = rows.into();
    }

    fn head_of(&self, source: usize) -> Option<Head> {
        let order = self.query.order;
        let row = match &self.sources[source] {
            Source::Rows(rows) => rows.front(),
            Source::Segment { buf, .. } => buf.front(),
        }?;
        Some(Head { key: key(order, row.last_seen().0, row.seq.0), lazy: false, source })
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
