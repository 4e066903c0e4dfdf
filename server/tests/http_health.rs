//! Health as an operator sees it: a fault injected on a background thread
//! of a real `kevdb serve` (through the engine's failpoints, compiled into
//! test builds only) poisons the database, and `/readyz`, `/metrics` and
//! every write say so with the cause, while reads keep working.

mod support;

use std::time::{Duration, Instant};
use support::{http, Server};

fn serve_with_failpoints(failpoints: &str, extra: &[&str]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("db");
    support::serve_with_env(dir, &data, extra, &[("KEVDB_FAILPOINTS", failpoints)])
}

fn event(uid: &str) -> String {
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
    format!(
        r#"{{"kind":"Event","apiVersion":"v1","metadata":{{"name":"{uid}","namespace":"ns","uid":"{uid}"}},
        "involvedObject":{{"kind":"Pod","name":"p","namespace":"ns"}},"reason":"Started","type":"Normal",
        "message":"started","lastTimestamp":"{now}"}}"#
    )
}

#[test]
fn a_panic_on_a_background_thread_is_reported_by_readyz_metrics_and_writes() {
    // Retention runs on the maintenance thread at every pass.
    let server = serve_with_failpoints("retention=panic", &["--retention", "3650d"]);
    let port = server.port;
    let create = |uid: &str| {
        http(port, "POST", "/api/v1/namespaces/ns/events", Some(event(uid).as_bytes())).expect("server answers")
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let body = loop {
        let (code, body) = http(port, "GET", "/readyz", None).expect("readyz answers");
        if code == 503 {
            break String::from_utf8_lossy(&body).into_owned();
        }
        assert_eq!(code, 200);
        assert!(Instant::now() < deadline, "the injected panic never showed on /readyz");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(body.contains("maintenance thread panicked") && body.contains("failpoint retention"), "{body}");

    let (_, metrics) = http(port, "GET", "/metrics", None).unwrap();
    let metrics = String::from_utf8_lossy(&metrics);
    assert!(metrics.lines().any(|l| l == "kevdb_poisoned 1"), "{metrics}");

    let (code, status) = create("after-poison");
    let status: serde_json::Value = serde_json::from_slice(&status).unwrap();
    assert_eq!(code, 503, "{status}");
    assert_eq!(status["kind"], "Status");
    assert_eq!(status["reason"], "ServiceUnavailable");
    assert!(status["message"].as_str().unwrap().contains("failpoint retention"), "{status}");

    // Reads still answer.
    let (code, _) = http(port, "GET", "/api/v1/events", None).unwrap();
    assert_eq!(code, 200);
}

#[test]
fn a_healthy_server_is_ready_and_not_poisoned() {
    let server = serve_with_failpoints("", &[]);
    let (code, body) = http(server.port, "GET", "/readyz", None).unwrap();
    assert_eq!((code, body.as_slice()), (200, b"ok".as_slice()));
    let (code, _) = http(server.port, "POST", "/api/v1/namespaces/ns/events", Some(event("u1").as_bytes())).unwrap();
    assert_eq!(code, 201);
    let (_, metrics) = http(server.port, "GET", "/metrics", None).unwrap();
    let metrics = String::from_utf8_lossy(&metrics);
    assert!(metrics.lines().any(|l| l == "kevdb_poisoned 0"), "{metrics}");
    assert!(metrics.lines().any(|l| l == "kevdb_damage_reports 0"), "{metrics}");
}
