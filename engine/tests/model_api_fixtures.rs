//! The k8s.io/api round-trip fixtures (every field populated) for core/v1,
//! events.k8s.io/v1 and v1beta1, in JSON and YAML: each key lands in the
//! right slot, everything else in the residual, and rendering reproduces the
//! API server's own output.

use std::fs;
use std::path::{Path, PathBuf};

use kevdb_engine::model::parse::{parse_bytes, ParseOptions};
use kevdb_engine::model::presence::{self, Container, Slot};
use kevdb_engine::model::render::{to_json_pretty, to_value};
use kevdb_engine::model::time::parse_rfc3339;
use kevdb_engine::{ApiShape, Event, IntField, StrField, TimeField};
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/events/kubernetes__api");
    assert!(dir.is_dir(), "fixtures missing: {}", dir.display());
    dir.join(format!("testdata__HEAD__{name}"))
}

fn parse_one(name: &str, opts: &ParseOptions) -> Event {
    let bytes = fs::read(fixture(name)).expect("read fixture");
    let mut parsed = parse_bytes(&bytes, opts);
    assert!(parsed.errors.is_empty(), "{name}: {:?}", parsed.errors);
    assert_eq!(parsed.events.len(), 1, "{name}");
    parsed.events.remove(0)
}

fn time(s: &str) -> Option<kevdb_engine::Timestamp> {
    Some(parse_rfc3339(s).expect("valid time"))
}

/// Slots every fixture fills identically, whatever the shape.
fn assert_common_slots(e: &Event, name: &str) {
    use StrField::*;
    let expect = [
        (MetadataName, "nameValue"),
        (MetadataNamespace, "namespaceValue"),
        (MetadataUid, "uidValue"),
        (MetadataResourceVersion, "resourceVersionValue"),
        (InvolvedObjectKind, "kindValue"),
        (InvolvedObjectNamespace, "namespaceValue"),
        (InvolvedObjectName, "nameValue"),
        (InvolvedObjectUid, "uidValue"),
        (InvolvedObjectApiVersion, "apiVersionValue"),
        (InvolvedObjectResourceVersion, "resourceVersionValue"),
        (InvolvedObjectFieldPath, "fieldPathValue"),
        (Reason, "reasonValue"),
        (Type, "typeValue"),
        (Action, "actionValue"),
        (SourceComponent, "componentValue"),
        (SourceHost, "hostValue"),
        (ReportingInstance, "reportingInstanceValue"),
    ];
    for (field, value) in expect {
        assert_eq!(e.str(field), Some(value), "{name}: {field:?}");
    }
    assert_eq!(e.time(TimeField::CreationTimestamp), time("2008-01-01T01:01:01Z"), "{name}");
    assert_eq!(e.time(TimeField::SeriesLastObservedTime), time("2002-01-01T01:01:01.000002Z"), "{name}");
    assert_eq!(e.int(IntField::SeriesCount), Some(1), "{name}");
    assert_eq!(e.presence().0 & presence::KNOWN, presence::KIND | presence::API_VERSION, "{name}: nothing empty");

    // What the slots do not model is kept, under its original path.
    let residual: Value = serde_json::from_str(e.residual().expect("residual")).expect("residual is JSON");
    let meta = &residual["metadata"];
    assert_eq!(meta["generateName"], "generateNameValue", "{name}");
    assert_eq!(meta["selfLink"], "selfLinkValue", "{name}");
    assert_eq!(meta["generation"], 7, "{name}");
    assert_eq!(meta["deletionTimestamp"], "2009-01-01T01:01:01Z", "{name}");
    assert_eq!(meta["deletionGracePeriodSeconds"], 10, "{name}");
    assert_eq!(meta["labels"]["labelsKey"], "labelsValue", "{name}");
    assert_eq!(meta["annotations"]["annotationsKey"], "annotationsValue", "{name}");
    assert_eq!(meta["ownerReferences"][0]["blockOwnerDeletion"], true, "{name}");
    assert_eq!(meta["finalizers"][0], "finalizersValue", "{name}");
    assert!(meta.get("managedFields").is_none(), "{name}: managedFields dropped");
    assert!(meta.get("name").is_none(), "{name}: typed keys are not duplicated");
    assert_eq!(residual["related"]["fieldPath"], "fieldPathValue", "{name}");
    let keys: Vec<&str> = residual.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(keys, ["metadata", "related"], "{name}: residual holds only untyped keys");
}

#[test]
fn core_v1_fixture_fills_every_slot() {
    for name in ["core.v1.Event.json", "core.v1.Event.yaml"] {
        let e = parse_one(name, &ParseOptions::default());
        assert_eq!(e.shape(), ApiShape::CoreV1);
        assert_common_slots(&e, name);
        assert_eq!(e.str(StrField::Message), Some("messageValue"));
        assert_eq!(e.str(StrField::ReportingComponent), Some("reportingComponentValue"));
        assert_eq!(e.time(TimeField::FirstTimestamp), time("2006-01-01T01:01:01Z"));
        assert_eq!(e.time(TimeField::LastTimestamp), time("2007-01-01T01:01:01Z"));
        assert_eq!(e.time(TimeField::EventTime), time("2010-01-01T01:01:01.000010Z"));
        assert_eq!(e.int(IntField::Count), Some(8));
    }
}

