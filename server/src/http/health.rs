//! Health endpoints: `/healthz` and `/livez` (the process answers) and
//! `/readyz`, which reports the database's health: 503 with the cause once
//! it is poisoned (it refuses writes until restarted), and the damage it
//! has found, one line each, while it still serves.

use super::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::fmt::Write;
use std::sync::Arc;

pub(crate) async fn ok() -> &'static str {
    "ok"
}

pub(crate) async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let health = state.db.health();
    let mut body = String::new();
    let code = match &health.poisoned {
        Some(cause) => {
            let _ = writeln!(body, "not ready: the database refuses writes until kevdb restarts: {cause}");
            StatusCode::SERVICE_UNAVAILABLE
        }
        None if health.damage_count > 0 => {
            let _ = writeln!(body, "ok (degraded: {} damage reports)", health.damage_count);
            StatusCode::OK
        }
        None => {
            body.push_str("ok");
            StatusCode::OK
        }
    };
    for d in &health.damage {
        let file = d.file.as_ref().map_or_else(|| "-".to_string(), |f| f.display().to_string());
        let offset = d.offset.map_or_else(|| "-".to_string(), |o| o.to_string());
        let _ = writeln!(body, "damage: file={file} offset={offset}: {}; lost: {}", d.problem, d.lost);
    }
    (code, body).into_response()
}
