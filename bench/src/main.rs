//! `kevdb-bench`: generate benchmark data and measure kevdb, alone or
//! against peers (`run`, see `kevdb_bench::macrobench`).

use clap::{Parser, Subcommand};
use kevdb_bench::macrobench::{self, dir_bytes, RunConfig, PEERS};
use kevdb_engine::model::parse::{parse_bytes, ParseOptions};
use kevdb_engine::{Db, Options, Query};
use kevdb_gen::{GenConfig, Generator};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Parser)]
#[command(name = "kevdb-bench", about = "kevdb benchmark tools")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Args)]
struct GenArgs {
    /// Observations (NDJSON lines) to generate.
    #[arg(long, default_value_t = 100_000)]
    events: u64,
    /// Days the data spans, ending now.
    #[arg(long, default_value_t = 30)]
    days: u64,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Simulated clusters.
    #[arg(long, default_value_t = 1)]
    clusters: usize,
}

impl GenArgs {
    fn config(&self) -> GenConfig {
        let now = chrono::Utc::now().timestamp();
        GenConfig {
            observations: self.events,
            days: self.days,
            seed: self.seed,
            clusters: self.clusters,
            // Episodes run up to an hour past their start; end early enough
            // that no observation lies in the future.
            end_secs: now - 2 * 3600,
            events_api_share: 0.2,
        }
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The macro benchmark: one data set, then kevdb and each peer (ingest
    /// rate, bytes on disk per event, peak RSS, Q1–Q8 warm latency), a
    /// table with kevdb/peer ratios and a JSON file.
    Run {
        #[command(flatten)]
        gen: GenArgs,
        /// Peers to run (comma-separated): sqlite, duckdb. None: kevdb only.
        #[arg(long, value_delimiter = ',', value_parser = clap::builder::PossibleValuesParser::new(PEERS))]
        peers: Vec<String>,
        /// Use this NDJSON file instead of generating one.
        #[arg(long)]
        data_file: Option<PathBuf>,
        /// Warm runs per query (the median is reported; Q7 and Q8 at most 3).
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Where to write the results as JSON.
        #[arg(long, default_value = "bench-results.json")]
        json: PathBuf,
        /// Directory for the databases and the generated data (a temporary
        /// directory inside it is made, and removed afterwards).
        #[arg(long)]
        work_dir: Option<PathBuf>,
        /// Keep the databases and data after the run.
        #[arg(long)]
        keep: bool,
    },
    /// One phase of one in-process system, in a child of `run` (prints JSON).
    #[command(hide = true)]
    RunOne {
        #[arg(long)]
        system: String,
        #[arg(long)]
        phase: String,
        #[arg(long)]
        data_file: PathBuf,
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Query targets as JSON (peers' query phase).
        #[arg(long)]
        targets: Option<String>,
    },
    /// Run the query set Q1–Q8 against an existing database.
    Queries {
        /// Database directory (e.g. one made by `kevdb ingest`).
        #[arg(long)]
        data: PathBuf,
        /// Warm runs per query (the median is reported).
        #[arg(long, default_value_t = 15)]
        runs: usize,
        /// Run only these queries (e.g. `--only Q1,Q6`; for profiling).
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
    },
    /// Stream realistic events as NDJSON to stdout.
    Gen(GenArgs),
    /// Generate, parse and append events in-process; report the ingest rate
    /// and bytes on disk.
    Ingest {
        #[command(flatten)]
        gen: GenArgs,
        /// Database directory (a temporary one by default).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Events per append.
        #[arg(long, default_value_t = 4096)]
        batch: usize,
        /// Rows the in-memory buffer holds before it is sealed.
        #[arg(long)]
        memtable_rows: Option<usize>,
        /// Print a progress line to stderr every this many observations (0: never).
        #[arg(long, default_value_t = 0)]
        progress: u64,
    },
}

fn main() -> anyhow::Result<()> {
    match Args::parse().command {
        Command::Run { gen, peers, data_file, runs, json, work_dir, keep } => {
            let command = std::env::args().collect::<Vec<_>>().join(" ");
            let cfg = RunConfig { gen: gen.config(), data_file, peers, runs, work_dir, keep, command };
            let results = macrobench::run(&cfg)?;
            print!("{}", results.table());
            std::fs::write(&json, serde_json::to_string_pretty(&results)? + "\n")?;
            println!("results written to {}", json.display());
        }
        Command::RunOne { system, phase, data_file, dir, runs, targets } => {
            println!("{}", macrobench::run_one(&system, &phase, &data_file, &dir, runs, targets.as_deref())?);
        }
        Command::Queries { data, runs, only } => {
            let opened = Instant::now();
            let db = Db::open(&data, Options { background: false, ..Options::default() })?;
            println!("opened in {:.1} ms", opened.elapsed().as_secs_f64() * 1000.0);
            println!("{} events, {} observations", db.count(&Query::new())?, db.last_seq());
            println!("{:<4} {:>12} {:>12} {:>9} {:>14}  query", "id", "median", "first", "rows", "events/s");
            for r in kevdb_bench::queries::run(&db, runs, &only)? {
                let eps = r.events_per_sec.map_or(String::new(), |e| format!("{e:.0}"));
                println!(
                    "{:<4} {:>9.3} ms {:>9.3} ms {:>9} {:>14}  {}",
                    r.id,
                    r.median.as_secs_f64() * 1000.0,
                    r.first_ms.unwrap_or(f64::NAN),
                    r.rows,
                    eps,
                    r.what
                );
            }
            db.close()?;
        }
        Command::Gen(g) => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
            for line in Generator::new(g.config()) {
                out.write_all(line.as_bytes())?;
                out.write_all(b"\n")?;
            }
            out.flush()?;
        }
        Command::Ingest { gen, data, batch, memtable_rows, progress } => {
            let tmp = tempfile::tempdir()?;
            let dir = data.unwrap_or_else(|| tmp.path().join("db"));
            let defaults = Options::default();
            let options = Options { memtable_rows: memtable_rows.unwrap_or(defaults.memtable_rows), ..defaults };
            let db = Db::open(&dir, options)?;
            let mut lines = Generator::new(gen.config());
            let started = Instant::now();
            let (mut accepted, mut input_bytes) = (0usize, 0usize);
            let mut parse_time = std::time::Duration::ZERO;
            let (mut peak_unsealed, mut generated) = (0u64, 0u64);
            let mut next_progress = progress;
            loop {
                let mut buf = String::new();
                for line in lines.by_ref().take(batch) {
                    buf.push_str(&line);
                    buf.push('\n');
                }
                if buf.is_empty() {
                    break;
                }
                input_bytes += buf.len();
                let t = Instant::now();
                let parsed = parse_bytes(buf.as_bytes(), &ParseOptions::default());
                parse_time += t.elapsed();
                anyhow::ensure!(parsed.errors.is_empty(), "generator produced bad records: {:?}", parsed.errors);
                generated += parsed.events.len() as u64;
                let unsealed = db.stats().memtable_rows;
                peak_unsealed = peak_unsealed.max(unsealed);
                accepted += db.append(parsed.events)?.accepted;
                if progress > 0 && generated >= next_progress {
                    next_progress += progress;
                    let s = started.elapsed().as_secs_f64();
                    eprintln!(
                        "{generated} observations in {s:.0} s = {:.0}/s; unsealed rows {unsealed}",
                        generated as f64 / s,
                    );
                }
            }
            let flush_started = Instant::now();
            db.flush()?;
            let flush_time = flush_started.elapsed();
            let elapsed = started.elapsed();
            let events = db.count(&Query::new())? as usize;
            let stats = db.stats();
            db.close()?;
            let disk = dir_bytes(&dir);
            println!("observations generated : {}", gen.events);
            println!("observations accepted  : {accepted}");
            println!("distinct events        : {events}");
            println!(
                "input NDJSON           : {:.1} MiB ({:.0} B/observation)",
                input_bytes as f64 / 1048576.0,
                input_bytes as f64 / gen.events as f64
            );
            println!(
                "elapsed (gen+parse+append+flush): {:.2} s, of which parse {:.2} s",
                elapsed.as_secs_f64(),
                parse_time.as_secs_f64()
            );
            println!("ingest rate            : {:.0} observations/s", gen.events as f64 / elapsed.as_secs_f64());
            println!("unsealed rows (peak)   : {peak_unsealed}; final flush {:.1} s", flush_time.as_secs_f64());
            println!(
                "segments               : {} in {} partitions, {} bytes",
                stats.segments, stats.partitions, stats.segment_bytes
            );
            println!(
                "disk (whole directory) : {disk} bytes = {:.1} B/event, {:.1} B/observation",
                disk as f64 / events as f64,
                disk as f64 / gen.events as f64
            );
        }
    }
    Ok(())
}
