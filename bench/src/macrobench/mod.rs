//! The macro benchmark against peers (`kevdb-bench run`): one NDJSON data
//! set, then for kevdb and each peer an ingest phase and a query phase, each
//! in its own child process (so peak RSS figures belong to one system and
//! one phase). This module owns the result types and the orchestration;
//! `report` turns results into the table and the JSON file.

pub mod child;
pub mod duckdb;
pub mod extract;
pub mod kevdb;
pub mod pipeline;
pub mod report;
pub mod sqlite;

use crate::queries::{QueryResult, Targets};
use child::{run_json, ChildRun};
use kevdb_gen::{GenConfig, Generator};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The peers `run` knows.
pub const PEERS: [&str; 2] = ["sqlite", "duckdb"];

/// What an ingest phase reports.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IngestFigures {
    /// Observations (NDJSON lines) read.
    pub observations: u64,
    /// Observations that changed what is stored (new events or newer observations).
    pub accepted: u64,
    /// Distinct events stored.
    pub events: u64,
    /// From opening the input until the data is durable.
    pub ingest_secs: f64,
    /// The database directory after closing.
    pub disk_bytes: u64,
    /// How the system was set up.
    pub notes: Vec<String>,
}

/// What a query phase reports.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct QueryFigures {
    /// Opening the database for the queries.
    pub open_ms: f64,
    /// The targets kevdb chose (kevdb's phase only).
    pub targets: Option<Targets>,
    /// Q1–Q8.
    pub queries: Vec<QueryResult>,
    /// How the queries were run.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// Everything measured for one system.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SystemResult {
    /// `kevdb`, `sqlite` or `duckdb`.
    pub system: String,
    /// Why the system has no figures (not installed, or it failed).
    pub skipped: Option<String>,
    pub ingest: Option<IngestFigures>,
    pub queries: Option<QueryFigures>,
    /// Peak RSS of the ingest child (bytes).
    pub rss_ingest_bytes: u64,
    /// Peak RSS of the query child (bytes).
    pub rss_query_bytes: u64,
}

impl SystemResult {
    fn measured(system: &str, ingest: ChildRun<IngestFigures>, queries: ChildRun<QueryFigures>) -> SystemResult {
        SystemResult {
            system: system.into(),
            skipped: None,
            rss_ingest_bytes: ingest.max_rss_bytes,
            rss_query_bytes: queries.max_rss_bytes,
            ingest: Some(ingest.value),
            queries: Some(queries.value),
        }
    }

    fn skipped(system: &str, reason: String) -> SystemResult {
        eprintln!("{system}: SKIPPED ({reason})");
        SystemResult { system: system.into(), skipped: Some(reason), ..SystemResult::default() }
    }

    /// The result of query `id`, if measured.
    pub fn query(&self, id: &str) -> Option<&QueryResult> {
        self.queries.as_ref()?.queries.iter().find(|q| q.id == id)
    }
}

/// A `run` invocation.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Generator settings (used when `data_file` is `None`).
    pub gen: GenConfig,
    /// An existing NDJSON file to use instead of generating one.
    pub data_file: Option<PathBuf>,
    /// Peers to run, from [`PEERS`].
    pub peers: Vec<String>,
    /// Warm runs per query.
    pub runs: usize,
    /// Where the databases (and a generated data set) go; a temporary
    /// directory by default, removed afterwards.
    pub work_dir: Option<PathBuf>,
    /// Keep the work directory.
    pub keep: bool,
    /// The command line, for the results.
    pub command: String,
}

/// The data set a run used.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DataInfo {
    pub file: String,
    pub generated: bool,
    /// Generator seed and days (when generated).
    pub seed: Option<u64>,
    pub days: Option<u64>,
    pub observations: u64,
    pub bytes: u64,
}

/// Sums the sizes of the files under `dir`.
pub fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    let p = e.path();
                    if p.is_dir() {
                        dir_bytes(&p)
                    } else {
                        e.metadata().map(|m| m.len()).unwrap_or(0)
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

fn generate(cfg: &GenConfig, path: &Path) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    for line in Generator::new(cfg.clone()) {
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

fn count_lines(path: &Path) -> anyhow::Result<u64> {
    let mut r = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path)?);
    let (mut n, mut line) = (0u64, Vec::new());
    while r.read_until(b'\n', &mut line)? > 0 {
        n += u64::from(!line.iter().all(u8::is_ascii_whitespace));
        line.clear();
    }
    Ok(n)
}

