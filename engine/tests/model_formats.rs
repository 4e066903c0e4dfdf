//! Every input format the parser detects, and how bad records are reported:
//! each test feeds a small input and checks events, errors and positions.

use std::io::{self, Read};

use kevdb_engine::model::parse::{event_from_value, parse_bytes, parse_reader, ParseOptions, Parsed, RecordError};
use kevdb_engine::model::render::{to_value, to_yaml};
use kevdb_engine::model::time::parse_rfc3339;
use kevdb_engine::{ApiShape, IntField, StrField, TimeField, Timestamp};
use serde_json::{json, Value};

fn core_event(name: &str) -> Value {
    json!({
        "kind": "Event", "apiVersion": "v1",
        "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}"),
                     "resourceVersion": "42", "creationTimestamp": "2024-05-01T10:00:00Z"},
        "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web-0"},
        "reason": "BackOff", "message": "Back-off restarting failed container",
        "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": "2024-05-01T10:00:00Z", "lastTimestamp": "2024-05-01T10:05:00Z",
        "count": 3, "type": "Warning", "eventTime": null,
        "reportingComponent": "", "reportingInstance": ""
    })
}

fn events_v1_event(name: &str) -> Value {
    json!({
        "kind": "Event", "apiVersion": "events.k8s.io/v1",
        "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}"),
                     "creationTimestamp": "2024-05-01T10:00:00Z"},
        "eventTime": "2024-05-01T10:00:00.123456Z",
        "reportingController": "default-scheduler", "reportingInstance": "scheduler-0",
        "action": "Binding", "reason": "Scheduled",
        "regarding": {"kind": "Pod", "namespace": "default", "name": "web-0"},
        "note": "Successfully assigned default/web-0 to node-1", "type": "Normal"
    })
}

fn parse(input: &str) -> Parsed {
    parse_bytes(input.as_bytes(), &ParseOptions::default())
}

fn names(parsed: &Parsed) -> Vec<&str> {
    parsed.events.iter().map(|e| e.name()).collect()
}

fn error(record: usize, line: Option<usize>, message: &str) -> RecordError {
    RecordError { record, line, message: message.to_owned() }
}

#[test]
fn empty_and_blank_inputs_give_nothing() {
    for input in ["", "  \n\n\t", "---\n", "# only a comment\n---\n...\n", "\u{feff}"] {
        assert_eq!(parse(input), Parsed::default(), "{input:?}");
    }
}

#[test]
fn ndjson_with_a_broken_line_keeps_the_other_lines() {
    let input = [
        core_event("a").to_string(),
        core_event("b").to_string(),
        r#"{"kind":"Event","metadata":{"name":"#.to_owned(),
        String::new(),
        core_event("c").to_string(),
    ]
    .join("\n");
    let parsed = parse(&input);
    assert_eq!(names(&parsed), ["a", "b", "c"]);
    assert_eq!(parsed.errors.len(), 1);
    let e = &parsed.errors[0];
    assert_eq!((e.record, e.line), (2, Some(3)));
    assert!(e.message.starts_with("invalid JSON: EOF while parsing"), "{e}");
    assert!(e.to_string().starts_with("record 2 (line 3): invalid JSON"), "{e}");
}

#[test]
fn ndjson_with_a_broken_first_line_is_still_read_line_by_line() {
    let input = format!("{{\"kind\": \"Event\",\n{}\n{}\n", core_event("a"), core_event("b"));
    let parsed = parse(&input);
    assert_eq!(names(&parsed), ["a", "b"]);
    assert_eq!(parsed.errors.len(), 1);
    assert_eq!((parsed.errors[0].record, parsed.errors[0].line), (0, Some(1)));
}

