//! bcs-storage's events API (Tencent BlueKing BCS), so BCS tools can use
//! kevdb as their event store: `PUT /bcsapi/v4/storage/events` stores one
//! event in BCS's model, `GET /bcsapi/v4/storage/events` lists them with
//! BCS's filters, both in BCS's envelope
//! `{"result","code","message","data"[,"total"]}`.
//!
//! Mapping (docs/INGEST.md has the table): a BCS event whose `data` is a
//! Kubernetes Event is stored as that event, in cluster `clusterId`; the
//! BCS fields are derived from it on the way out (`kind` =
//! involvedObject.kind, `level` = type, `component` = source.component,
//! `type` = reason, `describe` = message, `eventTime` = last seen,
//! `extraInfo` = involvedObject namespace/name). Any other event (mesos,
//! hand-made) is stored as a synthesised Event with `env`, `id` and `data`
//! kept in annotations, so it comes back as it went in.

use super::super::blocking;
use super::super::write::read_body;
use super::super::{metrics, AppState};
use axum::body::Body;
use axum::extract::{Query as QueryParams, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use kevdb_engine::model::parse::{event_from_value, ParseOptions};
use kevdb_engine::model::render;
use kevdb_engine::model::time::format_time;
use kevdb_engine::{ApiShape, Event, FieldFilter, Query, QueryField, StoredEvent, Timestamp};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// BCS's code for a failed PUT.
const PUT_FAILED: u32 = 1_405_082;
/// BCS's code for a failed GET.
const LIST_FAILED: u32 = 1_405_085;
/// Rows a GET answers when `length` is not given.
const DEFAULT_LENGTH: usize = 3000;

/// Annotations keeping what a synthesised event cannot hold in its fields.
const ENV_ANNOTATION: &str = "kevdb.io/bcs-env";
const ID_ANNOTATION: &str = "kevdb.io/bcs-id";
const DATA_ANNOTATION: &str = "kevdb.io/bcs-data";

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/bcsapi/v4/storage/events", get(list).put(put))
}

/// An error in BCS's envelope.
#[derive(Debug)]
pub(crate) struct BcsError {
    status: StatusCode,
    code: u32,
    detail: String,
    list: bool,
}

impl BcsError {
    fn put(detail: impl Into<String>) -> BcsError {
        BcsError { status: StatusCode::BAD_REQUEST, code: PUT_FAILED, detail: detail.into(), list: false }
    }
    fn list(detail: impl Into<String>) -> BcsError {
        BcsError { status: StatusCode::BAD_REQUEST, code: LIST_FAILED, detail: detail.into(), list: true }
    }
    fn internal(code: u32, detail: impl std::fmt::Display) -> BcsError {
        tracing::error!(error = %detail, code, "internal error (bcs-storage API)");
        BcsError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code,
            detail: "an internal error occurred; see the server log".into(),
            list: code == LIST_FAILED,
        }
    }
}

impl IntoResponse for BcsError {
    fn into_response(self) -> Response {
        let what = if self.list { "list resource failed." } else { "put resource failed." };
        let mut body = json!({
            "result": false,
            "code": self.code,
            "message": format!("(bcs-storage):{what} {}", self.detail),
            "data": if self.list { json!([]) } else { json!({}) },
        });
        if self.list {
            body["total"] = json!(0);
        }
        (self.status, Json(body)).into_response()
    }
}

fn ok(data: Value, total: Option<u64>) -> Response {
    let mut body = json!({ "result": true, "code": 0, "message": "success", "data": data });
    if let Some(t) = total {
        body["total"] = json!(t);
    }
    Json(body).into_response()
}

fn string_field<'a>(obj: &'a Map<String, Value>, key: &str) -> Result<&'a str, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(""),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(format!("{key}: expected a string, got {other}")),
    }
}

/// `eventTime`: unix seconds (BCS's PUT), or an RFC 3339 string (its GET).
fn event_time(obj: &Map<String, Value>) -> Result<Option<Timestamp>, String> {
    match obj.get("eventTime") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            // BCS sends Go's zero time for events without a lastTimestamp.
            Some(s) if s <= 0 => Ok(None),
            Some(s) => Ok(Some(Timestamp::from_secs(s))),
            None => Err(format!("eventTime: expected whole unix seconds, got {n}")),
        },
        Some(Value::String(s)) => kevdb_engine::model::time::parse_rfc3339(s)
            .map(Some)
            .ok_or_else(|| format!("eventTime: {s:?} is neither unix seconds nor an RFC 3339 time")),
        Some(other) => Err(format!("eventTime: expected unix seconds, got {other}")),
    }
}

