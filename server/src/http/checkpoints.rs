//! `GET`/`PUT /kevdb/v1/checkpoints/{name}`: the checkpoints a remote
//! collector keeps beside the events it delivers (see
//! `kevdb_engine::checkpoint`). `GET` answers `{"name":…,"value":…}` or 404;
//! `PUT` takes `{"value":"…"}` and answers with the stored checkpoint.

use super::blocking;
use super::status::ApiError;
use super::write::read_body;
use super::AppState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use kevdb_engine::checkpoint::check_name;
use serde_json::{json, Value};
use std::sync::Arc;

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/kevdb/v1/checkpoints/{name}", get(read).put(write))
}

async fn read(State(state): State<Arc<AppState>>, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    check_name(&name)?;
    let key = name.clone();
    let value = blocking(move || Ok(state.db.checkpoint(&key)?)).await?;
    match value {
        Some(v) => Ok(Json(json!({ "name": name, "value": v }))),
        None => Err(ApiError::not_found(format!("checkpoint \"{name}\" not found"))),
    }
}

async fn write(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    check_name(&name)?;
    let bytes = read_body(&headers, body, kevdb_engine::checkpoint::MAX_VALUE + 1024).await?;
    let parsed: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))?;
    let Some(value) = parsed.get("value").and_then(Value::as_str).map(str::to_owned) else {
        return Err(ApiError::bad_request("expected a JSON object {\"value\": \"…\"} with a string value"));
    };
    let (key, stored) = (name.clone(), value.clone());
    blocking(move || Ok(state.db.set_checkpoint(&key, &stored)?)).await?;
    Ok(Json(json!({ "name": name, "value": value })))
}
