//! The exporters' payloads, end to end over HTTP against the real `kevdb
//! serve`: kubernetes-event-exporter's webhook and elasticsearch sinks,
//! kube-eventer's elasticsearch `_bulk`, eventrouter lines on the bulk
//! ingest endpoint. Fixtures in `tests/fixtures/exporters/` follow the
//! exporters' own serialisation (docs/research/exporters.md cites the
//! sources). Each stored event is then read back through the
//! kubectl-compatible API, and malformed payloads get errors in the
//! endpoint's own shape without touching what is stored.

mod support;

use serde_json::Value;
use support::client::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/exporters/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn fixture_json(name: &str) -> Value {
    serde_json::from_slice(&fixture(name)).expect("fixture is JSON")
}

const JSON: (&str, &str) = ("Content-Type", "application/json");

/// The stored event `name` in `namespace`, read back as kubectl would.
fn read_back(srv: &Server, cluster: &str, namespace: &str, name: &str) -> Value {
    let r = request(srv, "GET", &format!("/clusters/{cluster}/api/v1/namespaces/{namespace}/events/{name}"), &[], b"");
    assert_eq!(r.status, 200, "{cluster}/{namespace}/{name}: {}", r.text());
    r.json()
}

/// Every observation stored, as (uid, count) pairs.
fn history(srv: &Server) -> Vec<(String, i64)> {
    let r = request(srv, "GET", "/api/v1/events?history=true", &[], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    let mut out: Vec<(String, i64)> = r.json()["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| (e["metadata"]["uid"].as_str().unwrap_or("").to_owned(), e["count"].as_i64().unwrap_or(0)))
        .collect();
    out.sort();
    out
}

fn es_error_type(r: &Resp) -> String {
    let v = r.json();
    assert!(v["status"].is_u64(), "Elasticsearch error shape: {v}");
    assert_eq!(v["error"]["root_cause"][0]["type"], v["error"]["type"], "{v}");
    v["error"]["type"].as_str().unwrap_or("").to_owned()
}

#[test]
fn event_exporter_webhook_payloads_are_archived_with_their_enrichment() {
    let srv = start(&[]);
    let body = fixture("event-exporter-webhook.json");
    let sent = fixture_json("event-exporter-webhook.json");
    let r = request(&srv, "POST", "/kevdb/v1/sinks/event-exporter", &[JSON], &body);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["accepted"], 1);
    // The exporter does not retry, but a shipper in front of it might.
    let again = request(&srv, "POST", "/kevdb/v1/sinks/event-exporter", &[JSON], &body);
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json()["duplicates"], 1);

    let cluster = sent["clusterName"].as_str().expect("clusterName");
    let meta = &sent["metadata"];
    let got = read_back(&srv, cluster, meta["namespace"].as_str().unwrap_or(""), meta["name"].as_str().unwrap_or(""));
    assert_eq!(got["message"], sent["message"]);
    assert_eq!(got["count"], sent["count"]);
    assert_eq!(got["involvedObject"]["labels"], sent["involvedObject"]["labels"], "enrichment kept");
    assert_eq!(got["involvedObject"]["ownerReferences"], sent["involvedObject"]["ownerReferences"]);
    assert_eq!(got["metadata"]["annotations"]["kevdb.io/cluster"], cluster);

    // Malformed payloads: a Status, and nothing stored changes.
    let before = history(&srv);
    for bad in [&b"{not json"[..], b"[1,2]", br#"{"metadata":{"name":"x"},"lastTimestamp":"yesterday"}"#] {
        let r = request(&srv, "POST", "/kevdb/v1/sinks/event-exporter", &[JSON], bad);
        assert_status(&r, 400, "BadRequest");
    }
    assert_eq!(history(&srv), before);
}

