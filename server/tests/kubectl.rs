//! kubectl against a real kevdb server on loopback, over events two to four
//! weeks old: the commands operators use, with the rows they must print.

mod support;

use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use support::{archive_ndjson, http, kubectl, start, Server};

fn kc(server: &Server, args: &[&str]) -> String {
    let out = Command::new(kubectl()).arg("--server").arg(server.url()).args(args).output().expect("run kubectl");
    assert!(out.status.success(), "kubectl {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The latest observation of every event in the input (the last line of
/// each uid: the generator emits observations in rising resourceVersion).
fn latest(ndjson: &str) -> Vec<Value> {
    let mut by_uid: HashMap<String, Value> = HashMap::new();
    for line in ndjson.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        by_uid.insert(v["metadata"]["uid"].as_str().unwrap().to_string(), v);
    }
    by_uid.into_values().collect()
}

fn obj(v: &Value) -> &Value {
    if v.get("regarding").is_some() {
        &v["regarding"]
    } else {
        &v["involvedObject"]
    }
}

#[test]
fn kubectl_reads_the_archive_weeks_back() {
    let input = archive_ndjson(3000);
    let events = latest(&input);
    let server = start(&input, &[]);

    // get events -A: one row per event.
    let rows = kc(&server, &["get", "events", "-A", "--no-headers"]);
    assert_eq!(rows.lines().count(), events.len());
    // With -A the columns are NAMESPACE, LAST SEEN, ...: every age is in days
    // (kubectl's "14d", "20d", ...), as the archive is 2-4 weeks old.
    for line in rows.lines() {
        let age = line.split_whitespace().nth(1).unwrap_or("");
        let days: u64 =
            age.strip_suffix('d').and_then(|d| d.parse().ok()).unwrap_or_else(|| panic!("LAST SEEN {age:?} in {line}"));
        assert!((13..=29).contains(&days), "LAST SEEN {age} is not 2-4 weeks old: {line}");
    }

    // A namespace with a field selector.
    let ns = "payments";
    let want = events
        .iter()
        .filter(|e| e["metadata"]["namespace"] == ns && e["type"] == "Warning" && obj(e)["kind"] == "Pod")
        .count();
    assert!(want > 0);
    let rows = kc(
        &server,
        &["get", "events", "-n", ns, "--field-selector", "type=Warning,involvedObject.kind=Pod", "--no-headers"],
    );
    assert_eq!(rows.lines().count(), want);
    assert!(rows.lines().all(|l| l.contains("Warning") && l.contains("pod/")));

    // -o json: every event, in the core shape, resourceVersion = kevdb seq.
    let list: Value = serde_json::from_str(&kc(&server, &["get", "events", "-A", "-o", "json"])).unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), events.len());
    assert!(items.iter().all(|i| i["apiVersion"] == "v1" && i.get("involvedObject").is_some()));
    assert!(items.iter().all(|i| i["metadata"]["resourceVersion"].as_str().unwrap().parse::<u64>().is_ok()));

    // The events.k8s.io group serves the same events in its shape.
    let list: Value =
        serde_json::from_str(&kc(&server, &["get", "events.v1.events.k8s.io", "-A", "-o", "json"])).unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), events.len());
    assert!(items.iter().all(|i| i["apiVersion"] == "events.k8s.io/v1" && i.get("regarding").is_some()));

    // kubectl events: Warnings only, and one object's story.
    let warnings = events.iter().filter(|e| e["type"] == "Warning").count();
    let rows = kc(&server, &["events", "-A", "--types=Warning", "--no-headers"]);
    assert_eq!(rows.lines().count(), warnings);
    let pod = events.iter().find(|e| obj(e)["kind"] == "Pod" && e["metadata"]["namespace"] == ns).unwrap();
    let name = obj(pod)["name"].as_str().unwrap();
    let want = events.iter().filter(|e| obj(e)["kind"] == "Pod" && obj(e)["name"] == name).count();
    let rows = kc(&server, &["events", "--for", &format!("pod/{name}"), "-n", ns, "--no-headers"]);
    assert_eq!(rows.lines().count(), want, "{rows}");
    assert!(rows.lines().all(|l| l.contains(name)));

    // -o wide adds the API server's priority-1 columns.
    let wide = kc(&server, &["get", "events", "-n", ns, "-o", "wide"]);
    let header: Vec<&str> = wide.lines().next().unwrap().split("  ").map(str::trim).filter(|s| !s.is_empty()).collect();
    assert_eq!(
        header,
        ["LAST SEEN", "TYPE", "REASON", "OBJECT", "SUBOBJECT", "SOURCE", "MESSAGE", "FIRST SEEN", "COUNT", "NAME"]
    );

    // The same archive under a cluster prefix; another cluster is empty.
    let prefixed = Command::new(kubectl())
        .arg("--server")
        .arg(format!("{}/clusters/default", server.url()))
        .args(["get", "events", "-A", "--no-headers"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&prefixed.stdout).lines().count(), events.len());
    let other = Command::new(kubectl())
        .arg("--server")
        .arg(format!("{}/clusters/prod", server.url()))
        .args(["get", "events", "-A"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&other.stderr).contains("No resources found"), "{other:?}");
}

#[test]
fn kubectl_get_events_watch_prints_an_event_ingested_after_it_started() {
    let input = archive_ndjson(300);
    let total = latest(&input).len();
    let server = start(&input, &[]);
    let mut child = Command::new(kubectl())
        .arg("--server")
        .arg(server.url())
        .args(["get", "events", "-A", "-w", "--no-headers"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    for i in 0..total {
        rx.recv_timeout(Duration::from_secs(30)).unwrap_or_else(|_| panic!("only {i} of {total} initial rows"));
    }
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
    let probe = format!(
        r#"{{"kind":"Event","apiVersion":"v1","metadata":{{"name":"probe.1","namespace":"default","uid":"watch-probe"}},"involvedObject":{{"kind":"Pod","name":"probe","namespace":"default"}},"reason":"KevdbWatchProbe","message":"seen live","type":"Normal","firstTimestamp":"{now}","lastTimestamp":"{now}","count":1}}"#
    );
    let (code, body) = http(server.port, "POST", "/kevdb/v1/ingest", Some(probe.as_bytes())).unwrap();
    assert_eq!(code, 200, "{}", String::from_utf8_lossy(&body));
    let line = loop {
        let line = rx.recv_timeout(Duration::from_secs(20)).expect("the watch printed the new event");
        if line.contains("KevdbWatchProbe") {
            break line;
        }
    };
    assert!(line.contains("pod/probe") && line.contains("seen live"), "{line}");
    let _ = child.kill();
    let _ = child.wait();
}
