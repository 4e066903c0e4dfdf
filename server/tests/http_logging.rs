//! The server's log against the real `kevdb serve` binary: one request-log
//! line per request (method, path, status, duration, principal) in JSON and
//! in text, no token anywhere in the log whatever the auth scheme, the
//! query string left out; the engine's recovery, seal, retention and
//! compaction lines.

mod support;

use base64::Engine as _;
use serde_json::Value;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::client::{free_port, try_request, Resp};

const READ_TOKEN: &str = "tok-read-5e1f0c9a77d2";
const WRITE_TOKEN: &str = "tok-write-93b7aa04c1e8";
const ADMIN_TOKEN: &str = "tok-admin-2d6c8f1b0e35";
const WRONG_TOKEN: &str = "tok-wrong-c4e2917fd0a6";
/// A value that travels only in a query string.
const QUERY_SECRET: &str = "qsecret-81f4d2";

/// A `kevdb serve` whose standard error goes to a file; killed on drop.
struct Logged {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Logged {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Logged {
    fn start(extra: &[&str]) -> Logged {
        let dir = tempfile::tempdir().expect("tempdir");
        let tokens = dir.path().join("tokens.csv");
        std::fs::write(
            &tokens,
            format!("{READ_TOKEN},reader,u1\n{WRITE_TOKEN},writer,u2,kevdb:write\n{ADMIN_TOKEN},root,u3,kevdb:admin\n"),
        )
        .expect("write tokens");
        let log = dir.path().join("serve.log");
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
        let child = Command::new(env!("CARGO_BIN_EXE_kevdb"))
            .args(["serve", "--data"])
            .arg(dir.path().join("db"))
            .args(["--listen", &addr.to_string()])
            .args(extra.iter().map(|a| a.replace("{tokens}", &tokens.to_string_lossy())))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("spawn kevdb serve");
        let server = Logged { child, addr, log, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        while try_request(addr, "GET", "/healthz", &[], b"").map(|r| r.status).ok() != Some(200) {
            assert!(Instant::now() < deadline, "kevdb serve did not become healthy: {}", server.text());
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn request(&self, method: &str, path: &str, authorization: Option<&str>, body: &[u8]) -> Resp {
        let mut headers = vec![("Content-Type", "application/json")];
        if let Some(a) = authorization {
            headers.push(("Authorization", a));
        }
        try_request(self.addr, method, path, &headers, body).expect("request")
    }

    fn text(&self) -> String {
        std::fs::read_to_string(&self.log).expect("read the server log")
    }

    /// Stops the server with SIGTERM (it seals what is in memory) and waits.
    fn terminate(&mut self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("kill");
        assert!(status.success());
        let exit = self.child.wait().expect("reap");
        assert!(exit.success(), "kevdb serve exited with {exit}: {}", self.text());
    }
}

/// Every line of a JSON log, parsed; fails on a line that is not JSON.
fn json_lines(log: &str) -> Vec<Value> {
    log.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("log line is not JSON ({e}): {l}")))
        .collect()
}

fn request_lines(log: &str) -> Vec<Value> {
    json_lines(log).into_iter().filter(|l| l["message"] == "request").collect()
}

fn b64(s: &str) -> [String; 3] {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    [STANDARD.encode(s), STANDARD_NO_PAD.encode(s), URL_SAFE_NO_PAD.encode(s)]
}

fn event(name: &str) -> Vec<u8> {
    serde_json::json!({
        "metadata": {"name": name, "namespace": "ns", "uid": format!("uid-{name}")},
        "involvedObject": {"kind": "Pod", "namespace": "ns", "name": "p"},
        "reason": "Started",
        "message": "Started container",
        "type": "Normal",
        "lastTimestamp": "2026-11-20T10:05:00Z"
    })
    .to_string()
    .into_bytes()
}

/// One request of the test and what its log line must say.
struct Case {
    method: &'static str,
    /// The path and query as sent.
    path: String,
    /// The path as logged.
    logged_path: String,
    auth: Option<String>,
    body: Vec<u8>,
    status: u16,
    principal: &'static str,
}

impl Case {
    fn new(method: &'static str, path: &str, auth: Option<String>, body: Vec<u8>) -> Case {
        Case { method, path: path.to_owned(), logged_path: path.to_owned(), auth, body, status: 0, principal: "" }
    }
    fn answers(self, status: u16, principal: &'static str) -> Case {
        Case { status, principal, ..self }
    }
    fn logged_as(self, path: &str) -> Case {
        Case { logged_path: path.to_owned(), ..self }
    }
}

#[test]
fn json_request_log_names_the_principal_and_never_a_token() {
    let mut srv = Logged::start(&["--token-auth-file", "{tokens}", "--log-format", "json"]);
    let before = request_lines(&srv.text()).len();
    let basic = format!("Basic {}", b64(&format!("elastic:{WRITE_TOKEN}"))[0]);
    let list = format!("/api/v1/namespaces/ns/events?fieldSelector=involvedObject.name%3D{QUERY_SECRET}&limit=5");
    let get = |path: &str, auth: Option<String>| Case::new("GET", path, auth, Vec::new());
    let post = |path: &str, auth: Option<String>, name: &str| Case::new("POST", path, auth, event(name));
    let events = "/api/v1/namespaces/ns/events";
    let cases = [
        post(events, Some(format!("Bearer {WRITE_TOKEN}")), "a").answers(201, "writer"),
        post("/kevdb/v1/ingest", Some(basic), "b").answers(200, "writer"),
        get(&list, Some(format!("ApiKey {ADMIN_TOKEN}"))).answers(200, "root").logged_as(events),
        get("/api/v1/namespaces/ns/events/a", Some(format!("Bearer {READ_TOKEN}"))).answers(200, "reader"),
        post(events, Some(format!("Bearer {READ_TOKEN}")), "c").answers(403, "reader"),
        get("/api/v1/events", Some(format!("Bearer {WRONG_TOKEN}"))).answers(401, "-"),
        get("/api/v1/events", None).answers(401, "-"),
        get("/no/such/route", Some(format!("ApiKey {READ_TOKEN}"))).answers(404, "reader"),
        get("/healthz", None).answers(200, "-"),
    ];
    for c in &cases {
        let r = srv.request(c.method, &c.path, c.auth.as_deref(), &c.body);
        assert_eq!(r.status, c.status, "{} {}: {}", c.method, c.path, r.text());
    }
    srv.terminate();
    let log = srv.text();

    let lines = request_lines(&log);
    let ours = &lines[before..];
    assert_eq!(ours.len(), cases.len(), "one request line per request:\n{log}");
    for (line, c) in ours.iter().zip(&cases) {
        assert_eq!(line["level"], "INFO", "{line}");
        assert_eq!(line["method"], c.method, "{line}");
        assert_eq!(line["path"], c.logged_path, "{line}");
        assert_eq!(line["status"], c.status, "{line}");
        assert_eq!(line["principal"], c.principal, "{line}");
        let ms = line["duration_ms"].as_f64().unwrap_or_else(|| panic!("no duration_ms: {line}"));
        assert!((0.0..30_000.0).contains(&ms), "{line}");
    }

    // No token, in any form, and nothing of the query string.
    let mut secrets = vec![QUERY_SECRET.to_owned(), "Authorization".to_owned(), "authorization".to_owned()];
    for t in [READ_TOKEN, WRITE_TOKEN, ADMIN_TOKEN, WRONG_TOKEN] {
        secrets.push(t.to_owned());
        secrets.extend(b64(t));
        secrets.extend(b64(&format!("elastic:{t}")));
    }
    for s in &secrets {
        assert!(!log.contains(s.as_str()), "the log holds {s:?}:\n{log}");
    }

    // The engine's background work: recovery at open, the seal at shutdown.
    let all = json_lines(&log);
    let recovered = all.iter().find(|l| l["message"] == "recovered the database").expect("a recovery line");
    assert_eq!(recovered["wal_rows_replayed"], 0, "{recovered}");
    assert!(recovered["ms"].is_u64(), "{recovered}");
    let sealed = all.iter().find(|l| l["message"] == "sealed a memtable").expect("a seal line at shutdown");
    assert_eq!(sealed["rows"], 2, "the two stored events: {sealed}");
    assert!(sealed["bytes"].as_u64().is_some_and(|b| b > 0), "{sealed}");
    assert!(sealed["ms"].is_u64(), "{sealed}");
}

#[test]
fn text_request_log_and_replay_at_the_next_open() {
    let mut srv = Logged::start(&[]);
    assert_eq!(srv.request("POST", "/api/v1/namespaces/ns/events", None, &event("a")).status, 201);
    assert_eq!(srv.request("GET", "/api/v1/namespaces/ns/events?limit=1", None, b"").status, 200);
    // Killed without a seal: the next open replays the WAL.
    srv.child.kill().expect("SIGKILL");
    srv.child.wait().expect("reap");
    let log = srv.text();
    let line = log
        .lines()
        .find(|l| l.contains("request") && l.contains("path=/api/v1/namespaces/ns/events") && l.contains("GET"))
        .unwrap_or_else(|| panic!("no text request line for the list:\n{log}"));
    assert!(line.contains(" INFO "), "{line}");
    assert!(line.contains("status=200"), "{line}");
    assert!(line.contains("principal=\"anonymous\""), "{line}");
    assert!(line.contains("duration_ms="), "{line}");
    assert!(!line.contains("limit=1"), "the query string is not logged: {line}");
    assert!(serde_json::from_str::<Value>(line).is_err(), "text, not JSON: {line}");

    // The same directory again, its log as JSON: one WAL row replayed.
    let data: &Path = &srv._dir.path().join("db");
    let log2 = srv._dir.path().join("again.log");
    let port = free_port();
    let mut again = Command::new(env!("CARGO_BIN_EXE_kevdb"))
        .args(["serve", "--log-format", "json", "--data"])
        .arg(data)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log2).expect("log file"))
        .spawn()
        .expect("spawn kevdb serve");
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let deadline = Instant::now() + Duration::from_secs(30);
    while try_request(addr, "GET", "/healthz", &[], b"").map(|r| r.status).ok() != Some(200) {
        assert!(Instant::now() < deadline, "kevdb serve did not restart");
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = again.kill();
    let _ = again.wait();
    let text = std::fs::read_to_string(&log2).expect("read log");
    let recovered = json_lines(&text)
        .into_iter()
        .find(|l| l["message"] == "recovered the database")
        .unwrap_or_else(|| panic!("no recovery line:\n{text}"));
    assert_eq!(recovered["wal_rows_replayed"], 1, "{recovered}");
}

#[test]
fn log_flags_are_documented_and_checked() {
    let help = Command::new(env!("CARGO_BIN_EXE_kevdb")).args(["serve", "--help"]).output().expect("run kevdb");
    let help = String::from_utf8_lossy(&help.stdout);
    for flag in ["--log-format", "--log-level", "KEVDB_LOG", "json"] {
        assert!(help.contains(flag), "`kevdb serve --help` does not mention {flag}:\n{help}");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_kevdb"))
        .args(["serve", "--log-level", "kevdb=loudest", "--data"])
        .arg(dir.path())
        .output()
        .expect("run kevdb");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--log-level"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// `kevdb ingest` at `--log-level info` logs its seals; `kevdb serve` logs
/// the retention and compaction its background threads do.
#[test]
fn seals_retention_and_compaction_are_logged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("db");
    let now = chrono::Utc::now();
    let (old, recent) = (now - chrono::Duration::days(40), now - chrono::Duration::days(2));
    // Four ingests, each sealing one segment in the old day and one in the recent day.
    for run in 0..4 {
        let mut ndjson = String::new();
        for i in 0..5 {
            for (day, at) in [("old", old), ("recent", recent)] {
                let name = format!("{day}-{run}-{i}");
                let mut e: Value = serde_json::from_slice(&event(&name)).expect("event");
                e["lastTimestamp"] = Value::from(at.format("%Y-%m-%dT%H:%M:%SZ").to_string());
                ndjson.push_str(&format!("{e}\n"));
            }
        }
        let file = dir.path().join(format!("run{run}.ndjson"));
        std::fs::write(&file, ndjson).expect("write input");
        let out = Command::new(env!("CARGO_BIN_EXE_kevdb"))
            .args(["ingest", "--no-progress", "--log-level", "info", "--log-format", "json", "--data"])
            .arg(&data)
            .arg(&file)
            .output()
            .expect("run kevdb ingest");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        let sealed: Vec<Value> = stderr
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|l| l["message"] == "sealed a memtable")
            .collect();
        assert_eq!(sealed.len(), 1, "{stderr}");
        assert_eq!(sealed[0]["rows"], 10, "{stderr}");
        assert_eq!(sealed[0]["segments"], 2, "{stderr}");
        assert!(stderr.contains("10 accepted"), "the summary stays plain text: {stderr}");
    }

    let log = dir.path().join("serve.log");
    let port = free_port();
    let mut srv = Command::new(env!("CARGO_BIN_EXE_kevdb"))
        .args(["serve", "--retention", "30d", "--log-format", "json", "--data"])
        .arg(&data)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("spawn kevdb serve");
    let find = |message: &str, want: &dyn Fn(&Value) -> bool| {
        let text = std::fs::read_to_string(&log).expect("read log");
        json_lines(&text).into_iter().find(|l| l["message"] == message && want(l))
    };
    let recent_day = recent.format("%Y-%m-%d").to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    let (retention, compaction) = loop {
        let retention = find("retention dropped the oldest partitions", &|_| true);
        let compaction = find("compacted segments", &|l| l["partition"] == recent_day.as_str());
        if let (Some(r), Some(c)) = (&retention, &compaction) {
            break (r.clone(), c.clone());
        }
        assert!(Instant::now() < deadline, "no retention or compaction line: {retention:?} {compaction:?}");
        std::thread::sleep(Duration::from_millis(200));
    };
    let _ = srv.kill();
    let _ = srv.wait();
    assert_eq!(retention["partitions"], 1, "{retention}");
    assert_eq!(retention["rows"], 20, "{retention}");
    assert!(retention["bytes_freed"].as_u64().is_some_and(|b| b > 0), "{retention}");
    assert!(retention["segments"].as_u64().is_some_and(|s| (1..=4).contains(&s)), "{retention}");
    assert!(retention["ms"].is_u64(), "{retention}");
    assert_eq!(compaction["inputs"], 4, "{compaction}");
    assert_eq!(compaction["input_rows"], 20, "{compaction}");
    assert_eq!(compaction["rows"], 20, "{compaction}");
    assert!(compaction["bytes"].as_u64().is_some_and(|b| b > 0), "{compaction}");
    assert!(compaction["ms"].is_u64(), "{compaction}");
}