#[test]
fn elasticsearch_clients_pass_their_checks_and_documents_are_archived() {
    let srv = start(&[]);
    // go-elasticsearch's product check and olivere's health check.
    let root = request(&srv, "GET", "/", &[], b"");
    assert_eq!(root.status, 200, "{}", root.text());
    let info = root.json();
    assert_eq!(info["tagline"], "You Know, for Search");
    let version = info["version"]["number"].as_str().expect("version");
    let major: u32 = version.split('.').next().and_then(|m| m.parse().ok()).expect("major");
    assert!(major >= 7, "{version}");
    let head = try_request(srv.addr, "HEAD", "/", &[], b"").expect("HEAD /");
    assert_eq!(head.status, 200);
    let raw = raw_head(&srv, "GET", "/");
    assert!(raw.contains("x-elastic-product: elasticsearch"), "{raw}");
    let nodes = request(&srv, "GET", "/_nodes/http", &[], b"").json();
    assert_eq!(nodes["nodes"]["kevdb"]["http"]["publish_address"], srv.addr.to_string());
    assert_eq!(request(&srv, "HEAD", "/kube-events-2026.11.03", &[], b"").status, 200);
    assert_eq!(request(&srv, "PUT", "/kube-events-2026.11.03", &[JSON], b"").json()["acknowledged"], true);
    assert_eq!(request(&srv, "POST", "/_aliases", &[JSON], b"{}").json()["acknowledged"], true);
    // The Elasticsearch paths do not shadow the Kubernetes API's 404s.
    for path in ["/openapi", "/openapi/v2", "/api/v1/pods"] {
        assert_status(&request(&srv, "GET", path, &[], b""), 404, "NotFound");
    }

    // kubernetes-event-exporter: one document per request.
    let doc = fixture("event-exporter-es-doc.json");
    let sent = fixture_json("event-exporter-es-doc.json");
    let uid = sent["metadata"]["uid"].as_str().expect("uid");
    let r = request(&srv, "POST", "/kube-events-2026-11-03/_doc", &[JSON], &doc);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["result"], "created");
    let r = request(&srv, "PUT", &format!("/kube-events-2026-11-03/_doc/{uid}"), &[JSON], &doc);
    assert_eq!(r.status, 200, "a re-delivery is a no-op: {}", r.text());
    assert_eq!(r.json()["result"], "noop");
    let cluster = sent["clusterName"].as_str().expect("clusterName");
    let meta = &sent["metadata"];
    let got = read_back(&srv, cluster, meta["namespace"].as_str().unwrap_or(""), meta["name"].as_str().unwrap_or(""));
    assert_eq!(got["metadata"]["uid"], uid);
    assert_eq!(got["reason"], sent["reason"]);

    // kube-eventer: `_bulk` with Go-named documents.
    let bulk = fixture("kube-eventer-bulk.ndjson");
    let r = request(&srv, "POST", "/_bulk", &[("Content-Type", "application/x-ndjson")], &bulk);
    assert_eq!(r.status, 200, "{}", r.text());
    let reply = r.json();
    assert_eq!(reply["errors"], false, "{reply}");
    let docs: Vec<Value> = bulk
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .skip(1)
        .step_by(2)
        .map(|l| serde_json::from_slice(l).expect("source line"))
        .collect();
    let items = reply["items"].as_array().expect("items");
    assert_eq!(items.len(), docs.len());
    for (item, doc) in items.iter().zip(&docs) {
        assert_eq!(item["index"]["status"], 201, "{item}");
        let m = &doc["Metadata"];
        let cluster = doc["EventTags"]["cluster_name"].as_str().expect("cluster_name");
        let got = read_back(&srv, cluster, m["namespace"].as_str().unwrap_or(""), m["name"].as_str().unwrap_or(""));
        assert_eq!(got["count"], doc["Count"]);
        assert_eq!(got["message"], doc["Message"]);
        assert_eq!(got["lastTimestamp"], doc["LastOccurrenceTimestamp"]);
        assert_eq!(got["involvedObject"]["name"], doc["InvolvedObject"]["name"]);
    }
    let again = request(&srv, "POST", "/_bulk", &[JSON], &bulk).json();
    assert!(again["items"].as_array().expect("items").iter().all(|i| i["index"]["status"] == 200), "{again}");

    // Malformed: a broken action line fails the request in ES's shape; a
    // broken document fails only its item; stored events are untouched.
    let before = history(&srv);
    let r = request(&srv, "POST", "/_bulk", &[JSON], b"{\"index\":\n{}\n");
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(es_error_type(&r), "x_content_parse_exception");
    let r = request(&srv, "POST", "/x/_doc", &[JSON], b"{\"hello\":\"world\"}");
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(es_error_type(&r), "mapper_parsing_exception");
    assert_eq!(history(&srv), before);
    let mut mixed = b"{\"index\":{}}\n{\"just\":\"a log line\"}\n{\"delete\":{\"_id\":\"1\"}}\n".to_vec();
    mixed.extend_from_slice(&bulk);
    let r = request(&srv, "POST", "/kube-events-2026.11.04/_bulk", &[JSON], &mixed).json();
    assert_eq!(r["errors"], true);
    assert_eq!(r["items"][0]["index"]["status"], 400);
    assert_eq!(r["items"][1]["delete"]["status"], 400);
    assert_eq!(r["items"][2]["index"]["status"], 200, "the good items still went through: {r}");
    assert_eq!(history(&srv), before);
}