#[test]
fn watch_stream_takes_objects_skips_bookmarks_and_reports_errors() {
    let lines = [
        json!({"type": "ADDED", "object": core_event("a")}),
        json!({"type": "BOOKMARK", "object": {"kind": "Event", "apiVersion": "v1", "metadata": {"resourceVersion": "12"}}}),
        json!({"type": "MODIFIED", "object": core_event("b")}),
        json!({"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1", "status": "Failure",
               "message": "too old resource version: 1 (42)", "reason": "Expired", "code": 410}}),
        json!({"type": "DELETED", "object": events_v1_event("c")}),
    ];
    let input = lines.map(|l| l.to_string()).join("\n");
    let parsed = parse(&input);
    assert_eq!(names(&parsed), ["a", "b", "c"]);
    assert_eq!(parsed.events[2].shape(), ApiShape::EventsV1);
    assert_eq!(parsed.errors, [error(3, Some(4), "watch ERROR: too old resource version: 1 (42)")]);
    // The watch envelope is not part of the event.
    assert_eq!(to_value(&parsed.events[0], ApiShape::CoreV1), core_event("a"));
}

#[test]
fn eventrouter_lines_give_the_new_event() {
    let mut old = core_event("a");
    old["count"] = json!(2);
    let lines = [
        json!({"verb": "ADDED", "event": core_event("a")}),
        json!({"verb": "UPDATED", "event": core_event("a"), "old_event": old}),
    ];
    let parsed = parse(&lines.map(|l| l.to_string()).join("\n"));
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    assert_eq!(parsed.events.len(), 2);
    assert!(parsed.events.iter().all(|e| e.int(IntField::Count) == Some(3)));
}

#[test]
fn concatenated_pretty_json_documents_are_all_read() {
    let input = format!("{:#}\n{:#}\n{:#}", core_event("a"), events_v1_event("b"), json!([core_event("c")]));
    let parsed = parse(&input);
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    assert_eq!(names(&parsed), ["a", "b", "c"]);
}

#[test]
fn yaml_multi_document_with_lists_and_a_broken_document() {
    let a = to_yaml(&event_from_value(core_event("a"), &ParseOptions::default()).unwrap(), ApiShape::CoreV1);
    let b = to_yaml(&event_from_value(events_v1_event("b"), &ParseOptions::default()).unwrap(), ApiShape::EventsV1);
    let list = serde_norway::to_string(&json!({
        "apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
        "items": [core_event("c"), {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "p"}}, core_event("d")],
    }))
    .unwrap();
    let input = format!("# comment\n---\n{a}---\n{b}---\n# empty document\n---\nkind: [unclosed\n---\n{list}");
    let parsed = parse(&input);
    assert_eq!(names(&parsed), ["a", "b", "c", "d"]);
    assert_eq!(parsed.events[1].shape(), ApiShape::EventsV1);
    assert_eq!(parsed.errors.len(), 2, "{:?}", parsed.errors);
    let broken_line = input.lines().position(|l| l == "kind: [unclosed").unwrap() + 1;
    assert_eq!((parsed.errors[0].record, parsed.errors[0].line), (2, Some(broken_line)));
    assert!(parsed.errors[0].message.starts_with("invalid YAML"), "{}", parsed.errors[0]);
    // The Pod is item 1 of the List: its own line is found.
    let pod = &parsed.errors[1];
    assert_eq!(pod.record, 4);
    assert_eq!(pod.message, "not an Event: kind Pod");
    let item_lines: Vec<usize> =
        input.lines().enumerate().filter(|(_, l)| l.starts_with("- ")).map(|(i, _)| i + 1).collect();
    assert_eq!(pod.line, Some(item_lines[1]));
}

#[test]
fn yaml_single_documents_with_unquoted_timestamps() {
    let input = "apiVersion: v1\nkind: Event\ncount: 24973\neventTime: null\nfirstTimestamp: 2018-09-18T12:40:18Z\n\
                 involvedObject:\n  kind: CronJob\n  name: hello\nlastTimestamp: 2018-10-06T23:25:55Z\n\
                 metadata:\n  name: hello.1\n  namespace: default\n  resourceVersion: 2460414\nreason: SawCompletedJob\n";
    let parsed = parse(input);
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    let e = &parsed.events[0];
    assert_eq!(e.time(TimeField::LastTimestamp), parse_rfc3339("2018-10-06T23:25:55Z"));
    // An unquoted number where a string belongs fills the slot and renders
    // back as the number it was.
    assert_eq!(e.str(StrField::MetadataResourceVersion), Some("2460414"));
    assert_eq!(to_value(e, ApiShape::CoreV1)["metadata"]["resourceVersion"], json!(2460414));
    assert_eq!(e.int(IntField::Count), Some(24973));
}

