//! `kevdb-bench run` end to end on a small data set with the SQLite peer:
//! the table and the JSON file carry every figure for both systems with a
//! ratio, and both systems' result counts agree.

use std::process::Command;

#[test]
fn run_against_sqlite_reports_every_figure_and_agreeing_counts() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("results.json");
    let out = Command::new(env!("CARGO_BIN_EXE_kevdb-bench"))
        .args(["run", "--events", "2000", "--days", "2", "--seed", "3", "--peers", "sqlite", "--runs", "1"])
        .arg("--json")
        .arg(&json)
        .arg("--work-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "run failed:\n{table}\n{stderr}");

    let results: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let figures = results["figures"].as_array().unwrap();
    let keys: Vec<&str> = figures.iter().map(|f| f["key"].as_str().unwrap()).collect();
    for key in ["ingest_obs_per_sec", "bytes_per_event", "rss_ingest_mb", "rss_queries_mb", "q7_events_per_sec"] {
        assert!(keys.contains(&key), "no figure {key} in {keys:?}");
    }
    for q in 1..=8 {
        assert!(keys.contains(&format!("q{q}_ms").as_str()), "no figure for Q{q}");
    }
    for f in figures {
        let label = f["label"].as_str().unwrap();
        assert!(table.contains(label), "the table lacks {label}:\n{table}");
        for system in ["kevdb", "sqlite"] {
            assert!(f["values"][system].as_f64().is_some_and(|v| v > 0.0), "{label}: no value for {system}: {f}");
        }
        assert!(f["ratios"]["kevdb/sqlite"].as_f64().is_some(), "{label}: no ratio: {f}");
    }
    assert!(table.contains("kevdb/sqlite"), "{table}");

    let counts = results["counts"].as_array().unwrap();
    assert_eq!(counts.len(), 8);
    for c in counts {
        assert_eq!(c["agree"], true, "counts disagree: {c}\n{table}");
        assert!(c["values"]["sqlite"].as_u64().is_some(), "{c}");
    }
    assert!(counts[0]["values"]["kevdb"].as_u64().unwrap() > 0, "no Warning events in the last 7 days: {table}");
    assert!(!table.contains("MISMATCH") && !table.contains("SKIPPED"), "{table}");
    assert_eq!(results["data"]["observations"], 2000);
}
