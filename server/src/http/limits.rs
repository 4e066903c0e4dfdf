//! Query admission: at most `Limits::max_queries` list/get requests run at
//! once (more are answered `429 TooManyRequests` with `Retry-After: 1`, like
//! the API server's max-in-flight filter), and each gets
//! `Limits::query_timeout` to produce its response head (then `504
//! Timeout`). Watches and writes are not gated. The engine work of a timed
//! out query finishes in the background; only its response is abandoned.

use super::metrics::{kind, Kind};
use super::status::ApiError;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// The admission state shared by every request.
#[derive(Debug, Clone)]
pub(crate) struct Gate {
    slots: Arc<Semaphore>,
    timeout: Duration,
}

impl Gate {
    pub(crate) fn new(max_queries: usize, timeout: Duration) -> Gate {
        Gate { slots: Arc::new(Semaphore::new(max_queries.max(1))), timeout }
    }
}

/// Middleware: admits list/get requests under the limits.
pub(crate) async fn admit(State(gate): State<Gate>, req: Request, next: Next) -> Response {
    if !matches!(kind(req.method(), req.uri().path(), req.uri().query()), Kind::List | Kind::Get) {
        return next.run(req).await;
    }
    let Ok(_permit) = gate.slots.clone().try_acquire_owned() else {
        return ApiError::too_many("too many requests have been sent to the server, please try again later")
            .into_response();
    };
    match tokio::time::timeout(gate.timeout, next.run(req)).await {
        Ok(res) => res,
        Err(_) => ApiError {
            code: StatusCode::GATEWAY_TIMEOUT,
            reason: "Timeout",
            message: format!("Timeout: request did not complete within the allotted timeout of {:?}", gate.timeout),
        }
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use axum::Router;

    /// The status code of a GET over a fresh connection (std I/O on a
    /// blocking thread; tokio's `io-util` is not enabled).
    async fn status_of(addr: std::net::SocketAddr, path: &'static str) -> u16 {
        tokio::task::spawn_blocking(move || {
            use std::io::{Read, Write};
            let mut s = std::net::TcpStream::connect(addr).expect("connect");
            let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            s.write_all(req.as_bytes()).expect("write");
            let mut out = Vec::new();
            let _ = s.read_to_end(&mut out);
            String::from_utf8_lossy(&out).split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
        })
        .await
        .expect("join")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn limits_concurrency_and_time() {
        let app = Router::new()
            .route("/api/v1/events", get(|| async { tokio::time::sleep(Duration::from_millis(2000)).await }))
            .route(
                "/api/v1/namespaces/a/events/slow",
                get(|| async { tokio::time::sleep(Duration::from_secs(30)).await }),
            )
            .route("/healthz", get(|| async { "ok" }))
            .layer(axum::middleware::from_fn_with_state(Gate::new(1, Duration::from_millis(3000)), admit));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });

        let first = tokio::spawn(status_of(addr, "/api/v1/events"));
        tokio::time::sleep(Duration::from_millis(500)).await;
        // The one slot is taken: a second query is refused; health is not gated.
        assert_eq!(status_of(addr, "/api/v1/events").await, 429);
        assert_eq!(status_of(addr, "/healthz").await, 200);
        assert_eq!(first.await.expect("join"), 200);
        // A slot is free again; a query past the timeout gets 504.
        assert_eq!(status_of(addr, "/api/v1/events").await, 200);
        assert_eq!(status_of(addr, "/api/v1/namespaces/a/events/slow").await, 504);
        assert_eq!(status_of(addr, "/api/v1/events").await, 200);
    }
}
