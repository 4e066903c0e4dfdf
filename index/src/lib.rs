//! kevdb-index: per-segment postings (roaring bitmaps) and full-text search.
//!
//! NOTE: this crate is filled in by the indexing work (issue 3); the foundation
//! answers queries with a correct scan.
