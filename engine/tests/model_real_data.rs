//! Every real file under `shared/data/events/` parses without a record error,
//! into as many events as an independent count finds, and every event
//! renders back to its input object (less `managedFields`), in its own shape
//! and after a trip through the other shape.

use std::fs;
use std::path::{Path, PathBuf};

use kevdb_engine::model::parse::{event_from_value, parse_bytes, parse_reader, ParseOptions, Parsed};
use kevdb_engine::model::render::to_value;
use kevdb_engine::ApiShape;
use serde::Deserialize;
use serde_json::Value;

fn data_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/events");
    assert!(dir.is_dir(), "real event data missing: {} does not exist", dir.display());
    dir
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read data dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    walk(&data_dir(), &mut files);
    files.sort();
    assert!(files.len() > 100, "expected the whole data set, found {} files", files.len());
    files
}

/// The top-level documents of a file, read with plain serde_json /
/// serde_norway (not with kevdb's parser).
fn documents(bytes: &[u8]) -> Vec<Value> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace()).copied();
    if matches!(first, Some(b'{' | b'[')) {
        serde_json::Deserializer::from_slice(bytes).into_iter::<Value>().map(|doc| doc.expect("valid JSON")).collect()
    } else {
        serde_norway::Deserializer::from_slice(bytes)
            .map(|doc| Value::deserialize(doc).expect("valid YAML"))
            .filter(|doc| !doc.is_null())
            .collect()
    }
}

/// The event objects in a file, in order, as the API would show them:
/// list items, array elements, watch-event objects, without managedFields.
fn expected_events(bytes: &[u8]) -> Vec<Value> {
    let mut events = Vec::new();
    for doc in documents(bytes) {
        let items = match doc {
            Value::Array(items) => items,
            Value::Object(mut map) => match map.remove("items") {
                Some(Value::Array(items)) => items,
                _ => match map.remove("object") {
                    Some(object) if map.get("type").is_some_and(Value::is_string) => vec![object],
                    _ => vec![Value::Object(map)],
                },
            },
            other => panic!("unexpected document {other}"),
        };
        for mut item in items {
            assert_eq!(item["kind"].as_str().unwrap_or("Event"), "Event", "the data set holds only events");
            if let Some(meta) = item.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("managedFields");
            }
            events.push(item);
        }
    }
    events
}

fn other_shape(shape: ApiShape) -> ApiShape {
    if shape.is_events_group() {
        ApiShape::CoreV1
    } else {
        ApiShape::EventsV1
    }
}

#[test]
fn every_real_file_parses_completely_and_renders_back_exactly() {
    let opts = ParseOptions::default();
    let mut total = 0;
    let mut shapes = [0usize; 3];
    for path in files() {
        let name = path.strip_prefix(data_dir()).unwrap_or(&path).display().to_string();
        let bytes = fs::read(&path).expect("read file");
        let parsed = parse_bytes(&bytes, &opts);
        assert!(parsed.errors.is_empty(), "{name}: {:?}", parsed.errors);
        let expected = expected_events(&bytes);
        assert!(!expected.is_empty(), "{name}: no events counted");
        assert_eq!(parsed.events.len(), expected.len(), "{name}: event count");
        total += expected.len();
        for (i, (event, input)) in parsed.events.iter().zip(&expected).enumerate() {
            shapes[usize::from(event.shape().tag())] += 1;
            assert!(event.last_seen().is_some(), "{name} #{i}: no time");
            assert_eq!(&to_value(event, event.shape()), input, "{name} #{i}: own shape");

            // Through the other shape and back: the same object, now with
            // kind and apiVersion (always written when converting).
            let converted = to_value(event, other_shape(event.shape()));
            let reparsed = event_from_value(converted, &opts).expect("converted event parses");
            let back = to_value(&reparsed, event.shape());
            let mut with_type_meta = input.clone();
            let object = with_type_meta.as_object_mut().expect("object");
            object.insert("kind".into(), "Event".into());
            object.insert("apiVersion".into(), event.shape().api_version().into());
            assert_eq!(back, with_type_meta, "{name} #{i}: via {:?}", other_shape(event.shape()));
        }
    }
    // SOURCES.md counts 4935 events in events/ with a tolerant parser.
    assert_eq!(total, 4935);
    assert!(shapes.iter().all(|&n| n > 0), "all three shapes occur: {shapes:?}");
}

#[test]
fn streaming_every_real_file_in_small_batches_matches_parse_bytes() {
    let opts = ParseOptions::default();
    for path in files() {
        let bytes = fs::read(&path).expect("read file");
        let whole = parse_bytes(&bytes, &opts);
        let mut streamed = Parsed::default();
        let mut batches = 0;
        parse_reader(&bytes[..], &opts, 16, |batch: Parsed| -> std::io::Result<()> {
            assert!(batch.events.len() <= 16);
            batches += 1;
            streamed.events.extend(batch.events);
            streamed.errors.extend(batch.errors);
            Ok(())
        })
        .expect("no I/O error");
        assert_eq!(streamed, whole, "{}", path.display());
        assert_eq!(batches, whole.events.len().div_ceil(16), "{}", path.display());
    }
}

/// `cargo test --release -p kevdb-engine --test model_real_data -- --ignored --nocapture`
#[test]
#[ignore = "a measurement, run in release mode"]
fn parse_speed_on_the_largest_real_file() {
    let path = files().into_iter().max_by_key(|p| fs::metadata(p).map(|m| m.len()).unwrap_or(0)).expect("a file");
    let bytes = fs::read(&path).expect("read file");
    let opts = ParseOptions::default();
    let events = parse_bytes(&bytes, &opts).events.len();
    let rounds = 200;
    let start = std::time::Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(parse_bytes(std::hint::black_box(&bytes), &opts));
    }
    let secs = start.elapsed().as_secs_f64();
    let per_sec = (events * rounds) as f64 / secs;
    let mb_per_sec = (bytes.len() * rounds) as f64 / secs / 1e6;
    println!("{}: {events} events, {} bytes", path.display(), bytes.len());
    println!("parse_bytes: {per_sec:.0} events/s, {mb_per_sec:.1} MB/s (one thread)");
    let ndjson: Vec<u8> = parse_bytes(&bytes, &opts)
        .events
        .iter()
        .flat_map(|e| {
            let mut line = kevdb_engine::model::render::to_json(e, e.shape()).into_bytes();
            line.push(b'\n');
            line
        })
        .collect();
    let start = std::time::Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(parse_bytes(std::hint::black_box(&ndjson), &opts));
    }
    let per_sec = (events * rounds) as f64 / start.elapsed().as_secs_f64();
    println!("parse_bytes on the same events as NDJSON (no managedFields): {per_sec:.0} events/s");
    let start = std::time::Instant::now();
    for _ in 0..rounds {
        parse_reader(&bytes[..], &opts, 1024, |p| {
            std::hint::black_box(p);
            std::io::Result::Ok(())
        })
        .expect("no I/O error");
    }
    let per_sec = (events * rounds) as f64 / start.elapsed().as_secs_f64();
    println!("parse_reader (streaming EventList): {per_sec:.0} events/s");
    let parsed = parse_bytes(&bytes, &opts);
    let start = std::time::Instant::now();
    for _ in 0..rounds {
        for e in &parsed.events {
            std::hint::black_box(kevdb_engine::model::render::to_json(e, e.shape()));
        }
    }
    let per_sec = (events * rounds) as f64 / start.elapsed().as_secs_f64();
    println!("to_json: {per_sec:.0} events/s");
}
