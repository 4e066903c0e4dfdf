//! Immutable, columnar, zstd-compressed segment files.
//!
//! ```text
//! partitions/<YYYY-MM-DD>/<segment id, 16 hex digits>.kseg
//!
//! +-------------------------------+ 0
//! | magic "KEVDBSEG"           8B |
//! | format version u32 LE      4B |  = SEGMENT_VERSION
//! | reserved u32 LE            4B |  = 0
//! +-------------------------------+ 16
//! | row group 0: one zstd frame   |
//! |   per column, in column order |
//! |   (`col`: seq, last seen, ...)|
//! | row group 1 ...               |
//! +-------------------------------+ footer.identities
//! | identity block: one zstd      |
//! |   frame of the sorted 32-bit  |
//! |   fingerprints of every row   |
//! +-------------------------------+ footer.postings (aligned to
//! | postings: roaring bitmaps per |   kevdb_index::POSTINGS_ALIGN)
//! |   (field, value), read in     |
//! |   place (kevdb_index)         |
//! +-------------------------------+ footer.fulltext (aligned to
//! | full-text index of the        |   kevdb_index::FULLTEXT_ALIGN)
//! |   messages (tantivy, packed)  |
//! +-------------------------------+
//! | zero padding to a multiple    |
//! | of 16                         |
//! +-------------------------------+ footer_offset
//! | footer: rkyv archive of       |
//! |   SegmentFooter               |
//! +-------------------------------+ file_len - 24
//! | footer_offset u64 LE       8B |
//! | footer_len u32 LE          4B |
//! | crc32c(footer) u32 LE      4B |
//! | magic "KEVDBEND"           8B |
//! +-------------------------------+ file_len
//! ```
//!
//! Rows are sorted by (last-seen time, seq). Every block's compressed bytes
//! are checksummed in the footer, and the footer by the trailer, so damage is
//! detected before anything is decoded: a damaged footer makes the segment
//! unreadable (reported, skipped); a damaged block loses only its row group.
//!
//! **Architecture Invariant:** segments are write-once: written to a
//! temporary name, fsync'ed, renamed into place, never modified in place, and
//! removed only by unlink. That is what makes reading them through `mmap`
//! sound.

mod column;
mod footer;
pub(crate) use footer::ArchivedRowGroupMeta;
mod mmap;
pub(crate) use mmap::prefetch_for_open;
mod reader;
mod writer;

pub(crate) use reader::{str_column, DecodedGroup, SegmentReader, ALL_COLUMNS, CLUSTER_COLUMN, FIRST_SEEN_COLUMN};
pub(crate) use writer::{SegmentMeta, SegmentWriter};

use crate::model::{IntField, StrField, TimeField};

/// Magic bytes at the start of a segment.
pub const SEGMENT_MAGIC: [u8; 8] = *b"KEVDBSEG";
/// Magic bytes at the very end of a segment.
pub const SEGMENT_END_MAGIC: [u8; 8] = *b"KEVDBEND";
/// The segment format version this build writes and reads.
pub const SEGMENT_VERSION: u32 = 1;
/// Length of the header.
pub const HEADER_LEN: usize = 16;
/// Length of the trailer.
pub const TRAILER_LEN: usize = 24;
/// File name extension of segments.
pub const SEGMENT_EXT: &str = "kseg";

/// The columns of a row group, in storage order.
///
/// | id | column | per-row encoding (before zstd) |
/// |---|---|---|
/// | 0 | seq | row 0: varint; then zig-zag varint delta from the previous row |
/// | 1 | last_seen | row 0: zig-zag varint µs; then zig-zag delta from the previous row |
/// | 2 | first_seen | zig-zag varint of `last_seen - first_seen` |
/// | 3 | shape | varint shape tag |
/// | 4 | presence | varint presence word |
/// | 5 | cluster | string column |
/// | 6..=24 | the 19 `StrField` slots in order | string column |
/// | 25..=29 | the 5 `TimeField` slots in order | varint 0 = none, else zig-zag(`t - last_seen`) + 1 |
/// | 30..=31 | the 2 `IntField` slots in order | varint 0 = none, else zig-zag(v) + 1 |
/// | 32 | residual | string column |
pub(crate) mod col {
    use super::*;
    pub const SEQ: usize = 0;
    pub const LAST_SEEN: usize = 1;
    pub const FIRST_SEEN: usize = 2;
    pub const SHAPE: usize = 3;
    pub const PRESENCE: usize = 4;
    pub const CLUSTER: usize = 5;
    pub const STR_BASE: usize = 6;
    pub const TIME_BASE: usize = STR_BASE + StrField::COUNT;
    pub const INT_BASE: usize = TIME_BASE + TimeField::COUNT;
    pub const RESIDUAL: usize = INT_BASE + IntField::COUNT;
    pub const COUNT: usize = RESIDUAL + 1;
}

/// The file name of segment `id`.
pub(crate) fn segment_file_name(id: u64) -> String {
    format!("{id:016x}.{SEGMENT_EXT}")
}

