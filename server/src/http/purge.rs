//! `DELETE` of the events collection (deletecollection): an administrator
//! purges the observations a selector and/or time bound match. The rows
//! disappear from every read at once; compaction reclaims their space.

use super::blocking;
use super::object::Group;
use super::params;
use super::status::ApiError;
use super::AppState;
use axum::extract::{Path, Query as QueryParams, State};
use axum::Json;
use kevdb_engine::QueryField;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

async fn purge(
    state: Arc<AppState>,
    group: Group,
    path: HashMap<String, String>,
    params: HashMap<String, String>,
) -> Result<Json<Value>, ApiError> {
    let req = params::parse(
        &params,
        group,
        path.get("cluster").map(String::as_str),
        path.get("namespace").map(String::as_str),
    )?;
    let q = &req.query;
    let narrowed = q.filters.iter().any(|f| f.field != QueryField::Cluster)
        || !q.labels.is_empty()
        || q.text.is_some()
        || q.since.is_some()
        || q.until.is_some();
    if !narrowed {
        return Err(ApiError::bad_request(
            "refusing to delete every event: give a namespace, fieldSelector, labelSelector, q, since or until",
        ));
    }
    let query = req.query;
    let n = blocking(move || Ok(state.db.purge(&query)?)).await?;
    Ok(Json(json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "message": format!("{n} observations purged"),
        "details": {"kind": "events", "group": if group == Group::Core { "" } else { "events.k8s.io" }},
        "code": 200,
    })))
}

pub async fn purge_core(
    State(s): State<Arc<AppState>>,
    Path(p): Path<HashMap<String, String>>,
    QueryParams(q): QueryParams<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    purge(s, Group::Core, p, q).await
}

pub async fn purge_events(
    State(s): State<Arc<AppState>>,
    Path(p): Path<HashMap<String, String>>,
    QueryParams(q): QueryParams<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    purge(s, Group::Events, p, q).await
}