#[test]
fn lists_without_kind_and_items_without_type_meta() {
    let strip = |mut v: Value| {
        let o = v.as_object_mut().unwrap();
        o.remove("kind");
        o.remove("apiVersion");
        v
    };
    let input =
        json!({"metadata": {"resourceVersion": "976"}, "items": [strip(core_event("a")), strip(events_v1_event("b"))]});
    let parsed = parse(&format!("{input:#}"));
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    assert_eq!(names(&parsed), ["a", "b"]);
    // Shape inferred from events.k8s.io-only keys; kind/apiVersion not added.
    assert_eq!(parsed.events[1].shape(), ApiShape::EventsV1);
    assert_eq!(to_value(&parsed.events[0], ApiShape::CoreV1), strip(core_event("a")));
    assert_eq!(to_value(&parsed.events[1], ApiShape::EventsV1), strip(events_v1_event("b")));
}

#[test]
fn array_mixing_a_pod_and_events_reports_the_pod_and_keeps_the_events() {
    let pod = json!({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "web-0"}, "spec": {}});
    let input = format!("{:#}", json!([core_event("a"), pod, core_event("b")]));
    let parsed = parse(&input);
    assert_eq!(names(&parsed), ["a", "b"]);
    // The Pod's `{` is the line before its `"kind": "Pod"`.
    let pod_line = input.lines().position(|l| l == "    \"kind\": \"Pod\",").unwrap();
    assert_eq!(parsed.errors, [error(1, Some(pod_line), "not an Event: kind Pod")]);
}

