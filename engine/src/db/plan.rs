//! The query plan: how one query reads one [`Snapshot`]. Every read path —
//! scans (`scan`), pages (`page`), aggregations (`visit`) and subscription
//! replays (`subscribe`) — builds a [`Plan`] and asks it the same three
//! questions, so each answer is written once:
//!
//! 1. **Which segments and row groups can hold a match?** Pruning by the
//!    footer statistics: seq range, time window, and (when paging) the key
//!    of the last row already returned ([`Plan::segments`]).
//! 2. **Which rows of a segment are candidates?** The intersection of the
//!    postings of every filter that has them, and the full-text hits
//!    ([`SegmentPlan::candidate_rows`]). When an index cannot be read, the
//!    damage is reported and every row is a candidate.
//! 3. **Does a row pass?** [`RowCheck::passes`]: inside the seq range, not
//!    purged, before the paging key, inside the window, the filters the
//!    indexes did not answer, and latest-only. Labels need the built event
//!    and are checked by [`Plan::labels_pass`].
//!
//! Order of work, cheapest first: footer pruning, bitmap intersection, full
//! text, then the residual checks on decoded columns.

use super::{Inner, SegmentHandle, Snapshot};
use crate::error::Result;
use crate::memtable::Chunk;
use crate::model::{Event, StrField};
use crate::query::{FieldFilter, FieldOp, FieldView, Order, Query, QueryField};
use crate::row::StoredEvent;
use crate::segment::{str_column, ALL_COLUMNS, CLUSTER_COLUMN, FIRST_SEEN_COLUMN};
use crate::superseded::Superseded;
use kevdb_index::postings::Field;
use kevdb_index::{OwnedBitmap, TextQuery};
use parking_lot::RwLockReadGuard;
use std::ops::Range;
use std::sync::Arc;

/// A merge key in output order: larger comes first.
pub(crate) type Key = (i64, u64);

/// The key of a row (last seen µs, seq) in `order`.
pub(crate) fn key(order: Order, last_seen: i64, seq: u64) -> Key {
    match order {
        Order::NewestFirst => (last_seen, seq),
        Order::OldestFirst => (!last_seen, !seq),
    }
}

/// Which rows of the snapshot a plan reads, besides what the query says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Bounds {
    /// Only rows with a seq above this (subscriptions resume after it).
    pub after_seq: u64,
    /// Only rows with a seq at or below this; `None`: what is visible.
    pub hi: Option<u64>,
    /// Only rows strictly after this (last seen µs, seq) in the query's
    /// order (a page resumed from a continue token).
    pub after_row: Option<(i64, u64)>,
}

/// The checks on decoded rows that the indexes left: filters without
/// postings (or all of them when no index narrowed the rows), and the text
/// query when the full-text index did not answer it.
#[derive(Debug, Clone)]
pub(crate) struct Residual {
    filters: Vec<FieldFilter>,
    text: bool,
}

impl Residual {
    /// The columns these checks read.
    fn columns(&self) -> u64 {
        let mut mask = filter_columns(&self.filters);
        if self.text {
            mask |= str_column(StrField::Message);
        }
        mask
    }
}

/// How one query reads one snapshot. See the module header.
pub(crate) struct Plan {
    query: Query,
    text: Option<TextQuery>,
    snapshot: Snapshot,
    after_seq: u64,
    hi: u64,
    /// Only keys below this are returned.
    below: Key,
    /// The checks for rows no index narrowed (memtable rows, and segments
    /// whose indexes do not apply).
    full: Residual,
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plan").field("query", &self.query).field("hi", &self.hi).finish_non_exhaustive()
    }
}

/// What a plan decided for one segment: its candidate rows and the row
/// groups worth decoding.
#[derive(Debug)]
pub(crate) struct SegmentPlan {
    pub segment: Arc<SegmentHandle>,
    /// Rows the indexes allow; `None`: every row is a candidate.
    candidates: Option<Arc<OwnedBitmap>>,
    /// Row groups that can hold a match, ascending.
    pub groups: Vec<usize>,
    /// The first row of every row group.
    group_starts: Vec<u32>,
    residual: Residual,
}

