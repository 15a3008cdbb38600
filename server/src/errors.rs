//! Every error as a JSON object with `error` (OIP) and `message` (vetiver): handlers', middleware's and panics'.

use std::any::Any;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use fastpredict_engine::wire::WireError;
use http_body_util::{BodyExt, Limited};

use crate::metrics::ModelLabel;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    error: WireError,
    model: Option<Arc<str>>,
    retry_after: Option<u64>,
    challenge: bool,
}

impl ApiError {
    pub fn new(status: u16, kind: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { error: WireError::new(status, kind, message), model: None, retry_after: None, challenge: false }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "bad_request", message)
    }

    /// With a `Retry-After` header (seconds).
    pub fn retry_after(mut self, seconds: u64) -> ApiError {
        self.retry_after = Some(seconds);
        self
    }

    /// A 401 that names the schemes (`WWW-Authenticate`).
    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError { challenge: true, ..ApiError::new(401, "unauthorized", message) }
    }

    /// Counted under this model in /metrics.
    pub fn for_model(mut self, model: &Arc<str>) -> ApiError {
        self.model = Some(Arc::clone(model));
        self
    }

    /// What the error says (status, kind, message), for another protocol to tell.
    pub fn wire(&self) -> &WireError {
        &self.error
    }

    pub fn model(&self) -> Option<&Arc<str>> {
        self.model.as_ref()
    }

    pub fn retry_after_seconds(&self) -> Option<u64> {
        self.retry_after
    }
}

impl From<WireError> for ApiError {
    fn from(error: WireError) -> ApiError {
        ApiError { error, model: None, retry_after: None, challenge: false }
    }
}

pub fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = status;
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = json_response(status, self.error.to_json());
        if let Some(s) = self.retry_after {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        if self.challenge {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer, Key"));
        }
        if let Some(m) = self.model {
            res.extensions_mut().insert(ModelLabel(m));
        }
        res
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
}

/// Middleware: an error answer that is not JSON (axum's own rejections: 405, 415, ...) becomes one, with its
/// text as the message.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let res = next.run(req).await;
    if res.status().as_u16() < 400 || is_json(res.headers()) {
        return res;
    }
    let (parts, body) = res.into_parts();
    let text = match Limited::new(body, 4096).collect().await {
        Ok(b) => String::from_utf8_lossy(&b.to_bytes()).trim().to_string(),
        Err(_) => String::new(),
    };
    let status = parts.status;
    let message = if status == StatusCode::METHOD_NOT_ALLOWED {
        match parts.headers.get(header::ALLOW).and_then(|v| v.to_str().ok()) {
            Some(allowed) => format!("{path} does not take {method}; it takes {allowed}"),
            None => format!("{path} does not take {method}"),
        }
    } else if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_string()
    } else {
        text
    };
    let kind = match status {
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    let mut out = ApiError::new(status.as_u16(), kind, message).into_response();
    for (k, v) in parts.headers.iter().filter(|(k, _)| *k != header::CONTENT_TYPE && *k != header::CONTENT_LENGTH) {
        out.headers_mut().insert(k.clone(), v.clone());
    }
    out.extensions_mut().extend(parts.extensions);
    out
}

/// The fallback route.
pub async fn not_found(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        404,
        "not_found",
        format!(
            "no route for {method} {}; see GET /v2 (Open Inference Protocol) and POST /predict (vetiver)",
            uri.path()
        ),
    )
}

/// A panic in a handler: logged, answered with a 500; the server keeps serving.
pub fn panic_response(err: Box<dyn Any + Send + 'static>) -> Response {
    let what = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("a panic without a message");
    tracing::error!(panic = what, "a request handler panicked");
    ApiError::new(500, "internal", "internal error in fastpredict-server (please report it; details are in its log)")
        .into_response()
}
