//! Criterion micro benches of the engine's hot paths: parsing, the WAL row
//! codec, appending through the embedded API, and segment encode/decode.
//!
//! `cargo bench -p kevdb-bench --bench engine`

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use kevdb_engine::internals::{decode_event, encode_event, read_segment_file, write_segment_file, ByteReader};
use kevdb_engine::model::parse::{parse_bytes, ParseOptions};
use kevdb_engine::{Db, Event, GroupBy, Options, Query, SeqNo, StoredEvent, SyncPolicy};
use kevdb_gen::{GenConfig, Generator};

fn ndjson(n: u64, seed: u64) -> String {
    let cfg = GenConfig { observations: n, days: 7, seed, clusters: 1, end_secs: 1_795_000_000, events_api_share: 0.2 };
    let mut s = String::new();
    for line in Generator::new(cfg) {
        s.push_str(&line);
        s.push('\n');
    }
    s
}

fn events(n: u64, seed: u64) -> Vec<Event> {
    parse_bytes(ndjson(n, seed).as_bytes(), &ParseOptions::default()).events
}

fn parsing(c: &mut Criterion) {
    let input = ndjson(4096, 1);
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Elements(4096));
    g.bench_function("ndjson_4096_events", |b| b.iter(|| parse_bytes(input.as_bytes(), &ParseOptions::default())));
    g.finish();
}

fn row_codec(c: &mut Criterion) {
    let evs = events(4096, 2);
    let mut encoded = Vec::new();
    for e in &evs {
        encode_event(&mut encoded, e);
    }
    let mut g = c.benchmark_group("wal_row");
    g.throughput(Throughput::Elements(evs.len() as u64));
    g.bench_function("encode_4096", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(encoded.len());
            for e in &evs {
                encode_event(&mut out, e);
            }
            out
        })
    });
    g.bench_function("decode_4096", |b| {
        b.iter(|| {
            let mut r = ByteReader::new(&encoded);
            (0..evs.len()).map(|_| decode_event(&mut r).map(|_| ())).collect::<Result<Vec<_>, _>>()
        })
    });
    g.finish();
}

fn append(c: &mut Criterion) {
    let mut g = c.benchmark_group("append");
    g.throughput(Throughput::Elements(4096));
    g.sample_size(20);
    for (name, sync) in [("fsync_per_commit", SyncPolicy::Always), ("no_fsync", SyncPolicy::Never)] {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Db::open(dir.path(), Options { sync, background: false, ..Options::default() }).expect("open");
        let mut seed = 100;
        g.bench_function(name, |b| {
            b.iter_batched(
                || {
                    seed += 1;
                    events(4096, seed)
                },
                |batch| db.append(batch).expect("append"),
                BatchSize::PerIteration,
            )
        });
        db.close().expect("close");
    }
    g.finish();
}

fn segments(c: &mut Criterion) {
    let mut rows: Vec<StoredEvent> = events(16 * 1024, 3)
        .into_iter()
        .enumerate()
        .map(|(i, event)| StoredEvent { seq: SeqNo(i as u64 + 1), event })
        .collect();
    rows.sort_by_key(|r| (r.last_seen(), r.seq));
    let dir = tempfile::tempdir().expect("tempdir");
    let mut g = c.benchmark_group("segment");
    g.throughput(Throughput::Elements(rows.len() as u64));
    g.sample_size(20);
    let mut id = 0;
    g.bench_function("write_16k_rows", |b| {
        b.iter(|| {
            id += 1;
            write_segment_file(dir.path(), id, &rows).expect("write")
        })
    });
    let path = write_segment_file(dir.path(), u64::MAX >> 8, &rows).expect("write");
    g.bench_function("read_16k_rows", |b| b.iter(|| read_segment_file(&path).expect("read")));
    g.finish();
}

fn queries(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::open(dir.path(), Options { background: false, ..Options::default() }).expect("open");
    for seed in 0..50 {
        db.append(events(4096, 1000 + seed)).expect("append");
    }
    db.flush().expect("flush");
    let warnings = Query::new().event_type("Warning");
    let mut g = c.benchmark_group("query");
    g.sample_size(20);
    g.throughput(Throughput::Elements(500));
    g.bench_function("first_page_500_warnings", |b| b.iter(|| db.query_page(&warnings, 500, None).expect("page")));
    let token = db.query_page(&warnings, 500, None).expect("page").continue_token.expect("more pages");
    g.bench_function("next_page_500_warnings", |b| {
        b.iter(|| db.query_page(&warnings, 500, Some(&token)).expect("page"))
    });
    g.throughput(Throughput::Elements(1));
    g.bench_function("count_warnings", |b| b.iter(|| db.count(&warnings).expect("count")));
    g.bench_function("top10_reasons", |b| {
        b.iter(|| db.count_by(&warnings, &[GroupBy::Reason], Some(10)).expect("top"))
    });
    g.finish();
    db.close().expect("close");
}

criterion_group!(benches, parsing, row_codec, append, segments, queries);
criterion_main!(benches);