/// Parses a segment file name back into its id.
pub(crate) fn parse_segment_file_name(name: &str) -> Option<u64> {
    let stem = name.strip_suffix(SEGMENT_EXT)?.strip_suffix('.')?;
    if stem.len() != 16 {
        return None;
    }
    u64::from_str_radix(stem, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Event, Timestamp};
    use crate::row::tests::arb_event;
    use crate::row::{SeqNo, StoredEvent};
    use proptest::prelude::*;

    fn write(dir: &std::path::Path, rows: &[StoredEvent], group_rows: usize) -> SegmentMeta {
        let mut w = SegmentWriter::create(dir, 7, 20000, 3, group_rows).unwrap();
        for r in rows {
            w.push(r.clone()).unwrap();
        }
        w.finish().unwrap()
    }

    fn sorted_rows(events: Vec<Event>) -> Vec<StoredEvent> {
        let mut rows: Vec<StoredEvent> = events
            .into_iter()
            .enumerate()
            .map(|(i, e)| StoredEvent { seq: SeqNo(i as u64 * 3 + 1), event: e })
            .collect();
        rows.sort_by_key(|r| (r.last_seen(), r.seq));
        rows
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn segments_round_trip(events in proptest::collection::vec(arb_event(), 1..60), group_rows in 1usize..20) {
            let dir = tempfile::tempdir().unwrap();
            let rows = sorted_rows(events);
            let meta = write(dir.path(), &rows, group_rows);
            prop_assert_eq!(meta.rows, rows.len() as u64);
            let reader = SegmentReader::open(&meta.path).unwrap();
            let footer = reader.footer_owned().unwrap();
            prop_assert_eq!(footer.rows, rows.len() as u64);
            prop_assert_eq!(footer.max_seq, rows.iter().map(|r| r.seq.0).max().unwrap());
            let mut back = Vec::new();
            for g in 0..reader.group_count() {
                let group = reader.read_group(g).unwrap();
                back.extend((0..group.rows).map(|i| group.event(i)));
            }
            prop_assert_eq!(back, rows);
        }
    }

    #[test]
    fn header_and_trailer_golden_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let mut e = Event::default();
        e.set_time(crate::model::TimeField::LastTimestamp, Some(Timestamp(1_000_000)));
        let meta = write(dir.path(), &[StoredEvent { seq: SeqNo(1), event: e }], 16);
        assert_eq!(meta.path.file_name().unwrap(), "0000000000000007.kseg");
        let bytes = std::fs::read(&meta.path).unwrap();
        assert_eq!(&bytes[..16], b"KEVDBSEG\x01\x00\x00\x00\x00\x00\x00\x00");
        let t = &bytes[bytes.len() - TRAILER_LEN..];
        assert_eq!(&t[16..], b"KEVDBEND");
        let footer_offset = u64::from_le_bytes(t[..8].try_into().unwrap()) as usize;
        let footer_len = u32::from_le_bytes(t[8..12].try_into().unwrap()) as usize;
        assert_eq!(footer_offset % 16, 0);
        assert_eq!(footer_offset + footer_len, bytes.len() - TRAILER_LEN);
        assert_eq!(&t[12..16], &crate::codec::crc(&bytes[footer_offset..footer_offset + footer_len]).to_le_bytes());
        assert_eq!(meta.bytes, bytes.len() as u64);
    }

    #[test]
    fn flipped_bits_are_detected_not_served() {
        let dir = tempfile::tempdir().unwrap();
        let mut events = Vec::new();
        for i in 0..40 {
            let mut e = Event::default();
            e.set_str(crate::model::StrField::Message, Some(format!("message number {i}")));
            e.set_time(crate::model::TimeField::LastTimestamp, Some(Timestamp(i * 1_000_000)));
            events.push(e);
        }
        let rows = sorted_rows(events);
        let meta = write(dir.path(), &rows, 10);
        let clean = std::fs::read(&meta.path).unwrap();
        let footer_offset = {
            let t = &clean[clean.len() - TRAILER_LEN..];
            u64::from_le_bytes(t[..8].try_into().unwrap()) as usize
        };
        let identities = {
            let reader = SegmentReader::open(&meta.path).unwrap();
            let b = &reader.footer().identities;
            let start = b.offset.to_native() as usize;
            start..start + b.len.to_native() as usize
        };
        // Every single-bit flip in the data area breaks exactly the group (or
        // the identity block) that holds it; everything else still decodes to
        // the original rows.
        for pos in (HEADER_LEN..footer_offset).step_by(7) {
            let mut bytes = clean.clone();
            bytes[pos] ^= 0x04;
            std::fs::write(&meta.path, &bytes).unwrap();
            let reader = SegmentReader::open(&meta.path).unwrap();
            assert_eq!(reader.fingerprints().is_err(), identities.contains(&pos), "flip at {pos}");
            let mut bad = 0;
            for g in 0..reader.group_count() {
                match reader.read_group(g) {
                    Ok(group) => {
                        for i in 0..group.rows {
                            assert!(rows.contains(&group.event(i)), "flip at {pos} served garbage");
                        }
                    }
                    Err(e) => {
                        assert!(e.to_string().contains("crc"), "{e}");
                        bad += 1;
                    }
                }
            }
            let padding = pos >= identities.end;
            assert_eq!(bad, usize::from(!identities.contains(&pos) && !padding), "flip at {pos}");
        }
        // A flip in the footer or trailer makes the segment unreadable.
        for pos in (footer_offset..clean.len()).step_by(5) {
            let mut bytes = clean.clone();
            bytes[pos] ^= 0x01;
            std::fs::write(&meta.path, &bytes).unwrap();
            assert!(SegmentReader::open(&meta.path).is_err(), "flip at {pos} went unnoticed");
        }
    }
}
