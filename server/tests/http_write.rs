//! Writes over HTTP against the real `kevdb serve` binary on loopback:
//! create in both groups (and under `/clusters/{cluster}`), read back, bulk
//! ingest, bad input answered with the right `Status`, body size limit, and
//! `/metrics` moving after an ingest.

mod support;

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use support::client::*;

fn post_json(srv: &Server, path: &str, v: &Value) -> Resp {
    request(srv, "POST", path, &[("Content-Type", "application/json")], v.to_string().as_bytes())
}

fn get(srv: &Server, path: &str) -> Resp {
    request(srv, "GET", path, &[], b"")
}

fn core_event(name: &str, uid: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "uid": uid, "resourceVersion": "100"},
        "involvedObject": {"kind": "Pod", "namespace": "ns", "name": "web-1"},
        "reason": "BackOff",
        "message": "Back-off restarting failed container",
        "type": "Warning",
        "count": 3,
        "firstTimestamp": "2026-11-20T10:00:00Z",
        "lastTimestamp": "2026-11-20T10:05:00Z",
        "source": {"component": "kubelet", "host": "node-1"}
    })
}

#[test]
fn create_core_and_read_back_in_both_groups() {
    let srv = start(&[]);
    let r = post_json(&srv, "/api/v1/namespaces/ns/events", &core_event("web-1.abc", "uid-1"));
    assert_eq!(r.status, 201, "{}", r.text());
    let created = r.json();
    assert_eq!(created["kind"], "Event");
    assert_eq!(created["apiVersion"], "v1");
    assert_eq!(created["metadata"]["namespace"], "ns", "namespace set from the path");
    assert_eq!(created["metadata"]["annotations"]["kevdb.io/source-resource-version"], "100");
    let rv = created["metadata"]["resourceVersion"].as_str().expect("rv").to_owned();
    assert!(rv.parse::<u64>().is_ok_and(|n| n > 0));

    let got = get(&srv, "/api/v1/namespaces/ns/events/web-1.abc");
    assert_eq!(got.status, 200, "{}", got.text());
    let got = got.json();
    assert_eq!(got["reason"], "BackOff");
    assert_eq!(got["message"], "Back-off restarting failed container");
    assert_eq!(got["count"], 3);
    assert_eq!(got["metadata"]["resourceVersion"], rv.as_str());

    let other = get(&srv, "/apis/events.k8s.io/v1/namespaces/ns/events/web-1.abc");
    assert_eq!(other.status, 200, "{}", other.text());
    let other = other.json();
    assert_eq!(other["apiVersion"], "events.k8s.io/v1");
    assert_eq!(other["note"], "Back-off restarting failed container");
    assert_eq!(other["regarding"]["name"], "web-1");

    // Re-delivery of the same observation: 200 with the stored object, not a new row.
    let again = post_json(&srv, "/api/v1/namespaces/ns/events", &core_event("web-1.abc", "uid-1"));
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json()["metadata"]["resourceVersion"], rv.as_str());
    let list = get(&srv, "/api/v1/namespaces/ns/events").json();
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));

    // A newer observation (higher resourceVersion) is stored: 201, new rv.
    let mut newer = core_event("web-1.abc", "uid-1");
    newer["metadata"]["resourceVersion"] = json!("101");
    newer["count"] = json!(4);
    let r = post_json(&srv, "/api/v1/namespaces/ns/events", &newer);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["count"], 4);
    assert_ne!(r.json()["metadata"]["resourceVersion"], rv.as_str());
}

