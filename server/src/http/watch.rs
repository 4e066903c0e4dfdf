//! Watch: a stream of `{"type": …, "object": …}` lines, one per observation,
//! from any resourceVersion inside retention (history first, then live),
//! with bookmarks and timeouts as the API server sends them.

use super::object::{event_value, Group};
use super::params::ListRequest;
use super::status::ApiError;
use super::table::table_value;
use super::AppState;
use axum::body::Body;
use axum::http::header;
use axum::response::Response;
use kevdb_engine::{Query, StoredEvent};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How often a bookmark is sent when asked for.
const BOOKMARK_EVERY: Duration = Duration::from_secs(10);
/// The longest a watch stays open.
const MAX_WATCH: Duration = Duration::from_secs(1800);

fn line(kind: &str, object: serde_json::Value) -> Vec<u8> {
    let mut b = serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap_or_default();
    b.push(b'\n');
    b
}

fn object(r: &StoredEvent, group: Group, table: bool) -> serde_json::Value {
    if table {
        table_value(std::slice::from_ref(r), r.seq.0, None, group.api_version())
    } else {
        event_value(r, group)
    }
}

fn bookmark(group: Group, seq: u64, initial_end: bool) -> Vec<u8> {
    let mut meta = json!({"resourceVersion": seq.to_string()});
    if initial_end {
        meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    line("BOOKMARK", json!({"kind": "Event", "apiVersion": group.api_version(), "metadata": meta}))
}

/// Starts a watch. Without a resourceVersion (or with "0"), the current
/// state is sent first as ADDED events, as the API server does.
pub async fn serve(state: Arc<AppState>, group: Group, req: ListRequest, table: bool) -> Result<Response, ApiError> {
    if let Some(rv) = req.resource_version.filter(|&rv| rv > 0) {
        let floor = state.db.resume_floor();
        if rv < floor {
            return Err(ApiError::gone(format!("too old resource version: {rv} ({floor})")));
        }
    }
    // Validate the text query before answering 200.
    let probe = Query { limit: Some(0), ..req.query.clone() };
    {
        let st = state.clone();
        super::blocking(move || Ok(st.db.query(&probe).map(drop)?)).await?;
    }
    let (tx, rx) = mpsc::channel::<Vec<u8>>(256);
    let timeout = req.timeout_seconds.map_or(MAX_WATCH, |s| Duration::from_secs(s).min(MAX_WATCH));
    tokio::task::spawn_blocking(move || run(state, group, req, table, timeout, tx));
    let stream =
        futures_util::stream::unfold(
            rx,
            |mut rx| async move { rx.recv().await.map(|b| (Ok::<_, std::io::Error>(b), rx)) },
        );
    Response::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(stream))
        .map_err(ApiError::internal)
}

fn run(
    state: Arc<AppState>,
    group: Group,
    req: ListRequest,
    table: bool,
    timeout: Duration,
    tx: mpsc::Sender<Vec<u8>>,
) {
    let deadline = Instant::now() + timeout;
    let send = |b: Vec<u8>| tx.blocking_send(b).is_ok();
    let initial = req.send_initial_events.unwrap_or(matches!(req.resource_version, None | Some(0)));
    let mut from = req.resource_version.unwrap_or(0);
    if initial {
        // The current state (latest observation of each event), oldest first.
        let list = Query { order: kevdb_engine::Order::OldestFirst, ..req.query.clone() };
        let Ok(iter) = state.db.query(&list) else { return };
        from = iter.snapshot_seq();
        for r in iter {
            if !send(line("ADDED", object(&r, group, table))) {
                return;
            }
        }
        if req.allow_bookmarks && req.send_initial_events == Some(true) && !send(bookmark(group, from, true)) {
            return;
        }
    }
    let Ok(mut sub) = state.db.subscribe(&req.query, from) else { return };
    let mut last_bookmark = Instant::now();
    while Instant::now() < deadline {
        let wait = deadline.saturating_duration_since(Instant::now()).min(Duration::from_secs(1));
        match sub.next_timeout(wait) {
            Ok(Some(r)) => {
                let kind = if r.event.observed_count() > 1 { "MODIFIED" } else { "ADDED" };
                if !send(line(kind, object(&r, group, table))) {
                    return;
                }
            }
            Ok(None) => {
                if tx.is_closed() {
                    return;
                }
            }
            Err(_) => return,
        }
        if req.allow_bookmarks && last_bookmark.elapsed() >= BOOKMARK_EVERY {
            last_bookmark = Instant::now();
            if !send(bookmark(group, sub.position(), false)) {
                return;
            }
        }
    }
}
