//! Purge: an administrator deletes observations (e.g. the events of a
//! namespace before some date). The seqs are recorded durably in a purge
//! file listed by the manifest (same layout as a superseded-set file, see
//! `superseded`), hidden from every read at once, and the rows are dropped
//! from disk when compaction next rewrites their segments.

use super::{visit, Db};
use crate::error::Result;
use crate::query::Query;
use crate::superseded;
use roaring::RoaringTreemap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

impl Db {
    /// Deletes every observation matching `query` (all observations of the
    /// matching events' history, not only the latest). Returns how many.
    /// Durable on return.
    pub fn purge(&self, query: &Query) -> Result<u64> {
        let inner = &self.inner;
        inner.check_poisoned()?;
        let query = Query { history: true, limit: None, ..query.clone() };
        let mut seqs = RoaringTreemap::new();
        visit::for_each_match(inner, &query, 0, |seq, _, _| {
            seqs.insert(seq);
        })?;
        if seqs.is_empty() {
            return Ok(0);
        }
        let mut manifest = inner.manifest.lock();
        let name = format!("{:020}-{:04}.del", inner.visible.load(Ordering::Acquire), manifest.purged.len() % 10_000);
        superseded::store_file(&inner.dir.join("purged"), &name, &seqs)?;
        let mut next = manifest.clone();
        next.purged.push(name);
        next.store(&inner.dir)?;
        *manifest = next;
        inner.publish(|version, _| {
            let mut next = version.clone();
            next.purged = Arc::new(&*version.purged | &seqs);
            next
        });
        Ok(seqs.len())
    }
}
