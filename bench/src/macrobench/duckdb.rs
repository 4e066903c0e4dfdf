//! The DuckDB peer: `bench/peers/duckdb_peer.py` (embedded in the binary and
//! written to the work directory) run with `python3` as a child process per
//! phase. When `python3` or its `duckdb` module is missing the peer is
//! skipped with the reason.

use super::child::{run_json, ChildRun};
use super::{IngestFigures, QueryFigures};
use crate::queries::Targets;
use std::path::{Path, PathBuf};
use std::process::Command;

const SCRIPT: &str = include_str!("../../peers/duckdb_peer.py");

/// The Python interpreter (`KEVDB_BENCH_PYTHON` overrides `python3`).
fn python() -> String {
    std::env::var("KEVDB_BENCH_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// A ready DuckDB peer.
#[derive(Debug)]
pub struct DuckDb {
    script: PathBuf,
    /// The duckdb module's version.
    pub version: String,
}

impl DuckDb {
    /// Writes the script into `work` and checks that `import duckdb` works;
    /// `Err(reason)` says why the peer must be skipped.
    pub fn prepare(work: &Path) -> Result<DuckDb, String> {
        let script = work.join("duckdb_peer.py");
        std::fs::write(&script, SCRIPT).map_err(|e| format!("writing {}: {e}", script.display()))?;
        let out = Command::new(python())
            .arg(&script)
            .args(["--phase", "version"])
            .output()
            .map_err(|e| format!("cannot run {}: {e}", python()))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let last = err.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
            return Err(format!(
                "`import duckdb` failed in {} ({last}); install it with `python3 -m pip install duckdb`",
                python()
            ));
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| format!("version check: {e}"))?;
        Ok(DuckDb { script, version: v["version"].as_str().unwrap_or("?").to_string() })
    }

    fn command(&self, phase: &str, dir: &Path) -> Command {
        let mut cmd = Command::new(python());
        cmd.arg(&self.script).args(["--phase", phase]).arg("--dir").arg(dir);
        cmd
    }

    /// Bulk-loads `data` into a database in `dir`.
    pub fn ingest(&self, data: &Path, dir: &Path) -> anyhow::Result<ChildRun<IngestFigures>> {
        run_json(self.command("ingest", dir).arg("--data-file").arg(data))
    }

    /// Runs Q1–Q8 against `targets`.
    pub fn queries(&self, dir: &Path, runs: usize, targets: &Targets) -> anyhow::Result<ChildRun<QueryFigures>> {
        run_json(
            self.command("queries", dir)
                .args(["--runs", &runs.to_string()])
                .args(["--targets", &serde_json::to_string(targets)?]),
        )
    }
}
