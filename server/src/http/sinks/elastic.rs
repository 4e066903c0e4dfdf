//! Enough of the Elasticsearch API for the elasticsearch sinks of
//! kubernetes-event-exporter (go-elasticsearch 7: a product check, then
//! `POST /{index}/_doc` or `PUT /{index}/_doc/{id}` per event) and
//! kube-eventer (olivere/elastic: `HEAD /`, index and alias checks, then
//! `POST /_bulk`). Every document becomes an archived event; index names
//! are accepted and ignored (kevdb partitions by time itself).
//!
//! Every response carries `X-Elastic-Product: Elasticsearch`, which the
//! official clients check. Errors use Elasticsearch's shape
//! `{"error":{"root_cause":[…],"type":…,"reason":…},"status":…}`; a bulk
//! request answers 200 with per-item results (kube-eventer cannot survive
//! a failed bulk response), failing only items that are not events.

use super::super::blocking;
use super::super::not_found;
use super::super::write::read_body;
use super::super::{metrics, AppState};
use super::document_event;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kevdb_engine::Event;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

type PathParams = Path<HashMap<String, String>>;

/// The Elasticsearch version kevdb answers as: 7.17 passes the product
/// checks of go-elasticsearch 7, opensearch-go and olivere/elastic 5–7.
const VERSION: &str = "7.17.0";

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(info))
        .route("/_nodes/http", get(nodes))
        .route("/_nodes", get(nodes))
        .route("/_aliases", post(acknowledged))
        .route("/_bulk", post(bulk).put(bulk))
        // These patterns also match paths of other APIs (`GET /openapi/v2`,
        // `GET /api/v1/pods`): a GET there is the API server's 404, not an
        // Elasticsearch answer, so Kubernetes clients probing them see no
        // difference.
        .route("/{index}", get(not_found).head(|| async { StatusCode::OK }).put(create_index))
        .route("/{index}/_alias", get(aliases))
        .route("/{index}/_aliases", get(aliases))
        .route("/{index}/_bulk", post(bulk).put(bulk))
        .route("/{index}/_doc", post(index_doc))
        .route("/{index}/_doc/{id}", post(index_doc).put(index_doc))
        .route("/{index}/_create/{id}", post(index_doc).put(index_doc))
        // Elasticsearch 6 style, with a document type in place of `_doc`.
        .route("/{index}/{doc_type}", get(not_found).post(index_doc))
        .route("/{index}/{doc_type}/{id}", get(not_found).post(index_doc).put(index_doc))
        .layer(axum::middleware::map_response(|mut r: Response| async move {
            r.headers_mut().insert("x-elastic-product", HeaderValue::from_static("Elasticsearch"));
            r
        }))
}

/// An error as Elasticsearch reports it.
#[derive(Debug)]
struct EsError {
    status: StatusCode,
    kind: &'static str,
    reason: String,
}

impl EsError {
    fn bad_request(kind: &'static str, reason: impl Into<String>) -> EsError {
        EsError { status: StatusCode::BAD_REQUEST, kind, reason: reason.into() }
    }
}

fn error_body(kind: &str, reason: &str) -> Value {
    json!({ "root_cause": [{ "type": kind, "reason": reason }], "type": kind, "reason": reason })
}

impl IntoResponse for EsError {
    fn into_response(self) -> Response {
        let body = json!({ "error": error_body(self.kind, &self.reason), "status": self.status.as_u16() });
        (self.status, Json(body)).into_response()
    }
}

impl From<super::super::status::ApiError> for EsError {
    fn from(e: super::super::status::ApiError) -> EsError {
        let kind = match e.code {
            StatusCode::PAYLOAD_TOO_LARGE => "content_too_long_exception",
            c if c.is_server_error() => "exception",
            _ => "illegal_argument_exception",
        };
        EsError { status: e.code, kind, reason: e.message }
    }
}

async fn info() -> Json<Value> {
    Json(json!({
        "name": "kevdb",
        "cluster_name": "kevdb",
        "cluster_uuid": "kevdb-events-archive",
        "version": {
            "number": VERSION,
            "build_flavor": "default",
            "build_type": "kevdb",
            "build_hash": "kevdb",
            "build_date": "2026-01-01T00:00:00.000Z",
            "build_snapshot": false,
            "lucene_version": "8.11.1",
            "minimum_wire_compatibility_version": "6.8.0",
            "minimum_index_compatibility_version": "6.0.0-beta1",
        },
        "tagline": "You Know, for Search",
    }))
}

/// olivere/elastic sniffs `/_nodes/http` and then talks to each node's
/// `publish_address`: answer with the address the client used.
async fn nodes(headers: HeaderMap) -> Json<Value> {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1:8080");
    Json(json!({
        "_nodes": { "total": 1, "successful": 1, "failed": 0 },
        "cluster_name": "kevdb",
        "nodes": { "kevdb": { "name": "kevdb", "version": VERSION, "http": { "publish_address": host } } },
    }))
}

async fn acknowledged() -> Json<Value> {
    Json(json!({ "acknowledged": true }))
}