#[test]
fn eventrouter_lines_go_to_the_bulk_endpoint() {
    let srv = start(&[]);
    let lines = fixture("eventrouter.ndjson");
    let r =
        request(&srv, "POST", "/clusters/edge/kevdb/v1/ingest", &[("Content-Type", "application/x-ndjson")], &lines);
    assert_eq!(r.status, 200, "{}", r.text());
    let reply = r.json();
    let records: Vec<Value> = lines
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("line"))
        .collect();
    assert_eq!(reply["accepted"].as_u64(), Some(records.len() as u64), "{reply}");
    for rec in &records {
        let e = &rec["event"];
        let got = read_back(
            &srv,
            "edge",
            e["metadata"]["namespace"].as_str().unwrap_or(""),
            e["metadata"]["name"].as_str().unwrap_or(""),
        );
        assert_eq!(got["metadata"]["uid"], e["metadata"]["uid"]);
    }
    // The UPDATED line's newer count is what a list shows.
    let updated = records.iter().find(|r| r["verb"] == "UPDATED").expect("an UPDATED line");
    let e = &updated["event"];
    let got = read_back(
        &srv,
        "edge",
        e["metadata"]["namespace"].as_str().unwrap_or(""),
        e["metadata"]["name"].as_str().unwrap_or(""),
    );
    assert_eq!(got["count"], e["count"]);
}

/// The response head of a request, lower-cased.
fn raw_head(srv: &Server, method: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(srv.addr).expect("connect");
    write!(s, "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", srv.addr).expect("write");
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(raw.len());
    String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase()
}

/// Elasticsearch clients know Basic auth and API keys, not bearer tokens:
/// a kevdb token works as the password or as the key, and its scope holds.
#[test]
fn elasticsearch_clients_authenticate_with_a_token_as_password() {
    use base64::Engine as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let tokens = dir.path().join("tokens.csv");
    std::fs::write(&tokens, "w-token,writer,u1,kevdb:write\nr-token,reader,u2\n").expect("write tokens");
    let srv = start(&["--token-auth-file", tokens.to_str().expect("utf-8")]);
    let basic = |user_token: &str| format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(user_token));
    let bulk = fixture("kube-eventer-bulk.ndjson");
    let post = |auth: &str| request(&srv, "POST", "/_bulk", &[JSON, ("Authorization", auth)], &bulk);
    assert_eq!(post(&basic("elastic:wrong")).status, 401);
    assert_eq!(post(&basic("kevdb:r-token")).status, 403, "a read token cannot write");
    let r = post(&basic("kevdb:w-token"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["errors"], false);
    let r = request(&srv, "GET", "/", &[("Authorization", "ApiKey r-token")], b"");
    assert_eq!(r.status, 200, "{}", r.text());
}
