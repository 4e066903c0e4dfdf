//! kevdb-bench: a realistic event generator and benchmark drivers.
//!
//! - [`gen`]: streams realistic events as NDJSON (`kevdb-bench gen`);
//! - `kevdb-bench ingest`: generates, parses and appends in-process through
//!   the embedded API, reporting observations/s and bytes on disk;
//! - [`macrobench`]: `kevdb-bench run`, kevdb against SQLite and DuckDB on
//!   one data set (ingest rate, bytes per event, peak RSS, Q1–Q8);
//! - [`queries`]: the query set Q1–Q8 against kevdb;
//! - `benches/engine.rs`: criterion micro benches of the hot paths.

pub mod gen;
pub mod macrobench;
pub mod queries;