/// Whether `data` is a Kubernetes Event object.
fn is_kubernetes_event(data: &Value) -> bool {
    data.get("metadata").is_some_and(Value::is_object)
        && ["involvedObject", "regarding", "reason", "message", "note"].iter().any(|k| data.get(k).is_some())
}

/// A BCS event as a kevdb [`Event`] (see the module docs).
fn to_event(body: Value) -> Result<Event, String> {
    let Value::Object(obj) = body else {
        return Err("the request body must be a JSON object (one BCS event)".into());
    };
    let cluster = string_field(&obj, "clusterId")?;
    if cluster.is_empty() {
        return Err("clusterId is required".into());
    }
    let time = event_time(&obj)?;
    let data = obj.get("data").cloned().unwrap_or(Value::Null);
    let mut event = if is_kubernetes_event(&data) {
        event_from_value(data, &ParseOptions::default()).map_err(|m| format!("data: {m}"))?
    } else {
        event_from_value(synthesise(&obj, time, &data)?, &ParseOptions::default())?
    };
    event.set_cluster(cluster);
    Ok(event)
}

/// The Event standing for a BCS event whose `data` is not a Kubernetes
/// Event; its uid is a hash of the BCS fields, so a re-sent event is a
/// duplicate.
fn synthesise(obj: &Map<String, Value>, time: Option<Timestamp>, data: &Value) -> Result<Value, String> {
    let time = time.ok_or("eventTime is required when data is not a Kubernetes Event")?;
    let extra = match obj.get("extraInfo") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(other) => return Err(format!("extraInfo: expected an object, got {other}")),
    };
    let field = |key: &str| string_field(obj, key).map(str::to_owned);
    let (env, id, kind, level) = (field("env")?, field("id")?, field("kind")?, field("level")?);
    let (component, reason, describe) = (field("component")?, field("type")?, field("describe")?);
    let name = string_field(&extra, "name")?.to_owned();
    let namespace = string_field(&extra, "namespace")?.to_owned();
    let identity = serde_json::to_string(&json!([
        string_field(obj, "clusterId")?,
        id,
        env,
        kind,
        level,
        component,
        reason,
        describe,
        name,
        namespace,
        time.0
    ]))
    .map_err(|e| e.to_string())?;
    let hash = blake3::hash(identity.as_bytes()).to_hex();
    let uid = format!("{}-{}-{}-{}-{}", &hash[0..8], &hash[8..12], &hash[12..16], &hash[16..20], &hash[20..32]);
    let base = if name.is_empty() {
        if kind.is_empty() {
            "bcs-event".to_owned()
        } else {
            kind.to_lowercase()
        }
    } else {
        name.clone()
    };
    let mut annotations = Map::new();
    annotations.insert(ENV_ANNOTATION.into(), json!(env));
    if !id.is_empty() {
        annotations.insert(ID_ANNOTATION.into(), json!(id));
    }
    if !data.is_null() {
        annotations.insert(DATA_ANNOTATION.into(), json!(data.to_string()));
    }
    let stamp = format_time(time);
    Ok(json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": format!("{base}.{}", &hash[..16]),
            "namespace": namespace,
            "uid": uid,
            "annotations": annotations,
        },
        "involvedObject": { "kind": kind, "name": name, "namespace": namespace },
        "reason": reason,
        "message": describe,
        "type": level,
        "source": { "component": component },
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
    }))
}

