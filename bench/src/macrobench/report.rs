//! The results of `kevdb-bench run`: every figure per system with kevdb/peer
//! ratios (the same rows in the printed table and in the JSON file), the
//! result counts compared across systems, and the machine.

use super::{DataInfo, SystemResult};
use crate::queries::{Targets, QUERY_SET};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

/// The machine a run was measured on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub memory_gib: f64,
    pub kernel: String,
}

impl Machine {
    fn detect() -> Machine {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        let cpuinfo = read("/proc/cpuinfo");
        let cpu = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split(':').nth(1))
            .map_or("unknown".into(), |s| s.trim().to_string());
        let meminfo = read("/proc/meminfo");
        let kib: f64 = meminfo
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        Machine {
            cpu,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_gib: (kib / 1048576.0 * 10.0).round() / 10.0,
            kernel: read("/proc/sys/kernel/osrelease").trim().to_string(),
        }
    }
}

/// One figure for every system, and kevdb/peer ratios.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    /// Stable key (`ingest_obs_per_sec`, `q1_ms`, …).
    pub key: String,
    /// What the table prints.
    pub label: String,
    /// True when larger is better (rates); false for times, bytes and RSS.
    pub higher_is_better: bool,
    /// System → value (`None` when skipped).
    pub values: BTreeMap<String, Option<f64>>,
    /// `kevdb/<peer>` → kevdb's value divided by the peer's.
    pub ratios: BTreeMap<String, Option<f64>>,
}

/// One query's result counts across systems.
#[derive(Debug, Clone, Serialize)]
pub struct CountCheck {
    pub id: String,
    pub what: String,
    pub values: BTreeMap<String, Option<u64>>,
    pub agree: bool,
}

/// Everything a run produced.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    pub command: String,
    pub machine: Machine,
    pub data: DataInfo,
    pub targets: Targets,
    pub systems: Vec<SystemResult>,
    pub figures: Vec<Figure>,
    pub counts: Vec<CountCheck>,
    pub warnings: Vec<String>,
}

type Getter = Box<dyn Fn(&SystemResult) -> Option<f64>>;

fn figure_defs() -> Vec<(String, String, bool, Getter)> {
    const MB: f64 = 1e6;
    let mut defs: Vec<(String, String, bool, Getter)> = vec![
        (
            "ingest_obs_per_sec".into(),
            "ingest (observations/s)".into(),
            true,
            Box::new(|s| s.ingest.as_ref().map(|i| i.observations as f64 / i.ingest_secs.max(1e-9))),
        ),
        ("ingest_secs".into(), "ingest time (s)".into(), false, Box::new(|s| s.ingest.as_ref().map(|i| i.ingest_secs))),
        (
            "events".into(),
            "distinct events stored".into(),
            true,
            Box::new(|s| s.ingest.as_ref().map(|i| i.events as f64)),
        ),
        (
            "bytes_per_event".into(),
            "disk per event (B)".into(),
            false,
            Box::new(|s| s.ingest.as_ref().map(|i| i.disk_bytes as f64 / i.events.max(1) as f64)),
        ),
        (
            "disk_mb".into(),
            "disk total (MB)".into(),
            false,
            Box::new(|s| s.ingest.as_ref().map(|i| i.disk_bytes as f64 / MB)),
        ),
        (
            "rss_ingest_mb".into(),
            "peak RSS, ingest (MB)".into(),
            false,
            Box::new(|s| s.ingest.as_ref().map(|_| s.rss_ingest_bytes as f64 / MB)),
        ),
        (
            "rss_queries_mb".into(),
            "peak RSS, queries (MB)".into(),
            false,
            Box::new(|s| s.queries.as_ref().map(|_| s.rss_query_bytes as f64 / MB)),
        ),
        ("open_ms".into(), "open for queries (ms)".into(), false, Box::new(|s| s.queries.as_ref().map(|q| q.open_ms))),
    ];
    for (id, what) in QUERY_SET {
        let key = id.to_lowercase();
        defs.push((
            format!("{key}_ms"),
            format!("{id} {what} (ms)"),
            false,
            Box::new(move |s| s.query(id).map(|q| q.median.as_secs_f64() * 1000.0)),
        ));
    }
    for (id, _) in QUERY_SET.iter().take(6) {
        defs.push((
            format!("{}_first_ms", id.to_lowercase()),
            format!("{id} first run after open (ms)"),
            false,
            Box::new(move |s| s.query(id).and_then(|q| q.first_ms)),
        ));
    }
    for (id, what) in [("Q7", "paging"), ("Q8", "replay")] {
        defs.push((
            format!("{}_events_per_sec", id.to_lowercase()),
            format!("{id} {what} (events/s)"),
            true,
            Box::new(move |s| s.query(id).and_then(|q| q.events_per_sec)),
        ));
    }
    defs
}

