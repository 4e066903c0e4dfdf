//! The `kevdb` binary end to end: `ingest` from files and stdin, `query` in
//! every output format, and clear errors for bad input.

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn kevdb(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kevdb"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(bytes) = stdin {
        input.write_all(bytes).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn events_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/events");
    assert!(d.is_dir(), "missing {}", d.display());
    d
}

fn real_file(name: &str) -> String {
    let path = std::fs::read_dir(events_dir())
        .unwrap()
        .flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).unwrap().flatten())
        .map(|f| f.path())
        .find(|p| p.to_string_lossy().contains(name))
        .unwrap_or_else(|| panic!("no file matching {name}"));
    path.to_string_lossy().into_owned()
}

#[test]
fn ingest_then_query_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let file = real_file("support-bundle-2025-09-11T15_54_39__cluster-resources__events__kube-system.json");
    let raw: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let items = raw["items"].as_array().unwrap();
    let warnings = items.iter().filter(|e| e["type"] == "Warning").count();

    let out = kevdb(&["ingest", "--data", data, &file], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains(&format!("{} accepted", items.len())), "{}", text(&out.stderr));

    // JSON: an EventList holding every event, equal to the input field for
    // field (managedFields dropped).
    let out = kevdb(&["query", "--data", data, "-A", "-o", "json"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list["kind"], "EventList");
    let got = list["items"].as_array().unwrap();
    assert_eq!(got.len(), items.len());
    for want in items {
        let mut want = want.clone();
        want["metadata"].as_object_mut().unwrap().remove("managedFields");
        let uid = &want["metadata"]["uid"];
        let found = got.iter().find(|g| &g["metadata"]["uid"] == uid).expect("event present");
        // Items of an EventList carry no kind/apiVersion in the input; the
        // output always does.
        let mut found = found.clone();
        for k in ["kind", "apiVersion"] {
            if want.get(k).is_none() {
                found.as_object_mut().unwrap().remove(k);
            }
        }
        assert_eq!(found, want);
    }

    // Table: kubectl's columns, one line per event plus the header.
    let out = kevdb(&["query", "--data", data, "-n", "kube-system", "--type", "Warning"], None);
    let table = text(&out.stdout);
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap().split("   ").map(str::trim).filter(|s| !s.is_empty()).collect();
    assert_eq!(header, ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]);
    assert_eq!(lines.clone().count(), warnings);
    assert!(lines.all(|l| l.contains("Warning")));

    // NDJSON in the events.k8s.io shape, and YAML.
    let out =
        kevdb(&["query", "--data", data, "-A", "-o", "ndjson", "--api", "events.k8s.io/v1", "--limit", "5"], None);
    let lines: Vec<Value> = text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 5);
    assert!(lines
        .iter()
        .all(|e| e["apiVersion"] == "events.k8s.io/v1" && e.get("note").is_some() == e.get("message").is_none()));
    let out = kevdb(&["query", "--data", data, "-A", "-o", "yaml", "--limit", "2"], None);
    let yaml: Value = serde_norway::from_slice(&out.stdout).unwrap();
    assert_eq!(yaml["items"].as_array().unwrap().len(), 2);

    // Re-ingesting adds nothing.
    let out = kevdb(&["ingest", "--data", data, &file], None);
    assert!(text(&out.stderr).contains("0 accepted"), "{}", text(&out.stderr));
}

#[test]
fn stdin_ndjson_with_a_broken_line_keeps_the_rest_and_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let mut input = Vec::new();
    for i in 0..5 {
        if i == 2 {
            input.extend_from_slice(b"{\"kind\":\"Event\",\"metadata\":{\"uid\":\n");
            continue;
        }
        let line = serde_json::json!({
            "kind": "Event", "apiVersion": "v1",
            "metadata": {"name": format!("p{i}.1"), "namespace": "default", "uid": format!("u{i}"), "resourceVersion": "1"},
            "involvedObject": {"kind": "Pod", "name": format!("p{i}"), "namespace": "default"},
            "reason": "Pulled", "message": "pulled", "type": "Normal",
            "lastTimestamp": "2026-10-01T00:00:00Z", "count": 1
        });
        input.extend_from_slice(line.to_string().as_bytes());
        input.push(b'\n');
    }
    let out = kevdb(&["ingest", "--data", data, "-"], Some(&input));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("line 3"), "the broken record's position is reported: {err}");
    assert!(err.contains("4 accepted"), "{err}");
    let out = kevdb(&["query", "--data", data, "-o", "ndjson"], None);
    assert_eq!(text(&out.stdout).lines().count(), 4);
}

#[test]
fn bad_arguments_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let out = kevdb(&["query", "--data", data], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("not a kevdb database"), "{}", text(&out.stderr));
    let out = kevdb(&["ingest", "--data", data, "/nonexistent/file.json"], None);
    assert!(text(&out.stderr).contains("no such file"), "{}", text(&out.stderr));
    let file = real_file("derailed__k9s");
    assert!(kevdb(&["ingest", "--data", data, &file], None).status.success());
    let out = kevdb(&["query", "--data", data, "--since", "yesterday-ish"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("invalid time"), "{}", text(&out.stderr));
    let out = kevdb(&["query", "--data", data, "-n", "x", "-A"], None);
    assert_eq!(out.status.code(), Some(2), "clap rejects conflicting flags");
}

