//! Visiting every row that matches a query, in no particular order, as a
//! view over decoded columns instead of a built event: what counts,
//! aggregations, histograms and purges need. The [`Plan`] decides which
//! groups and rows to look at and whether a row passes; this decodes only
//! the columns the checks and the caller read.

use super::plan::{Bounds, Plan};
use super::scan::GroupRow;
use super::Inner;
use crate::error::Result;
use crate::query::{FieldView, Query};

/// Calls `f(seq, last_seen, row)` for every row matching `query` (its order and
/// limit are ignored). `needs` names the extra columns `f` reads.
pub(crate) fn for_each_match(
    inner: &Inner,
    query: &Query,
    needs: u64,
    mut f: impl FnMut(u64, i64, &dyn FieldView),
) -> Result<()> {
    let plan = Plan::new(inner, query.clone(), Bounds::default())?;
    {
        let check = plan.check(inner);
        for r in plan.memtable_rows(&check) {
            f(r.seq.0, r.last_seen().0, &r.event);
        }
    }
    for seg in plan.segments(inner) {
        for &g in &seg.groups {
            let group = match inner.decoded_group(&seg.segment, g, seg.columns(&plan, g, needs)) {
                Ok(group) => group,
                Err(e) => {
                    let lost = format!("row group {g} of segment {} is not served", seg.segment.entry.id);
                    inner.health.report_error(&e, lost);
                    continue;
                }
            };
            let first = seg.needs_first_seen(&plan, g);
            let check = plan.check(inner);
            for i in seg.candidate_rows(g) {
                let (seq, last) = (group.seq[i], group.last_seen[i]);
                let view = GroupRow(&group, i);
                if !check.passes(seq, first.then(|| group.first_seen[i]), last, seg.residual(), &view) {
                    continue;
                }
                if plan.needs_built_events() {
                    let row = group.event(i);
                    if plan.labels_pass(&row.event) {
                        f(seq, last, &row.event);
                    }
                } else {
                    f(seq, last, &view);
                }
            }
        }
    }
    Ok(())
}
