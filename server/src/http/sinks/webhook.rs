//! kubernetes-event-exporter's webhook sink: `POST
//! /kevdb/v1/sinks/event-exporter` (also under `/clusters/{cluster}/`)
//! with one `EnhancedEvent` per request — the core/v1 Event with
//! `clusterName` and an enriched `involvedObject`. Answers `201` with the
//! counts, `200` for a re-delivery, and a `Status` for anything else.

use super::super::blocking;
use super::super::status::ApiError;
use super::super::write::read_body;
use super::super::{metrics, AppState};
use super::document_event;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/kevdb/v1/sinks/event-exporter", post(receive))
}

async fn receive(
    State(state): State<Arc<AppState>>,
    Path(path): Path<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = read_body(&headers, body, state.limits.max_body).await?;
    let doc: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))?;
    let event = document_event(doc, path.get("cluster").map(String::as_str))
        .map_err(|m| ApiError::bad_request(format!("the request body is not an event-exporter event: {m}")))?;
    let report = blocking(move || Ok(state.db.append(vec![event])?)).await?;
    metrics::record_append(report.accepted, report.duplicates, report.rejected.len());
    if let Some(r) = report.rejected.first() {
        return Err(ApiError::invalid(format!("the event was refused: {}", r.reason)));
    }
    let status = if report.accepted > 0 { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(json!({"accepted": report.accepted, "duplicates": report.duplicates}))).into_response())
}