/// The in-process systems' phases, run by `kevdb-bench run-one` in a child.
pub fn run_one(
    system: &str,
    phase: &str,
    data: &Path,
    dir: &Path,
    runs: usize,
    targets: Option<&str>,
) -> anyhow::Result<String> {
    let json = match (system, phase) {
        ("kevdb", "ingest") => serde_json::to_string(&kevdb::ingest(data, dir)?)?,
        ("kevdb", "queries") => {
            let (open_ms, targets, queries) = kevdb::queries(dir, runs)?;
            serde_json::to_string(&QueryFigures { open_ms, targets: Some(targets), queries, notes: vec![] })?
        }
        ("sqlite", "ingest") => serde_json::to_string(&sqlite::ingest(data, dir)?)?,
        ("sqlite", "queries") => {
            let targets: Targets = serde_json::from_str(targets.unwrap_or("{}"))?;
            let (open_ms, queries) = sqlite::queries(dir, runs, &targets)?;
            serde_json::to_string(&QueryFigures { open_ms, targets: None, queries, notes: vec![] })?
        }
        _ => anyhow::bail!("no phase {phase:?} of system {system:?}"),
    };
    Ok(json)
}

/// Runs one in-process system's ingest and query phases in children.
fn in_child(
    system: &str,
    data: &Path,
    dir: &Path,
    runs: usize,
    targets: Option<&Targets>,
) -> anyhow::Result<SystemResult> {
    let exe = std::env::current_exe()?;
    let cmd = |phase: &str| {
        let mut c = Command::new(&exe);
        c.args(["run-one", "--system", system, "--phase", phase, "--runs", &runs.to_string()])
            .arg("--data-file")
            .arg(data)
            .arg("--dir")
            .arg(dir);
        c
    };
    eprintln!("{system}: ingest …");
    let ingest: ChildRun<IngestFigures> = run_json(&mut cmd("ingest"))?;
    eprintln!("{system}: ingest took {:.1} s; queries …", ingest.value.ingest_secs);
    let mut q = cmd("queries");
    if let Some(t) = targets {
        q.args(["--targets", &serde_json::to_string(t)?]);
    }
    let queries: ChildRun<QueryFigures> = run_json(&mut q)?;
    Ok(SystemResult::measured(system, ingest, queries))
}

/// Runs the benchmark: the data set, kevdb, then every peer.
pub fn run(cfg: &RunConfig) -> anyhow::Result<report::Results> {
    let builder = || {
        let mut b = tempfile::Builder::new();
        b.prefix("kevdb-bench-run.");
        b
    };
    let work = match &cfg.work_dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            builder().tempdir_in(d)?
        }
        None => builder().tempdir()?,
    };
    let base = work.path().to_path_buf();
    let (data, generated) = match &cfg.data_file {
        Some(f) => (f.clone(), false),
        None => {
            let path = base.join("events.ndjson");
            let t = Instant::now();
            eprintln!("generating {} observations into {} …", cfg.gen.observations, path.display());
            generate(&cfg.gen, &path)?;
            eprintln!("generated in {:.1} s", t.elapsed().as_secs_f64());
            (path, true)
        }
    };
    let info = DataInfo {
        file: data.display().to_string(),
        generated,
        seed: generated.then_some(cfg.gen.seed),
        days: generated.then_some(cfg.gen.days),
        observations: count_lines(&data)?,
        bytes: std::fs::metadata(&data)?.len(),
    };

    let kevdb = in_child("kevdb", &data, &base.join("kevdb"), cfg.runs, None)?;
    let targets = kevdb
        .queries
        .as_ref()
        .and_then(|q| q.targets.clone())
        .ok_or_else(|| anyhow::anyhow!("kevdb's query phase chose no targets"))?;
    let mut systems = vec![kevdb];
    for peer in &cfg.peers {
        let dir = base.join(peer);
        let result = match peer.as_str() {
            "sqlite" => in_child("sqlite", &data, &dir, cfg.runs, Some(&targets))
                .unwrap_or_else(|e| SystemResult::skipped("sqlite", format!("failed: {e:#}"))),
            "duckdb" => match duckdb::DuckDb::prepare(&base) {
                Err(reason) => SystemResult::skipped("duckdb", reason),
                Ok(d) => {
                    eprintln!("duckdb {}: ingest …", d.version);
                    let measured = d.ingest(&data, &dir).and_then(|i| {
                        eprintln!("duckdb: ingest took {:.1} s; queries …", i.value.ingest_secs);
                        Ok(SystemResult::measured("duckdb", i, d.queries(&dir, cfg.runs, &targets)?))
                    });
                    measured.unwrap_or_else(|e| SystemResult::skipped("duckdb", format!("failed: {e:#}")))
                }
            },
            other => anyhow::bail!("unknown peer {other:?} (known: {})", PEERS.join(", ")),
        };
        systems.push(result);
    }
    if cfg.keep {
        eprintln!("kept the work directory {}", work.keep().display());
    }
    Ok(report::Results::new(cfg.command.clone(), info, targets, systems))
}
