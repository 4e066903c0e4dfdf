//! Full-text search over event messages: the crate's one tantivy boundary.
//!
//! [`FullTextBuilder`] indexes a segment's messages and packs the index into
//! one blob; [`FullTextIndex`] opens that blob in place and answers
//! [`TextQuery`]s with row ids. [`TextQuery::matches`] evaluates the same
//! query on one string, with exactly the same result as an index search.
//!
//! # Query syntax
//!
//! | query | matches messages that |
//! |---|---|
//! | `connection refused` | contain both words, anywhere (AND is the default; `AND` may be written) |
//! | `"connection refused"` | contain the words consecutively, in order (a phrase) |
//! | `a OR b` | contain `a` or `b` |
//! | `NOT a`, `-a` | do not contain `a` (`-` directly before a word, phrase or `(`) |
//! | `refus*` | contain a word starting with `refus` (a prefix) |
//! | `"connection refus*"` | contain `connection` followed by a word starting with `refus` |
//! | `(a OR b) -c` | parentheses group |
//!
//! Precedence, tightest first: `NOT`/`-`, AND (juxtaposition), `OR`. The
//! keywords `AND`, `OR`, `NOT` are uppercase only; `or` is a word. Nesting is
//! limited to 64 levels.
//!
//! Words go through the tokenizer below, like messages. A word that splits
//! into several tokens is a phrase: `10.0.0.1` means `"10 0 0 1"` and
//! `kube-system` means `"kube system"`; with a trailing `*` the last token is a
//! prefix (`kube-sys*` = `"kube sys*"`). A word or phrase without any letter
//! or digit (`:`, `"--"`, a lone `*`) is an error, as are unbalanced
//! parentheses or quotes and a dangling `OR`/`AND`/`NOT`. Errors are
//! [`Error::InvalidQuery`](crate::Error::InvalidQuery) with the byte position.
//!
//! # Tokenization
//!
//! A token is a maximal run of alphanumeric characters (Unicode), lowercased
//! character by character and cut to 128 bytes; everything else separates
//! tokens. So matching is case-insensitive, IPs, paths and names split into
//! parts, and there is no stemming and no stop words. Messages are
//! deduplicated by token sequence: each distinct sequence is one tantivy
//! document, mapped to its rows.
//!
//! # Blob layout, version 1
//!
//! All integers little-endian; offsets from the start of the blob. The blob
//! must start at a [`FULLTEXT_ALIGN`] (32) byte aligned address for zero-copy
//! row lookups (the row map holds CRoaring frozen bitmaps); misaligned blobs
//! still work, copying. The blob carries no checksum of its own.
//!
//! ```text
//! +--------+----------------+-----------+-------------------------+---------+----------+
//! | header | file directory | name pool | files (8-byte aligned)  | row map | payloads |
//! +--------+----------------+-----------+-------------------------+---------+----------+
//!   32 B     N x 16 B                                               M x 8 B   32 B aligned
//! ```
//!
//! Header, 32 bytes:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic `KXFT` (`4B 58 46 54`) |
//! | 4 | 2 | format version, 1 |
//! | 6 | 2 | `N`, number of packed files |
//! | 8 | 4 | length of the whole blob in bytes |
//! | 12 | 4 | `M`, number of distinct messages (tantivy documents) |
//! | 16 | 4 | number of rows indexed |
//! | 20 | 4 | largest row id + 1 (0 when empty) |
//! | 24 | 4 | offset of the row map |
//! | 28 | 4 | reserved, 0 |
//!
//! File directory, `N` entries of 16 bytes, one per file of the tantivy index
//! (`meta.json` first, then the segment files `<segment uuid>.<ext>` in name
//! order):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | offset of the file name (UTF-8, in the name pool) |
//! | 4 | 4 | length of the file name |
//! | 8 | 4 | offset of the file's bytes (8-byte aligned) |
//! | 12 | 4 | length of the file |
//!
//! Row map, `M` entries of 8 bytes; entry `i` is for the document whose `ord`
//! fast field is `i`:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | cardinality (rows with this message), ≥ 1 |
//! | 4 | 4 | payload word |
//!
//! Payloads are encoded as in the postings blob: one row is the payload word
//! itself; 2..=8 rows are u32 row ids (ascending) at the offset in the word;
//! more are a CRoaring frozen bitmap at the (32-byte aligned) offset in the
//! word, its u32 byte length in the 4 bytes before it.
//!
//! The tantivy index (tantivy 0.27, index format 7) has one text field `text`
//! (pre-tokenized, positions, no fieldnorms) and one fast `u64` field `ord`;
//! no stored fields. Its files are tantivy's; a tantivy upgrade that changes
//! them needs a new version of this blob.
//!
//! Version log: 1 — first version.

mod ast;
mod builder;
mod directory;
mod index;
mod pack;
mod parse;
mod query;
mod schema;
mod shared_bytes;
mod tokenize;

pub use self::builder::FullTextBuilder;
pub use self::index::FullTextIndex;
pub use self::query::TextQuery;
pub use self::shared_bytes::SharedBytes;

/// Alignment (in bytes) the full-text blob's first byte needs in memory for
/// zero-copy row lookups.
pub const FULLTEXT_ALIGN: usize = crate::zerocopy::FROZEN_ALIGN;
