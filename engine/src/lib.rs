//! kevdb-engine: the storage engine of kevdb, a long-term archive for
//! Kubernetes events.
//!
//! This file is the table of contents; `docs/ARCHITECTURE.md` is the map.
//!
//! - [`model`]: the normalised [`Event`], parsing and rendering Kubernetes JSON/YAML;
//! - [`Db`]: open, [`Db::append`], [`Db::query`], [`Db::flush`], [`Db::close`];
//! - on disk: the WAL (`wal`), columnar segments (`segment`, with their
//!   identity blocks), the `manifest` and the superseded set. Byte layouts
//!   are in `docs/FORMAT.md` and in each module's header.

pub mod checkpoint;
mod codec;
mod db;
pub mod error;
pub mod failpoint;
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

pub use db::{
    AppendReport, Bucket, Damage, Db, GroupBy, GroupCount, HealthReport, OpenReport, Page, QueryIter, Rejected,
    RetentionReport, Stats, Subscription,
};
pub use error::{Error, Result};
pub use model::{ApiShape, Event, IntField, StrField, TimeField, Timestamp};
pub use options::{Options, SyncPolicy};
pub use query::{selector, FieldFilter, FieldOp, LabelOp, LabelRequirement, Order, Query, QueryField};
pub use row::{SeqNo, StoredEvent};

/// Codec internals for benches and fuzz targets.
#[cfg(feature = "internals")]
pub mod internals {
    pub use crate::codec::{put_varint, ByteReader};
    pub use crate::row::{decode_event, encode_event};

    /// Reads a WAL file the way recovery does; returns the rows of its
    /// intact prefix.
    pub fn read_wal_file(path: &std::path::Path) -> crate::Result<usize> {
        let report = crate::wal::read_wal_file(path)?;
        Ok(report.batches.iter().map(|b| b.events.len()).sum())
    }

    /// Writes `rows` (sorted by last-seen time, then seq) as segment `id` in
    /// `dir`; returns the file's path.
    pub fn write_segment_file(
        dir: &std::path::Path,
        id: u64,
        rows: &[crate::StoredEvent],
    ) -> crate::Result<std::path::PathBuf> {
        let day = rows.first().map_or(0, |r| r.last_seen().day());
        let mut w = crate::segment::SegmentWriter::create(dir, id, day, 3, 16 * 1024)?;
        w.push_all(&rows.iter().collect::<Vec<_>>())?;
        Ok(w.finish()?.path)
    }

    /// Opens a segment file and decodes every row group and its identity
    /// block; returns the rows that decoded.
    pub fn read_segment_file(path: &std::path::Path) -> crate::Result<usize> {
        let reader = crate::segment::SegmentReader::open(path)?;
        let _ = reader.fingerprints();
        let mut rows = 0;
        for g in 0..reader.group_count() {
            if let Ok(group) = reader.read_group(g) {
                for i in 0..group.rows {
                    std::hint::black_box(group.event(i));
                    rows += 1;
                }
            }
        }
        Ok(rows)
    }
}
