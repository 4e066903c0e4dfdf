//! kevdb-bench: benchmark drivers over the events of `kevdb_gen`.
//!
//! - `kevdb-bench gen`: streams `kevdb_gen`'s realistic events as NDJSON;
//! - `kevdb-bench ingest`: generates, parses and appends in-process through
//!   the embedded API, reporting observations/s and bytes on disk;
//! - [`macrobench`]: `kevdb-bench run`, kevdb against SQLite and DuckDB on
//!   one data set (ingest rate, bytes per event, peak RSS, Q1–Q8);
//! - [`queries`]: the query set Q1–Q8 against kevdb;
//! - `benches/engine.rs`: criterion micro benches of the hot paths.

pub mod macrobench;
pub mod queries;
