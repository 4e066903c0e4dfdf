//! Paged queries: `limit` plus a `continue` token that pins the snapshot, as
//! the Kubernetes list API pages.

use super::scan::{QueryIter, ScanStart};
use super::Db;
use crate::error::{Error, Result};
use crate::query::cursor::{self, Cursor};
use crate::query::Query;
use crate::row::StoredEvent;

/// One page of results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The rows, in the query's order.
    pub items: Vec<StoredEvent>,
    /// Present when more rows follow; pass it back to get them.
    pub continue_token: Option<String>,
    /// The seq high-water mark of the snapshot every page of this listing
    /// reads (the list's `resourceVersion`).
    pub snapshot_seq: u64,
}

impl Db {
    /// Returns up to `limit` results of `query` (its own `limit` is
    /// ignored), starting after `token` when given. Paging through a result
    /// while ingest goes on returns every matching row exactly once: all
    /// pages read the snapshot the first page pinned.
    ///
    /// Errors: [`Error::InvalidToken`] for a malformed, altered or foreign
    /// token; [`Error::Expired`] when the pinned snapshot can no longer be
    /// reproduced exactly (latest-only paging across a restart, or far
    /// behind ingest), as the API server answers 410 Gone.
    pub fn query_page(&self, query: &Query, limit: usize, token: Option<&str>) -> Result<Page> {
        let inner = &self.inner;
        if limit == 0 {
            return Err(Error::InvalidArgument("limit must be positive".into()));
        }
        let query = Query { limit: None, ..query.clone() };
        let start = match token {
            None => ScanStart::default(),
            Some(t) => {
                let c = cursor::decode(&inner.token_key, &query, t)?;
                if !query.history && !inner.superseded.read().can_pin(c.hi) {
                    return Err(Error::Expired(format!(
                        "the snapshot at resourceVersion {} is too old to continue; start the list again",
                        c.hi
                    )));
                }
                ScanStart { hi: Some(c.hi), after: Some((c.last_seen, c.seq)) }
            }
        };
        let mut iter = QueryIter::new(inner.clone(), query.clone(), start)?;
        let snapshot_seq = iter.snapshot_seq();
        let items: Vec<StoredEvent> = iter.by_ref().take(limit).collect();
        let more = iter.next().is_some();
        let continue_token = match (more, items.last()) {
            (true, Some(last)) => Some(cursor::encode(
                &inner.token_key,
                &query,
                Cursor { hi: snapshot_seq, last_seen: last.last_seen().0, seq: last.seq.0 },
            )),
            _ => None,
        };
        Ok(Page { items, continue_token, snapshot_seq })
    }
}
