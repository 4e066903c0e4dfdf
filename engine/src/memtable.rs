//! The in-memory buffer: rows accepted since the last seal, queryable at
//! once. Rows are appended in sequence order as immutable chunks (one per
//! group commit), so a reader snapshots the buffer by cloning chunk pointers.

use crate::row::StoredEvent;
use roaring::RoaringTreemap;
use std::sync::Arc;
use std::time::Instant;

/// One chunk of rows, ascending by seq.
pub(crate) type Chunk = Arc<[StoredEvent]>;

/// Rows accepted since the last freeze.
#[derive(Debug)]
pub(crate) struct Memtable {
    chunks: Vec<Chunk>,
    rows: usize,
    created: Instant,
    /// Sequence numbers this memtable's rows superseded (persisted at seal).
    pub superseded: RoaringTreemap,
}

impl Default for Memtable {
    fn default() -> Self {
        Memtable { chunks: Vec::new(), rows: 0, created: Instant::now(), superseded: RoaringTreemap::new() }
    }
}

impl Memtable {
    /// Appends a chunk of rows (ascending seq, all above what is held).
    pub(crate) fn push(&mut self, chunk: Chunk) {
        if self.rows == 0 {
            self.created = Instant::now();
        }
        self.rows += chunk.len();
        self.chunks.push(chunk);
    }

    /// Number of rows.
    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// True when no row is held.
    pub(crate) fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// How long ago the first row arrived.
    pub(crate) fn age(&self) -> std::time::Duration {
        self.created.elapsed()
    }

    /// The chunks, for a reader's snapshot.
    pub(crate) fn chunks(&self) -> &[Chunk] {
        &self.chunks
    }

    /// Every row, ascending by seq.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &StoredEvent> {
        self.chunks.iter().flat_map(|c| c.iter())
    }

    /// Largest seq held.
    pub(crate) fn max_seq(&self) -> Option<u64> {
        self.chunks.last().and_then(|c| c.last()).map(|r| r.seq.0)
    }
}
