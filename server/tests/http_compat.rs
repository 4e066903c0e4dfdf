//! The event APIs of other systems, end to end against the real `kevdb
//! serve`: bcs-storage's `PUT`/`GET /bcsapi/v4/storage/events` and the
//! cloud "list events" API, with their envelopes and their error shapes.
//! Fixtures in `tests/fixtures/compat/` follow the real APIs
//! (docs/research/compat-apis.md cites the sources).

mod support;

use serde_json::{json, Value};
use support::client::*;

fn fixture_json(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/compat/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).expect("JSON")
}

const JSON: (&str, &str) = ("Content-Type", "application/json");

fn put_bcs(srv: &Server, body: &Value) -> Value {
    let r = request(srv, "PUT", "/bcsapi/v4/storage/events", &[JSON], body.to_string().as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

fn get_bcs(srv: &Server, query: &str) -> (u16, Value) {
    let r = request(srv, "GET", &format!("/bcsapi/v4/storage/events?{query}"), &[], b"");
    (r.status, r.json())
}

/// Events in the bcs-storage model from the fixture, one per hour back
/// from the fixture's own event (distinct uids, names and reasons).
fn bcs_events(n: usize) -> Vec<Value> {
    let base = fixture_json("bcs-put-event.json");
    let t0 = base["eventTime"].as_i64().expect("eventTime");
    (0..n)
        .map(|i| {
            let mut e = base.clone();
            let t = t0 - 3600 * i as i64;
            let stamp = chrono::DateTime::from_timestamp(t, 0).expect("time").format("%Y-%m-%dT%H:%M:%SZ").to_string();
            e["eventTime"] = json!(t);
            e["data"]["metadata"]["uid"] = json!(format!("0b8e4d52-6a1f-4c37-9e2d-7f5a3c1b8e{i:02}"));
            e["data"]["metadata"]["name"] = json!(format!("match-svc.{i:04}"));
            e["data"]["lastTimestamp"] = json!(stamp);
            e["data"]["firstTimestamp"] = json!(stamp);
            if i % 2 == 1 {
                e["data"]["reason"] = json!("Unhealthy");
                e["type"] = json!("Unhealthy");
                e["data"]["type"] = json!("Normal");
                e["level"] = json!("Normal");
            }
            e
        })
        .collect()
}

#[test]
fn bcs_storage_events_round_trip_with_filters_paging_and_errors() {
    let srv = start(&[]);
    let events = bcs_events(6);
    for e in &events {
        let reply = put_bcs(&srv, e);
        assert_eq!(reply, json!({"result": true, "code": 0, "message": "success", "data": {}}));
    }
    // Re-sent events are accepted (bcs swallows duplicates too) and stored once.
    put_bcs(&srv, &events[0]);
    let cluster = events[0]["clusterId"].as_str().expect("clusterId");

    let (code, all) = get_bcs(&srv, &format!("clusterId={cluster}"));
    assert_eq!(code, 200);
    assert_eq!((all["result"].as_bool(), all["code"].as_u64(), all["total"].as_u64()), (Some(true), Some(0), Some(6)));
    let data = all["data"].as_array().expect("data");
    let times: Vec<&str> = data.iter().map(|d| d["eventTime"].as_str().expect("eventTime")).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first: {times:?}");
    let first = &data[0];
    let sent = &events[0];
    for key in ["env", "kind", "level", "component", "type", "describe", "clusterId", "extraInfo"] {
        assert_eq!(first[key], sent[key], "{key}");
    }
    assert_eq!(first["data"]["metadata"]["uid"], sent["data"]["metadata"]["uid"]);

    // Filters: comma lists OR within a field, fields AND; strict times.
    let (_, warn) = get_bcs(&srv, &format!("clusterId={cluster}&level=Warning&type=BackOff,Nope"));
    assert_eq!(warn["total"], 3);
    assert!(warn["data"].as_array().expect("data").iter().all(|d| d["level"] == "Warning"));
    let (_, none) = get_bcs(&srv, &format!("clusterId={cluster}&level=Warning&type=Unhealthy"));
    assert_eq!(none["total"], 0);
    let t0 = sent["eventTime"].as_i64().expect("t");
    let (_, window) = get_bcs(&srv, &format!("clusterId={cluster}&timeBegin={}&timeEnd={}", t0 - 3 * 3600, t0));
    // Strictly between: the events 1 h and 2 h before t0.
    assert_eq!(window["total"], 2, "{window}");
    let ns = sent["extraInfo"]["namespace"].as_str().expect("ns");
    let (_, scoped) = get_bcs(&srv, &format!("clusterId={cluster},other&extraInfo.namespace={ns}&kind=Pod&env=k8s"));
    assert_eq!(scoped["total"], 6);
    let (_, paged) = get_bcs(&srv, &format!("clusterId={cluster}&offset=2&length=3"));
    assert_eq!(paged["total"], 6);
    let page: Vec<&Value> = paged["data"].as_array().expect("data").iter().collect();
    assert_eq!(page.len(), 3);
    assert_eq!(page[0]["_id"], data[2]["_id"]);

    // A non-Kubernetes event round-trips through annotations.
    let mesos = json!({"id": "task-1", "env": "mesos", "kind": "task", "level": "Warning", "component": "scheduler",
        "type": "TASK_FAILED", "describe": "exit code 1", "clusterId": "BCS-MESOS-1", "eventTime": t0,
        "extraInfo": {"namespace": "apps", "name": "web.0", "kind": "application"}, "data": {"exitCode": 1}});
    put_bcs(&srv, &mesos);
    let (_, got) = get_bcs(&srv, "clusterId=BCS-MESOS-1&env=mesos");
    assert_eq!(got["total"], 1);
    assert_eq!(got["data"][0]["data"], json!({"exitCode": 1}));
    assert_eq!(got["data"][0]["id"], "task-1");
    // ... and is an event like any other for the Kubernetes API.
    let k = request(&srv, "GET", "/clusters/BCS-MESOS-1/api/v1/namespaces/apps/events", &[], b"").json();
    assert_eq!(k["items"][0]["reason"], "TASK_FAILED");

    // Errors in bcs's envelope; nothing stored is lost.
    let before = get_bcs(&srv, &format!("clusterId={cluster}")).1["total"].clone();
    let (code, e) = get_bcs(&srv, "level=Warning");
    assert_eq!(code, 400);
    assert_eq!((e["result"].as_bool(), e["code"].as_u64()), (Some(false), Some(1_405_085)));
    assert!(e["message"].as_str().unwrap_or("").contains("clusterId"), "{e}");
    let (code, e) = get_bcs(&srv, &format!("clusterId={cluster}&offset=ten"));
    assert_eq!((code, e["code"].as_u64()), (400, Some(1_405_085)));
    for bad in [&b"{oops"[..], b"[]", br#"{"clusterId":"c","eventTime":"later"}"#, br#"{"eventTime":1}"#] {
        let r = request(&srv, "PUT", "/bcsapi/v4/storage/events", &[JSON], bad);
        assert_eq!(r.status, 400, "{}", r.text());
        let v = r.json();
        assert_eq!((v["result"].as_bool(), v["code"].as_u64()), (Some(false), Some(1_405_082)), "{v}");
    }
    assert_eq!(get_bcs(&srv, &format!("clusterId={cluster}")).1["total"], before);
}

#[test]
fn cloud_list_events_answers_yaml_over_the_whole_retention() {
    let srv = start(&[]);
    // Events for cluster "c-47281b": created through the Kubernetes API, weeks old.
    let old = chrono::Utc::now() - chrono::Duration::days(20);
    for (i, (kind, ty)) in [("Pod", "Warning"), ("Pod", "Normal"), ("Node", "Warning")].iter().enumerate() {
        let stamp = (old + chrono::Duration::minutes(i as i64)).format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let ev = json!({"metadata": {"name": format!("e{i}"), "uid": format!("uid-{i}")},
            "involvedObject": {"kind": kind, "name": format!("o{i}"), "namespace": "shop"},
            "reason": "Test", "message": format!("message {i}"), "type": ty,
            "firstTimestamp": stamp, "lastTimestamp": stamp, "count": 1});
        let r = request(
            &srv,
            "POST",
            "/clusters/c-47281b/api/v1/namespaces/shop/events",
            &[JSON],
            ev.to_string().as_bytes(),
        );
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let path = "/v2/cce/clusters/c-47281b/apis/events.k8s.io/v1/events";
    let region = ("regionId", "bb9fdb42056f11eda1610242ac110002");
    let r = request(&srv, "GET", path, &[region], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["statusCode"], 800);
    assert_eq!(v["message"], "success");
    let list: Value =
        serde_norway::from_str(v["returnObj"].as_str().expect("returnObj is a YAML string")).expect("YAML");
    assert_eq!(list["kind"], "EventList");
    assert_eq!(list["apiVersion"], "events.k8s.io/v1");
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), 3, "twenty-day-old events are there");
    assert!(items.iter().all(|e| e["regarding"]["namespace"] == "shop" && e["note"].is_string()));

    let selected =
        request(&srv, "GET", &format!("{path}?fieldSelector=regarding.kind%3DPod,type%3DWarning"), &[region], b"");
    let list: Value = serde_norway::from_str(selected.json()["returnObj"].as_str().expect("yaml")).expect("YAML");
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["regarding"]["name"], "o0");
    let other = request(&srv, "GET", "/v2/cce/clusters/elsewhere/apis/events.k8s.io/v1/events", &[region], b"");
    let list: Value = serde_norway::from_str(other.json()["returnObj"].as_str().expect("yaml")).expect("YAML");
    assert!(list["items"].as_array().is_none_or(|i| i.is_empty()), "another cluster's events stay apart");

    // Errors keep the API's envelope.
    let shape = |r: &Resp, status: u16| {
        assert_eq!(r.status, status, "{}", r.text());
        let v = r.json();
        assert_eq!(v["statusCode"], 900, "{v}");
        assert_eq!(v["errorCode"], v["error"]);
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
        v
    };
    let v = shape(&request(&srv, "GET", path, &[], b""), 400);
    assert!(v["message"].as_str().unwrap_or("").contains("regionId"));
    shape(&request(&srv, "GET", &format!("{path}?fieldSelector=colour%3Dred"), &[region], b""), 400);
    shape(&request(&srv, "GET", "/v2/cce/clusters/c-47281b/apis/events.k8s.io/v1beta1/events", &[region], b""), 400);
}
