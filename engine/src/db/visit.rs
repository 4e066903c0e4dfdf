//! Visiting every row that matches a query, in no particular order, as a
//! view over decoded columns instead of a built event: what counts,
//! aggregations and histograms need. It follows the same plan as `scan`
//! (footer pruning, postings and full text, residual filters, latest-only)
//! but decodes only the columns the query and the caller read.

use super::scan::GroupRow;
use super::{plan, Inner};
use crate::error::Result;
use crate::model::StrField;
use crate::query::{FieldFilter, FieldView, Query};
use crate::segment::str_column;
use crate::segment::{ALL_COLUMNS, FIRST_SEEN_COLUMN};
use std::sync::Arc;

/// Calls `f(seq, last_seen, row)` for every row matching `query` (its order and
/// limit are ignored). `needs` names the extra columns `f` reads.
pub(crate) fn for_each_match(
    inner: &Arc<Inner>,
    query: &Query,
    needs: u64,
    mut f: impl FnMut(u64, i64, &dyn FieldView),
) -> Result<()> {
    let text = query.compile_text()?;
    let super::Snapshot { version, chunks, visible: hi } = inner.snapshot();
    {
        let superseded = inner.superseded.read();
        let purged = inner.purged.read();
        for r in chunks.iter().flat_map(|c| c.iter()) {
            if r.seq.0 <= hi
                && !purged.contains(r.seq.0)
                && query.matches_with(&r.event, text.as_ref())
                && (query.history || superseded.is_latest(r.seq.0, hi))
            {
                f(r.seq.0, r.last_seen().0, &r.event);
            }
        }
    }
    // Labels live in the residual: rows must be built to check them.
    let build_events = !query.labels.is_empty();
    let indexed = plan::uses_indexes(query);
    for segment in &version.segments {
        let footer = segment.reader.footer();
        let in_range = |g: usize| {
            let m = &footer.row_groups[g];
            m.min_seq.to_native() <= hi && query.in_window(m.min_first_seen.to_native(), m.max_last_seen.to_native())
        };
        if !(0..footer.row_groups.len()).any(in_range) {
            continue;
        }
        let candidates = if indexed {
            match plan::candidates(segment, query, text.as_ref()) {
                Ok(Some(c)) if c.is_empty() => continue,
                Ok(c) => c,
                Err(e) => {
                    inner.report_damage(format!("index not used, checking every row: {e}"));
                    None
                }
            }
        } else {
            None
        };
        let narrowed = candidates.is_some();
        let residual: Vec<&FieldFilter> =
            query.filters.iter().filter(|f| !(narrowed && plan::has_posting(f.field))).collect();
        let check_text = text.as_ref().filter(|_| !narrowed);
        let mut mask = needs | plan::filter_columns(residual.iter().copied());
        if check_text.is_some() {
            mask |= str_column(StrField::Message);
        }
        if build_events {
            mask = ALL_COLUMNS;
        }
        let mut start = 0u32;
        for g in 0..footer.row_groups.len() {
            let rows = footer.row_groups[g].rows.to_native();
            let range = start..start.saturating_add(rows);
            start = range.end;
            if !in_range(g) || candidates.as_ref().is_some_and(|c| c.range_cardinality(range.clone()) == 0) {
                continue;
            }
            // First seen matters only where the group reaches the window's
            // upper bound (first <= last < until otherwise).
            let max_last = footer.row_groups[g].max_last_seen.to_native();
            let check_first = query.until.is_some_and(|u| max_last >= u.0);
            let group_mask = if check_first { mask | FIRST_SEEN_COLUMN } else { mask };
            let group = match inner.decoded_group(segment, g, group_mask) {
                Ok(group) => group,
                Err(e) => {
                    inner.report_damage(format!("row group {g} skipped: {e}"));
                    continue;
                }
            };
            let superseded = inner.superseded.read();
            let purged = inner.purged.read();
            let any_purged = !purged.is_empty();
            let visit_row = |i: usize| {
                let (seq, last) = (group.seq[i], group.last_seen[i]);
                let view = GroupRow(&group, i);
                let ok = seq <= hi
                    && !(any_purged && purged.contains(seq))
                    && if check_first {
                        query.in_window(group.first_seen[i], last)
                    } else {
                        query.in_window(last, last)
                    }
                    && residual.iter().all(|f| f.matches(&view))
                    && check_text.is_none_or(|t| t.matches(group.str(StrField::Message, i).unwrap_or("")))
                    && (query.history || superseded.is_latest(seq, hi));
                if !ok {
                    return;
                }
                if build_events {
                    let row = group.event(i);
                    if query.matches_labels(&row.event) {
                        f(seq, last, &row.event);
                    }
                } else {
                    f(seq, last, &view);
                }
            };
            plan::group_rows(candidates.as_ref(), range).for_each(visit_row);
        }
    }
    Ok(())
}