impl Plan {
    /// Plans `query` over what the database shows now.
    pub(crate) fn new(inner: &Inner, query: Query, bounds: Bounds) -> Result<Plan> {
        let text = query.compile_text()?;
        let snapshot = inner.snapshot();
        let hi = bounds.hi.map_or(snapshot.visible, |h| h.min(snapshot.visible));
        let below = bounds.after_row.map_or((i64::MAX, u64::MAX), |(ls, seq)| key(query.order, ls, seq));
        let full = Residual { filters: query.filters.clone(), text: text.is_some() };
        Ok(Plan { query, text, snapshot, after_seq: bounds.after_seq, hi, below, full })
    }

    /// The query planned.
    pub(crate) fn query(&self) -> &Query {
        &self.query
    }

    /// The highest seq the plan reads (the snapshot's high-water mark).
    pub(crate) fn hi(&self) -> u64 {
        self.hi
    }

    /// The key of a row in the query's order.
    pub(crate) fn key(&self, last_seen: i64, seq: u64) -> Key {
        key(self.query.order, last_seen, seq)
    }

    /// Takes what checking rows needs (the superseded set, read-locked:
    /// hold it briefly, never across I/O).
    pub(crate) fn check<'a>(&'a self, inner: &'a Inner) -> RowCheck<'a> {
        RowCheck { plan: self, superseded: inner.superseded.read() }
    }

    /// True when the event's labels pass (the one check that needs a built
    /// event).
    pub(crate) fn labels_pass(&self, event: &Event) -> bool {
        self.query.matches_labels(event)
    }

    /// True when no check needs a built event.
    pub(crate) fn needs_built_events(&self) -> bool {
        !self.query.labels.is_empty()
    }

    /// The in-memory chunks that can hold rows in the plan's seq range,
    /// ascending by seq. They are the snapshot's shared chunks: nothing is
    /// copied.
    pub(crate) fn snapshot_chunks(&self) -> impl Iterator<Item = &Chunk> {
        let (lo, hi) = (self.after_seq, self.hi);
        self.snapshot
            .chunks()
            .filter(move |c| c.last().is_some_and(|r| r.seq.0 > lo) && c.first().is_some_and(|r| r.seq.0 <= hi))
    }

    /// True when an in-memory row passes every check, labels included.
    pub(crate) fn memtable_row_passes(&self, check: &RowCheck<'_>, row: &StoredEvent) -> bool {
        let last = row.last_seen().0;
        let first = row.event.first_seen().map_or(last, |t| t.0);
        check.passes(row.seq.0, Some(first), last, &self.full, &row.event) && self.labels_pass(&row.event)
    }

    /// The in-memory rows that pass every check, in seq order, borrowed.
    pub(crate) fn memtable_rows<'a>(&'a self, check: &'a RowCheck<'a>) -> impl Iterator<Item = &'a StoredEvent> + 'a {
        self.snapshot_chunks().flat_map(|c| c.iter()).filter(move |r| self.memtable_row_passes(check, r))
    }

    /// True when row group statistics allow a match.
    fn group_in_range(&self, m: &crate::segment::ArchivedRowGroupMeta) -> bool {
        let smallest = match self.query.order {
            Order::NewestFirst => (m.min_last_seen.to_native(), 0),
            Order::OldestFirst => (!m.max_last_seen.to_native(), 0),
        };
        m.min_seq.to_native() <= self.hi
            && m.max_seq.to_native() > self.after_seq
            && smallest < self.below
            && self.query.in_window(m.min_first_seen.to_native(), m.max_last_seen.to_native())
    }

    /// Every segment that can hold a match, with its candidates; segments
    /// and row groups that cannot are pruned. Unreadable indexes are
    /// reported to `inner` and the segment is checked row by row.
    pub(crate) fn segments<'a>(&'a self, inner: &'a Inner) -> impl Iterator<Item = SegmentPlan> + 'a {
        let indexed = uses_indexes(&self.query);
        self.snapshot.version.segments.iter().filter_map(move |segment| {
            if segment.entry.min_seq > self.hi || segment.entry.max_seq <= self.after_seq {
                return None;
            }
            let footer = segment.reader.footer();
            if !footer.row_groups.iter().any(|m| self.group_in_range(m)) {
                return None;
            }
            let candidates = if indexed {
                match candidates(segment, &self.query, self.text.as_ref()) {
                    Ok(Some(c)) if c.is_empty() => return None,
                    Ok(c) => c.map(Arc::new),
                    Err(e) => {
                        inner.health.report_error(&e, "its indexes are not used; every row is checked instead");
                        None
                    }
                }
            } else {
                None
            };
            let mut group_starts = Vec::with_capacity(footer.row_groups.len());
            let mut next = 0u32;
            for m in footer.row_groups.iter() {
                group_starts.push(next);
                next = next.saturating_add(m.rows.to_native());
            }
            let groups: Vec<usize> = (0..footer.row_groups.len())
                .filter(|&g| {
                    let m = &footer.row_groups[g];
                    let rows = group_starts[g]..group_starts[g].saturating_add(m.rows.to_native());
                    self.group_in_range(m) && candidates.as_ref().is_none_or(|c| c.range_cardinality(rows) > 0)
                })
                .collect();
            if groups.is_empty() {
                return None;
            }
            let residual = match candidates {
                // Filters the postings answered exactly need no second look,
                // and the full-text index answered the text query.
                Some(_) => Residual {
                    filters: self.query.filters.iter().filter(|f| !has_posting(f.field)).cloned().collect(),
                    text: false,
                },
                None => self.full.clone(),
            };
            Some(SegmentPlan { segment: segment.clone(), candidates, groups, group_starts, residual })
        })
    }
}