#[test]
fn create_events_group_and_cluster_prefix() {
    let srv = start(&[]);
    let ev = json!({
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": "job-1.x", "namespace": "batch"},
        "eventTime": "2026-11-20T11:00:00.000000Z",
        "reportingController": "job-controller",
        "reportingInstance": "kcm-1",
        "action": "Create",
        "reason": "SuccessfulCreate",
        "regarding": {"kind": "Job", "namespace": "batch", "name": "job-1"},
        "note": "Created pod: job-1-xyz",
        "type": "Normal"
    });
    let r = post_json(&srv, "/clusters/prod/apis/events.k8s.io/v1/namespaces/batch/events", &ev);
    assert_eq!(r.status, 201, "{}", r.text());
    let created = r.json();
    assert_eq!(created["apiVersion"], "events.k8s.io/v1");
    assert_eq!(created["note"], "Created pod: job-1-xyz");
    assert_eq!(created["metadata"]["annotations"]["kevdb.io/cluster"], "prod");

    let got = get(&srv, "/clusters/prod/api/v1/namespaces/batch/events/job-1.x");
    assert_eq!(got.status, 200, "{}", got.text());
    let got = got.json();
    assert_eq!(got["message"], "Created pod: job-1-xyz");
    assert_eq!(got["involvedObject"]["name"], "job-1");
    let got = get(&srv, "/clusters/prod/apis/events.k8s.io/v1/namespaces/batch/events/job-1.x").json();
    assert_eq!(got["reason"], "SuccessfulCreate");
    // Not in another cluster.
    assert_eq!(get(&srv, "/clusters/dev/api/v1/namespaces/batch/events/job-1.x").status, 404);
}

#[test]
fn create_errors_are_kubernetes_statuses() {
    let srv = start(&[]);
    let path = "/api/v1/namespaces/ns/events";
    let mut ev = core_event("a", "uid-a");
    ev["metadata"]["namespace"] = json!("other");
    let v = assert_status(&post_json(&srv, path, &ev), 400, "BadRequest");
    assert_eq!(v["message"], "the namespace of the provided object does not match the namespace sent on the request");

    let mut ev = core_event("a", "uid-a");
    ev["metadata"].as_object_mut().expect("meta").remove("name");
    assert_status(&post_json(&srv, path, &ev), 422, "Invalid");

    let r = request(&srv, "POST", path, &[("Content-Type", "application/json")], b"{\"metadata\": {\"name\": ");
    assert_status(&r, 400, "BadRequest");
    let mut ev = core_event("a", "uid-a");
    ev["count"] = json!("three");
    assert_status(&post_json(&srv, path, &ev), 400, "BadRequest");
    let mut ev = core_event("a", "uid-a");
    ev["metadata"] = json!(["not", "an", "object"]);
    assert_status(&post_json(&srv, path, &ev), 400, "BadRequest");
    let r = request(&srv, "POST", path, &[("Content-Type", "application/json")], b"[1,2,3]");
    assert_status(&r, 400, "BadRequest");
    let mut ev = core_event("a", "uid-a");
    ev["apiVersion"] = json!("events.k8s.io/v1");
    assert_status(&post_json(&srv, path, &ev), 400, "BadRequest");

    let r =
        request(&srv, "POST", path, &[("Content-Type", "text/plain")], core_event("a", "uid-a").to_string().as_bytes());
    assert_status(&r, 415, "UnsupportedMediaType");
    let r = request(&srv, "POST", path, &[], core_event("a", "uid-a").to_string().as_bytes());
    assert_status(&r, 415, "UnsupportedMediaType");
    let r = request(&srv, "POST", path, &[("Content-Type", "application/json")], &[0xff, 0xfe, 0x00, 0x01]);
    assert_status(&r, 400, "BadRequest");

    // A server-side dry run answers the object and stores nothing.
    let r = post_json(
        &srv,
        "/api/v1/namespaces/ns/events?dryRun=All&fieldManager=kubectl-create",
        &core_event("dry", "uid-dry"),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["metadata"]["name"], "dry");
    assert_eq!(get(&srv, "/api/v1/namespaces/ns/events/dry").status, 404);
    assert_status(
        &post_json(&srv, "/api/v1/namespaces/ns/events?dryRun=Some", &core_event("dry", "uid-dry")),
        400,
        "BadRequest",
    );

    // Nothing was stored, and the server still serves.
    let list = get(&srv, "/api/v1/events");
    assert_eq!(list.status, 200);
    assert_eq!(list.json()["items"].as_array().map(Vec::len), Some(0));
    assert_eq!(post_json(&srv, path, &core_event("a", "uid-a")).status, 201);
}

