//! Operations: the Prometheus metrics.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use super::AppState;

pub async fn metrics(State(app): AppState) -> Response {
    let text = app.metrics.render(&app.repo.current());
    let mut res = text.into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    res
}
