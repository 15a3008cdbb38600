//! vetiver-compatible routes: POST /predict (records or columns, with or without a Content-Type), /ping,
//! /metadata, /prototype, and the same per model under /models/{name}/.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use fastpredict_engine::wire::{self, Protocol};
use serde_json::json;

use super::{default_model, find, run_prediction, AppState, RequestId};
use crate::errors::{json_response, ApiError};
use crate::metrics::ModelLabel;
use crate::repository::Served;

async fn run(
    app: AppState,
    served: Arc<Served>,
    id: RequestId,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let options =
        wire::query_options(uri.query().unwrap_or("")).map_err(|e| ApiError::from(e).for_model(&served.name))?;
    run_prediction(&app, served, Protocol::Vetiver, options, id.0, &headers, body).await
}

pub async fn predict(
    app: AppState,
    Extension(id): Extension<RequestId>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let served = default_model(&app)?;
    run(app, served, id, uri, headers, body).await
}

pub async fn predict_named(
    app: AppState,
    Extension(id): Extension<RequestId>,
    Path(name): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let served = find(&app, &name, None)?;
    run(app, served, id, uri, headers, body).await
}

/// `{"status": "online", "time": "2026-01-02 03:04:05"}`, as vetiver's R API answers.
pub async fn ping() -> Response {
    let body = json!({ "status": "online", "time": utc_now() });
    json_response(StatusCode::OK, body.to_string().into_bytes())
}

/// vetiver's four fields (`user`, `version`, `url`, `required_pkgs`), and the model's description under
/// `fastpredict`. The model card, if any, is the `user` metadata: what the modeller recorded about the model,
/// as `vetiver_model(metadata =)` holds it.
fn metadata_of(served: &Served) -> Response {
    let info = served.model.info();
    let body = json!({
        "user": info.card.as_ref().map_or_else(|| json!({}), |c| json!(c)),
        "version": served.version,
        "url": null,
        "required_pkgs": [],
        "fastpredict": {
            "name": &*served.name,
            "file": served.file.display().to_string(),
            "sha256": served.sha256,
            "content_hash": served.content_hash,
            "model": info,
        },
    });
    let mut res = json_response(StatusCode::OK, body.to_string().into_bytes());
    res.extensions_mut().insert(ModelLabel(served.name.clone()));
    res
}

fn prototype_of(served: &Served) -> Response {
    let mut res = json_response(StatusCode::OK, served.prototype.clone());
    res.extensions_mut().insert(ModelLabel(served.name.clone()));
    res
}

pub async fn metadata(State(app): AppState) -> Result<Response, ApiError> {
    let served = default_model(&app)?;
    Ok(metadata_of(&served))
}

pub async fn metadata_named(State(app): AppState, Path(name): Path<String>) -> Result<Response, ApiError> {
    let served = find(&app, &name, None)?;
    Ok(metadata_of(&served))
}

pub async fn prototype(State(app): AppState) -> Result<Response, ApiError> {
    let served = default_model(&app)?;
    Ok(prototype_of(&served))
}

pub async fn prototype_named(State(app): AppState, Path(name): Path<String>) -> Result<Response, ApiError> {
    let served = find(&app, &name, None)?;
    Ok(prototype_of(&served))
}

/// The time in UTC as R prints it.
fn utc_now() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = ((secs / 86_400) as i64, secs % 86_400);
    // civil date from days since 1970-01-01 (H. Hinnant's algorithm)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}", rest / 3600, rest % 3600 / 60, rest % 60)
}
