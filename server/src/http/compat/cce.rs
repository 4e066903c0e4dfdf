//! The cloud "list events" API (CTyun CCE):
//! `GET /v2/cce/clusters/{clusterId}/apis/events.k8s.io/{apiVersion}/events`
//! with the `regionId` header and optional `fieldSelector`/`labelSelector`,
//! answering `{"statusCode":800,"message":"success","returnObj":"<YAML
//! EventList>"}` — over the whole retention rather than the cloud's last
//! hour. `clusterId` is the kevdb cluster name.
//!
//! Errors keep the API's envelope: `statusCode` 900 with `errorCode` (also
//! in `error`), `message` and `description`, and an HTTP status that says
//! what went wrong (400 for bad input).
//!
//! At most `Limits::max_page` events (newest first) are answered at once;
//! the EventList then carries `metadata.continue`, which the `continue`
//! parameter takes back (a kevdb extension, as are `since`, `until`, `q`
//! and `history`, with the same meaning as on the Kubernetes API).

use super::super::blocking;
use super::super::object::{list_value, Group};
use super::super::params;
use super::super::AppState;
use axum::extract::{Path, Query as QueryParams, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/v2/cce/clusters/{cluster_id}/apis/events.k8s.io/{version}/events", get(list))
}

/// An error in the API's envelope.
#[derive(Debug)]
struct CceError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl CceError {
    fn bad_request(code: &'static str, message: impl Into<String>) -> CceError {
        CceError { status: StatusCode::BAD_REQUEST, code, message: message.into() }
    }
}

impl IntoResponse for CceError {
    fn into_response(self) -> Response {
        let body = json!({
            "statusCode": 900,
            "errorCode": self.code,
            "error": self.code,
            "message": self.message,
            "description": self.message,
            "returnObj": Value::Null,
        });
        (self.status, Json(body)).into_response()
    }
}

async fn list(
    State(state): State<Arc<AppState>>,
    Path((cluster, version)): Path<(String, String)>,
    QueryParams(params): QueryParams<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, CceError> {
    let region = headers.get("regionId").and_then(|v| v.to_str().ok()).map(str::trim).unwrap_or("");
    if region.is_empty() {
        return Err(CceError::bad_request("CCSE.Request.RegionIdMissing", "the regionId header is required"));
    }
    if version != "v1" {
        return Err(CceError::bad_request(
            "CCSE.Request.ApiVersionInvalid",
            format!("events.k8s.io/{version} is not served; use events.k8s.io/v1"),
        ));
    }
    let req = params::parse(&params, Group::Events, Some(&cluster), None)
        .map_err(|e| CceError::bad_request("CCSE.Request.ParameterInvalid", e.message))?;
    let page = blocking(move || {
        let limit = req.limit.unwrap_or(state.limits.max_page).min(state.limits.max_page);
        Ok(state.db.query_page(&req.query, limit, req.continue_token.as_deref())?)
    })
    .await
    .map_err(|e| CceError {
        status: e.code,
        code: if e.code.is_server_error() { "CCSE.Internal.Error" } else { "CCSE.Request.ParameterInvalid" },
        message: e.message,
    })?;
    let list = list_value(&page.items, Group::Events, page.snapshot_seq, page.continue_token.as_deref());
    let yaml = serde_norway::to_string(&list).map_err(|e| CceError {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        code: "CCSE.Internal.Error",
        message: format!("rendering the event list: {e}"),
    })?;
    Ok(Json(json!({ "statusCode": 800, "message": "success", "returnObj": yaml })).into_response())
}
