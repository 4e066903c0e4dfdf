//! Any bytes given to the event parser, in ordinary and in dump mode
//! (chosen by the first byte): no panic, and every event it returns renders
//! and parses back to itself.
#![no_main]

use kevdb_engine::model::parse::{parse_bytes, ParseOptions};
use kevdb_engine::model::render;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (opts, data) = match data.split_first() {
        Some((mode, rest)) => (ParseOptions { events_only: mode & 1 == 1, ..ParseOptions::default() }, rest),
        None => (ParseOptions::default(), data),
    };
    let parsed = parse_bytes(data, &opts);
    for event in parsed.events {
        let json = render::to_json(&event, event.shape());
        let again = parse_bytes(json.as_bytes(), &ParseOptions::default());
        assert!(again.errors.is_empty(), "{json}: {:?}", again.errors);
        assert_eq!(again.events.len(), 1);
        assert_eq!(render::to_json(&again.events[0], event.shape()), json);
    }
});
