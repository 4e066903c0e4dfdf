//! The request log: one `info` line per HTTP request with its method, path,
//! status, duration and principal (who made it, as `auth::check` found).
//!
//! Only the path is logged: never the query string (a selector or a
//! `continue` token is the client's business) and never a header, so no
//! token reaches the log in any of its forms (`Bearer`, `ApiKey`, the
//! password of `Basic`).

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;

/// Who a request was made by, for the log. `auth::check` puts it on the
/// response (the request itself is gone once the inner service ran): the
/// token file's user name, or "anonymous" when the server runs without
/// tokens. A request without it (rejected before it was identified, or to
/// an endpoint that is open to all) is logged with principal "-".
#[derive(Debug, Clone)]
pub(crate) struct Principal(pub String);

/// Middleware, outermost, so that it also sees the answers of the layers
/// inside it (401, 403, 413, 429).
///
/// A watch is logged when its response head is returned, not when its
/// stream ends: the duration of a watch line is the time to its first byte.
pub(crate) async fn log(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let start = Instant::now();
    let res = next.run(req).await;
    let duration_ms = start.elapsed().as_micros() as f64 / 1000.0;
    let principal = res.extensions().get::<Principal>().map_or("-", |p| p.0.as_str());
    tracing::info!(
        method = %method,
        path = %path,
        status = res.status().as_u16(),
        duration_ms,
        principal,
        "request"
    );
    res
}