/// A stored event in BCS's model.
fn to_bcs(r: &StoredEvent) -> Value {
    let e = &r.event;
    let mut data = render::to_value(e, ApiShape::CoreV1);
    let annotation = |key: &str| data["metadata"]["annotations"][key].as_str().map(str::to_owned);
    let env = annotation(ENV_ANNOTATION).unwrap_or_else(|| "k8s".to_owned());
    let id = annotation(ID_ANNOTATION).unwrap_or_default();
    if let Some(original) = annotation(DATA_ANNOTATION) {
        data = serde_json::from_str(&original).unwrap_or(Value::String(original));
    }
    let s = |f: kevdb_engine::StrField| e.str(f).unwrap_or("").to_owned();
    use kevdb_engine::StrField as F;
    json!({
        "_id": r.seq.0.to_string(),
        "id": id,
        "env": env,
        "kind": s(F::InvolvedObjectKind),
        "level": s(F::Type),
        "component": s(F::SourceComponent),
        "type": s(F::Reason),
        "describe": s(F::Message),
        "clusterId": e.cluster(),
        "eventTime": e.last_seen().map(format_time),
        "extraInfo": { "namespace": s(F::InvolvedObjectNamespace), "name": s(F::InvolvedObjectName), "kind": "" },
        "data": data,
    })
}

async fn put(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    let bytes = match read_body(&headers, body, state.limits.max_body).await {
        Ok(b) => b,
        Err(e) => return BcsError { status: e.code, ..BcsError::put(e.message) }.into_response(),
    };
    let value: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => return BcsError::put(format!("the request body is not valid JSON: {e}")).into_response(),
    };
    let event = match to_event(value) {
        Ok(e) => e,
        Err(m) => return BcsError::put(m).into_response(),
    };
    let stored = blocking(move || {
        let report = state.db.append(vec![event])?;
        metrics::record_append(report.accepted, report.duplicates, report.rejected.len());
        Ok(report.rejected.first().map(|r| r.reason.clone()))
    })
    .await;
    match stored {
        Ok(None) => ok(json!({}), None),
        Ok(Some(reason)) => BcsError::put(format!("the event was refused: {reason}")).into_response(),
        Err(e) => BcsError::internal(PUT_FAILED, e.message).into_response(),
    }
}

/// A comma-separated list parameter (empty values ignored).
fn list_param(params: &HashMap<String, String>, key: &str) -> Vec<String> {
    params
        .get(key)
        .map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default()
}

fn number_param(params: &HashMap<String, String>, key: &str) -> Result<Option<i64>, BcsError> {
    match params.get(key).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| BcsError::list(format!("{key}: {v:?} is not an integer"))),
    }
}

/// The query a GET asks for, and how to page it.
fn list_query(params: &HashMap<String, String>) -> Result<(Query, usize, usize, Vec<String>), BcsError> {
    let clusters = list_param(params, "clusterId");
    if clusters.is_empty() {
        return Err(BcsError::list("clusterId is required"));
    }
    let mut query = Query { filters: vec![FieldFilter::is_in(QueryField::Cluster, clusters)], ..Query::default() };
    for (key, field) in [
        ("kind", QueryField::InvolvedObjectKind),
        ("level", QueryField::Type),
        ("component", QueryField::Source),
        ("type", QueryField::Reason),
        ("extraInfo.name", QueryField::InvolvedObjectName),
        ("extraInfo.namespace", QueryField::InvolvedObjectNamespace),
    ] {
        let values = list_param(params, key);
        if !values.is_empty() {
            query.filters.push(FieldFilter::is_in(field, values));
        }
    }
    // BCS keeps eventTime in whole seconds and compares strictly.
    if let Some(begin) = number_param(params, "timeBegin")?.filter(|&t| t > 0) {
        query.since = Some(Timestamp::from_secs(begin + 1));
    }
    if let Some(end) = number_param(params, "timeEnd")?.filter(|&t| t > 0) {
        query.until = Some(Timestamp::from_secs(end));
    }
    let offset = number_param(params, "offset")?.unwrap_or(0);
    let length = number_param(params, "length")?.unwrap_or(0);
    if offset < 0 || length < 0 {
        return Err(BcsError::list("offset and length must not be negative"));
    }
    query.history = params.get("history").is_some_and(|v| v == "true");
    let length = if length == 0 { DEFAULT_LENGTH } else { length as usize };
    Ok((query, offset as usize, length, list_param(params, "env")))
}