#[test]
fn events_v1_and_v1beta1_fixtures_fill_every_slot() {
    for (name, shape) in [
        ("events.k8s.io.v1.Event.json", ApiShape::EventsV1),
        ("events.k8s.io.v1.Event.yaml", ApiShape::EventsV1),
        ("events.k8s.io.v1beta1.Event.json", ApiShape::EventsV1beta1),
        ("events.k8s.io.v1beta1.Event.yaml", ApiShape::EventsV1beta1),
    ] {
        let e = parse_one(name, &ParseOptions::default());
        assert_eq!(e.shape(), shape, "{name}");
        assert_common_slots(&e, name);
        // note → message, reportingController → reportingComponent,
        // deprecated* → the core/v1 slots.
        assert_eq!(e.str(StrField::Message), Some("noteValue"), "{name}");
        assert_eq!(e.str(StrField::ReportingComponent), Some("reportingControllerValue"), "{name}");
        assert_eq!(e.time(TimeField::FirstTimestamp), time("2013-01-01T01:01:01Z"), "{name}");
        assert_eq!(e.time(TimeField::LastTimestamp), time("2014-01-01T01:01:01Z"), "{name}");
        assert_eq!(e.time(TimeField::EventTime), time("2002-01-01T01:01:01.000002Z"), "{name}");
        assert_eq!(e.int(IntField::Count), Some(15), "{name}");
    }
}

#[test]
fn json_and_yaml_fixtures_give_the_same_event() {
    for stem in ["core.v1", "events.k8s.io.v1", "events.k8s.io.v1beta1"] {
        let json = parse_one(&format!("{stem}.Event.json"), &ParseOptions::default());
        let yaml = parse_one(&format!("{stem}.Event.yaml"), &ParseOptions::default());
        // YAML keys come sorted, so only the residual's key order differs.
        assert_eq!(to_value(&json, json.shape()), to_value(&yaml, yaml.shape()), "{stem}");
        assert_eq!(json.str(StrField::Message), yaml.str(StrField::Message));
    }
}

#[test]
fn json_fixtures_render_back_byte_for_byte_with_managed_fields_kept() {
    let keep = ParseOptions { keep_managed_fields: true, ..ParseOptions::default() };
    for stem in ["core.v1", "events.k8s.io.v1", "events.k8s.io.v1beta1"] {
        let name = format!("{stem}.Event.json");
        let text = fs::read_to_string(fixture(&name)).expect("read fixture");
        let e = parse_one(&name, &keep);
        // The fixture is the API server's own pretty output: same keys, same
        // order, same spelling.
        assert_eq!(to_json_pretty(&e, e.shape()), text.trim_end(), "{name}");
    }
}

#[test]
fn converting_between_shapes_moves_keys_as_the_api_server_does() {
    let core = parse_one("core.v1.Event.json", &ParseOptions::default());
    let v = to_value(&core, ApiShape::EventsV1);
    assert_eq!(v["apiVersion"], "events.k8s.io/v1");
    assert_eq!(v["note"], "messageValue");
    assert_eq!(v["regarding"]["fieldPath"], "fieldPathValue");
    assert_eq!(v["deprecatedSource"]["host"], "hostValue");
    assert_eq!(v["deprecatedFirstTimestamp"], "2006-01-01T01:01:01Z");
    assert_eq!(v["deprecatedLastTimestamp"], "2007-01-01T01:01:01Z");
    assert_eq!(v["deprecatedCount"], 8);
    assert_eq!(v["reportingController"], "reportingComponentValue");
    assert_eq!(v["metadata"]["labels"]["labelsKey"], "labelsValue");
    assert_eq!(v["related"]["name"], "nameValue");
    for core_only in
        ["message", "involvedObject", "source", "firstTimestamp", "lastTimestamp", "count", "reportingComponent"]
    {
        assert!(v.get(core_only).is_none(), "{core_only} renamed");
    }
    let keys: Vec<&str> = v.as_object().expect("object").keys().map(String::as_str).collect();
    let go_order = [
        "kind",
        "apiVersion",
        "metadata",
        "eventTime",
        "series",
        "reportingController",
        "reportingInstance",
        "action",
        "reason",
        "regarding",
        "related",
        "note",
        "type",
        "deprecatedSource",
        "deprecatedFirstTimestamp",
        "deprecatedLastTimestamp",
        "deprecatedCount",
    ];
    assert_eq!(keys, go_order);
    assert!(presence::has(core.presence(), presence::KIND));
    assert!(!presence::has(core.presence(), presence::empty_bit(Container::Source)));
    assert!(!presence::has(core.presence(), presence::null_bit(Slot::Time(TimeField::EventTime))));
}
