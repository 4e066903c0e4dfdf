//! The collector end to end: a real `kevdb serve` plays the cluster's API
//! server (it speaks list and watch), `kevdb collect` archives its events
//! into a second `kevdb serve`, and both sides are killed and restarted
//! midway. The archive must end with exactly the source's events (the
//! latest observation of each, as the source lists them) and hold no
//! observation twice.

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::client::{free_port, try_request};

/// A `kevdb` child process, killed on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Proc {
    /// SIGTERM (a server seals what is in memory), then wait.
    fn terminate(&mut self) {
        let status = Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status().expect("kill");
        assert!(status.success());
        self.0.wait().expect("reap");
    }

    fn kill9(&mut self) {
        self.0.kill().expect("SIGKILL");
        self.0.wait().expect("reap");
    }
}

fn kevdb(args: &[&str]) -> Proc {
    Proc(
        Command::new(env!("CARGO_BIN_EXE_kevdb"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn kevdb"),
    )
}

fn serve(data: &Path, port: u16, extra: &[&str]) -> Proc {
    let listen = format!("127.0.0.1:{port}");
    let mut args = vec!["serve", "--data", data.to_str().expect("utf-8 path"), "--listen", &listen];
    args.extend_from_slice(extra);
    let p = kevdb(&args);
    let addr = listen.parse().expect("addr");
    let deadline = Instant::now() + Duration::from_secs(60);
    while try_request(addr, "GET", "/healthz", &[], b"").map(|r| r.status).ok() != Some(200) {
        assert!(Instant::now() < deadline, "kevdb serve on {listen} did not become healthy");
        std::thread::sleep(Duration::from_millis(50));
    }
    p
}

fn get(port: u16, path: &str) -> Value {
    let r = try_request(format!("127.0.0.1:{port}").parse().expect("addr"), "GET", path, &[], b"").expect("GET");
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    r.json()
}

fn ingest(port: u16, ndjson: &str) {
    let addr = format!("127.0.0.1:{port}").parse().expect("addr");
    let r = try_request(addr, "POST", "/kevdb/v1/ingest", &[], ndjson.as_bytes()).expect("ingest");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["rejected"], 0, "{}", r.text());
}

/// uid → (count, message, lastTimestamp) of the latest observation of
/// each event a server lists at `path`.
fn latest(port: u16, path: &str) -> BTreeMap<String, (i64, String, String)> {
    let list = get(port, path);
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| {
            let s = |v: &Value| v.as_str().unwrap_or("").to_owned();
            (s(&e["metadata"]["uid"]), (e["count"].as_i64().unwrap_or(0), s(&e["message"]), s(&e["lastTimestamp"])))
        })
        .collect()
}

/// Waits until the archive lists exactly what the source lists.
fn wait_in_sync(source: u16, archive: u16, what: &str) -> BTreeMap<String, (i64, String, String)> {
    let want = latest(source, "/api/v1/events");
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let have = latest(archive, "/clusters/prod/api/v1/events");
        if have == want {
            return have;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: the archive has {} events, the source {}; first difference: {:?}",
            have.len(),
            want.len(),
            want.iter().find(|(k, v)| have.get(*k) != Some(v))
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn kubeconfig(dir: &Path, port: u16) -> PathBuf {
    let path = dir.join("kubeconfig");
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: src\n  cluster:\n    server: http://127.0.0.1:{port}\n\
         users:\n- name: u\n  user: {{}}\ncontexts:\n- name: src\n  context:\n    cluster: src\n    user: u\n\
         current-context: src\n"
    );
    std::fs::write(&path, text).expect("write kubeconfig");
    path
}

#[test]
fn collector_survives_restarts_of_both_sides_without_loss_or_duplicates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (source_dir, archive_dir) = (dir.path().join("source"), dir.path().join("archive"));
    let (source_port, archive_port) = (free_port(), free_port());
    let lines: Vec<String> = support::archive_ndjson(2500).lines().map(str::to_owned).collect();
    let batches: Vec<String> = lines.chunks(500).map(|c| c.join("\n") + "\n").collect();
    assert_eq!(batches.len(), 5);

    let mut source = serve(&source_dir, source_port, &[]);
    ingest(source_port, &batches[0]);
    let mut archive = serve(&archive_dir, archive_port, &[]);
    let kc = kubeconfig(dir.path(), source_port);
    let archive_url = format!("http://127.0.0.1:{archive_port}");
    let collect_args =
        ["collect", "--kubeconfig", kc.to_str().expect("path"), "--server", &archive_url, "--cluster", "prod"];
    let mut collector = kevdb(&collect_args);
    wait_in_sync(source_port, archive_port, "after the first list");

    ingest(source_port, &batches[1]);
    wait_in_sync(source_port, archive_port, "while watching");

    // The collector dies; the source moves on; a new collector resumes.
    collector.kill9();
    ingest(source_port, &batches[2]);
    let checkpoint = get(archive_port, "/kevdb/v1/checkpoints/collect.prod.v1");
    assert!(checkpoint["value"].as_str().is_some_and(|v| v.parse::<u64>().is_ok()), "{checkpoint}");
    collector = kevdb(&collect_args);
    wait_in_sync(source_port, archive_port, "after the collector restarted");

    // The source (the "API server") restarts.
    source.kill9();
    source = serve(&source_dir, source_port, &[]);
    ingest(source_port, &batches[3]);
    wait_in_sync(source_port, archive_port, "after the source restarted");

    // The archive restarts.
    archive.kill9();
    ingest(source_port, &batches[4]);
    archive = serve(&archive_dir, archive_port, &[]);
    let last = wait_in_sync(source_port, archive_port, "after the archive restarted");

    // Exactly the source's events, and every observation stored once.
    let source_events = latest(source_port, "/api/v1/events");
    assert_eq!(last, source_events);
    let history = get(archive_port, "/clusters/prod/api/v1/events?history=true");
    let mut seen = std::collections::HashSet::new();
    for e in history["items"].as_array().expect("items") {
        // The source's resourceVersion (its seq) names one observation.
        let source_rv = &e["metadata"]["annotations"]["kevdb.io/source-resource-version"];
        let key = (e["metadata"]["uid"].as_str().unwrap_or("").to_owned(), source_rv.as_str().unwrap_or("").to_owned());
        assert!(!key.1.is_empty(), "{e}");
        assert!(seen.insert(key.clone()), "observation {key:?} stored twice");
    }
    assert!(seen.len() >= source_events.len());
    drop((collector, source, archive));
}