#[test]
fn oversized_bodies_get_413_status() {
    let srv = start(&[]);
    let big = vec![b' '; (16 << 20) + 1024];
    let r = request(&srv, "POST", "/api/v1/namespaces/ns/events", &[("Content-Type", "application/json")], &big);
    assert_status(&r, 413, "RequestEntityTooLarge");
    let r = request(&srv, "POST", "/kevdb/v1/ingest", &[], &big);
    assert_status(&r, 413, "RequestEntityTooLarge");
    assert_eq!(get(&srv, "/healthz").status, 200);
    assert_eq!(post_json(&srv, "/api/v1/namespaces/ns/events", &core_event("a", "uid-a")).status, 201);
}

const VELERO: &str =
    "/work/shared/data/events/replicatedhq__sbctl/tests__support-bundle__cluster-resources__events__velero.json";

#[test]
fn bulk_ingest_of_a_real_file_and_metrics_move() {
    let srv = start(&[]);
    let before = get(&srv, "/metrics");
    assert_eq!(before.status, 200);
    assert!(before.text().contains("kevdb_ingest_accepted_total 0"), "{}", before.text());

    let data = std::fs::read(VELERO).expect("read the velero events file");
    let expected =
        serde_json::from_slice::<Value>(&data).expect("json")["items"].as_array().map(Vec::len).expect("items");
    let r = request(&srv, "POST", "/kevdb/v1/ingest", &[("Content-Type", "application/json")], &data);
    assert_eq!(r.status, 200, "{}", r.text());
    let rep = r.json();
    assert_eq!(rep["rejected"], 0, "{rep}");
    assert_eq!(rep["errors"], json!([]));
    let accepted = rep["accepted"].as_u64().expect("accepted");
    assert!(accepted > 0 && accepted as usize <= expected, "{rep}");
    assert_eq!(rep["accepted"].as_u64().unwrap_or(0) + rep["duplicates"].as_u64().unwrap_or(0), expected as u64);

    let list = get(&srv, "/api/v1/namespaces/velero/events?limit=1000").json();
    assert_eq!(list["items"].as_array().map(Vec::len), Some(accepted as usize));

    // The same file again: all duplicates.
    let again = request(&srv, "POST", "/kevdb/v1/ingest", &[], &data).json();
    assert_eq!(again["accepted"], 0);
    assert_eq!(again["duplicates"], expected);

    let m = get(&srv, "/metrics").text();
    assert!(m.contains(&format!("kevdb_ingest_accepted_total {accepted}\n")), "{m}");
    assert!(m.contains(&format!("kevdb_ingest_duplicates_total {expected}\n")), "{m}");
    assert!(m.contains(&format!("kevdb_observations {accepted}\n")), "{m}");
    assert!(m.contains("kevdb_http_requests_total{kind=\"write\"} 2\n"), "{m}");
    assert!(m.contains("kevdb_http_requests_total{kind=\"list\"} 1\n"), "{m}");
    assert!(m.contains("kevdb_http_request_duration_seconds_count{kind=\"write\"} 2\n"), "{m}");
    assert!(m.contains("kevdb_wal_bytes "), "{m}");
    assert!(m.contains("kevdb_watchers 0\n"), "{m}");
}

