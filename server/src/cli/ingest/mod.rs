//! `kevdb ingest`: stream files, directory trees and archives (see
//! `inputs`) into a database in batches.

mod inputs;

use super::IngestArgs;
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use kevdb_engine::model::parse::{parse_reader, ParseOptions, Parsed};
use kevdb_engine::{AppendReport, Db, Options};
use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

/// Events handed to the engine per append.
const BATCH: usize = 4096;

/// A validated `kevdb ingest` invocation.
#[derive(Debug)]
pub struct IngestConfig {
    data: PathBuf,
    cluster: String,
    parse: ParseOptions,
    progress: bool,
    files: Vec<PathBuf>,
}

impl TryFrom<IngestArgs> for IngestConfig {
    type Error = anyhow::Error;

    fn try_from(a: IngestArgs) -> anyhow::Result<Self> {
        if a.cluster.is_empty() || a.cluster.contains('/') {
            anyhow::bail!("--cluster must be a non-empty name without '/'");
        }
        for f in &a.files {
            if f.as_os_str() != "-" && !f.is_file() && !f.is_dir() {
                anyhow::bail!("{}: no such file or directory", f.display());
            }
        }
        Ok(IngestConfig {
            data: a.data,
            cluster: a.cluster,
            parse: ParseOptions { keep_managed_fields: a.keep_managed_fields, events_only: !a.strict },
            progress: !a.no_progress && std::io::stderr().is_terminal(),
            files: a.files,
        })
    }
}

#[derive(Debug, Default)]
struct Totals {
    report: AppendReport,
    parse_errors: usize,
    /// Records that were not events (other kinds in a dump).
    skipped: usize,
    /// Event sources read (files, archive members).
    sources: usize,
}

pub fn run(cfg: IngestConfig) -> anyhow::Result<ExitCode> {
    let db = Db::open(&cfg.data, Options { default_cluster: cfg.cluster.clone(), ..Options::default() })
        .with_context(|| format!("opening {}", cfg.data.display()))?;
    let mut totals = Totals::default();
    let bar = if cfg.progress { Some(progress_bar()) } else { None };
    let sources = {
        let mut visit = |name: &str, reader: &mut dyn Read| ingest_source(&db, &cfg, name, reader, &mut totals);
        let mut walker = inputs::Walker::new(&mut visit);
        let progress = |reader: Box<dyn Read>, len: Option<u64>| -> Box<dyn Read> {
            match &bar {
                Some(bar) => {
                    bar.reset();
                    bar.set_length(len.unwrap_or(0));
                    Box::new(bar.wrap_read(reader))
                }
                None => reader,
            }
        };
        for file in &cfg.files {
            if file.as_os_str() == "-" {
                walker.stdin()?;
            } else {
                walker.path(file, &progress)?;
            }
        }
        walker.sources
    };
    totals.sources = sources;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    db.flush().context("sealing ingested events")?;
    let stats = db.stats();
    db.close()?;
    let r = &totals.report;
    eprintln!(
        "ingested {} source(s): {} accepted, {} duplicate, {} rejected, {} unparseable, {} not events (skipped); database holds {} observations",
        totals.sources,
        r.accepted,
        r.duplicates,
        r.rejected.len(),
        totals.parse_errors,
        totals.skipped,
        stats.last_seq
    );
    Ok(if r.rejected.is_empty() && totals.parse_errors == 0 { ExitCode::SUCCESS } else { ExitCode::from(3) })
}

fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{wide_bar} {bytes}/{total_bytes} {bytes_per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// Parses one event source and appends its events in batches.
fn ingest_source(
    db: &Db,
    cfg: &IngestConfig,
    name: &str,
    reader: &mut dyn Read,
    totals: &mut Totals,
) -> anyhow::Result<()> {
    let mut seen = 0usize;
    let outcome = parse_reader(reader, &cfg.parse, BATCH, |parsed: Parsed| -> anyhow::Result<()> {
        for e in &parsed.errors {
            eprintln!("{name}: {e}");
        }
        totals.parse_errors += parsed.errors.len();
        totals.skipped += parsed.skipped;
        let batch_len = parsed.events.len();
        if batch_len == 0 {
            return Ok(());
        }
        let report = db.append(parsed.events).with_context(|| format!("storing events from {name}"))?;
        for r in &report.rejected {
            eprintln!("{name}: event {} rejected: {}", seen + r.index, r.reason);
        }
        totals.report.merge(report, seen);
        seen += batch_len;
        Ok(())
    });
    outcome.with_context(|| format!("reading {name}"))
}
