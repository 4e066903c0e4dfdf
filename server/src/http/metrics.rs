//! `/metrics` in the Prometheus text exposition format: ingest counters,
//! storage gauges from `Db::stats()`, and request counts and latency
//! histograms per route kind (list, get, watch, write, other), plus the
//! number of open watches. Counters are process-wide atomics.

use super::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

static ACCEPTED: AtomicU64 = AtomicU64::new(0);
static DUPLICATES: AtomicU64 = AtomicU64::new(0);
static REJECTED: AtomicU64 = AtomicU64::new(0);
static WATCHERS: AtomicU64 = AtomicU64::new(0);

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];
const KINDS: [&str; 5] = ["list", "get", "watch", "write", "other"];

struct Histogram {
    requests: AtomicU64,
    buckets: [AtomicU64; BUCKETS.len()],
    sum_micros: AtomicU64,
}

impl Histogram {
    const fn new() -> Histogram {
        Histogram {
            requests: AtomicU64::new(0),
            buckets: [const { AtomicU64::new(0) }; BUCKETS.len()],
            sum_micros: AtomicU64::new(0),
        }
    }
}

static REQUESTS: [Histogram; KINDS.len()] = [const { Histogram::new() }; KINDS.len()];

/// Counts what one append did.
pub(crate) fn record_append(accepted: usize, duplicates: usize, rejected: usize) {
    ACCEPTED.fetch_add(accepted as u64, Relaxed);
    DUPLICATES.fetch_add(duplicates as u64, Relaxed);
    REJECTED.fetch_add(rejected as u64, Relaxed);
}

/// What a request does, for metrics and admission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    List = 0,
    Get = 1,
    Watch = 2,
    Write = 3,
    Other = 4,
}

/// The route kind of a request, by method, path and `watch` parameter.
pub(crate) fn kind(method: &Method, path: &str, query: Option<&str>) -> Kind {
    let is_events = path.ends_with("/events");
    if *method == Method::POST {
        return Kind::Write;
    }
    let watch = query.is_some_and(|q| q.split('&').any(|kv| kv == "watch=true" || kv == "watch=1" || kv == "watch"));
    if *method != Method::GET {
        Kind::Other
    } else if is_events && watch {
        Kind::Watch
    } else if is_events {
        Kind::List
    } else if path.contains("/events/") {
        Kind::Get
    } else {
        Kind::Other
    }
}

/// Keeps the open-watch gauge up while a watch response is streaming.
struct WatchGuard;

impl Drop for WatchGuard {
    fn drop(&mut self) {
        WATCHERS.fetch_sub(1, Relaxed);
    }
}

/// Middleware: counts every request and its time to the response head.
pub(crate) async fn track(req: Request, next: Next) -> Response {
    let k = kind(req.method(), req.uri().path(), req.uri().query());
    let start = Instant::now();
    let res = next.run(req).await;
    let h = &REQUESTS[k as usize];
    let secs = start.elapsed().as_secs_f64();
    h.requests.fetch_add(1, Relaxed);
    h.sum_micros.fetch_add((secs * 1e6) as u64, Relaxed);
    for (i, b) in BUCKETS.iter().enumerate() {
        if secs <= *b {
            h.buckets[i].fetch_add(1, Relaxed);
        }
    }
    if k == Kind::Watch && res.status().is_success() {
        WATCHERS.fetch_add(1, Relaxed);
        let guard = WatchGuard;
        let (parts, body) = res.into_parts();
        let stream = body.into_data_stream().map(move |chunk| {
            let _ = &guard;
            chunk
        });
        return Response::from_parts(parts, Body::from_stream(stream));
    }
    res
}