async fn create_index(Path(path): PathParams) -> Json<Value> {
    let index = path.get("index").cloned().unwrap_or_default();
    Json(json!({ "acknowledged": true, "shards_acknowledged": true, "index": index }))
}

async fn aliases(Path(path): PathParams) -> Json<Value> {
    let index = path.get("index").cloned().unwrap_or_default();
    Json(json!({ index: { "aliases": {} } }))
}

/// What storing one document did, as a bulk item or `_doc` answer reports it.
fn item_result(index: &str, id: &str, accepted: bool, seq: u64) -> Value {
    json!({
        "_index": index,
        "_type": "_doc",
        "_id": id,
        "_version": 1,
        "result": if accepted { "created" } else { "noop" },
        "_shards": { "total": 1, "successful": 1, "failed": 0 },
        "_seq_no": seq,
        "_primary_term": 1,
        "status": if accepted { 201 } else { 200 },
    })
}

/// `POST /{index}/_doc`, `PUT /{index}/_doc/{id}`, `…/_create/{id}`.
async fn index_doc(
    State(state): State<Arc<AppState>>,
    Path(path): PathParams,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, EsError> {
    let bytes = read_body(&headers, body, state.limits.max_body).await?;
    let doc: Value = serde_json::from_slice(&bytes)
        .map_err(|e| EsError::bad_request("mapper_parsing_exception", format!("failed to parse the document: {e}")))?;
    let event = document_event(doc, path.get("cluster").map(String::as_str))
        .map_err(|m| EsError::bad_request("mapper_parsing_exception", format!("the document is not an event: {m}")))?;
    let index = path.get("index").cloned().unwrap_or_default();
    let id = path.get("id").cloned().unwrap_or_else(|| event.uid().to_owned());
    let report = blocking(move || Ok(state.db.append(vec![event])?)).await?;
    metrics::record_append(report.accepted, report.duplicates, report.rejected.len());
    if let Some(r) = report.rejected.first() {
        return Err(EsError::bad_request("mapper_parsing_exception", format!("the event was refused: {}", r.reason)));
    }
    let seq = report.seqs.as_ref().map_or(0, |s| *s.start());
    let mut result = item_result(&index, &id, report.accepted > 0, seq);
    let status = if report.accepted > 0 { StatusCode::CREATED } else { StatusCode::OK };
    if let Some(map) = result.as_object_mut() {
        map.remove("status");
    }
    Ok((status, Json(result)).into_response())
}

/// Where one bulk item stands.
#[derive(Debug)]
enum ItemState {
    /// An event waiting to be stored.
    Pending(Box<Event>),
    /// Stored (`accepted`) or already there.
    Stored { accepted: bool, seq: u64, uid: String },
    /// Not an event, or refused: why.
    Failed(String),
    /// Not stored because kevdb is holding writes back: retry later.
    Busy(String),
}

/// One action of a bulk request.
#[derive(Debug)]
struct BulkItem {
    action: String,
    index: String,
    id: Option<String>,
    state: ItemState,
}

/// Splits a bulk body into its actions. A malformed action line fails the
/// whole request, as in Elasticsearch; a source that is not an event fails
/// only its item.
fn parse_bulk(body: &[u8], path_index: &str, cluster: Option<&str>) -> Result<Vec<BulkItem>, EsError> {
    let mut lines = body.split(|&b| b == b'\n').enumerate().filter(|(_, l)| !l.trim_ascii().is_empty());
    let mut items = Vec::new();
    while let Some((n, line)) = lines.next() {
        let action: Value = serde_json::from_slice(line).map_err(|e| {
            EsError::bad_request("x_content_parse_exception", format!("line {}: malformed action: {e}", n + 1))
        })?;
        let Some((name, meta)) = action.as_object().filter(|o| o.len() == 1).and_then(|o| o.iter().next()) else {
            return Err(EsError::bad_request(
                "illegal_argument_exception",
                format!(
                    "line {}: an action line must be an object with one key (index, create, update, delete)",
                    n + 1
                ),
            ));
        };
        let index = meta.get("_index").and_then(Value::as_str).unwrap_or(path_index).to_owned();
        let id = meta.get("_id").and_then(Value::as_str).map(str::to_owned);
        let event = match name.as_str() {
            "index" | "create" => {
                let Some((_, source)) = lines.next() else {
                    return Err(EsError::bad_request(
                        "illegal_argument_exception",
                        format!("line {}: the {name} action has no source line", n + 1),
                    ));
                };
                serde_json::from_slice::<Value>(source)
                    .map_err(|e| format!("failed to parse the document: {e}"))
                    .and_then(|doc| {
                        document_event(doc, cluster).map_err(|m| format!("the document is not an event: {m}"))
                    })
            }
            "update" => {
                lines.next();
                Err("kevdb archives events: documents cannot be updated".to_owned())
            }
            "delete" => Err("kevdb archives events: documents cannot be deleted".to_owned()),
            other => {
                return Err(EsError::bad_request(
                    "illegal_argument_exception",
                    format!("line {}: unknown action [{other}]", n + 1),
                ))
            }
        };
        let state = match event {
            Ok(e) => ItemState::Pending(Box::new(e)),
            Err(why) => ItemState::Failed(why),
        };
        items.push(BulkItem { action: name.clone(), index, id, state });
    }
    Ok(items)
}

/// `POST /_bulk`, `POST /{index}/_bulk`.
async fn bulk(
    State(state): State<Arc<AppState>>,
    Path(path): PathParams,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, EsError> {
    let started = std::time::Instant::now();
    let bytes = read_body(&headers, body, state.limits.max_body).await?;
    let path_index = path.get("index").cloned().unwrap_or_default();
    let mut items = parse_bulk(&bytes, &path_index, path.get("cluster").map(String::as_str))?;
    // Store every event in one append; remember which item each came from.
    let mut events = Vec::new();
    let mut owners = Vec::new();
    for (i, item) in items.iter_mut().enumerate() {
        if matches!(item.state, ItemState::Pending(_)) {
            if let ItemState::Pending(event) = std::mem::replace(&mut item.state, ItemState::Failed(String::new())) {
                owners.push(i);
                events.push(*event);
            }
        }
    }
    if !events.is_empty() {
        let uids: Vec<String> = events.iter().map(|e| e.uid().to_owned()).collect();
        let report = match blocking(move || Ok(state.db.append(events)?)).await {
            // Held back by sealing: each item fails as Elasticsearch's own
            // rejections do (429), and the clients retry them.
            Err(e) if e.code == axum::http::StatusCode::TOO_MANY_REQUESTS => {
                for &i in &owners {
                    items[i].state = ItemState::Busy(e.message.clone());
                }
                return Ok(bulk_response(&items, started));
            }
            other => other?,
        };
        metrics::record_append(report.accepted, report.duplicates, report.rejected.len());
        let rejected: HashMap<usize, &str> = report.rejected.iter().map(|r| (r.index, r.reason.as_str())).collect();
        // Accepted events took consecutive seqs in batch order.
        let mut next_seq = report.seqs.as_ref().map_or(0, |s| *s.start());
        for ((k, &i), uid) in owners.iter().enumerate().zip(uids) {
            items[i].state = if let Some(reason) = rejected.get(&k) {
                ItemState::Failed(format!("the event was refused: {reason}"))
            } else if report.duplicate_indexes.binary_search(&k).is_ok() {
                ItemState::Stored { accepted: false, seq: 0, uid }
            } else {
                next_seq += 1;
                ItemState::Stored { accepted: true, seq: next_seq - 1, uid }
            };
        }
    }
    Ok(bulk_response(&items, started))
}

/// The `_bulk` answer: always 200, one result per item.
fn bulk_response(items: &[BulkItem], started: std::time::Instant) -> Response {
    let errors = items.iter().any(|i| matches!(i.state, ItemState::Failed(_) | ItemState::Busy(_)));
    let results: Vec<Value> = items
        .iter()
        .map(|item| {
            let body = match &item.state {
                ItemState::Stored { accepted, seq, uid } => {
                    item_result(&item.index, item.id.as_deref().unwrap_or(uid), *accepted, *seq)
                }
                ItemState::Failed(reason) => json!({
                    "_index": item.index, "_type": "_doc", "_id": item.id, "status": 400,
                    "error": error_body("mapper_parsing_exception", reason),
                }),
                ItemState::Busy(reason) => json!({
                    "_index": item.index, "_type": "_doc", "_id": item.id, "status": 429,
                    "error": error_body("es_rejected_execution_exception", reason),
                }),
                // Every pending event was handed to the append above.
                ItemState::Pending(_) => json!({ "status": 500 }),
            };
            json!({ item.action.clone(): body })
        })
        .collect();
    Json(json!({ "took": started.elapsed().as_millis() as u64, "errors": errors, "items": results })).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_bodies_are_split_into_items() {
        let body = br#"{"index":{"_index":"kube-events-2026.11.03","_id":"a","_type":"events"}}
{"Metadata":{"name":"p.1","namespace":"ns","uid":"u1"},"InvolvedObject":{"kind":"Pod","name":"p"},"Reason":"BackOff","LastOccurrenceTimestamp":"2026-11-03T14:21:05Z","EventTags":{"cluster_name":"eu"}}
{"delete":{"_index":"x","_id":"b"}}
{"create":{}}
{"not":"an event"}
"#;
        let items = parse_bulk(body, "fallback", None).expect("valid bulk");
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].index, "kube-events-2026.11.03");
        assert!(matches!(&items[0].state, ItemState::Pending(e) if e.cluster() == "eu"));
        assert!(matches!(&items[1].state, ItemState::Failed(m) if m.contains("deleted")));
        assert_eq!(items[2].index, "fallback");
        assert!(matches!(&items[2].state, ItemState::Failed(_)));
        assert!(parse_bulk(b"{\"index\":{}}\n", "i", None).is_err(), "an action without its source");
        assert!(parse_bulk(b"not json\n", "i", None).is_err());
        assert!(parse_bulk(b"{\"frobnicate\":{}}\n{}\n", "i", None).is_err());
    }
}
