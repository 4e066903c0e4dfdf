//! The segment footer: everything a reader needs to find and check blocks,
//! archived with rkyv so it is read in place from the mmap.

use rkyv::{Archive, Deserialize, Serialize};

/// Where one compressed column block lives in the file.
#[derive(Archive, Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockRef {
    /// File offset of the zstd frame.
    pub offset: u64,
    /// Compressed length.
    pub len: u32,
    /// Length once decompressed.
    pub raw_len: u32,
    /// CRC-32C of the compressed bytes.
    pub crc: u32,
}

/// An uncompressed section read in place (the index blobs).
#[derive(Archive, Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Section {
    /// File offset (aligned as the blob requires).
    pub offset: u64,
    /// Length in bytes.
    pub len: u64,
    /// CRC-32C of the bytes.
    pub crc: u32,
}

/// One row group: a run of consecutive rows stored column by column.
#[derive(Archive, Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct RowGroupMeta {
    /// Rows in the group.
    pub rows: u32,
    /// Smallest and largest sequence number.
    pub min_seq: u64,
    /// See `min_seq`.
    pub max_seq: u64,
    /// Smallest last-seen time (µs); rows are sorted by it.
    pub min_last_seen: i64,
    /// Largest last-seen time (µs).
    pub max_last_seen: i64,
    /// Smallest first-seen time (µs).
    pub min_first_seen: i64,
    /// One block per column, in column order (`segment::col`).
    pub columns: Vec<BlockRef>,
}

/// The footer of a segment file.
#[derive(Archive, Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct SegmentFooter {
    /// Format version of the segment (see `SEGMENT_VERSION`).
    pub format_version: u32,
    /// The segment's id, unique in the database.
    pub segment_id: u64,
    /// The partition: days since the epoch (UTC) of the rows' last-seen time.
    pub day: i32,
    /// Total rows.
    pub rows: u64,
    /// Smallest sequence number.
    pub min_seq: u64,
    /// Largest sequence number.
    pub max_seq: u64,
    /// Smallest last-seen time (µs).
    pub min_last_seen: i64,
    /// Largest last-seen time (µs).
    pub max_last_seen: i64,
    /// Smallest first-seen time (µs).
    pub min_first_seen: i64,
    /// The row groups, in row order (ascending last-seen time).
    pub row_groups: Vec<RowGroupMeta>,
    /// The identity block: the sorted 32-bit identity fingerprints of every
    /// row (see `identity`), used to find earlier observations of an event.
    pub identities: BlockRef,
    /// Postings: a roaring bitmap of rows per (field, value) (`kevdb_index::postings`).
    pub postings: Section,
    /// Full-text index over the messages (`kevdb_index::fulltext`).
    pub fulltext: Section,
}
