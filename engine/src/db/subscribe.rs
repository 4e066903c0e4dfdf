//! Subscriptions: every observation matching a query after a given seq, in
//! seq order — first from storage, then live — with no gap and no duplicate
//! at the hand-over. A subscription reads the database when it is asked for
//! more; ingest never waits for it, so a slow subscriber cannot stall ingest.

use super::plan::{Bounds, Plan};
use super::scan::GroupRow;
use super::Inner;
use crate::error::Result;
use crate::query::Query;
use crate::row::StoredEvent;
use crate::segment::ALL_COLUMNS;
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Seqs examined per read, bounding the memory a catch-up takes.
const WINDOW: u64 = 64 * 1024;

/// A live stream of matching observations in seq order.
#[derive(Debug)]
pub struct Subscription {
    inner: Arc<Inner>,
    query: Query,
    /// Every seq at or below this has been examined.
    cursor: u64,
    buf: VecDeque<StoredEvent>,
}

impl Subscription {
    pub(crate) fn new(inner: Arc<Inner>, query: Query, from_seq: u64) -> Result<Subscription> {
        // A subscription streams observations; the time window, if any,
        // still applies, but every observation counts, not only the latest.
        let query = Query { history: true, limit: None, ..query };
        query.compile_text()?;
        inner.check_poisoned()?;
        Ok(Subscription { inner, query, cursor: from_seq, buf: VecDeque::new() })
    }

    /// The seq through which the stream has been examined: resuming from it
    /// continues exactly where this subscription stands.
    pub fn position(&self) -> u64 {
        self.buf.front().map_or(self.cursor, |r| r.seq.0 - 1)
    }

    /// The next observation if one is available now.
    pub fn try_next(&mut self) -> Result<Option<StoredEvent>> {
        loop {
            if let Some(r) = self.buf.pop_front() {
                return Ok(Some(r));
            }
            let visible = self.inner.visible.load(Ordering::Acquire);
            if visible <= self.cursor {
                return Ok(None);
            }
            self.fill(visible.min(self.cursor.saturating_add(WINDOW)))?;
        }
    }

    /// The next observation, waiting up to `timeout` for one to arrive.
    pub fn next_timeout(&mut self, timeout: Duration) -> Result<Option<StoredEvent>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(r) = self.try_next()? {
                return Ok(Some(r));
            }
            self.inner.check_poisoned()?;
            let cursor = self.cursor;
            let inner = &self.inner;
            let arrived = inner.signals.committed.wait_while(deadline, || {
                inner.check_poisoned().is_ok() && inner.visible.load(Ordering::Acquire) <= cursor
            });
            if !arrived {
                return self.try_next();
            }
        }
    }

    /// Reads the matching rows with seq in `(cursor, up]`, in seq order,
    /// through the same plan as every other read (so a replay uses the
    /// postings and full-text index instead of decoding every row).
    fn fill(&mut self, up: u64) -> Result<()> {
        let bounds = Bounds { after_seq: self.cursor, hi: Some(up), after_row: None };
        let plan = Plan::new(&self.inner, self.query.clone(), bounds)?;
        let mut rows: Vec<StoredEvent> = {
            let check = plan.check(&self.inner);
            plan.memtable_rows(&check).cloned().collect()
        };
        for seg in plan.segments(&self.inner) {
            for &g in &seg.groups {
                let group = match self.inner.decoded_group(&seg.segment, g, seg.columns(&plan, g, 0)) {
                    Ok(group) => group,
                    Err(e) => {
                        let lost = format!("row group {g} of segment {} is not streamed", seg.segment.entry.id);
                        self.inner.health.report_error(&e, lost);
                        continue;
                    }
                };
                let first = seg.needs_first_seen(&plan, g);
                let hits: Vec<usize> = {
                    let check = plan.check(&self.inner);
                    seg.candidate_rows(g)
                        .filter(|&i| {
                            let first_seen = first.then(|| group.first_seen[i]);
                            let view = GroupRow(&group, i);
                            check.passes(group.seq[i], first_seen, group.last_seen[i], seg.residual(), &view)
                        })
                        .collect()
                };
                if hits.is_empty() {
                    continue;
                }
                let group = match self.inner.decoded_group(&seg.segment, g, ALL_COLUMNS) {
                    Ok(group) => group,
                    Err(e) => {
                        let lost = format!("row group {g} of segment {} is not streamed", seg.segment.entry.id);
                        self.inner.health.report_error(&e, lost);
                        continue;
                    }
                };
                rows.extend(hits.into_iter().map(|i| group.event(i)).filter(|r| plan.labels_pass(&r.event)));
            }
        }
        rows.sort_by_key(|r| r.seq);
        self.buf.extend(rows);
        self.cursor = up;
        Ok(())
    }
}

impl Iterator for Subscription {
    type Item = Result<StoredEvent>;

    /// Blocks until the next observation arrives (or the database fails).
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.next_timeout(Duration::from_secs(3600)) {
                Ok(Some(r)) => return Some(Ok(r)),
                Ok(None) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}