/// `GET /metrics`.
pub(crate) async fn handler(State(state): State<Arc<AppState>>) -> Response {
    let db = state.db.clone();
    let stats = tokio::task::spawn_blocking(move || db.stats()).await.ok();
    let mut out = String::new();
    let mut counter = |name: &str, help: &str, v: u64| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}");
    };
    counter("kevdb_ingest_accepted_total", "Observations stored.", ACCEPTED.load(Relaxed));
    counter(
        "kevdb_ingest_duplicates_total",
        "Re-deliveries of stored observations (no-ops).",
        DUPLICATES.load(Relaxed),
    );
    counter(
        "kevdb_ingest_rejected_total",
        "Records refused (parse errors and engine rejections).",
        REJECTED.load(Relaxed),
    );
    let mut gauge = |name: &str, help: &str, v: u64| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
    };
    gauge("kevdb_watchers", "Open watch streams.", WATCHERS.load(Relaxed));
    let health = state.db.health();
    gauge(
        "kevdb_poisoned",
        "1 when the database refuses writes after a failed write or a failed background thread.",
        u64::from(health.poisoned.is_some()),
    );
    gauge("kevdb_damage_reports", "Damaged files or blocks found (not served).", health.damage_count);
    if let Some(s) = stats {
        gauge("kevdb_last_seq", "Highest sequence number assigned.", s.last_seq);
        gauge("kevdb_observations", "Stored observations (sealed and in memory).", s.segment_rows + s.memtable_rows);
        gauge("kevdb_memtable_observations", "Observations in the in-memory buffer.", s.memtable_rows);
        gauge("kevdb_superseded_observations", "Observations superseded by newer ones.", s.superseded);
        gauge("kevdb_segments", "Live segments.", s.segments as u64);
        gauge("kevdb_partitions", "Partitions (days) with segments.", s.partitions as u64);
        gauge("kevdb_segment_bytes", "Bytes of live segments.", s.segment_bytes);
        gauge("kevdb_wal_bytes", "Bytes of WAL files.", s.wal_bytes);
        gauge("kevdb_disk_bytes", "Bytes on disk (segments and WAL).", s.segment_bytes + s.wal_bytes);
        gauge("kevdb_cache_bytes", "Bytes of decoded row groups held for later queries.", s.cache_bytes);
    }
    let _ = writeln!(
        out,
        "# HELP kevdb_http_requests_total HTTP requests by route kind.\n# TYPE kevdb_http_requests_total counter"
    );
    for (k, h) in KINDS.iter().zip(REQUESTS.iter()) {
        let _ = writeln!(out, "kevdb_http_requests_total{{kind=\"{k}\"}} {}", h.requests.load(Relaxed));
    }
    let _ = writeln!(
        out,
        "# HELP kevdb_http_request_duration_seconds Time to the response head by route kind.\n# TYPE kevdb_http_request_duration_seconds histogram"
    );
    for (k, h) in KINDS.iter().zip(REQUESTS.iter()) {
        for (b, c) in BUCKETS.iter().zip(h.buckets.iter()) {
            let _ = writeln!(
                out,
                "kevdb_http_request_duration_seconds_bucket{{kind=\"{k}\",le=\"{b}\"}} {}",
                c.load(Relaxed)
            );
        }
        let n = h.requests.load(Relaxed);
        let _ = writeln!(out, "kevdb_http_request_duration_seconds_bucket{{kind=\"{k}\",le=\"+Inf\"}} {n}");
        let _ = writeln!(
            out,
            "kevdb_http_request_duration_seconds_sum{{kind=\"{k}\"}} {}",
            h.sum_micros.load(Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "kevdb_http_request_duration_seconds_count{{kind=\"{k}\"}} {n}");
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], out).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(kind(&Method::GET, "/api/v1/events", None), Kind::List);
        assert_eq!(kind(&Method::GET, "/api/v1/namespaces/a/events/x", None), Kind::Get);
        assert_eq!(kind(&Method::GET, "/api/v1/events", Some("watch=true")), Kind::Watch);
        assert_eq!(kind(&Method::POST, "/kevdb/v1/ingest", None), Kind::Write);
        assert_eq!(kind(&Method::GET, "/healthz", None), Kind::Other);
    }
}
