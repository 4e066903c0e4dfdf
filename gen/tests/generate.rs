//! The generator's contract: deterministic for a seed, different across
//! seeds, and every line an Event that kevdb's parser reads, with the
//! times, counts and resourceVersions the configuration promises.

use kevdb_engine::model::parse::{parse_bytes, ParseOptions};
use kevdb_engine::{ApiShape, StrField};
use kevdb_gen::{GenConfig, Generator};
use std::collections::HashMap;

/// 2026-11-17T00:00:00Z.
const END: i64 = 1_795_305_600;

fn config(seed: u64, clusters: usize) -> GenConfig {
    GenConfig { observations: 5_000, days: 3, seed, clusters, end_secs: END, events_api_share: 0.3 }
}

fn lines(cfg: GenConfig) -> Vec<String> {
    Generator::new(cfg).collect()
}

/// FNV-1a over the lines, each followed by a newline (the NDJSON bytes).
fn digest(lines: &[String]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in lines.iter().flat_map(|l| l.bytes().chain([b'\n'])) {
        h = (h ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[test]
fn same_seed_same_output_and_different_seeds_differ() {
    let a = lines(config(7, 2));
    assert_eq!(a.len(), 5_000);
    assert_eq!(a, lines(config(7, 2)));
    let b = lines(config(8, 2));
    assert_eq!(b.len(), 5_000);
    let shared = a.iter().zip(&b).filter(|(x, y)| x == y).count();
    assert_eq!(shared, 0, "seeds 7 and 8 produced {shared} identical lines");
}

/// Benchmark figures in docs/BENCHMARKS.md name a seed; the data behind them
/// must not change by accident. Update this digest only with a deliberate
/// change to what the generator produces (and say so in BENCHMARKS.md).
#[test]
fn output_for_a_seed_is_pinned() {
    assert_eq!(digest(&lines(config(7, 2))), 0xddce_a07f_6473_0da1, "generator output for seed 7 changed");
}

#[test]
fn every_line_is_an_event_the_parser_reads() {
    let cfg = config(11, 3);
    let span = cfg.days as i64 * 86_400;
    let lines = lines(cfg);
    let ndjson = lines.join("\n");
    let parsed = parse_bytes(ndjson.as_bytes(), &ParseOptions::default());
    assert!(parsed.errors.is_empty(), "first error: {:?}", parsed.errors.first());
    assert_eq!(parsed.events.len(), lines.len());

    let mut events_api = 0;
    let mut last_rv = 0u64;
    let mut last_count_by_uid: HashMap<String, i64> = HashMap::new();
    for (event, line) in parsed.events.iter().zip(&lines) {
        assert!(!event.uid().is_empty() && !event.reason().is_empty(), "{line}");
        assert!(line.contains(r#""annotations":{"kevdb.io/cluster":"prod"#), "{line}");
        if event.shape() == ApiShape::EventsV1 {
            events_api += 1;
        }
        let first = event.first_seen().expect("first seen").micros() / 1_000_000;
        let last = event.last_seen().expect("last seen").micros() / 1_000_000;
        // Episodes start within the span and run up to an hour past it.
        assert!(first >= END - span && first <= last && last <= END + 2 * 3600, "{line}");
        // One stream of rising resourceVersions, as a watch delivers them.
        let rv: u64 = event.str(StrField::MetadataResourceVersion).expect("rv").parse().expect("numeric rv");
        assert!(rv > last_rv, "{line}");
        last_rv = rv;
        // Re-deliveries of one event carry rising counts.
        let count = event.observed_count();
        assert!(count >= 1, "{line}");
        if let Some(previous) = last_count_by_uid.insert(event.uid().to_owned(), count) {
            assert!(count > previous, "{line}");
        }
    }
    let share = events_api as f64 / lines.len() as f64;
    assert!((0.2..0.4).contains(&share), "events.k8s.io/v1 share {share}, configured 0.3");
    assert!(last_count_by_uid.len() < lines.len(), "no event was re-delivered");
}
