//! The Open Inference Protocol (KServe V2) REST routes: health, server and model metadata, model ready, infer.

use axum::body::Body;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use fastpredict_engine::wire::Protocol;
use fastpredict_engine::PredictOptions;
use serde_json::json;

use super::{find, run_prediction, AppState, RequestId};
use crate::errors::{json_response, ApiError};
use crate::metrics::ModelLabel;

pub async fn live() -> Response {
    json_response(StatusCode::OK, json!({ "live": true }).to_string().into_bytes())
}

/// Ready when at least one model is loaded.
pub async fn ready(State(app): AppState) -> Response {
    let models = app.repo.current();
    if models.models.is_empty() {
        let why = format!("no model is loaded from {}", app.repo.dir().display());
        let body = json!({ "ready": false, "error": why, "message": why });
        return json_response(StatusCode::SERVICE_UNAVAILABLE, body.to_string().into_bytes());
    }
    json_response(StatusCode::OK, json!({ "ready": true }).to_string().into_bytes())
}

pub async fn server_metadata() -> Response {
    let body = json!({ "name": "fastpredict-server", "version": env!("CARGO_PKG_VERSION"), "extensions": [] });
    json_response(StatusCode::OK, body.to_string().into_bytes())
}

async fn metadata(app: AppState, name: String, version: Option<String>) -> Result<Response, ApiError> {
    let served = find(&app, &name, version.as_deref())?;
    let mut res = json_response(StatusCode::OK, served.oip_metadata.clone());
    res.extensions_mut().insert(ModelLabel(served.name.clone()));
    Ok(res)
}

pub async fn model_metadata(app: AppState, Path(name): Path<String>) -> Result<Response, ApiError> {
    metadata(app, name, None).await
}

pub async fn model_version_metadata(
    app: AppState,
    Path((name, v)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    metadata(app, name, Some(v)).await
}

async fn model_is_ready(app: AppState, name: String, version: Option<String>) -> Response {
    match find(&app, &name, version.as_deref()) {
        Ok(s) => {
            let mut res =
                json_response(StatusCode::OK, json!({ "name": name, "ready": true }).to_string().into_bytes());
            res.extensions_mut().insert(ModelLabel(s.name.clone()));
            res
        }
        Err(e) => e.into_response(),
    }
}

pub async fn model_ready(app: AppState, Path(name): Path<String>) -> Response {
    model_is_ready(app, name, None).await
}

pub async fn model_version_ready(app: AppState, Path((name, v)): Path<(String, String)>) -> Response {
    model_is_ready(app, name, Some(v)).await
}

async fn run_infer(
    app: AppState,
    id: RequestId,
    name: String,
    version: Option<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let served = find(&app, &name, version.as_deref())?;
    run_prediction(&app, served, Protocol::Oip, PredictOptions::default(), id.0, &headers, body).await
}

pub async fn infer(
    app: AppState,
    Extension(id): Extension<RequestId>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    run_infer(app, id, name, None, headers, body).await
}

pub async fn infer_version(
    app: AppState,
    Extension(id): Extension<RequestId>,
    Path((name, v)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    run_infer(app, id, name, Some(v), headers, body).await
}
