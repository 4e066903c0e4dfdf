//! Server lifecycle: SIGTERM drains, seals what is in memory and exits 0;
//! the archive then opens clean with everything acknowledged.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};
use support::{archive_ndjson, http, start};

#[test]
fn sigterm_flushes_and_exits_cleanly() {
    let mut server = start(&archive_ndjson(100), &[]);
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
    let ev = format!(
        r#"{{"kind":"Event","apiVersion":"v1","metadata":{{"name":"late.1","namespace":"default","uid":"late-1"}},"involvedObject":{{"kind":"Pod","name":"late","namespace":"default"}},"reason":"Late","message":"acknowledged before shutdown","type":"Normal","lastTimestamp":"{now}"}}"#
    );
    let (code, body) = http(server.port, "POST", "/api/v1/namespaces/default/events", Some(ev.as_bytes())).unwrap();
    assert_eq!(code, 201, "{}", String::from_utf8_lossy(&body));
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = server.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "the server did not exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status:?}");
    let data = server.dir.path().join("db");
    let out = Command::new(env!("CARGO_BIN_EXE_kevdb"))
        .args(["query", "--data"])
        .arg(&data)
        .args(["-n", "default", "--reason", "Late", "-o", "ndjson"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    // Everything was sealed: the WAL holds no rows (only empty files' headers).
    let wal_bytes: u64 =
        std::fs::read_dir(data.join("wal")).unwrap().flatten().map(|f| f.metadata().unwrap().len()).sum();
    assert!(wal_bytes <= 16 * 2, "WAL still holds {wal_bytes} bytes after a clean shutdown");
}
