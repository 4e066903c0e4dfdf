//! Postings: one set of row ids per (field, value) of a segment, serialized
//! into one blob ([`PostingsBuilder`]) and read zero-copy ([`PostingsReader`]).
//!
//! # Blob layout, version 1
//!
//! All integers little-endian. All offsets are from the start of the blob.
//! The blob must start at a [`POSTINGS_ALIGN`] (32) byte aligned address for
//! lookups to be zero-copy (bitmaps are CRoaring "frozen" bitmaps, read in
//! place); a misaligned blob still reads correctly, copying each bitmap.
//! The blob carries no checksum of its own: the engine checksums it.
//!
//! ```text
//! +--------+-----------------+--------------------------------+-----+----------+
//! | header | field directory | per field: entries, key pool   | pad | payloads |
//! +--------+-----------------+--------------------------------+-----+----------+
//!   16 B     F x 20 B          N x 12 or 8 B; pool padded to 4        32 B aligned start
//! ```
//!
//! Header, 16 bytes:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic `KXPO` (`4B 58 50 4F`) |
//! | 4 | 2 | format version, 1 |
//! | 6 | 2 | `F`, number of field directory entries (9 in version 1, one per [`Field`] id) |
//! | 8 | 4 | length of the whole blob in bytes |
//! | 12 | 4 | reserved, 0 |
//!
//! Field directory: `F` entries of 20 bytes, in field id order:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | key encoding: 0 strings, 1 UUIDs, 2 the empty string then UUIDs |
//! | 4 | 4 | `N`, number of distinct values |
//! | 8 | 4 | offset of the field's entry table |
//! | 12 | 4 | offset of the field's key pool |
//! | 16 | 4 | length of the key pool |
//!
//! A field's entries are sorted by the values' bytes, strictly ascending (so
//! lookups binary-search); the empty string is a valid value and sorts first.
//!
//! Key encoding 0 (strings): entries of 12 bytes; the pool is the values'
//! UTF-8 bytes, concatenated.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | end of the value in the key pool; it starts at the previous entry's end (0 for the first) |
//! | 4 | 4 | cardinality (number of rows), ≥ 1 |
//! | 8 | 4 | payload word (see below) |
//!
//! Key encodings 1 and 2 (chosen when every value is a canonical lowercase
//! UUID `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, with encoding 2 when the field
//! also has the empty string): entries of 8 bytes, `cardinality u32` then
//! `payload word u32`; the pool holds 16 bytes per UUID (its 32 hex digits as
//! bytes, in text order, so keys sort like the strings), one per entry, except
//! that under encoding 2 entry 0 is the empty string and has no key bytes.
//!
//! Payloads, by cardinality: 1, the payload word is the row id itself (no
//! payload bytes); 2..=8, the word is the offset (a multiple of 4) of that
//! many u32 row ids, ascending; more, the word is the offset (a multiple of
//! 32) of a CRoaring frozen bitmap whose u32 byte length sits in the 4 bytes
//! just before it (see the table in the crate's `payload` module). Padding is
//! zero bytes.
//!
//! Version log: 1 — first version.

mod builder;
mod keys;
mod reader;

pub use self::builder::PostingsBuilder;
pub use self::reader::{PostingsReader, Values};

use std::fmt;

/// Alignment (in bytes) the postings blob's first byte needs in memory for
/// zero-copy lookups: CRoaring frozen bitmaps are read in place.
pub const POSTINGS_ALIGN: usize = crate::zerocopy::FROZEN_ALIGN;

pub(crate) const MAGIC: [u8; 4] = *b"KXPO";
pub(crate) const VERSION: u16 = 1;
pub(crate) const HEADER_LEN: usize = 16;
pub(crate) const DIR_ENTRY_LEN: usize = 20;

/// An indexed field. The ids are stable: they are written to disk.
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// `type` (Normal, Warning).
    Type = 0,
    /// `reason`.
    Reason = 1,
    /// `involvedObject.kind` / `regarding.kind`.
    Kind = 2,
    /// `involvedObject.namespace` / `regarding.namespace` (`metadata.namespace` when absent).
    Namespace = 3,
    /// `involvedObject.name` / `regarding.name`.
    Name = 4,
    /// `metadata.uid`.
    Uid = 5,
    /// `source.component` / `reportingController`.
    Component = 6,
    /// `source.host` / `reportingInstance`.
    Host = 7,
    /// The cluster the event came from.
    Cluster = 8,
}

impl Field {
    /// Every field, in id order.
    pub const ALL: [Field; 9] = [
        Field::Type,
        Field::Reason,
        Field::Kind,
        Field::Namespace,
        Field::Name,
        Field::Uid,
        Field::Component,
        Field::Host,
        Field::Cluster,
    ];

    /// Number of fields.
    pub const COUNT: usize = Field::ALL.len();

    /// The on-disk id.
    pub fn id(self) -> u8 {
        self as u8
    }

    /// The field with on-disk id `id`, if any.
    pub fn from_id(id: u8) -> Option<Field> {
        Field::ALL.get(usize::from(id)).copied()
    }

    /// A short lowercase name, for messages and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Field::Type => "type",
            Field::Reason => "reason",
            Field::Kind => "kind",
            Field::Namespace => "namespace",
            Field::Name => "name",
            Field::Uid => "uid",
            Field::Component => "component",
            Field::Host => "host",
            Field::Cluster => "cluster",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests;
