//! The Kubernetes-compatible HTTP API: discovery, list/get/watch/create and
//! deletecollection of `events` in `v1` and `events.k8s.io/v1`, the
//! server-side Table, bulk ingest, the exporters' sinks (`sinks`), bearer-token
//! auth, limits, TLS, health, metrics and the request log — all of it again under
//! `/clusters/{cluster}/` — plus the collector's checkpoints and the event
//! APIs of other systems (`compat`).

mod access_log;
mod auth;
mod checkpoints;
mod compat;
mod discovery;
mod health;
mod limits;
mod metrics;
mod object;
mod params;
mod purge;
mod read;
mod sinks;
mod status;
mod table;
mod tls;
mod watch;
mod write;

pub use auth::TokenAuth;
pub use status::ApiError;
pub use tls::{TlsConfig, TlsListener};

use axum::routing::get;
use axum::Router;
use kevdb_engine::Db;
use std::sync::Arc;
use std::time::Duration;

/// Request limits.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Most items one list response holds (also when no limit is asked).
    pub max_page: usize,
    /// Largest request body accepted.
    pub max_body: usize,
    /// Longest a query may run.
    pub query_timeout: Duration,
    /// Most list/get queries running at once (more get 429).
    pub max_queries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_page: 10_000, max_body: 16 << 20, query_timeout: Duration::from_secs(30), max_queries: 64 }
    }
}

/// What every handler shares.
#[derive(Debug)]
pub struct AppState {
    pub db: Arc<Db>,
    pub limits: Limits,
    /// Bearer tokens (`--token-auth-file`); `None` serves anonymously.
    pub auth: Option<Arc<TokenAuth>>,
}

/// Runs blocking engine work off the async threads (every handler that
/// touches the database goes through it).
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(ApiError::internal)?
}

/// The API routes, without a cluster prefix.
fn api_routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api", get(discovery::api))
        .route("/api/v1", get(discovery::core_v1))
        .route("/apis", get(discovery::apis))
        .route("/apis/events.k8s.io", get(discovery::events_group_doc))
        .route("/apis/events.k8s.io/v1", get(discovery::events_v1))
        .route("/version", get(discovery::version))
        .route("/apis/{group}", get(discovery::other_group))
        .route("/apis/{group}/{version}", get(discovery::other_group_version))
        .route("/api/v1/events", get(read::list_core).delete(purge::purge_core))
        .route("/api/v1/namespaces/{namespace}/events", get(read::list_core).delete(purge::purge_core))
        .route("/api/v1/namespaces/{namespace}/events/{name}", get(read::get_core))
        .route("/apis/events.k8s.io/v1/events", get(read::list_events).delete(purge::purge_events))
        .route(
            "/apis/events.k8s.io/v1/namespaces/{namespace}/events",
            get(read::list_events).delete(purge::purge_events),
        )
        .route("/apis/events.k8s.io/v1/namespaces/{namespace}/events/{name}", get(read::get_events))
        .merge(write::routes())
        .merge(sinks::routes())
}

pub(crate) async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("the server could not find the requested resource ({uri})"))
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::method_not_allowed(format!(
        "the server does not allow this method on the requested resource ({method} {uri})"
    ))
}

/// The whole service.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .merge(api_routes())
        .nest("/clusters/{cluster}", api_routes())
        .merge(checkpoints::routes())
        .merge(compat::routes())
        .route("/healthz", get(health::ok))
        .route("/readyz", get(health::readyz))
        .route("/livez", get(health::ok))
        .route("/metrics", get(metrics::handler))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            limits::Gate::new(state.limits.max_queries, state.limits.query_timeout),
            limits::admit,
        ))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::check))
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(axum::middleware::from_fn(access_log::log))
        .with_state(state)
}
