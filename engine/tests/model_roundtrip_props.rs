//! Property tests: for generated Event objects of both shapes (every key
//! absent, `null` or set; unicode strings; timestamps with and without
//! microseconds, canonical or not; labels, annotations, unknown keys),
//! rendering a parsed object gives the object back, parsing a rendering gives
//! the event back, and a trip through the other shape loses nothing.

use chrono::{DateTime, FixedOffset, SecondsFormat};
use kevdb_engine::model::parse::{event_from_value, parse_bytes, ParseOptions};
use kevdb_engine::model::presence;
use kevdb_engine::model::render::{to_json, to_value, to_yaml};
use kevdb_engine::model::time::parse_rfc3339;
use kevdb_engine::{ApiShape, Event, IntField, StrField, TimeField, Timestamp};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// Seconds in 1970..2100.
const MAX_SECS: i64 = 4_102_444_800;

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z0-9.-]{0,24}",
        2 => any::<String>(),
        1 => Just("null".to_owned()),
        1 => Just(String::new()),
        1 => "[ \u{e9}\u{4e2d}\u{1f600}\"\\\\\n\t]{1,8}",
    ]
}

/// A value for a string key: usually a string, sometimes a number or a
/// boolean (accepted, as YAML writes them unquoted).
fn str_value() -> BoxedStrategy<Value> {
    prop_oneof![
        12 => text().prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<bool>().prop_map(Value::from),
    ]
    .boxed()
}

/// A timestamp in many spellings; `micro` picks the canonical precision.
fn time_value(micro: bool) -> BoxedStrategy<Value> {
    (0..MAX_SECS, 0..1_000_000_000u32, -14..=14i32, 0..8u8)
        .prop_map(move |(secs, nanos, hours, style)| {
            let canonical_nanos = if micro { nanos / 1000 * 1000 } else { 0 };
            let utc = |nanos| DateTime::from_timestamp(secs, nanos).expect("in range");
            let text = match style {
                0..=3 => {
                    let precision = if micro { SecondsFormat::Micros } else { SecondsFormat::Secs };
                    utc(canonical_nanos).to_rfc3339_opts(precision, true)
                }
                4 => utc(nanos).to_rfc3339_opts(SecondsFormat::Nanos, true),
                5 => {
                    let offset = FixedOffset::east_opt(hours * 3600).expect("valid offset");
                    utc(canonical_nanos).with_timezone(&offset).to_rfc3339_opts(SecondsFormat::AutoSi, false)
                }
                6 => utc(canonical_nanos).to_rfc3339_opts(SecondsFormat::Millis, true),
                _ => "null".to_owned(),
            };
            Value::from(text)
        })
        .boxed()
}

fn int_value() -> BoxedStrategy<Value> {
    any::<i32>().prop_map(Value::from).boxed()
}

fn json_leaf() -> BoxedStrategy<Value> {
    prop_oneof![
        text().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
        prop::collection::vec(text().prop_map(Value::from), 0..3).prop_map(Value::from),
    ]
    .boxed()
}

fn string_map() -> BoxedStrategy<Value> {
    prop::collection::btree_map("[a-z./-]{1,12}", text(), 0..4)
        .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k, Value::from(v))).collect()))
        .boxed()
}

/// A key that is absent (`None`), `null`, or holds a generated value.
fn key(value: BoxedStrategy<Value>) -> BoxedStrategy<Option<Value>> {
    prop_oneof![3 => Just(None), 1 => Just(Some(Value::Null)), 6 => value.prop_map(Some)].boxed()
}