async fn list(
    State(state): State<Arc<AppState>>,
    QueryParams(params): QueryParams<HashMap<String, String>>,
) -> Response {
    let (query, offset, length, envs) = match list_query(&params) {
        Ok(q) => q,
        Err(e) => return e.into_response(),
    };
    let length = length.min(state.limits.max_page);
    let ids = list_param(&params, "id");
    let result = blocking(move || {
        // `env` and `id` live in annotations (or are implied): filter them here.
        let wanted = |b: &Value| {
            (envs.is_empty() || envs.iter().any(|e| b["env"] == *e))
                && (ids.is_empty() || ids.iter().any(|i| b["id"] == *i))
        };
        if envs.is_empty() && ids.is_empty() {
            let total = state.db.count(&query)?;
            let rows = state.db.query(&Query { limit: Some(offset + length), ..query })?;
            let data: Vec<Value> = rows.skip(offset).map(|r| to_bcs(&r)).collect();
            return Ok((data, total));
        }
        let mut total = 0u64;
        let mut data = Vec::new();
        for b in state.db.query(&query)?.map(|r| to_bcs(&r)).filter(|b| wanted(b)) {
            if total as usize >= offset && data.len() < length {
                data.push(b);
            }
            total += 1;
        }
        Ok((data, total))
    })
    .await;
    match result {
        Ok((data, total)) => ok(Value::Array(data), Some(total)),
        Err(e) if e.code == StatusCode::BAD_REQUEST => BcsError::list(e.message).into_response(),
        Err(e) => BcsError::internal(LIST_FAILED, e.message).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kubernetes_event_in_data_is_stored_as_itself() {
        let body = json!({
            "env": "k8s", "kind": "Pod", "level": "Warning", "component": "kubelet", "type": "BackOff",
            "describe": "Back-off", "clusterId": "BCS-K8S-1", "eventTime": 1793694107,
            "extraInfo": {"namespace": "ns", "name": "p", "kind": ""},
            "data": {"metadata": {"name": "p.1", "namespace": "ns", "uid": "u1"},
                     "involvedObject": {"kind": "Pod", "name": "p", "namespace": "ns"},
                     "reason": "BackOff", "message": "Back-off", "type": "Warning",
                     "source": {"component": "kubelet"}, "lastTimestamp": "2026-11-03T08:21:47Z"},
        });
        let e = to_event(body).expect("valid");
        assert_eq!((e.cluster(), e.uid(), e.reason()), ("BCS-K8S-1", "u1", "BackOff"));
        let back = to_bcs(&StoredEvent { seq: kevdb_engine::SeqNo(7), event: e });
        assert_eq!(back["eventTime"], "2026-11-03T08:21:47Z");
        assert_eq!(back["extraInfo"], json!({"namespace": "ns", "name": "p", "kind": ""}));
        assert_eq!(
            (back["env"].as_str(), back["level"].as_str(), back["type"].as_str()),
            (Some("k8s"), Some("Warning"), Some("BackOff"))
        );
    }

    #[test]
    fn other_events_round_trip_through_annotations() {
        let body = json!({
            "id": "task-9", "env": "mesos", "kind": "task", "level": "warning", "component": "scheduler",
            "type": "TASK_FAILED", "describe": "exit 1", "clusterId": "BCS-MESOS-2", "eventTime": 1793694107,
            "extraInfo": {"namespace": "ns", "name": "app.0", "kind": "application"}, "data": {"exitCode": 1},
        });
        let e = to_event(body.clone()).expect("valid");
        let again = to_event(body).expect("valid");
        assert_eq!(e.uid(), again.uid(), "a re-sent event has the same uid");
        let back = to_bcs(&StoredEvent { seq: kevdb_engine::SeqNo(1), event: e });
        assert_eq!((back["env"].as_str(), back["id"].as_str()), (Some("mesos"), Some("task-9")));
        assert_eq!(back["data"], json!({"exitCode": 1}));
        assert_eq!(back["describe"], "exit 1");
    }

    #[test]
    fn bad_events_say_why() {
        assert!(to_event(json!([1])).unwrap_err().contains("JSON object"));
        assert!(to_event(json!({"eventTime": 1})).unwrap_err().contains("clusterId"));
        assert!(to_event(json!({"clusterId": "c", "eventTime": "soon"})).unwrap_err().contains("eventTime"));
        assert!(to_event(json!({"clusterId": "c"})).unwrap_err().contains("eventTime is required"));
    }
}
