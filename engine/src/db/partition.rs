//! Partitions on disk: the directory of each day, its name, and the segment
//! files in it — the helpers sealing, compaction, retention and recovery
//! share.

use super::{Inner, SegmentHandle};
use crate::error::Result;
use crate::manifest::SegmentEntry;
use crate::model::Timestamp;
use crate::segment::{SegmentMeta, SegmentReader, SegmentWriter};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The directory of partition `day`.
pub(crate) fn partition_dir(dir: &Path, day: i32) -> PathBuf {
    dir.join("partitions").join(day_name(day))
}

/// `YYYY-MM-DD` of a day number.
pub(crate) fn day_name(day: i32) -> String {
    let t = Timestamp(i64::from(day) * Timestamp::MICROS_PER_DAY);
    crate::model::time::format_time(t).get(..10).unwrap_or("invalid-day").to_string()
}

/// Parses a partition directory name back into a day number.
pub(crate) fn parse_day_name(name: &str) -> Option<i32> {
    let t = crate::model::time::parse_rfc3339(&format!("{name}T00:00:00Z"))?;
    (day_name(t.day()) == name).then(|| t.day())
}

/// A writer for segment `id` of partition `day`, with the database's options.
pub(crate) fn segment_writer(inner: &Inner, day: i32, id: u64) -> Result<SegmentWriter> {
    SegmentWriter::create(
        &partition_dir(&inner.dir, day),
        id,
        day,
        inner.options.compression_level,
        inner.options.row_group_rows,
    )
}

/// Opens the segments just written.
pub(crate) fn open_handles(metas: &[SegmentMeta]) -> Result<Vec<Arc<SegmentHandle>>> {
    metas
        .iter()
        .map(|m| Ok(Arc::new(SegmentHandle { entry: entry_of(m), reader: SegmentReader::open(&m.path)? })))
        .collect()
}

/// The manifest entry of a segment just written.
pub(crate) fn entry_of(m: &SegmentMeta) -> SegmentEntry {
    SegmentEntry { id: m.id, day: m.day, rows: m.rows, bytes: m.bytes, min_seq: m.min_seq, max_seq: m.max_seq }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_names_round_trip() {
        assert_eq!(day_name(0), "1970-01-01");
        assert_eq!(day_name(20416), "2025-11-24");
        assert_eq!(parse_day_name("2025-11-24"), Some(20416));
        assert_eq!(parse_day_name("2025-13-01"), None);
        assert_eq!(day_name(-1), "1969-12-31");
    }
}
