//! Writes: `POST …/namespaces/{namespace}/events` in both groups, as the API
//! server accepts them, and the bulk endpoint `POST /kevdb/v1/ingest` that
//! takes any format `model::parse` reads. All of it also under
//! `/clusters/{cluster}/`, where the path's cluster tags the events.
//!
//! A re-delivery of an observation already stored (same or older
//! resourceVersion) is a no-op in the engine; `POST` answers it with `200 OK`
//! and the stored object (not `409 AlreadyExists`), so exporters that retry
//! after a lost response see success.

use super::blocking;
use super::metrics;
use super::object::{event_value, Group};
use super::status::ApiError;
use super::AppState;
use axum::body::Body;
use axum::extract::{Path, Query as QueryParams, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use kevdb_engine::model::parse::{event_from_value, parse_bytes, ParseOptions};
use kevdb_engine::{Event, FieldFilter, Query, QueryField, SeqNo, StoredEvent};
use serde_json::{json, Map, Value};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

type PathParams = Path<HashMap<String, String>>;
type Params = QueryParams<HashMap<String, String>>;

/// Most rows looked through to find the observation just written.
const FIND_SCAN: usize = 10_000;

/// The write routes, without a cluster prefix.
pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/namespaces/{namespace}/events", post(create_core))
        .route("/apis/events.k8s.io/v1/namespaces/{namespace}/events", post(create_events))
        .route("/kevdb/v1/ingest", post(ingest))
}

/// Reads the whole body, refusing more than `max` bytes with a Status.
pub(crate) async fn read_body(headers: &HeaderMap, body: Body, max: usize) -> Result<axum::body::Bytes, ApiError> {
    let too_large = || ApiError::too_large(format!("the request body is larger than the {max} bytes allowed"));
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, max).await.map_err(|e| {
        // axum does not re-export the limit error type; its message (in the
        // error or one of its sources) tells it apart from a broken connection.
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(s) = source {
            if s.to_string().contains("length limit") {
                return too_large();
            }
            source = s.source();
        }
        ApiError::bad_request(format!("reading the request body: {e}"))
    })
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(ct) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

fn resource(group: Group) -> &'static str {
    match group {
        Group::Core => "events",
        Group::Events => "events.events.k8s.io",
    }
}

/// Checks and completes the object of a create request, as the API server
/// does before decoding it: `kind`, `apiVersion` and the namespace.
fn prepare(body: &[u8], group: Group, namespace: &str) -> Result<Value, ApiError> {
    let mut value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))?;
    let Some(obj) = value.as_object_mut() else {
        return Err(ApiError::bad_request("the request body must be a JSON object (one Event)"));
    };
    match obj.get("kind") {
        None | Some(Value::Null) => {
            obj.insert("kind".into(), json!("Event"));
        }
        Some(Value::String(k)) if k == "Event" => {}
        Some(other) => {
            return Err(ApiError::bad_request(format!("the kind in the data ({}) is not Event", text(other))))
        }
    }
    let expected = group.api_version();
    match obj.get("apiVersion") {
        None | Some(Value::Null) => {
            obj.insert("apiVersion".into(), json!(expected));
        }
        Some(Value::String(v)) if v == expected => {}
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({}) does not match the expected API version ({expected})",
                text(other)
            )))
        }
    }
    let meta = obj.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
    if meta.is_null() {
        *meta = Value::Object(Map::new());
    }
    let Some(meta) = meta.as_object_mut() else {
        return Err(ApiError::bad_request("metadata: expected an object"));
    };
    match meta.get("namespace") {
        None | Some(Value::Null) => {
            meta.insert("namespace".into(), json!(namespace));
        }
        Some(Value::String(ns)) if ns.is_empty() => {
            meta.insert("namespace".into(), json!(namespace));
        }
        Some(Value::String(ns)) if ns == namespace => {}
        Some(Value::String(_)) => {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ))
        }
        Some(_) => return Err(ApiError::bad_request("metadata.namespace: expected a string")),
    }
    match meta.get("name") {
        Some(Value::String(n)) if !n.is_empty() => {}
        None | Some(Value::Null) | Some(Value::String(_)) => {
            return Err(ApiError::invalid(format!(
                "{} \"\" is invalid: metadata.name: Required value: name or generateName is required",
                if group == Group::Core { "Event" } else { "Event.events.k8s.io" }
            )))
        }
        Some(_) => return Err(ApiError::bad_request("metadata.name: expected a string")),
    }
    Ok(value)
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The observation just stored (`seq`), or the latest one of the event.
fn find(
    state: &AppState,
    event: &Event,
    cluster: Option<&str>,
    seq: Option<u64>,
) -> Result<Option<StoredEvent>, ApiError> {
    let mut filters = vec![
        FieldFilter::is_in(QueryField::MetadataNamespace, [event.namespace().to_owned()]),
        FieldFilter::is_in(QueryField::MetadataName, [event.name().to_owned()]),
    ];
    if let Some(c) = cluster {
        filters.push(FieldFilter::is_in(QueryField::Cluster, [c.to_owned()]));
    }
    let uid = event.uid().to_owned();
    let query = Query { filters, history: seq.is_some(), limit: Some(FIND_SCAN), ..Query::default() };
    let mut first = None;
    for r in state.db.query(&query)? {
        let hit = match seq {
            Some(s) => r.seq.0 == s,
            None => uid.is_empty() || r.event.uid() == uid,
        };
        if hit {
            return Ok(Some(r));
        }
        if first.is_none() {
            first = Some(r);
        }
    }
    Ok(first)
}

