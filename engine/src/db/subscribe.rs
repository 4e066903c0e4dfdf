//! Subscriptions: every observation matching a query after a given seq, in
//! seq order — first from storage, then live — with no gap and no duplicate
//! at the hand-over. A subscription reads the database when it is asked for
//! more; ingest never waits for it, so a slow subscriber cannot stall ingest.

use super::Inner;
use crate::error::Result;
use crate::query::Query;
use crate::row::StoredEvent;
use kevdb_index::TextQuery;
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
    text: Option<TextQuery>,
    /// Every seq at or below this has been examined.
    cursor: u64,
    buf: VecDeque<StoredEvent>,
}

impl Subscription {
    pub(crate) fn new(inner: Arc<Inner>, query: Query, from_seq: u64) -> Result<Subscription> {
        // A subscription streams observations; the time window, if any,
        // still applies, but every observation counts, not only the latest.
        let query = Query { history: true, limit: None, ..query };
        let text = query.compile_text()?;
        Ok(Subscription { inner, query, text, cursor: from_seq, buf: VecDeque::new() })
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
            self.fill(visible.min(self.cursor.saturating_add(WINDOW)));
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
            let mut guard = self.inner.commit_signal.0.lock();
            if self.inner.visible.load(Ordering::Acquire) > self.cursor {
                continue;
            }
            if self.inner.commit_signal.1.wait_until(&mut guard, deadline).timed_out() {
                drop(guard);
                return self.try_next();
            }
        }
    }

    /// Reads the matching rows with seq in `(cursor, up]`, in seq order.
    fn fill(&mut self, up: u64) {
        let lo = self.cursor;
        let super::Snapshot { version, chunks, .. } = self.inner.snapshot();
        let in_range = |seq: u64| seq > lo && seq <= up;
        let mut rows: Vec<StoredEvent> = Vec::new();
        for seg in &version.segments {
            if seg.entry.max_seq <= lo || seg.entry.min_seq > up {
                continue;
            }
            let footer = seg.reader.footer();
            for g in 0..footer.row_groups.len() {
                let m = &footer.row_groups[g];
                if m.max_seq.to_native() <= lo || m.min_seq.to_native() > up {
                    continue;
                }
                let group = match seg.reader.read_group(g) {
                    Ok(group) => group,
                    Err(e) => {
                        self.inner.report_damage(format!("row group {g} skipped by a subscription: {e}"));
                        continue;
                    }
                };
                for i in 0..group.rows {
                    if in_range(group.seq[i]) && self.query.in_window(group.first_seen[i], group.last_seen[i]) {
                        let r = group.event(i);
                        if self.query.matches_with(&r.event, self.text.as_ref()) {
                            rows.push(r);
                        }
                    }
                }
            }
        }
        for chunk in &chunks {
            if chunk.last().is_none_or(|r| r.seq.0 <= lo) || chunk.first().is_none_or(|r| r.seq.0 > up) {
                continue;
            }
            rows.extend(
                chunk
                    .iter()
                    .filter(|r| in_range(r.seq.0) && self.query.matches_with(&r.event, self.text.as_ref()))
                    .cloned(),
            );
        }
        rows.sort_by_key(|r| r.seq);
        let purged = self.inner.purged.read();
        self.buf.extend(rows.into_iter().filter(|r| !purged.contains(r.seq.0)));
        self.cursor = up;
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
