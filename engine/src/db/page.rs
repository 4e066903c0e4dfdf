//! Paged queries: `limit` plus a `continue` token that pins the snapshot, as
//! the Kubernetes list API pages.

use super::plan::Bounds;
use super::scan::QueryIter;
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
    ///
    /// ```
    /// use kevdb_engine::{selector, ApiShape, Db, GroupBy, Options, Query};
    /// use kevdb_engine::model::parse::{parse_bytes, ParseOptions};
    /// use std::time::Duration;
    ///
    /// let dir = tempfile::tempdir()?;
    /// let db = Db::open(dir.path(), Options::default())?;
    /// let mut lines = String::new();
    /// for i in 0..25 {
    ///     let (reason, ty) = if i % 5 == 0 { ("BackOff", "Warning") } else { ("Pulled", "Normal") };
    ///     lines.push_str(&format!(r#"{{"kind":"Event","apiVersion":"v1","metadata":{{"name":"web.{i}","namespace":"shop","uid":"u{i}"}},
    ///       "involvedObject":{{"kind":"Pod","name":"web-{i}","namespace":"shop"}},"reason":"{reason}","type":"{ty}",
    ///       "message":"container web {reason}","lastTimestamp":"2026-11-20T10:{i:02}:00Z"}}"#));
    ///     lines.push('\n');
    /// }
    /// db.append(parse_bytes(lines.as_bytes(), &ParseOptions::default()).events)?;
    ///
    /// // A Kubernetes field selector, and full text.
    /// let warnings = Query { filters: selector::parse_field_selector("type=Warning", ApiShape::CoreV1)?, ..Query::new() };
    /// assert_eq!(db.count(&warnings)?, 5);
    /// assert_eq!(db.count(&Query::new().text("web -backoff"))?, 20);
    ///
    /// // Pages of 10: every event exactly once, even while ingest goes on.
    /// let mut seen = 0;
    /// let mut token = None;
    /// loop {
    ///     let page = db.query_page(&Query::new(), 10, token.as_deref())?;
    ///     seen += page.items.len();
    ///     match page.continue_token { Some(t) => token = Some(t), None => break }
    /// }
    /// assert_eq!(seen, 25);
    ///
    /// // Top reasons, a histogram, and a subscription replaying from seq 0.
    /// let top = db.count_by(&Query::new(), &[GroupBy::Reason], Some(1))?;
    /// assert_eq!((top[0].key[0].as_str(), top[0].count), ("Pulled", 20));
    /// let hours = db.histogram(&Query::new(), Duration::from_secs(3600))?;
    /// assert_eq!(hours.iter().map(|b| b.count).sum::<u64>(), 25);
    /// let mut sub = db.subscribe(&warnings, 0)?;
    /// let first = sub.next_timeout(Duration::from_secs(1))?.expect("a stored warning");
    /// assert_eq!(first.event.reason(), "BackOff");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn query_page(&self, query: &Query, limit: usize, token: Option<&str>) -> Result<Page> {
        let inner = &self.inner;
        if limit == 0 {
            return Err(Error::InvalidArgument("limit must be positive".into()));
        }
        let query = Query { limit: None, ..query.clone() };
        let start = match token {
            None => Bounds::default(),
            Some(t) => {
                let c = cursor::decode(&inner.token_key, &query, t)?;
                if !query.history && !inner.superseded.read().can_pin(c.hi) {
                    return Err(Error::Expired(format!(
                        "the snapshot at resourceVersion {} is too old to continue; start the list again",
                        c.hi
                    )));
                }
                Bounds { after_seq: 0, hi: Some(c.hi), after_row: Some((c.last_seen, c.seq)) }
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