impl Results {
    /// Derives the figures, ratios and count checks.
    pub fn new(command: String, data: DataInfo, targets: Targets, systems: Vec<SystemResult>) -> Results {
        let peers: Vec<&str> = systems.iter().skip(1).map(|s| s.system.as_str()).collect();
        let figures = figure_defs()
            .into_iter()
            .map(|(key, label, higher_is_better, get)| {
                let values: BTreeMap<String, Option<f64>> =
                    systems.iter().map(|s| (s.system.clone(), get(s))).collect();
                let kevdb = values.get("kevdb").copied().flatten();
                let ratios = peers
                    .iter()
                    .map(|p| {
                        let ratio = match (kevdb, values.get(*p).copied().flatten()) {
                            (Some(k), Some(v)) if v != 0.0 => Some(k / v),
                            _ => None,
                        };
                        (format!("kevdb/{p}"), ratio)
                    })
                    .collect();
                Figure { key, label, higher_is_better, values, ratios }
            })
            .collect();
        let mut warnings = Vec::new();
        let counts = QUERY_SET
            .iter()
            .map(|(id, what)| {
                let values: BTreeMap<String, Option<u64>> =
                    systems.iter().map(|s| (s.system.clone(), s.query(id).map(|q| q.check))).collect();
                let mut present = values.values().flatten();
                let first = present.next().copied();
                let agree = present.all(|v| Some(*v) == first);
                if !agree {
                    warnings.push(format!("WARNING: {id} result counts disagree: {values:?}"));
                }
                CountCheck { id: id.to_string(), what: what.to_string(), values, agree }
            })
            .collect();
        for s in &systems {
            if let Some(reason) = &s.skipped {
                warnings.push(format!("{}: SKIPPED ({reason})", s.system));
            }
        }
        Results { command, machine: Machine::detect(), data, targets, systems, figures, counts, warnings }
    }

    /// The table `run` prints.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let m = &self.machine;
        let _ = writeln!(out, "machine: {} ({} cores, {} GiB), Linux {}", m.cpu, m.cores, m.memory_gib, m.kernel);
        let _ = writeln!(
            out,
            "data: {} observations, {:.0} MB NDJSON ({})",
            self.data.observations,
            self.data.bytes as f64 / 1e6,
            self.data.file
        );
        let _ = writeln!(
            out,
            "targets: namespace {:?}, object {}/{}, windows end at the newest event\n",
            self.targets.namespace, self.targets.kind, self.targets.name
        );
        let systems: Vec<&str> = self.systems.iter().map(|s| s.system.as_str()).collect();
        let ratio_names: Vec<String> = systems.iter().skip(1).map(|p| format!("kevdb/{p}")).collect();
        let width = self.figures.iter().map(|f| f.label.chars().count()).max().unwrap_or(10);
        let _ = write!(out, "{:<width$}", "figure");
        for s in &systems {
            let _ = write!(out, " {s:>12}");
        }
        for r in &ratio_names {
            let _ = write!(out, " {r:>13}");
        }
        out.push('\n');
        for f in &self.figures {
            let _ = write!(out, "{:<width$}", f.label);
            for s in &systems {
                let _ = write!(out, " {:>12}", fmt_value(f.values.get(*s).copied().flatten()));
            }
            for r in &ratio_names {
                let cell = f.ratios.get(r).copied().flatten().map_or("-".into(), |v| format!("{}×", fmt_ratio(v)));
                let _ = write!(out, " {cell:>13}");
            }
            out.push('\n');
        }
        let _ =
            writeln!(out, "\nresult counts (Q8: distinct events of the namespace; kevdb replays every observation)");
        for c in &self.counts {
            let _ = write!(out, "{:<4}", c.id);
            for s in &systems {
                let v = c.values.get(*s).copied().flatten().map_or("-".into(), |v| v.to_string());
                let _ = write!(out, " {s}={v}");
            }
            let _ = writeln!(out, "  {}", if c.agree { "agree" } else { "MISMATCH" });
        }
        for s in &self.systems {
            let notes = s.ingest.iter().flat_map(|i| &i.notes).chain(s.queries.iter().flat_map(|q| &q.notes));
            for n in notes {
                let _ = writeln!(out, "{}: {n}", s.system);
            }
        }
        for w in &self.warnings {
            let _ = writeln!(out, "{w}");
        }
        out
    }
}

fn fmt_value(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(v) if v.abs() >= 1000.0 => group_thousands(v.round() as i64),
        Some(v) if v.abs() >= 100.0 => format!("{v:.0}"),
        Some(v) if v.abs() >= 10.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.2}"),
    }
}

fn fmt_ratio(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else if v >= 0.1 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

fn group_thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_read_well() {
        assert_eq!(super::group_thousands(1234567), "1,234,567");
        assert_eq!(super::fmt_value(Some(0.1234)), "0.12");
        assert_eq!(super::fmt_value(Some(125600.4)), "125,600");
        assert_eq!(super::fmt_ratio(0.0421), "0.042");
    }
}