/// An object from `(key, value strategy)` pairs; each key may be absent.
fn object(fields: Vec<(&'static str, BoxedStrategy<Value>)>) -> BoxedStrategy<Map<String, Value>> {
    let (names, values): (Vec<_>, Vec<_>) = fields.into_iter().map(|(n, v)| (n, key(v))).unzip();
    values
        .prop_map(move |values| names.iter().zip(values).filter_map(|(n, v)| v.map(|v| ((*n).to_owned(), v))).collect())
        .boxed()
}

/// A container key: absent, `null`, or an object of its fields.
fn container(fields: Vec<(&'static str, BoxedStrategy<Value>)>) -> BoxedStrategy<Value> {
    object(fields).prop_map(Value::Object).boxed()
}

fn metadata() -> BoxedStrategy<Value> {
    let fields = object(vec![
        ("name", str_value()),
        ("generateName", text().prop_map(Value::from).boxed()),
        ("namespace", str_value()),
        ("uid", str_value()),
        ("resourceVersion", str_value()),
        ("creationTimestamp", time_value(false)),
        ("labels", string_map()),
        ("annotations", string_map()),
        ("x-unknown", json_leaf()),
    ]);
    fields.prop_map(Value::Object).boxed()
}

fn object_reference() -> BoxedStrategy<Value> {
    let names = ["kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"];
    let mut fields: Vec<_> = names.iter().map(|&n| (n, str_value())).collect();
    fields.push(("labels", string_map()));
    container(fields)
}

/// A generated Event object of `shape` (apiVersion may be left out).
fn event_object() -> impl Strategy<Value = Value> {
    let shape = prop_oneof![Just(ApiShape::CoreV1), Just(ApiShape::EventsV1), Just(ApiShape::EventsV1beta1)];
    (shape, any::<bool>(), any::<bool>()).prop_flat_map(|(shape, with_kind, with_api_version)| {
        let events = shape.is_events_group();
        let n = |core: &'static str, ev: &'static str| if events { ev } else { core };
        let top = object(vec![
            (n("involvedObject", "regarding"), object_reference()),
            ("reason", str_value()),
            (n("message", "note"), str_value()),
            (n("source", "deprecatedSource"), container(vec![("component", str_value()), ("host", str_value())])),
            (n("firstTimestamp", "deprecatedFirstTimestamp"), time_value(false)),
            (n("lastTimestamp", "deprecatedLastTimestamp"), time_value(false)),
            (n("count", "deprecatedCount"), int_value()),
            ("type", str_value()),
            ("eventTime", time_value(true)),
            (
                "series",
                container(vec![
                    ("count", int_value()),
                    ("lastObservedTime", time_value(true)),
                    ("state", text().prop_map(Value::from).boxed()),
                ]),
            ),
            ("action", str_value()),
            ("related", object_reference()),
            (n("reportingComponent", "reportingController"), str_value()),
            ("reportingInstance", str_value()),
            ("x-extension", json_leaf()),
        ]);
        (metadata(), top).prop_map(move |(metadata, top)| {
            let mut object = Map::new();
            if with_kind {
                object.insert("kind".into(), "Event".into());
            }
            if with_api_version {
                object.insert("apiVersion".into(), shape.api_version().into());
            }
            object.insert("metadata".into(), metadata);
            object.extend(top);
            if !with_kind && !object.contains_key("reason") {
                object.insert("reason".into(), "Generated".into()); // so it is recognisably an Event
            }
            Value::Object(object)
        })
    })
}

fn other_shape(shape: ApiShape) -> ApiShape {
    if shape.is_events_group() {
        ApiShape::CoreV1
    } else {
        ApiShape::EventsV1
    }
}

/// True when the object holds a parseable time at any timestamp key.
fn has_time(object: &Value) -> bool {
    let paths: [&[&str]; 8] = [
        &["metadata", "creationTimestamp"],
        &["firstTimestamp"],
        &["lastTimestamp"],
        &["deprecatedFirstTimestamp"],
        &["deprecatedLastTimestamp"],
        &["eventTime"],
        &["series", "lastObservedTime"],
        &["series", "lastObservedTime"],
    ];
    paths.iter().any(|path| {
        let v = path.iter().try_fold(object, |v, k| v.get(k));
        v.and_then(Value::as_str).and_then(parse_rfc3339).is_some()
    })
}

/// Two events hold the same data (the residual compared as JSON, since its
/// key order follows the input).
fn assert_same_event(a: &Event, b: &Event) {
    assert_eq!(a.shape(), b.shape());
    for &f in StrField::ALL {
        assert_eq!(a.str(f), b.str(f), "{f:?}");
    }
    for &f in TimeField::ALL {
        assert_eq!(a.time(f), b.time(f), "{f:?}");
    }
    for &f in IntField::ALL {
        assert_eq!(a.int(f), b.int(f), "{f:?}");
    }
    assert_eq!(a.presence(), b.presence());
    let residual = |e: &Event| e.residual().map(|r| serde_json::from_str::<Value>(r).expect("residual JSON"));
    assert_eq!(residual(a), residual(b));
}

fn parse_one(bytes: &[u8]) -> Event {
    let mut parsed = parse_bytes(bytes, &ParseOptions::default());
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    assert_eq!(parsed.events.len(), 1);
    parsed.events.remove(0)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn parsed_objects_render_back_and_reparse_to_the_same_event(input in event_object()) {
        let opts = ParseOptions::default();
        let event = event_from_value(input.clone(), &opts).expect("generated objects are valid");
        let rendered = to_value(&event, event.shape());
        let mut expected = input.clone();
        if !has_time(&input) {
            // Stamped on parse, as the API server does on create.
            let stamped = rendered["metadata"]["creationTimestamp"].clone();
            prop_assert!(stamped.is_string());
            expected["metadata"]["creationTimestamp"] = stamped;
        }
        prop_assert_eq!(&rendered, &expected);

        // render → bytes → parse gives the same event, in JSON and YAML.
        assert_same_event(&parse_one(to_json(&event, event.shape()).as_bytes()), &event);
        assert_same_event(&parse_one(to_yaml(&event, event.shape()).as_bytes()), &event);

        // Through the other shape and back.
        let other = to_value(&event, other_shape(event.shape()));
        prop_assert_eq!(&other["apiVersion"], other_shape(event.shape()).api_version());
        let converted = event_from_value(other, &opts).expect("converted object parses");
        let back = to_value(&converted, event.shape());
        let object = expected.as_object_mut().expect("object");
        object.insert("kind".into(), "Event".into());
        object.insert("apiVersion".into(), event.shape().api_version().into());
        prop_assert_eq!(back, expected);
    }

    #[test]
    fn events_built_in_code_survive_render_and_parse(
        shape in prop_oneof![Just(ApiShape::CoreV1), Just(ApiShape::EventsV1), Just(ApiShape::EventsV1beta1)],
        strs in prop::collection::vec(prop::option::of(text()), StrField::COUNT),
        secs in prop::collection::vec(prop::option::of(0..MAX_SECS), TimeField::COUNT),
        micros in 0..1_000_000i64,
        ints in prop::collection::vec(prop::option::of(any::<i32>()), IntField::COUNT),
    ) {
        let mut event = Event::new(shape);
        for (&f, s) in StrField::ALL.iter().zip(strs) {
            event.set_str(f, s);
        }
        for (&f, s) in TimeField::ALL.iter().zip(&secs) {
            // metav1.Time keeps whole seconds; MicroTime keeps microseconds.
            let micro = matches!(f, TimeField::EventTime | TimeField::SeriesLastObservedTime);
            let t = s.map(|s| Timestamp(s * 1_000_000 + if micro { micros } else { 0 }));
            event.set_time(f, t);
        }
        if secs.iter().all(Option::is_none) {
            event.set_time(TimeField::CreationTimestamp, Some(Timestamp::from_secs(1_700_000_000)));
        }
        for (&f, i) in IntField::ALL.iter().zip(ints) {
            event.set_int(f, i.map(i64::from));
        }
        // Without apiVersion the shape could only be guessed back.
        presence::canonicalize(&mut event);
        let v = to_value(&event, shape);
        prop_assert_eq!(&v["kind"], "Event");
        prop_assert_eq!(&v["apiVersion"], shape.api_version());
        let source = if shape.is_events_group() { "deprecatedSource" } else { "source" };
        prop_assert!(v[source].is_object());
        assert_same_event(&parse_one(to_json(&event, shape).as_bytes()), &event);
    }
}

/// A valid multi-record input to damage.
fn sample_input(pretty: bool) -> String {
    let event = |name: &str| {
        serde_json::json!({
            "kind": "Event", "apiVersion": "v1",
            "metadata": {"name": name, "creationTimestamp": "2024-05-01T10:00:00Z", "managedFields": [{"manager": "m"}]},
            "involvedObject": {"kind": "Pod", "name": "web-0"}, "reason": "BackOff", "count": 2,
            "firstTimestamp": "2024-05-01T10:00:00Z", "eventTime": null, "source": {}
        })
    };
    let list = serde_json::json!({"kind": "EventList", "items": [event("a"), event("b")]});
    if pretty {
        format!("{list:#}\n{:#}\n[{:#}]", event("c"), event("d"))
    } else {
        format!("{list}\n{}\n{}", event("c"), serde_json::json!({"type": "ADDED", "object": event("d")}))
    }
}

fn stream_all(bytes: &[u8], batch: usize) -> kevdb_engine::model::parse::Parsed {
    let mut all = kevdb_engine::model::parse::Parsed::default();
    kevdb_engine::model::parse::parse_reader(bytes, &ParseOptions::default(), batch, |p| {
        all.events.extend(p.events);
        all.errors.extend(p.errors);
        std::io::Result::Ok(())
    })
    .expect("no I/O error");
    all
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Damaged input (bytes replaced, cut, or inserted) never panics, and
    /// streaming it gives exactly what parsing it whole gives.
    #[test]
    fn damaged_input_never_panics_and_streams_like_parse_bytes(
        pretty in any::<bool>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 0..4),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut bytes = sample_input(pretty).into_bytes();
        for (at, byte, how) in edits {
            let i = at.index(bytes.len());
            match how {
                0 => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ => { bytes.remove(i); }
            }
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        let whole = parse_bytes(&bytes, &ParseOptions::default());
        for e in &whole.events {
            // Whatever was accepted renders and parses again.
            let again = parse_one(to_json(e, e.shape()).as_bytes());
            assert_same_event(&again, e);
        }
        prop_assert_eq!(stream_all(&bytes, 1), whole.clone());
        prop_assert_eq!(stream_all(&bytes, 1000), whole);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let whole = parse_bytes(&bytes, &ParseOptions::default());
        prop_assert_eq!(stream_all(&bytes, 3), whole);
    }
}