impl SegmentPlan {
    /// The segment rows of row group `g`.
    fn rows_of(&self, g: usize) -> Range<u32> {
        let m = &self.segment.reader.footer().row_groups[g];
        self.group_starts[g]..self.group_starts[g].saturating_add(m.rows.to_native())
    }

    /// True when the rows of group `g` need their first-seen time checked:
    /// only where the group reaches the window's upper bound (elsewhere
    /// first seen <= last seen < until holds already).
    pub(crate) fn needs_first_seen(&self, plan: &Plan, g: usize) -> bool {
        let max_last = self.segment.reader.footer().row_groups[g].max_last_seen.to_native();
        plan.query.until.is_some_and(|u| max_last >= u.0)
    }

    /// The columns to decode for group `g`: what the residual checks read,
    /// first seen where needed, plus `needs` (what the caller reads); every
    /// column when the checks need built events.
    pub(crate) fn columns(&self, plan: &Plan, g: usize, needs: u64) -> u64 {
        if plan.needs_built_events() {
            return ALL_COLUMNS;
        }
        let first = if self.needs_first_seen(plan, g) { FIRST_SEEN_COLUMN } else { 0 };
        self.residual.columns() | first | needs
    }

    /// The rows of group `g` to check, as indexes into the group: only the
    /// candidates when the indexes narrowed the query, else every row.
    pub(crate) fn candidate_rows(&self, g: usize) -> impl Iterator<Item = usize> + '_ {
        group_rows(self.candidates.as_deref(), self.rows_of(g))
    }

    /// The residual checks of this segment.
    pub(crate) fn residual(&self) -> &Residual {
        &self.residual
    }
}

/// The row predicate, with the superseded set it reads held.
pub(crate) struct RowCheck<'a> {
    plan: &'a Plan,
    superseded: RwLockReadGuard<'a, Superseded>,
}

impl RowCheck<'_> {
    /// The one row predicate every read path applies: the seq range, not
    /// purged, before the paging key, inside the time window (`first_seen`
    /// is `None` where the group plan says it cannot matter), the residual
    /// filters and text, and latest-only. Labels are checked apart, on
    /// built events ([`Plan::labels_pass`]).
    pub(crate) fn passes(
        &self,
        seq: u64,
        first_seen: Option<i64>,
        last_seen: i64,
        residual: &Residual,
        row: &dyn FieldView,
    ) -> bool {
        let plan = self.plan;
        let purged = &plan.snapshot.version.purged;
        seq > plan.after_seq
            && seq <= plan.hi
            && (purged.is_empty() || !purged.contains(seq))
            && plan.key(last_seen, seq) < plan.below
            && plan.query.in_window(first_seen.unwrap_or(last_seen), last_seen)
            && residual.filters.iter().all(|f| f.matches(row))
            && (!residual.text
                || plan.text.as_ref().is_none_or(|t| t.matches(row.field(StrField::Message).unwrap_or(""))))
            && (plan.query.history || self.superseded.is_latest(seq, plan.hi))
    }
}

/// The postings field behind a query field, when it has one.
fn posting_field(f: QueryField) -> Option<Field> {
    Some(match f {
        QueryField::Type => Field::Type,
        QueryField::Reason => Field::Reason,
        QueryField::InvolvedObjectKind => Field::Kind,
        QueryField::MetadataNamespace => Field::Namespace,
        QueryField::InvolvedObjectName => Field::Name,
        QueryField::InvolvedObjectUid => Field::Uid,
        QueryField::Component => Field::Component,
        QueryField::Host => Field::Host,
        QueryField::Cluster => Field::Cluster,
        _ => return None,
    })
}

