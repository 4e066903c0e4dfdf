//! Criterion benches of kevdb-index over one segment of 1M realistic rows:
//! postings lookups and intersections, full-text term / phrase / prefix / NOT
//! queries. Prints build times and index bytes per row once.
//!
//! Data: with `KEVDB_BENCH_EVENTS=/path/events.ndjson` (e.g. from
//! `kevdb-bench gen --events 1000000`), the first `KEVDB_BENCH_ROWS`
//! (default 1M) events; otherwise rows synthesized from the real messages in
//! `tests/data/messages.txt` with varied numbers.
//!
//! Run: `cargo bench -p kevdb-index -- --quick`; with `--features internals`
//! it also measures a full-text index without message deduplication.

use std::hint::black_box;
use std::io::BufRead;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion};
use kevdb_index::{
    Field, FullTextBuilder, FullTextIndex, PostingsBuilder, PostingsReader, SharedBytes, TextQuery, FULLTEXT_ALIGN,
};

struct Row {
    values: [String; Field::COUNT],
    message: String,
}

fn rows() -> &'static [Row] {
    static ROWS: OnceLock<Vec<Row>> = OnceLock::new();
    ROWS.get_or_init(|| {
        let n = std::env::var("KEVDB_BENCH_ROWS").ok().and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
        match std::env::var("KEVDB_BENCH_EVENTS") {
            Ok(path) => load_ndjson(&path, n),
            Err(_) => synthesize(n),
        }
    })
}

fn load_ndjson(path: &str, n: usize) -> Vec<Row> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let text = |v: &serde_json::Value, path: &[&str]| {
        path.iter().try_fold(v, |v, key| v.get(key)).and_then(|v| v.as_str()).unwrap_or_default().to_owned()
    };
    std::io::BufReader::new(file)
        .lines()
        .take(n)
        .map(|line| {
            let e: serde_json::Value = serde_json::from_str(&line.expect("readable")).expect("JSON event");
            let object = if e.get("involvedObject").is_some() { "involvedObject" } else { "regarding" };
            let either = |a: &[&str], b: &[&str]| Some(text(&e, a)).filter(|s| !s.is_empty()).unwrap_or(text(&e, b));
            Row {
                values: [
                    text(&e, &["type"]),
                    text(&e, &["reason"]),
                    text(&e, &[object, "kind"]),
                    text(&e, &[object, "namespace"]),
                    text(&e, &[object, "name"]),
                    text(&e, &["metadata", "uid"]),
                    either(&["source", "component"], &["reportingController"]),
                    either(&["source", "host"], &["reportingInstance"]),
                    text(&e, &["metadata", "annotations", "kevdb.io/cluster"]),
                ],
                message: either(&["message"], &["note"]),
            }
        })
        .collect()
}

/// Rows whose messages are fixture messages (a skewed pick) with numbers varied.
fn synthesize(n: usize) -> Vec<Row> {
    let fixtures: Vec<&str> = include_str!("../tests/data/messages.txt").lines().collect();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |below: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % below as u64) as usize
    };
    (0..n)
        .map(|i| {
            let skew = next(fixtures.len()) * next(fixtures.len()) / fixtures.len();
            let mut message = String::new();
            let variant = next(40);
            for c in fixtures[skew].chars() {
                match c.to_digit(10) {
                    Some(d) => message.push(char::from_digit((d as usize + variant) as u32 % 10, 10).unwrap_or('0')),
                    None => message.push(c),
                }
            }
            let pick = |list: &[&str], k: usize| list[k % list.len()].to_owned();
            Row {
                values: [
                    pick(&["Normal", "Warning"], usize::from(next(5) == 0)),
                    pick(&["Scheduled", "Pulling", "Pulled", "Created", "Started", "BackOff", "Failed"], next(7)),
                    pick(&["Pod", "Node", "Deployment", "ReplicaSet", "Job"], next(5)),
                    format!("ns-{}", next(15)),
                    format!("pod-{}", next(150_000)),
                    format!("{:08x}-0000-4000-8000-{:012x}", i / 2, next(1 << 40)),
                    pick(&["kubelet", "default-scheduler", "job-controller"], next(3)),
                    format!("node-{}", next(30)),
                    String::new(),
                ],
                message,
            }
        })
        .collect()
}

/// `bytes` in a shared buffer at a `FULLTEXT_ALIGN`-aligned address (as the engine places blobs).
fn aligned(bytes: &[u8]) -> SharedBytes {
    let mut buf = vec![0u8; bytes.len() + FULLTEXT_ALIGN];
    let start = buf.as_ptr().align_offset(FULLTEXT_ALIGN);
    buf[start..start + bytes.len()].copy_from_slice(bytes);
    SharedBytes::from_arc(Arc::new(buf)).slice(start..start + bytes.len()).expect("in bounds")
}

