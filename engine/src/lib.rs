//! kevdb-engine: the storage engine of kevdb, a long-term archive for
//! Kubernetes events.
//!
//! This file is the table of contents; `docs/ARCHITECTURE.md` is the map.
//!
//! - [`model`]: the normalised [`Event`], parsing and rendering Kubernetes JSON/YAML;
//! - [`Db`]: open, [`Db::append`], [`Db::query`], [`Db::flush`], [`Db::close`];
//! - on disk: the WAL (`wal`), columnar segments (`segment`), the `manifest`,
//!   the superseded set and the identity map (sled). Byte layouts are in
//!   `docs/FORMAT.md` and in each module's header.

mod codec;
mod db;
pub mod error;
mod fsutil;
mod identity;
mod manifest;
mod memtable;
pub mod model;
mod options;
mod query;
mod row;
mod segment;
mod superseded;
mod wal;

pub use db::{AppendReport, Db, OpenReport, QueryIter, Rejected, RetentionReport, Stats};
pub use error::{Error, Result};
pub use model::{ApiShape, Event, IntField, StrField, TimeField, Timestamp};
pub use options::{Options, SyncPolicy};
pub use query::{Order, Query};
pub use row::{SeqNo, StoredEvent};

/// Codec internals for benches and fuzz targets.
#[cfg(feature = "internals")]
pub mod internals {
    pub use crate::codec::{put_varint, ByteReader};
    pub use crate::row::{decode_event, encode_event};
}

impl Db {
    /// Appends events. Each event is either accepted (a new observation,
    /// given the next seq), a duplicate (a re-delivery of an observation
    /// already stored: a no-op), or rejected with a reason; the rest of the
    /// batch is unaffected by rejected events. Returns once the accepted
    /// observations are durable under the configured [`SyncPolicy`] and
    /// visible to queries.
    pub fn append(&self, events: Vec<Event>) -> Result<AppendReport> {
        db::append_events(self, events)
    }
}