async fn create(
    state: Arc<AppState>,
    group: Group,
    path: HashMap<String, String>,
    params: HashMap<String, String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    // `dryRun=All` (kubectl --dry-run=server): checked as usual, not stored.
    let dry_run = match params.get("dryRun").map(String::as_str) {
        None | Some("") => false,
        Some("All") => true,
        Some(v) => return Err(ApiError::bad_request(format!("invalid dryRun value {v:?}: only \"All\" is supported"))),
    };
    if !is_json(&headers) {
        let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        return Err(ApiError::unsupported(format!("the body of the request was in an unknown format - accepted media types include: application/json (got {ct:?})")));
    }
    let bytes = read_body(&headers, body, state.limits.max_body).await?;
    let namespace = path.get("namespace").cloned().unwrap_or_default();
    let cluster = path.get("cluster").cloned();
    let value = prepare(&bytes, group, &namespace)?;
    let mut event = event_from_value(value, &ParseOptions::default())
        .map_err(|m| ApiError::bad_request(format!("decoding the {}: {m}", resource(group))))?;
    if let Some(c) = &cluster {
        event.set_cluster(c.as_str());
    }
    if dry_run {
        return Ok(
            (StatusCode::CREATED, Json(event_value(&StoredEvent { seq: SeqNo(0), event }, group))).into_response()
        );
    }
    let probe = event.clone();
    let (status, stored) = blocking(move || {
        let report = state.db.append(vec![event])?;
        metrics::record_append(report.accepted, report.duplicates, report.rejected.len());
        if let Some(r) = report.rejected.first() {
            return Err(ApiError::invalid(format!(
                "{} \"{}\" is invalid: {}",
                resource(group),
                probe.name(),
                r.reason
            )));
        }
        let seq = report.seqs.as_ref().map(|s| *s.start());
        let status = if report.accepted > 0 { StatusCode::CREATED } else { StatusCode::OK };
        let stored = find(&state, &probe, cluster.as_deref(), seq)?;
        Ok((status, stored))
    })
    .await?;
    let Some(stored) = stored else {
        return Err(ApiError::internal("a written event was not found by a query right after"));
    };
    Ok((status, Json(event_value(&stored, group))).into_response())
}

async fn create_core(
    State(s): State<Arc<AppState>>,
    Path(p): PathParams,
    QueryParams(q): Params,
    h: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    create(s, Group::Core, p, q, h, body).await
}

async fn create_events(
    State(s): State<Arc<AppState>>,
    Path(p): PathParams,
    QueryParams(q): Params,
    h: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    create(s, Group::Events, p, q, h, body).await
}

/// The record index of each parsed event: every record is either an event
/// or an error, in input order, so events fill the indexes errors leave.
fn record_indexes(events: usize, error_records: &BTreeSet<usize>) -> Vec<usize> {
    let mut out = Vec::with_capacity(events);
    let mut i = 0usize;
    while out.len() < events {
        if !error_records.contains(&i) {
            out.push(i);
        }
        i += 1;
    }
    out
}

/// `POST /kevdb/v1/ingest`: a batch in any format `model::parse` reads.
async fn ingest(
    State(state): State<Arc<AppState>>,
    Path(path): PathParams,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = read_body(&headers, body, state.limits.max_body).await?;
    let cluster = path.get("cluster").cloned();
    let out = blocking(move || {
        let mut parsed = parse_bytes(&bytes, &ParseOptions::default());
        if let Some(c) = &cluster {
            for e in &mut parsed.events {
                e.set_cluster(c.as_str());
            }
        }
        let error_records: BTreeSet<usize> = parsed.errors.iter().map(|e| e.record).collect();
        let records = record_indexes(parsed.events.len(), &error_records);
        let mut errors: Vec<(usize, Option<usize>, String)> = parsed.errors.iter().map(|e| (e.record, e.line, e.message.clone())).collect();
        let parse_errors = parsed.errors.len();
        let report = if parsed.events.is_empty() { Default::default() } else { state.db.append(parsed.events)? };
        metrics::record_append(report.accepted, report.duplicates, report.rejected.len() + parse_errors);
        for r in &report.rejected {
            let record = records.get(r.index).copied().unwrap_or(r.index);
            errors.push((record, None, format!("rejected: {}", r.reason)));
        }
        errors.sort_by_key(|e| e.0);
        Ok(json!({
            "accepted": report.accepted,
            "duplicates": report.duplicates,
            "rejected": report.rejected.len() + parse_errors,
            "errors": errors.into_iter().map(|(record, line, message)| json!({"record": record, "line": line, "message": message})).collect::<Vec<_>>(),
        }))
    })
    .await?;
    Ok(Json(out).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_indexes_fill_gaps() {
        let errs: BTreeSet<usize> = [1, 3].into_iter().collect();
        assert_eq!(record_indexes(3, &errs), vec![0, 2, 4]);
    }

    #[test]
    fn prepare_checks_namespace_and_name() {
        let ok = prepare(br#"{"metadata":{"name":"a"}}"#, Group::Core, "ns").expect("valid");
        assert_eq!(ok["metadata"]["namespace"], "ns");
        assert_eq!(ok["apiVersion"], "v1");
        let e = prepare(br#"{"metadata":{"name":"a","namespace":"other"}}"#, Group::Core, "ns").expect_err("mismatch");
        assert_eq!(e.code, StatusCode::BAD_REQUEST);
        let e = prepare(br#"{"metadata":{}}"#, Group::Events, "ns").expect_err("no name");
        assert_eq!(e.code, StatusCode::UNPROCESSABLE_ENTITY);
        let e =
            prepare(br#"{"apiVersion":"v1","metadata":{"name":"a"}}"#, Group::Events, "ns").expect_err("wrong group");
        assert_eq!(e.code, StatusCode::BAD_REQUEST);
    }
}
