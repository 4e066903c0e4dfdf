//! Query execution by scan: a lazy k-way merge over the in-memory rows and
//! every segment the [`Plan`] keeps, newest (or oldest) first, that decodes
//! a row group only when the merge reaches it. Which groups and rows can
//! match, and whether a row passes, is the plan's to say.

use super::plan::{Bounds, Key, Plan, SegmentPlan};
use super::Inner;
use crate::error::Result;
use crate::memtable::Chunk;
use crate::model::StrField;
use crate::query::{FieldView, Order, Query};
use crate::row::StoredEvent;
use crate::segment::{DecodedGroup, ALL_COLUMNS};
use std::collections::{BinaryHeap, VecDeque};
use std::sync::Arc;

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
    /// Built already (the label check needed the built event).
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

/// The in-memory rows that passed, as positions in the snapshot's shared
/// chunks in output order: a row is copied only when the merge takes it.
#[derive(Debug)]
struct MemRows {
    chunks: Vec<Chunk>,
    /// (chunk, row), next first.
    rows: VecDeque<(u32, u32)>,
}

impl MemRows {
    fn front(&self) -> Option<&StoredEvent> {
        self.rows.front().map(|&(c, r)| &self.chunks[c as usize][r as usize])
    }
}

#[derive(Debug)]
enum Source {
    Memory(MemRows),
    /// A segment: the groups still to decode (consumed from the end), and
    /// the passing rows of the group decoded last.
    Segment {
        plan: SegmentPlan,
        pending: Vec<usize>,
        buf: GroupRows,
    },
}

/// Streaming query results. Each item is one stored observation.
#[derive(Debug)]
pub struct QueryIter {
    inner: Arc<Inner>,
    plan: Plan,
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
    pub(crate) fn new(inner: Arc<Inner>, query: Query, bounds: Bounds) -> Result<QueryIter> {
        let plan = Plan::new(&inner, query, bounds)?;
        let mut it = QueryIter { heap: BinaryHeap::new(), sources: Vec::new(), emitted: 0, plan, inner };
        it.sources.push(Source::Memory(it.memory_rows()));
        if let Some(h) = it.head_of(0) {
            it.heap.push(h);
        }
        let segments: Vec<SegmentPlan> = it.plan.segments(&it.inner).collect();
        for plan in segments {
            let mut pending = plan.groups.clone();
            // Groups are consumed from the end: newest last for newest-first.
            if it.plan.query().order == Order::OldestFirst {
                pending.reverse();
            }
            let source = it.sources.len();
            it.sources.push(Source::Segment { plan, pending, buf: GroupRows::Built(VecDeque::new()) });
            it.push_lazy(source);
        }
        Ok(it)
    }

    /// The in-memory rows that pass, sorted into output order by key only.
    fn memory_rows(&self) -> MemRows {
        let chunks: Vec<Chunk> = self.plan.snapshot_chunks().cloned().collect();
        let check = self.plan.check(&self.inner);
        let mut keyed: Vec<(Key, u32, u32)> = Vec::new();
        for (c, chunk) in chunks.iter().enumerate() {
            for (r, row) in chunk.iter().enumerate() {
                if self.plan.memtable_row_passes(&check, row) {
                    keyed.push((self.plan.key(row.last_seen().0, row.seq.0), c as u32, r as u32));
                }
            }
        }
        drop(check);
        keyed.sort_unstable_by_key(|k| std::cmp::Reverse(k.0));
        MemRows { chunks, rows: keyed.into_iter().map(|(_, c, r)| (c, r)).collect() }
    }

    /// Pushes a lazy head for the next undecoded group of `source`.
    fn push_lazy(&mut self, source: usize) {
        let order = self.plan.query().order;
        if let Source::Segment { plan, pending, .. } = &self.sources[source] {
            if let Some(&g) = pending.last() {
                let m = &plan.segment.reader.footer().row_groups[g];
                let k = match order {
                    Order::NewestFirst => (m.max_last_seen.to_native(), u64::MAX),
                    Order::OldestFirst => (!m.min_last_seen.to_native(), u64::MAX),
                };
                self.heap.push(Head { key: k, lazy: true, source });
            }
        }
    }

    /// Decodes the next group of `source` into its buffer, keeping the rows
    /// that pass. Only the columns the checks need are decoded first; the
    /// rest only when a row passes.
    fn load_group(&mut self, source: usize) {
        let Source::Segment { plan: seg, pending, buf } = &mut self.sources[source] else {
            return;
        };
        let Some(g) = pending.pop() else { return };
        let (plan, inner) = (&self.plan, &self.inner);
        let decoded = inner.decoded_group(&seg.segment, g, seg.columns(plan, g, 0)).and_then(|group| {
            let check = plan.check(inner);
            let first = seg.needs_first_seen(plan, g);
            let hits: Vec<usize> = seg
                .candidate_rows(g)
                .filter(|&i| {
                    let first_seen = first.then(|| group.first_seen[i]);
                    check.passes(group.seq[i], first_seen, group.last_seen[i], seg.residual(), &GroupRow(&group, i))
                })
                .collect();
            drop(check);
            let group = if hits.is_empty() { group } else { inner.decoded_group(&seg.segment, g, ALL_COLUMNS)? };
            Ok((group, hits))
        });
        let (group, hits) = match decoded {
            Ok(x) => x,
            Err(e) => {
                inner
                    .health
                    .report_error(&e, format!("row group {g} of segment {} is not served", seg.segment.entry.id));
                return;
            }
        };
        let newest_first = plan.query().order == Order::NewestFirst;
        if !plan.needs_built_events() {
            // Every check is done: build each row only when the merge takes
            // it (a page often ends long before a group's last hit).
            let mut rows: VecDeque<usize> = hits.into();
            if newest_first {
                rows.make_contiguous().reverse();
            }
            *buf = GroupRows::Lazy { group, rows };
            return;
        }
        let mut rows: Vec<StoredEvent> =
            hits.into_iter().map(|i| group.event(i)).filter(|r| plan.labels_pass(&r.event)).collect();
        if newest_first {
            rows.reverse();
        }
        *buf = GroupRows::Built(rows.into());
    }

    fn head_of(&self, source: usize) -> Option<Head> {
        let (last_seen, seq) = match &self.sources[source] {
            Source::Memory(rows) => rows.front().map(|r| (r.last_seen().0, r.seq.0)),
            Source::Segment { buf, .. } => buf.front_key(),
        }?;
        Some(Head { key: self.plan.key(last_seen, seq), lazy: false, source })
    }

    /// The seq high-water mark this scan sees.
    pub fn snapshot_seq(&self) -> u64 {
        self.plan.hi()
    }
}

impl Iterator for QueryIter {
    type Item = StoredEvent;

    fn next(&mut self) -> Option<StoredEvent> {
        if self.plan.query().limit.is_some_and(|l| self.emitted >= l) {
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
                Source::Memory(mem) => {
                    let row = mem.front().cloned();
                    mem.rows.pop_front();
                    row
                }
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
