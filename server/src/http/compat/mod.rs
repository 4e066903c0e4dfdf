//! The event APIs of other systems, served from the archive so their
//! clients can use kevdb unchanged: bcs-storage's (`bcs`) and the cloud
//! "list events" API (`cce`). docs/INGEST.md maps their fields onto ours.

mod bcs;
mod cce;

use super::AppState;
use axum::Router;
use std::sync::Arc;

/// The compatibility routes (served at the root only: both APIs name the
/// cluster themselves).
pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new().merge(bcs::routes()).merge(cce::routes())
}
