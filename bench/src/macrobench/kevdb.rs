//! kevdb in the macro benchmark: the embedded engine with its default
//! options (fsync per group commit), fed by the shared ingest pipeline
//! (parse on one thread, `Db::append` of 4096 events on the other), sealed
//! with `Db::flush`; queries through `crate::queries`.

use super::{pipeline, IngestFigures};
use crate::queries::{QueryResult, Targets};
use kevdb_engine::model::parse::{parse_bytes, ParseOptions};
use kevdb_engine::{Db, Options, Query};
use std::path::Path;
use std::time::Instant;

/// Events per append (as `kevdb ingest`).
const BATCH: usize = 4096;

/// What this system's setup is, for the results.
pub const DESCRIPTION: &str =
    "kevdb embedded engine, default options (fsync per group commit), 4096 events per append, then Db::flush";

/// Loads `data` into a new database in `dir`.
pub fn ingest(data: &Path, dir: &Path) -> anyhow::Result<IngestFigures> {
    let started = Instant::now();
    let db = Db::open(dir, Options::default())?;
    let opts = ParseOptions::default();
    let mut accepted = 0u64;
    let observations = pipeline::run(
        data,
        BATCH,
        |batch, first| {
            let parsed = parse_bytes(batch, &opts);
            match parsed.errors.first() {
                Some(e) => anyhow::bail!("unparseable record near line {}: {e:?}", first + e.record as u64 + 1),
                None => Ok(parsed.events),
            }
        },
        |events| {
            let report = db.append(events)?;
            anyhow::ensure!(report.rejected.is_empty(), "rejected: {:?}", report.rejected.first());
            accepted += report.accepted as u64;
            Ok(())
        },
    )?;
    db.flush()?;
    let ingest_secs = started.elapsed().as_secs_f64();
    let events = db.count(&Query::new())?;
    db.close()?;
    Ok(IngestFigures {
        observations,
        accepted,
        events,
        ingest_secs,
        disk_bytes: super::dir_bytes(dir),
        notes: vec![DESCRIPTION.into()],
    })
}

/// Opens the database in `dir`, chooses the query targets and runs Q1–Q8.
pub fn queries(dir: &Path, runs: usize) -> anyhow::Result<(f64, Targets, Vec<QueryResult>)> {
    let opened = Instant::now();
    let db = Db::open(dir, Options { background: false, ..Options::default() })?;
    let open_ms = opened.elapsed().as_secs_f64() * 1000.0;
    let targets = crate::queries::targets(&db)?;
    let results = crate::queries::run_with(&db, runs, &targets, &[])?;
    db.close()?;
    Ok((open_ms, targets, results))
}
