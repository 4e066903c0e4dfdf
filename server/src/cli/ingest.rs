//! `kevdb ingest`: stream files into a database in batches.

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
            if f.as_os_str() != "-" && !f.is_file() {
                anyhow::bail!("{}: no such file", f.display());
            }
        }
        Ok(IngestConfig {
            data: a.data,
            cluster: a.cluster,
            parse: ParseOptions { keep_managed_fields: a.keep_managed_fields },
            progress: !a.no_progress && std::io::stderr().is_terminal(),
            files: a.files,
        })
    }
}

#[derive(Debug, Default)]
struct Totals {
    report: AppendReport,
    parse_errors: usize,
}

pub fn run(cfg: IngestConfig) -> anyhow::Result<ExitCode> {
    let db = Db::open(&cfg.data, Options { default_cluster: cfg.cluster.clone(), ..Options::default() })
        .with_context(|| format!("opening {}", cfg.data.display()))?;
    let mut totals = Totals::default();
    for file in &cfg.files {
        ingest_file(&db, &cfg, file, &mut totals)?;
    }
    db.flush().context("sealing ingested events")?;
    let stats = db.stats();
    db.close()?;
    let r = &totals.report;
    eprintln!(
        "ingested {} file(s): {} accepted, {} duplicate, {} rejected, {} unparseable; database holds {} observations",
        cfg.files.len(),
        r.accepted,
        r.duplicates,
        r.rejected.len(),
        totals.parse_errors,
        stats.last_seq
    );
    Ok(if r.rejected.is_empty() && totals.parse_errors == 0 { ExitCode::SUCCESS } else { ExitCode::from(3) })
}

fn ingest_file(db: &Db, cfg: &IngestConfig, file: &PathBuf, totals: &mut Totals) -> anyhow::Result<()> {
    let name = file.display().to_string();
    let (reader, len): (Box<dyn Read>, Option<u64>) = if file.as_os_str() == "-" {
        (Box::new(std::io::stdin().lock()), None)
    } else {
        let f = std::fs::File::open(file).with_context(|| format!("opening {name}"))?;
        let len = f.metadata().ok().map(|m| m.len());
        (Box::new(f), len)
    };
    let bar = if cfg.progress {
        let bar = len.map_or_else(ProgressBar::new_spinner, ProgressBar::new);
        bar.set_style(
            ProgressStyle::with_template("{msg} {wide_bar} {bytes}/{total_bytes} {bytes_per_sec}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(name.clone());
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut seen = 0usize;
    let outcome = parse_reader(bar.wrap_read(reader), &cfg.parse, BATCH, |parsed: Parsed| -> anyhow::Result<()> {
        for e in &parsed.errors {
            bar.suspend(|| eprintln!("{name}: {e}"));
        }
        totals.parse_errors += parsed.errors.len();
        let batch_len = parsed.events.len();
        let report = db.append(parsed.events).with_context(|| format!("storing events from {name}"))?;
        for r in &report.rejected {
            bar.suspend(|| eprintln!("{name}: event {} rejected: {}", seen + r.index, r.reason));
        }
        totals.report.merge(report, seen);
        seen += batch_len;
        Ok(())
    });
    bar.finish_and_clear();
    outcome.with_context(|| format!("reading {name}"))
}
