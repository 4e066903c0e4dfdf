//! The read API's answers to bad and edge-case requests: Kubernetes Status
//! objects with the API server's codes, and the server keeps serving.

mod support;

use serde_json::Value;
use support::{archive_ndjson, http, start};

fn get(port: u16, path: &str) -> (u16, Value) {
    let (code, body) = http(port, "GET", path, None).expect("response");
    (code, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn status(v: &Value) -> (&str, &str) {
    assert_eq!(v["kind"], "Status", "{v}");
    (v["reason"].as_str().unwrap_or(""), v["message"].as_str().unwrap_or(""))
}

#[test]
fn bad_requests_get_status_objects_and_the_server_keeps_serving() {
    let server = start(&archive_ndjson(200), &[]);
    let p = server.port;
    let cases: &[(&str, u16, &str, &str)] = &[
        ("/api/v1/events?fieldSelector=foo%3Dbar", 400, "BadRequest", "field label not supported: foo"),
        (
            "/apis/events.k8s.io/v1/events?fieldSelector=involvedObject.kind%3DPod",
            400,
            "BadRequest",
            "field label not supported: involvedObject.kind",
        ),
        ("/api/v1/events?labelSelector=%21%21x", 400, "BadRequest", "unable to parse requirement"),
        ("/api/v1/events?limit=ten", 400, "BadRequest", "limit"),
        ("/api/v1/events?limit=5&continue=garbage", 400, "BadRequest", "invalid continue token"),
        ("/api/v1/events?q=%22unclosed", 400, "BadRequest", "text query"),
        ("/api/v1/events?since=last-tuesday", 400, "BadRequest", "since"),
        ("/api/v1/events?resourceVersion=abc&watch=true", 400, "BadRequest", "resourceVersion"),
        ("/api/v1/namespaces/default/events/no-such-event", 404, "NotFound", "events \"no-such-event\" not found"),
        ("/api/v1/pods", 404, "NotFound", "could not find the requested resource"),
    ];
    for (path, code, reason, message) in cases {
        let (got, body) = get(p, path);
        assert_eq!(got, *code, "{path}: {body}");
        let (r, m) = status(&body);
        assert_eq!(r, *reason, "{path}");
        assert!(m.contains(message), "{path}: {m}");
    }
    let (code, list) = get(p, "/api/v1/events?limit=3");
    assert_eq!(code, 200);
    assert_eq!(list["items"].as_array().unwrap().len(), 3);
}

#[test]
fn list_get_and_watch_agree_across_groups_and_cluster_prefixes() {
    let server = start(&archive_ndjson(200), &[]);
    let p = server.port;
    let (_, core) = get(p, "/api/v1/events");
    let (_, events) = get(p, "/apis/events.k8s.io/v1/events");
    let (_, prefixed) = get(p, "/clusters/default/api/v1/events");
    let (_, other) = get(p, "/clusters/elsewhere/api/v1/events");
    let n = core["items"].as_array().unwrap().len();
    assert!(n > 0);
    assert_eq!(events["items"].as_array().unwrap().len(), n);
    assert_eq!(prefixed["items"].as_array().unwrap().len(), n);
    assert_eq!(other["items"].as_array().unwrap().len(), 0);
    // Get by name, in either shape.
    let first = &core["items"][0];
    let (ns, name) = (first["metadata"]["namespace"].as_str().unwrap(), first["metadata"]["name"].as_str().unwrap());
    let (code, one) = get(p, &format!("/apis/events.k8s.io/v1/namespaces/{ns}/events/{name}"));
    assert_eq!(code, 200);
    assert_eq!(one["apiVersion"], "events.k8s.io/v1");
    assert_eq!(one["metadata"]["uid"], first["metadata"]["uid"]);
    // A watch from the list's resourceVersion with a short timeout ends
    // cleanly; from resourceVersion 0 it starts with every event.
    let rv = core["metadata"]["resourceVersion"].as_str().unwrap();
    let (code, body) =
        http(p, "GET", &format!("/api/v1/events?watch=true&resourceVersion={rv}&timeoutSeconds=1"), None).unwrap();
    assert_eq!(code, 200);
    assert!(body.is_empty(), "nothing new since the list");
    let (_, body) = http(
        p,
        "GET",
        "/api/v1/events?watch=true&resourceVersion=0&timeoutSeconds=1&allowWatchBookmarks=true&sendInitialEvents=true",
        None,
    )
    .unwrap();
    let lines: Vec<Value> = String::from_utf8_lossy(&body).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.iter().filter(|l| l["type"] == "ADDED").count(), n);
    let end = lines.iter().find(|l| l["type"] == "BOOKMARK").expect("an initial-events-end bookmark");
    assert_eq!(end["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"], "true");
    // Table form.
    let (code, table) = {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", p)).unwrap();
        use std::io::{Read, Write};
        write!(s, "GET /api/v1/events?limit=2 HTTP/1.1\r\nHost: x\r\nAccept: application/json;as=Table;v=v1;g=meta.k8s.io\r\nConnection: close\r\n\r\n").unwrap();
        let mut raw = String::new();
        s.read_to_string(&mut raw).unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        (head.split(' ').nth(1).unwrap().parse::<u16>().unwrap(), serde_json::from_str::<Value>(body).unwrap())
    };
    assert_eq!(code, 200);
    assert_eq!(table["kind"], "Table");
    let names: Vec<&str> =
        table["columnDefinitions"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["Last Seen", "Type", "Reason", "Object", "Subobject", "Source", "Message", "First Seen", "Count", "Name"]
    );
    assert_eq!(table["rows"].as_array().unwrap().len(), 2);
}

#[test]
fn a_watch_from_before_what_retention_deleted_is_gone() {
    // The archive is 2-4 weeks old; served with 7-day retention, the
    // background pass deletes all of it.
    let server = start(&archive_ndjson(200), &["--retention", "7d"]);
    let p = server.port;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (code, body) =
            http(p, "GET", "/api/v1/events?watch=true&resourceVersion=1&timeoutSeconds=1", None).unwrap();
        if code == 410 {
            let v: Value = serde_json::from_slice(&body).unwrap();
            let (reason, message) = status(&v);
            assert_eq!(reason, "Expired");
            assert!(message.contains("too old resource version: 1"), "{message}");
            break;
        }
        assert_eq!(code, 200);
        assert!(std::time::Instant::now() < deadline, "retention never ran");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let (_, list) = get(p, "/api/v1/events");
    assert_eq!(list["items"].as_array().unwrap().len(), 0, "everything older than 7 days is gone");
}
