//! kevdb-bench: a realistic event generator and benchmark drivers.
//!
//! - [`gen`]: streams realistic events as NDJSON (`kevdb-bench gen`);
//! - `kevdb-bench ingest`: generates, parses and appends in-process through
//!   the embedded API, reporting observations/s and bytes on disk;
//! - `benches/engine.rs`: criterion micro benches of the hot paths.

pub mod gen;
pub mod queries;
