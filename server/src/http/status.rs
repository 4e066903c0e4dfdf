//! Errors as the API server reports them: a `Status` object with the HTTP
//! code and a reason Kubernetes clients understand.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answered with a Kubernetes `Status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: StatusCode,
    pub reason: &'static str,
    pub message: String,
}

impl ApiError {
    fn new(code: StatusCode, reason: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { code, reason, message: message.into() }
    }
    pub fn bad_request(m: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "BadRequest", m)
    }
    pub fn not_found(m: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "NotFound", m)
    }
    pub fn gone(m: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::GONE, "Expired", m)
    }
    pub fn unauthorized(m: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "Unauthorized", m)
    }
    pub fn forbidden(m: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "Forbidden", m)
    }
    pub fn too_large(m: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "RequestEntityTooLarge", m)
    }
    pub fn too_many(m: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, "TooManyRequests", m)
    }
    pub fn unsupported(m: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "UnsupportedMediaType", m)
    }
    pub fn method_not_allowed(m: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", m)
    }
    pub fn invalid(m: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "Invalid", m)
    }
    pub fn unavailable(m: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable", m)
    }
    /// A server-side failure: the details go to the log, not the client.
    pub fn internal(detail: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %detail, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "an internal error occurred; see the server log",
        )
    }

    /// The `Status` object.
    pub fn to_status(&self) -> serde_json::Value {
        json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code.as_u16(),
        })
    }
}

impl From<kevdb_engine::Error> for ApiError {
    fn from(e: kevdb_engine::Error) -> ApiError {
        use kevdb_engine::Error;
        match e {
            Error::InvalidToken(m) => ApiError::bad_request(format!("invalid continue token: {m}")),
            Error::Expired(m) => ApiError::gone(m),
            Error::InvalidArgument(m) => ApiError::bad_request(m),
            Error::Busy(m) => ApiError::too_many(m),
            // The cause says what failed (a disk write, a background
            // thread); clients and operators both need to see it.
            e @ Error::Poisoned(_) => ApiError::unavailable(e.to_string()),
            other => ApiError::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = (self.code, axum::Json(self.to_status())).into_response();
        if self.code == StatusCode::TOO_MANY_REQUESTS {
            // client-go and the exporters back off and retry on 429 with this.
            res.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from_static("1"));
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_back_writes_are_429_with_retry_after() {
        let e = ApiError::from(kevdb_engine::Error::Busy("sealing lags".into()));
        assert_eq!((e.code, e.reason), (StatusCode::TOO_MANY_REQUESTS, "TooManyRequests"));
        let res = e.into_response();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(res.headers().get(axum::http::header::RETRY_AFTER).and_then(|v| v.to_str().ok()), Some("1"));
        let other = ApiError::bad_request("no").into_response();
        assert!(other.headers().get(axum::http::header::RETRY_AFTER).is_none());
    }
}