#[test]
fn serve_collect_archives_and_serves_in_one_process() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source_port = free_port();
    let _source = serve(&dir.path().join("source"), source_port, &[]);
    let lines: Vec<String> = support::archive_ndjson(300).lines().map(str::to_owned).collect();
    ingest(source_port, &(lines[..150].join("\n") + "\n"));
    let kc = kubeconfig(dir.path(), source_port);
    let archive_port = free_port();
    let _archive = serve(
        &dir.path().join("archive"),
        archive_port,
        &["--cluster", "prod", "--collect", "--kubeconfig", kc.to_str().expect("path"), "--api", "both"],
    );
    wait_in_sync(source_port, archive_port, "after the first list");
    ingest(source_port, &(lines[150..].join("\n") + "\n"));
    wait_in_sync(source_port, archive_port, "while watching");
    // Both groups were followed, each with its own checkpoint.
    for group in ["v1", "events.k8s.io"] {
        let c = get(archive_port, &format!("/kevdb/v1/checkpoints/collect.prod.{group}"));
        assert!(c["value"].as_str().is_some_and(|v| v.parse::<u64>().is_ok()), "{group}: {c}");
    }
}

/// A collector whose checkpoint is older than what the cluster keeps gets
/// 410 Gone, lists again and goes on watching: everything the source still
/// has ends up in the archive.
#[test]
fn a_checkpoint_older_than_the_source_keeps_means_a_relist() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (source_dir, archive_dir) = (dir.path().join("source"), dir.path().join("archive"));
    let (source_port, archive_port) = (free_port(), free_port());
    // Observations 14 to 28 days old.
    let mut source = serve(&source_dir, source_port, &[]);
    ingest(source_port, &support::archive_ndjson(1000));
    let _archive = serve(&archive_dir, archive_port, &[]);
    let kc = kubeconfig(dir.path(), source_port);
    let archive_url = format!("http://127.0.0.1:{archive_port}");
    let log = dir.path().join("collect.log");
    let collect = || {
        Proc(
            Command::new(env!("CARGO_BIN_EXE_kevdb"))
                .args(["collect", "--kubeconfig", kc.to_str().expect("path"), "--server", &archive_url])
                .args(["--cluster", "prod"])
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).expect("log file"))
                .spawn()
                .expect("spawn kevdb collect"),
        )
    };
    let mut collector = collect();
    wait_in_sync(source_port, archive_port, "after the first list");
    collector.kill9();

    // The collector was away for long: its checkpoint points before what
    // the source still keeps once retention (21 days) has dropped the oldest days.
    let addr = format!("127.0.0.1:{archive_port}").parse().expect("addr");
    let r = try_request(addr, "PUT", "/kevdb/v1/checkpoints/collect.prod.v1", &[], br#"{"value":"1"}"#).expect("PUT");
    assert_eq!(r.status, 200, "{}", r.text());
    // Stopped cleanly, the source seals its days into partitions, which
    // retention then drops whole.
    source.terminate();
    source = serve(&source_dir, source_port, &["--retention", "21d"]);
    let source_addr = format!("127.0.0.1:{source_port}").parse().expect("addr");
    let deadline = Instant::now() + Duration::from_secs(30);
    let probe = "/api/v1/events?watch=1&resourceVersion=1&timeoutSeconds=1";
    while try_request(source_addr, "GET", probe, &[], b"").expect("probe").status != 410 {
        assert!(Instant::now() < deadline, "retention did not drop the oldest days");
        std::thread::sleep(Duration::from_millis(200));
    }
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let fresh: String = (0..3)
        .map(|i| {
            serde_json::json!({"metadata": {"name": format!("fresh.{i}"), "namespace": "ns", "uid": format!("fresh-{i}"), "resourceVersion": "1"},
                "involvedObject": {"kind": "Pod", "name": "p", "namespace": "ns"}, "reason": "Started", "message": "fresh",
                "type": "Normal", "count": 1, "firstTimestamp": now, "lastTimestamp": now})
            .to_string() + "\n"
        })
        .collect();
    ingest(source_port, &fresh);
    let _collector = collect();
    let want = latest(source_port, "/api/v1/events");
    assert!(want.contains_key("fresh-0") && want.len() > 3, "{} events kept", want.len());
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let have = latest(archive_port, "/clusters/prod/api/v1/events");
        if want.iter().all(|(uid, v)| have.get(uid) == Some(v)) {
            break;
        }
        assert!(Instant::now() < deadline, "the archive did not catch up after the relist");
        std::thread::sleep(Duration::from_millis(200));
    }
    let text = std::fs::read_to_string(&log).expect("collector log");
    assert!(text.contains("410 Gone"), "the collector should have relisted: {text}");
    drop(source);
}