#[test]
fn wrong_field_types_are_reported_with_their_position_and_skipped() {
    let bad = |patch: Value| {
        let mut e = core_event("bad");
        for (k, v) in patch.as_object().unwrap() {
            e[k] = v.clone();
        }
        e
    };
    let mut no_metadata = core_event("x");
    no_metadata.as_object_mut().unwrap().remove("metadata");
    let items = json!([
        core_event("ok-1"),
        bad(json!({"count": "abc"})),
        bad(json!({"firstTimestamp": "yesterday"})),
        bad(json!({"involvedObject": []})),
        no_metadata,
        bad(json!({"reason": {"a": 1}})),
        bad(json!({"count": 1.5})),
        bad(json!({"count": 3_000_000_000u64})),
        bad(json!({"series": {"count": 2, "lastObservedTime": 7}})),
        "not an object",
        {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "metadata": {}},
        core_event("ok-2"),
    ]);
    let input = format!("{:#}", json!({"kind": "EventList", "apiVersion": "v1", "metadata": {}, "items": items}));
    let parsed = parse(&input);
    assert_eq!(names(&parsed), ["ok-1", "ok-2"]);
    let got: Vec<(usize, &str)> = parsed.errors.iter().map(|e| (e.record, e.message.as_str())).collect();
    assert_eq!(
        got,
        [
            (1, r#"count: expected an int32 integer, got string "abc""#),
            (2, r#"firstTimestamp: invalid timestamp "yesterday""#),
            (3, "involvedObject: expected an object, got an array"),
            (4, "missing metadata"),
            (5, "reason: expected a string, got an object"),
            (6, "count: expected an int32 integer, got number 1.5"),
            (7, "count: expected an int32 integer, got number 3000000000"),
            (8, "series.lastObservedTime: expected a timestamp string, got number 7"),
            (9, "expected an object, got a string"),
            (10, "not an Event: apiVersion audit.k8s.io/v1"),
        ]
    );
    // Each error names the line its item starts on.
    let item_starts: Vec<usize> = input
        .lines()
        .enumerate()
        .filter(|(_, l)| l.starts_with("    {") || l.starts_with("    \""))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(item_starts.len(), 12);
    for e in &parsed.errors {
        assert_eq!(e.line, Some(item_starts[e.record]), "{e}");
    }
}

#[test]
fn a_broken_json_document_is_one_error_for_the_rest_of_the_input() {
    let list = format!("{:#}", json!({"kind": "EventList", "items": [core_event("a"), core_event("b")]}));
    let broken = list.replacen("\"name\": \"b\"", "\"name\": \"b\" \"oops\"", 1);
    let input = format!("{broken}\n{:#}", core_event("c"));
    let parsed = parse(&input);
    // Items read before the break are kept (they may already be streamed).
    assert_eq!(names(&parsed), ["a"]);
    assert_eq!(parsed.errors.len(), 1);
    assert_eq!((parsed.errors[0].record, parsed.errors[0].line), (1, Some(1)));
    assert!(parsed.errors[0].message.contains("expected `,` or `}`"), "{}", parsed.errors[0]);
}

#[test]
fn non_canonical_timestamps_fill_the_slot_and_keep_their_spelling() {
    let mut input = core_event("a");
    input["firstTimestamp"] = json!("2024-05-01T12:00:00+02:00");
    input["lastTimestamp"] = json!("2024-05-01T10:05:00.123456789Z");
    input["eventTime"] = json!("2024-05-01T10:00:00Z");
    input["metadata"]["creationTimestamp"] = json!("null");
    let e = event_from_value(input.clone(), &ParseOptions::default()).unwrap();
    assert_eq!(e.time(TimeField::FirstTimestamp), parse_rfc3339("2024-05-01T10:00:00Z"));
    assert_eq!(e.time(TimeField::LastTimestamp).map(|t| t.0 % 1_000_000), Some(123_456));
    assert_eq!(e.time(TimeField::EventTime), parse_rfc3339("2024-05-01T10:00:00Z"));
    assert_eq!(e.time(TimeField::CreationTimestamp), None, "\"null\" is no time");
    assert_eq!(to_value(&e, ApiShape::CoreV1), input);
    let v1 = to_value(&e, ApiShape::EventsV1);
    assert_eq!(v1["deprecatedFirstTimestamp"], "2024-05-01T12:00:00+02:00");
    assert_eq!(v1["deprecatedLastTimestamp"], "2024-05-01T10:05:00.123456789Z");

    // A slot changed in code wins over the kept spelling.
    let mut changed = e.clone();
    changed.set_time(TimeField::FirstTimestamp, Some(Timestamp::from_secs(0)));
    assert_eq!(to_value(&changed, ApiShape::CoreV1)["firstTimestamp"], "1970-01-01T00:00:00Z");
}

#[test]
fn an_event_without_any_time_is_stamped_with_the_current_time() {
    let before = Timestamp::now().0 / 1_000_000;
    let input = json!({"metadata": {"name": "x", "creationTimestamp": null}, "reason": "Test", "eventTime": null});
    let e = event_from_value(input, &ParseOptions::default()).unwrap();
    let after = Timestamp::now().0 / 1_000_000;
    let created = e.time(TimeField::CreationTimestamp).expect("stamped").0;
    assert_eq!(created % 1_000_000, 0, "whole seconds, as metav1.Time");
    assert!((before..=after).contains(&(created / 1_000_000)));
    assert_eq!(e.last_seen(), Some(Timestamp(created)));
    let v = to_value(&e, ApiShape::CoreV1);
    assert!(v["metadata"]["creationTimestamp"].is_string());
    assert_eq!(v["eventTime"], Value::Null);
}

#[test]
fn managed_fields_are_dropped_unless_asked_for() {
    let mut input = core_event("a");
    input["metadata"]["managedFields"] = json!([{"manager": "kubelet", "operation": "Update"}]);
    let dropped = event_from_value(input.clone(), &ParseOptions::default()).unwrap();
    assert_eq!(dropped.residual(), None);
    let kept = event_from_value(input.clone(), &ParseOptions { keep_managed_fields: true, ..ParseOptions::default() })
        .unwrap();
    assert_eq!(to_value(&kept, ApiShape::CoreV1), input);
}

#[test]
fn objects_that_are_not_events_are_rejected_by_name() {
    let opts = ParseOptions::default();
    let check = |v: Value, msg: &str| assert_eq!(event_from_value(v, &opts).unwrap_err(), msg);
    check(json!({"kind": "Pod", "metadata": {}}), "not an Event: kind Pod");
    check(json!({"metadata": {"name": "x"}, "spec": {}}), "not an Event: no kind and no Event fields");
    check(json!({"kind": "Event", "metadata": null}), "metadata: expected an object, got null");
    check(json!([1]), "expected an object, got an array");
}

/// A reader that hands out at most 7 bytes at a time, then fails.
struct Trickle<'a> {
    data: &'a [u8],
    fail_at_end: bool,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.data.is_empty() && self.fail_at_end {
            return Err(io::Error::other("disk on fire"));
        }
        let n = buf.len().min(7).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn stream(input: &[u8], batch: usize) -> (Parsed, usize) {
    let mut all = Parsed::default();
    let mut calls = 0;
    parse_reader(Trickle { data: input, fail_at_end: false }, &ParseOptions::default(), batch, |p: Parsed| {
        assert!(p.events.len() <= batch && p.errors.len() <= batch);
        calls += 1;
        all.events.extend(p.events);
        all.errors.extend(p.errors);
        io::Result::Ok(())
    })
    .unwrap();
    (all, calls)
}

#[test]
fn parse_reader_in_batches_matches_parse_bytes_for_every_format() {
    let pod = json!({"kind": "Pod", "metadata": {"name": "p"}});
    let list = json!({"kind": "EventList", "items": [core_event("a"), pod, core_event("b"), core_event("c")]});
    let ndjson = [core_event("a").to_string(), "{broken".into(), events_v1_event("b").to_string()].join("\n");
    let yaml = format!(
        "{}---\n{}",
        serde_norway::to_string(&list).unwrap(),
        serde_norway::to_string(&core_event("d")).unwrap()
    );
    let inputs = [
        format!("{list:#}"),
        format!("{list:#}\n{:#}\n[{:#}, 5]", core_event("x"), pod),
        ndjson,
        yaml,
        "\u{feff}{\"kind\":\"Event\"}\n".to_owned(),
        format!("\n\n  {}", json!([core_event("a"), core_event("b")])),
    ];
    for input in &inputs {
        let whole = parse_bytes(input.as_bytes(), &ParseOptions::default());
        assert!(!whole.events.is_empty() || !whole.errors.is_empty(), "{input}");
        for batch in [1, 2, 1000] {
            let (streamed, calls) = stream(input.as_bytes(), batch);
            assert_eq!(streamed, whole, "batch {batch}: {input}");
            assert!(calls >= whole.events.len().div_ceil(batch), "batch {batch}");
        }
    }
}

#[test]
fn a_sink_error_stops_parsing_and_io_errors_are_returned() {
    let input = (0..10).map(|i| core_event(&format!("e{i}")).to_string()).collect::<Vec<_>>().join("\n");
    let mut calls = 0;
    let result = parse_reader(input.as_bytes(), &ParseOptions::default(), 3, |_| {
        calls += 1;
        Err(io::Error::other("store full"))
    });
    assert_eq!(result.unwrap_err().to_string(), "store full");
    assert_eq!(calls, 1);

    let mut got = 0;
    let pretty = format!("{:#}\n{:#}", json!([core_event("a")]), json!([core_event("b")]));
    let truncated = &pretty.as_bytes()[..pretty.len() - 20];
    let result = parse_reader(Trickle { data: truncated, fail_at_end: true }, &ParseOptions::default(), 1, |p| {
        got += p.events.len();
        io::Result::Ok(())
    });
    assert_eq!(result.unwrap_err().to_string(), "disk on fire");
    assert_eq!(got, 1, "the complete first document was handed on before the failure");
}

/// A `kubectl cluster-info dump`-like stream: lists of other kinds, an
/// EventList, log sections whose lines start with `[` and `{`, a broken
/// document, then more events. Dump mode keeps every event, counts the
/// other objects, and reads past the text; strict mode stops at the text.
#[test]
fn dumps_keep_events_and_skip_the_rest() {
    let node_list = json!({"kind": "NodeList", "apiVersion": "v1", "metadata": {}, "items": [
        {"metadata": {"name": "n1"}, "spec": {}, "status": {}}]});
    let event_list = json!({"kind": "EventList", "apiVersion": "v1", "metadata": {}, "items": [
        core_event("a"), core_event("b")]});
    let pods = json!({"kind": "PodList", "items": [{"kind": "Pod", "metadata": {"name": "p"}}]});
    let input = format!(
        "{}\n{}\n==== START logs for container c of pod ns/p ====\n[INFO] plugin/reload: ok\n{{\"level\":\"info\",\"msg\":\"x\"}}\n  indented text\n==== END logs ====\n{{\"kind\": \"EventList\", \"items\": [\n{}\n]}}\n{}\n",
        serde_json::to_string_pretty(&node_list).unwrap(),
        serde_json::to_string_pretty(&event_list).unwrap(),
        serde_json::to_string_pretty(&core_event("c")).unwrap(),
        serde_json::to_string_pretty(&pods).unwrap(),
    );
    let dump = ParseOptions { events_only: true, ..ParseOptions::default() };
    let whole = parse_bytes(input.as_bytes(), &dump);
    let names: Vec<&str> = whole.events.iter().map(|e| e.name()).collect();
    assert_eq!(names, ["a", "b", "c"], "errors: {:?}", whole.errors);
    assert!(whole.errors.is_empty(), "{:?}", whole.errors);
    // The node, the JSON log line and the pod list's pod.
    assert_eq!(whole.skipped, 3);
    // The same from a reader, cut into tiny reads.
    let mut streamed = Parsed::default();
    parse_reader(Trickle { data: input.as_bytes(), fail_at_end: false }, &dump, 2, |p: Parsed| -> io::Result<()> {
        streamed.events.extend(p.events);
        streamed.errors.extend(p.errors);
        streamed.skipped += p.skipped;
        Ok(())
    })
    .expect("parse");
    assert_eq!(streamed.events.iter().map(|e| e.name()).collect::<Vec<_>>(), names);
    assert_eq!(streamed.skipped, 3);
    // Without dump mode the node is an error and the log text ends the stream.
    let strict = parse(&input);
    assert_eq!(strict.events.iter().map(|e| e.name()).collect::<Vec<_>>(), ["a", "b"]);
    assert!(strict.errors.iter().any(|e| e.message.contains("not an Event")));
}

/// Old `cluster-info dump` output: Go field names, flattened metadata.
#[test]
fn go_field_names_are_read() {
    let input = r#"{"selfLink": "/api/v1/namespaces/kube-system/events", "Items": [
      {"name": "dns.1", "namespace": "kube-system", "uid": "u-1", "resourceVersion": "660",
       "creationTimestamp": "2018-02-24T05:34:30Z",
       "InvolvedObject": {"Kind": "Pod", "Namespace": "kube-system", "Name": "dns", "UID": "u-2", "APIVersion": "v1", "FieldPath": ""},
       "Reason": "Scheduled", "Message": "Successfully assigned dns to node2",
       "Source": {"Component": "default-scheduler", "Host": ""},
       "FirstTimestamp": "2018-02-24T05:34:30Z", "LastTimestamp": "2018-02-24T05:34:30Z",
       "Count": 1, "Type": "Normal", "EventTime": null, "Series": null, "Action": "", "Related": null}]}"#;
    let parsed = parse(input);
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    let e = &parsed.events[0];
    assert_eq!((e.name(), e.namespace(), e.uid(), e.reason()), ("dns.1", "kube-system", "u-1", "Scheduled"));
    assert_eq!(e.str(StrField::InvolvedObjectUid), Some("u-2"));
    assert_eq!(e.str(StrField::SourceComponent), Some("default-scheduler"));
    assert_eq!(e.int(IntField::Count), Some(1));
    assert!(e.residual().is_none(), "nothing left over: {:?}", e.residual());
}