/// True when a filter on `f` is answered exactly by postings.
fn has_posting(f: QueryField) -> bool {
    posting_field(f).is_some()
}

/// The columns the filters in `filters` read.
fn filter_columns(filters: &[FieldFilter]) -> u64 {
    let mut mask = 0;
    for f in filters {
        mask |= match f.field {
            QueryField::Cluster => CLUSTER_COLUMN,
            QueryField::Component => str_column(StrField::SourceComponent) | str_column(StrField::ReportingComponent),
            QueryField::Host => str_column(StrField::SourceHost) | str_column(StrField::ReportingInstance),
            other => other.slot().map_or(0, str_column),
        };
    }
    mask
}

/// True when the indexes can narrow `query` at all.
fn uses_indexes(query: &Query) -> bool {
    query.text.is_some() || query.filters.iter().any(|f| has_posting(f.field))
}

/// The candidate rows of `seg` for `query`, or `None` when no index narrows
/// the query (every row is a candidate). An error means an index could not
/// be read.
fn candidates(seg: &SegmentHandle, query: &Query, text: Option<&TextQuery>) -> Result<Option<OwnedBitmap>> {
    let rows = u32::try_from(seg.entry.rows).unwrap_or(u32::MAX);
    let mut acc: Option<OwnedBitmap> = None;
    let mut narrow = |b: OwnedBitmap| match acc.as_mut() {
        Some(a) => a.and_inplace(&b),
        None => acc = Some(b),
    };
    if query.filters.iter().any(|f| has_posting(f.field)) {
        let postings = seg.reader.postings()?;
        for filter in &query.filters {
            let Some(field) = posting_field(filter.field) else { continue };
            let mut union = OwnedBitmap::new();
            for v in &filter.values {
                if let Some(p) = postings.get(field, v).map_err(|e| index_error(seg, e))? {
                    union.or_inplace(&p.as_bitmap());
                }
            }
            narrow(match filter.op {
                FieldOp::In => union,
                FieldOp::NotIn => {
                    let mut all = OwnedBitmap::from_range(0..rows);
                    all.andnot_inplace(&union);
                    all
                }
            });
        }
    }
    if let Some(text) = text {
        let hits = seg.reader.fulltext()?.search(text).map_err(|e| index_error(seg, e))?;
        narrow(hits);
    }
    Ok(acc)
}

/// The rows of a row group (segment rows `range`) to check, as indexes into
/// the group: only the candidates when the indexes narrowed the query, else
/// every row.
fn group_rows(candidates: Option<&OwnedBitmap>, range: Range<u32>) -> impl Iterator<Item = usize> + '_ {
    let mut cursor = candidates.map(|c| {
        let mut cursor = c.cursor();
        cursor.reset_at_or_after(range.start);
        cursor
    });
    let mut next_row = range.start;
    std::iter::from_fn(move || {
        let row = match cursor.as_mut() {
            Some(cursor) => {
                let row = cursor.current().filter(|r| *r < range.end)?;
                cursor.move_next();
                row
            }
            None => {
                let row = Some(next_row).filter(|r| *r < range.end)?;
                next_row += 1;
                row
            }
        };
        Some((row - range.start) as usize)
    })
}

fn index_error(seg: &SegmentHandle, e: kevdb_index::Error) -> crate::Error {
    crate::Error::Corrupt {
        path: seg.reader.path().to_owned(),
        offset: 0,
        expected: "a readable index".into(),
        found: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_rows_are_the_candidates_inside_the_group_or_every_row() {
        let candidates = OwnedBitmap::of(&[1, 5, 9, 10, 11, 20]);
        let rows: Vec<usize> = group_rows(Some(&candidates), 5..11).collect();
        assert_eq!(rows, vec![0, 4, 5]);
        assert_eq!(group_rows(Some(&candidates), 12..20).count(), 0);
        assert_eq!(group_rows(None, 5..8).collect::<Vec<_>>(), vec![0, 1, 2]);
    }

    #[test]
    fn keys_order_rows_as_the_query_asks() {
        assert!(key(Order::NewestFirst, 10, 1) > key(Order::NewestFirst, 9, 5));
        assert!(key(Order::OldestFirst, 9, 5) > key(Order::OldestFirst, 10, 1));
        assert!(key(Order::NewestFirst, 10, 2) > key(Order::NewestFirst, 10, 1));
    }
}