fn postings_blob() -> &'static SharedBytes {
    static BLOB: OnceLock<SharedBytes> = OnceLock::new();
    BLOB.get_or_init(|| {
        let rows = rows();
        let start = Instant::now();
        let mut builder = PostingsBuilder::new();
        for (row, r) in rows.iter().enumerate() {
            for (field, value) in Field::ALL.iter().zip(&r.values) {
                builder.add(*field, value, row as u32);
            }
        }
        let blob = builder.serialize();
        eprintln!(
            "postings: {} rows, {} bytes = {:.1} B/row, built in {:.2?}",
            rows.len(),
            blob.len(),
            blob.len() as f64 / rows.len() as f64,
            start.elapsed()
        );
        let reader = PostingsReader::open(&blob).expect("valid");
        for field in Field::ALL {
            eprintln!("  {field}: {} values", reader.value_count(field));
        }
        aligned(&blob)
    })
}

fn build_fulltext(mut builder: FullTextBuilder, what: &str) -> SharedBytes {
    let rows = rows();
    let start = Instant::now();
    for (row, r) in rows.iter().enumerate() {
        builder.add(row as u32, &r.message);
    }
    let messages = builder.message_count();
    let blob = builder.finish().expect("indexing succeeds");
    eprintln!(
        "full text ({what}): {} rows, {messages} documents, {} bytes = {:.1} B/row, built in {:.2?}",
        rows.len(),
        blob.len(),
        blob.len() as f64 / rows.len() as f64,
        start.elapsed()
    );
    // Header word at offset 24 (see the layout in `kevdb_index::fulltext`): where the row map starts.
    let rowmap_at = u32::from_le_bytes(blob[24..28].try_into().expect("4 bytes")) as f64;
    eprintln!(
        "  tantivy files {:.1} B/row, message -> rows map {:.1} B/row",
        rowmap_at / rows.len() as f64,
        (blob.len() as f64 - rowmap_at) / rows.len() as f64
    );
    aligned(&blob)
}

fn fulltext_index() -> &'static FullTextIndex {
    static INDEX: OnceLock<FullTextIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        #[cfg(feature = "internals")]
        drop(build_fulltext(FullTextBuilder::without_dedup(), "one document per row"));
        FullTextIndex::open(build_fulltext(FullTextBuilder::new(), "one document per distinct message")).expect("valid")
    })
}

fn postings(c: &mut Criterion) {
    let blob = postings_blob();
    let reader = PostingsReader::open(blob).expect("valid");
    let top = |field| reader.values(field).expect("valid").max_by_key(|&(_, n)| n).expect("non-empty").0;
    let (normal, namespace) = (top(Field::Type), top(Field::Namespace));
    let (normal, namespace) = (&*normal, &*namespace);
    let a = reader.get(Field::Type, normal).expect("readable").expect("present");
    let b = reader.get(Field::Namespace, namespace).expect("readable").expect("present");
    eprintln!("intersecting type={normal} ({} rows) and namespace={namespace} ({} rows)", a.len(), b.len());
    let mut group = c.benchmark_group("postings");
    group.bench_function("open", |bench| bench.iter(|| PostingsReader::open(black_box(blob)).expect("valid")));
    group.bench_function("get_uid", |bench| {
        let uid = &rows()[rows().len() / 2].values[Field::Uid as usize];
        bench.iter(|| reader.get(Field::Uid, black_box(uid)).expect("readable").expect("present").len())
    });
    group.bench_function("and_two_views", |bench| bench.iter(|| black_box(&a).and(black_box(&b)).cardinality()));
    group.bench_function("get_two_and", |bench| {
        bench.iter(|| {
            let a = reader.get(Field::Type, black_box(normal)).expect("readable").expect("present");
            let b = reader.get(Field::Namespace, black_box(namespace)).expect("readable").expect("present");
            a.and(&b).cardinality()
        })
    });
    group.finish();
}

fn fulltext(c: &mut Criterion) {
    let index = fulltext_index();
    let mut group = c.benchmark_group("fulltext");
    for (name, q) in [
        ("term_frequent", "pulling"),
        ("term_medium", "mount"),
        ("term_rare", "782s"),
        ("term_absent", "oomkilled"),
        ("phrase", "\"back off restarting\""),
        ("phrase_frequent", "\"pulling image\""),
        ("prefix", "restart*"),
        ("and_not", "failed -image"),
        ("not_large", "NOT pulling"),
    ] {
        let query = TextQuery::parse(q).expect("parses");
        eprintln!("fulltext {name}: {q} -> {} rows", index.search(&query).expect("searches").cardinality());
        group.bench_function(name, |bench| bench.iter(|| index.search(black_box(&query)).expect("searches")));
    }
    group.finish();
}

criterion_group!(benches, postings, fulltext);
criterion_main!(benches);