#[test]
fn time_window_and_history_flags_filter_as_documented() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let mk = |rv: u32, count: u32, last: &str| {
        serde_json::json!({
            "kind": "Event", "apiVersion": "v1",
            "metadata": {"name": "web.1", "namespace": "shop", "uid": "w1", "resourceVersion": rv.to_string()},
            "involvedObject": {"kind": "Pod", "name": "web", "namespace": "shop"},
            "reason": "BackOff", "message": "Back-off restarting failed container", "type": "Warning",
            "firstTimestamp": "2026-10-01T00:00:00Z", "lastTimestamp": last, "count": count
        })
        .to_string()
    };
    let input = format!("{}\n{}\n", mk(1, 1, "2026-10-01T00:00:00Z"), mk(2, 9, "2026-10-03T00:00:00Z"));
    assert!(kevdb(&["ingest", "--data", data, "-"], Some(input.as_bytes())).status.success());
    let count = |args: &[&str]| {
        let mut all = vec!["query", "--data", data, "-n", "shop", "-o", "ndjson"];
        all.extend_from_slice(args);
        text(&kevdb(&all, None).stdout).lines().count()
    };
    assert_eq!(count(&[]), 1);
    assert_eq!(count(&["--history"]), 2);
    assert_eq!(count(&["--since", "2026-10-02"]), 1, "the span overlaps the window");
    assert_eq!(count(&["--since", "2026-10-04"]), 0);
    assert_eq!(count(&["--until", "2026-09-30"]), 0);
    assert_eq!(count(&["--reason", "Pulled"]), 0);
    assert_eq!(count(&["--kind", "Pod", "--name", "web"]), 1);
}

#[test]
fn selectors_top_and_timeline_answer_from_the_archive() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let mut input = String::new();
    let reasons = ["BackOff", "BackOff", "BackOff", "Unhealthy", "Unhealthy", "FailedMount", "Pulled"];
    for (i, reason) in reasons.iter().enumerate() {
        let ty = if *reason == "Pulled" { "Normal" } else { "Warning" };
        let kind = if i == 4 { "Node" } else { "Pod" };
        input.push_str(
            &serde_json::json!({
                "kind": "Event", "apiVersion": "v1",
                "metadata": {"name": format!("e{i}"), "namespace": "shop", "uid": format!("u{i}"), "resourceVersion": "1",
                             "labels": if i == 0 { serde_json::json!({"app": "web"}) } else { serde_json::json!({}) }},
                "involvedObject": {"kind": kind, "name": format!("o{}", i % 2), "namespace": "shop"},
                "reason": reason, "message": format!("{reason} number {i}"), "type": ty,
                "firstTimestamp": format!("2026-10-01T0{i}:10:00Z"), "lastTimestamp": format!("2026-10-01T0{i}:20:00Z"), "count": 1
            })
            .to_string(),
        );
        input.push('\n');
    }
    assert!(kevdb(&["ingest", "--data", data, "-"], Some(input.as_bytes())).status.success());
    let lines = |args: &[&str]| {
        let mut all = vec!["query", "--data", data, "-n", "shop", "-o", "ndjson"];
        all.extend_from_slice(args);
        let out = kevdb(&all, None);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout).lines().count()
    };
    assert_eq!(lines(&["--field-selector", "type=Warning"]), 6);
    assert_eq!(lines(&["--field-selector", "type=Warning,involvedObject.kind=Pod"]), 5);
    assert_eq!(lines(&["--field-selector", "reason!=BackOff,source="]), 4);
    assert_eq!(lines(&["-l", "app=web"]), 1);
    assert_eq!(lines(&["-l", "!app"]), 6);
    assert_eq!(lines(&["--grep", "backoff"]), 3);
    assert_eq!(lines(&["--grep", "number -BackOff -Unhealthy"]), 2);
    assert_eq!(lines(&["--grep", "\"failedmount number\""]), 1);
    assert_eq!(lines(&["--grep", "\"number failedmount\""]), 0);
    let out = kevdb(&["query", "--data", data, "-A", "--grep", "\"unclosed"], None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));

    let out = kevdb(&["query", "--data", data, "-A", "--field-selector", "regarding.kind=Pod"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("field label not supported: regarding.kind"), "{}", text(&out.stderr));

    let out = kevdb(&["top", "--data", data, "-n", "shop", "--type", "Warning", "--by", "reason", "--json"], None);
    let top: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        top,
        serde_json::json!([
            {"reason": "BackOff", "count": 3}, {"reason": "Unhealthy", "count": 2}, {"reason": "FailedMount", "count": 1}
        ])
    );
    let out = kevdb(&["top", "--data", data, "-A", "--by", "reason,kind", "--top", "1"], None);
    let table = text(&out.stdout);
    assert!(table.lines().nth(1).unwrap().starts_with("3 "), "{table}");
    assert!(kevdb(&["top", "--data", data, "--by", "colour"], None).status.code() == Some(1));

    let out = kevdb(
        &[
            "timeline",
            "--data",
            data,
            "-n",
            "shop",
            "--every",
            "2h",
            "--json",
            "--since",
            "2026-10-01",
            "--until",
            "2026-10-01T08:00:00Z",
        ],
        None,
    );
    let buckets: Value = serde_json::from_slice(&out.stdout).unwrap();
    let counts: Vec<u64> = buckets.as_array().unwrap().iter().map(|b| b["count"].as_u64().unwrap()).collect();
    assert_eq!(counts, vec![2, 2, 2, 1]);
}
