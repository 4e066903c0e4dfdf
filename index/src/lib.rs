//! kevdb-index: the per-segment indexes of kevdb.
//!
//! Every sealed segment carries two byte blobs that this crate writes and reads:
//!
//! - [`postings`]: one roaring bitmap of row ids per (field, value) for the
//!   low-cardinality and identity fields (type, reason, kind, namespace, name,
//!   uid, component, host, cluster). Read zero-copy: opening parses a small
//!   directory and a lookup returns a [`Posting`] view over the blob's bytes.
//! - [`fulltext`]: a tantivy index over the event message, one document per
//!   distinct message (token sequence) plus a map from message to rows,
//!   packed into one self-contained blob and searched with [`TextQuery`].
//!
//! Row ids are segment-local `u32`s. Results are [`OwnedBitmap`]s (CRoaring
//! bitmaps), so the engine can intersect postings, full-text matches and its
//! own row sets with one type.
//!
//! # Table of contents
//!
//! - [`Error`]: the one error type of the crate.
//! - [`Posting`], [`RowSet`], [`OwnedBitmap`]: sets of row ids (module `posting`);
//!   the private module `payload` stores one set of rows in a blob (shared by both blobs).
//! - [`postings`]: [`PostingsBuilder`], [`PostingsReader`], [`Field`], [`POSTINGS_ALIGN`].
//! - [`fulltext`]: [`TextQuery`], [`FullTextBuilder`], [`FullTextIndex`], [`FULLTEXT_ALIGN`].
//! - [`SharedBytes`]: a shared, immutable byte buffer (e.g. a segment mmap) the
//!   full-text index is opened from without copying.
//!
//! **Architecture Invariant:** only `kevdb_index::fulltext` imports tantivy; no
//! tantivy type appears in this crate's public API. The crate's only `unsafe`
//! code lives in the private leaf module `zerocopy`.

pub mod fulltext;
mod payload;
mod posting;
pub mod postings;
mod zerocopy;

use std::fmt;

pub use crate::fulltext::{FullTextBuilder, FullTextIndex, SharedBytes, TextQuery, FULLTEXT_ALIGN};
pub use crate::posting::{OwnedBitmap, Posting, PostingIter, RowSet};
pub use crate::postings::{Field, PostingsBuilder, PostingsReader, Values, POSTINGS_ALIGN};
/// The CRoaring bindings, re-exported so callers can use [`OwnedBitmap`]'s
/// full API (and name its iterator types) without depending on them directly.
pub use croaring;

/// Which blob an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blob {
    /// The postings blob ([`PostingsReader`]).
    Postings,
    /// The full-text blob ([`FullTextIndex`]).
    FullText,
}

impl fmt::Display for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Blob::Postings => "postings blob",
            Blob::FullText => "full-text blob",
        })
    }
}

/// Every error this crate returns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not a valid blob: bad magic, truncated, an offset out of
    /// range, a damaged bitmap, or tantivy data that does not read back.
    #[error("corrupt {blob} at offset {offset}: expected {expected}, found {found}")]
    Corrupt {
        /// Which blob.
        blob: Blob,
        /// Byte offset in the blob where the problem was detected.
        offset: u64,
        /// What should have been there.
        expected: String,
        /// What was there.
        found: String,
    },
    /// The blob was written by a newer (or unknown) format version.
    #[error("{blob}: unsupported format version {version} (this build reads {supported})")]
    UnsupportedVersion {
        /// Which blob.
        blob: Blob,
        /// The version found.
        version: u16,
        /// The version this build reads.
        supported: u16,
    },
    /// A full-text query does not parse. The server answers 400 with this message.
    #[error("invalid text query at byte {position}: {reason}")]
    InvalidQuery {
        /// Byte offset in the query string where the problem is.
        position: usize,
        /// What is wrong, for a human.
        reason: String,
    },
    /// The caller broke a builder's contract (e.g. added the same row twice).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// Building the full-text index failed inside tantivy.
    #[error("full-text indexing failed: {0}")]
    Indexing(String),
}

impl Error {
    pub(crate) fn corrupt(blob: Blob, offset: usize, expected: impl Into<String>, found: impl Into<String>) -> Error {
        Error::Corrupt { blob, offset: offset as u64, expected: expected.into(), found: found.into() }
    }
}
