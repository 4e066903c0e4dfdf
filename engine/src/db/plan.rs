//! The query planner's index step: for one sealed segment, the rows that
//! can match a query according to its postings and full-text index. The
//! executor (`scan`) then decodes only the row groups holding candidates and
//! checks every remaining condition (window, seq, filters without postings,
//! labels, latest-only) on those rows.
//!
//! Order of work, cheapest first: time/seq pruning by footer statistics
//! (in `scan`), then bitmap intersection of the filters with postings, then
//! full text, then residual filters on decoded rows.

use super::SegmentHandle;
use crate::error::Result;
use crate::model::StrField;
use crate::query::{FieldFilter, FieldOp, Query, QueryField};
use crate::segment::{str_column, CLUSTER_COLUMN};
use kevdb_index::postings::Field;
use kevdb_index::{OwnedBitmap, TextQuery};

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
pub(crate) fn has_posting(f: QueryField) -> bool {
    posting_field(f).is_some()
}

/// The columns the filters in `filters` read.
pub(crate) fn filter_columns<'a>(filters: impl IntoIterator<Item = &'a FieldFilter>) -> u64 {
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
pub(crate) fn uses_indexes(query: &Query) -> bool {
    query.text.is_some() || query.filters.iter().any(|f| posting_field(f.field).is_some())
}

/// The candidate rows of `seg` for `query`, or `None` when no index narrows
/// the query (every row is a candidate). An error means an index could not
/// be read; the caller falls back to checking every row.
pub(crate) fn candidates(seg: &SegmentHandle, query: &Query, text: Option<&TextQuery>) -> Result<Option<OwnedBitmap>> {
    let rows = u32::try_from(seg.entry.rows).unwrap_or(u32::MAX);
    let mut acc: Option<OwnedBitmap> = None;
    let mut narrow = |b: OwnedBitmap| match acc.as_mut() {
        Some(a) => a.and_inplace(&b),
        None => acc = Some(b),
    };
    if query.filters.iter().any(|f| posting_field(f.field).is_some()) {
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
pub(crate) fn group_rows<'a>(
    candidates: Option<&'a OwnedBitmap>,
    range: std::ops::Range<u32>,
) -> impl Iterator<Item = usize> + 'a {
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
}