#[test]
fn bulk_ingest_lists_broken_lines_and_keeps_the_rest() {
    let srv = start(&[]);
    let good = |name: &str| {
        let mut e = core_event(name, &format!("uid-{name}"));
        e["metadata"]["namespace"] = json!("nd");
        e.to_string()
    };
    let body = format!("{}\n{{\"kind\": \"Event\", broken\n{}\n{}\n", good("a"), good("b"), good("c"));
    let r = request(
        &srv,
        "POST",
        "/clusters/east/kevdb/v1/ingest",
        &[("Content-Type", "application/x-ndjson")],
        body.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let rep = r.json();
    assert_eq!(rep["accepted"], 3, "{rep}");
    assert_eq!(rep["rejected"], 1, "{rep}");
    let errors = rep["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["record"], 1);
    assert_eq!(errors[0]["line"], 2);
    assert!(errors[0]["message"].as_str().is_some_and(|m| !m.is_empty()));
    let list = get(&srv, "/clusters/east/api/v1/namespaces/nd/events").json();
    assert_eq!(list["items"].as_array().map(Vec::len), Some(3));
    assert_eq!(get(&srv, "/clusters/west/api/v1/namespaces/nd/events").json()["items"], json!([]));

    // An engine rejection (no usable time) is listed too, with its record.
    let body = format!(
        "{}\n{}\n",
        good("d"),
        json!({"kind": "Event", "apiVersion": "v1", "metadata": {"name": "old", "namespace": "nd"}, "lastTimestamp": "1800-01-01T00:00:00Z"})
    );
    let rep = request(&srv, "POST", "/kevdb/v1/ingest", &[], body.as_bytes()).json();
    assert_eq!(rep["accepted"], 1, "{rep}");
    assert_eq!(rep["rejected"], 1, "{rep}");
    assert_eq!(rep["errors"][0]["record"], 1, "{rep}");
}

#[test]
fn other_methods_get_405_status() {
    let srv = start(&[]);
    for (m, p) in [
        ("PUT", "/api/v1/namespaces/ns/events"),
        ("DELETE", "/api/v1/namespaces/ns/events/x"),
        ("PATCH", "/clusters/c/apis/events.k8s.io/v1/namespaces/ns/events/x"),
        ("GET", "/kevdb/v1/ingest"),
    ] {
        let r = request(&srv, m, p, &[("Content-Type", "application/json")], b"{}");
        assert_status(&r, 405, "MethodNotAllowed");
    }
    assert_eq!(get(&srv, "/api/v1/events").status, 200);
}

#[test]
fn metrics_count_open_watches() {
    let srv = start(&[]);
    let watchers = |srv: &Server| -> String {
        get(srv, "/metrics").text().lines().find(|l| l.starts_with("kevdb_watchers ")).unwrap_or_default().to_owned()
    };
    assert_eq!(watchers(&srv), "kevdb_watchers 0");
    let mut w = TcpStream::connect(srv.addr).expect("connect");
    w.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    w.write_all(b"GET /api/v1/events?watch=true&resourceVersion=0 HTTP/1.1\r\nHost: x\r\n\r\n").expect("write");
    let mut buf = [0u8; 512];
    let n = w.read(&mut buf).expect("watch response head");
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"), "{}", String::from_utf8_lossy(&buf[..n]));
    assert_eq!(watchers(&srv), "kevdb_watchers 1");
    drop(w);
    // The server notices the closed watch at its next write: make one.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut i = 0;
    while watchers(&srv) != "kevdb_watchers 0" {
        assert!(Instant::now() < deadline, "the watch gauge did not drop");
        i += 1;
        assert_eq!(
            post_json(&srv, "/api/v1/namespaces/ns/events", &core_event(&format!("w{i}"), &format!("uid-w{i}"))).status,
            201
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let m = get(&srv, "/metrics").text();
    assert!(m.contains("kevdb_http_requests_total{kind=\"watch\"} 1\n"), "{m}");
}

#[test]
fn oversized_chunked_bodies_get_413_status() {
    let srv = start(&[]);
    for path in ["/api/v1/namespaces/ns/events", "/clusters/c/kevdb/v1/ingest"] {
        let mut s = TcpStream::connect(srv.addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(60))).expect("timeout");
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        );
        s.write_all(head.as_bytes()).expect("head");
        // 17 chunks of 1 MiB: no Content-Length to refuse up front, so the
        // limit must stop the stream.
        let chunk = vec![b' '; 1 << 20];
        for _ in 0..17 {
            if s.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).is_err()
                || s.write_all(&chunk).is_err()
                || s.write_all(b"\r\n").is_err()
            {
                break;
            }
        }
        let _ = s.write_all(b"0\r\n\r\n");
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw);
        let text = String::from_utf8_lossy(&raw);
        assert!(text.starts_with("HTTP/1.1 413"), "{path}: {}", &text[..text.len().min(300)]);
        assert!(text.contains("\"reason\":\"RequestEntityTooLarge\""), "{path}: {text}");
    }
    assert_eq!(get(&srv, "/healthz").status, 200);
}
