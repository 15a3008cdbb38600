//! The router: the routes of each protocol, the per-request middleware (request id, log line, metrics, auth,
//! rate limit) and the shared prediction handler.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use fastpredict_engine::wire::{Protocol, WireLimits};
use fastpredict_engine::PredictOptions;
use tower_http::catch_panic::CatchPanicLayer;

use crate::auth::{Keys, Refused};
use crate::errors::{json_errors, json_response, not_found, panic_response, ApiError};
use crate::limits::{read_body, Client, Concurrency, RateLimiter};
use crate::metrics::{Metrics, ModelLabel, Rows};
use crate::predict::{self, Ask};
use crate::repository::{Repository, Served};

mod oip;
mod ops;
mod vetiver;

/// Settings every request reads.
pub struct Settings {
    pub max_body: usize,
    pub timeout: Duration,
    pub threads: usize,
    pub limits: WireLimits,
    pub rate: f64,
}

/// The server's shared state.
pub struct App {
    pub repo: Arc<Repository>,
    pub metrics: Metrics,
    pub keys: Option<Keys>,
    pub limiter: Option<RateLimiter>,
    pub concurrency: Concurrency,
    pub settings: Settings,
    pub ids: RequestIds,
}

type AppState = State<Arc<App>>;

/// Request extension: the request's id.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Ids for requests that bring none: a per-process prefix and a counter.
pub struct RequestIds {
    prefix: String,
    next: AtomicU64,
}

impl RequestIds {
    pub fn new() -> RequestIds {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        RequestIds { prefix: format!("{:08x}", h.finish() as u32), next: AtomicU64::new(1) }
    }

    pub fn next(&self) -> String {
        format!("{}-{:x}", self.prefix, self.next.fetch_add(1, Ordering::Relaxed))
    }
}

// The routes, named once for the router and the metrics labels.
const V2: &str = "/v2";
const LIVE: &str = "/v2/health/live";
const READY: &str = "/v2/health/ready";
const MODEL: &str = "/v2/models/{name}";
const MODEL_VERSION: &str = "/v2/models/{name}/versions/{version}";
const MODEL_READY: &str = "/v2/models/{name}/ready";
const MODEL_VERSION_READY: &str = "/v2/models/{name}/versions/{version}/ready";
const INFER: &str = "/v2/models/{name}/infer";
const INFER_VERSION: &str = "/v2/models/{name}/versions/{version}/infer";
const PREDICT: &str = "/predict";
const PREDICT_NAMED: &str = "/models/{name}/predict";
const PING: &str = "/ping";
const METADATA: &str = "/metadata";
const METADATA_NAMED: &str = "/models/{name}/metadata";
const PROTOTYPE: &str = "/prototype";
const PROTOTYPE_NAMED: &str = "/models/{name}/prototype";
const METRICS: &str = "/metrics";
const ROUTES: [&str; 17] = [
    V2,
    LIVE,
    READY,
    MODEL,
    MODEL_VERSION,
    MODEL_READY,
    MODEL_VERSION_READY,
    INFER,
    INFER_VERSION,
    PREDICT,
    PREDICT_NAMED,
    PING,
    METADATA,
    METADATA_NAMED,
    PROTOTYPE,
    PROTOTYPE_NAMED,
    METRICS,
];

pub fn router(app: Arc<App>) -> Router {
    // behind an API key and the rate limit
    let guarded = Router::new()
        .route(V2, get(oip::server_metadata))
        .route(MODEL, get(oip::model_metadata))
        .route(MODEL_VERSION, get(oip::model_version_metadata))
        .route(INFER, post(oip::infer))
        .route(INFER_VERSION, post(oip::infer_version))
        .route(PREDICT, post(vetiver::predict))
        .route(PREDICT_NAMED, post(vetiver::predict_named))
        .route(METADATA, get(vetiver::metadata))
        .route(METADATA_NAMED, get(vetiver::metadata_named))
        .route(PROTOTYPE, get(vetiver::prototype))
        .route(PROTOTYPE_NAMED, get(vetiver::prototype_named))
        .route(METRICS, get(ops::metrics))
        .route_layer(middleware::from_fn_with_state(Arc::clone(&app), guard));
    // health probes stay open
    let open = Router::new()
        .route(LIVE, get(oip::live))
        .route(READY, get(oip::ready))
        .route(MODEL_READY, get(oip::model_ready))
        .route(MODEL_VERSION_READY, get(oip::model_version_ready))
        .route(PING, get(vetiver::ping));
    guarded
        .merge(open)
        .fallback(not_found)
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn(json_errors))
        .layer(middleware::from_fn_with_state(Arc::clone(&app), observe))
        .with_state(app)
}

/// A request id from the client, if it is a sensible one.
pub(crate) fn client_request_id(headers: &HeaderMap) -> Option<String> {
    let v = headers.get("x-request-id")?.to_str().ok()?;
    (!v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic())).then(|| v.to_string())
}

/// Middleware around everything: the request id, the in-flight gauge, the metrics and one log line.
async fn observe(
    State(app): AppState,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut req: Request,
    next: Next,
) -> Response {
    let start = Instant::now();
    let _in_flight = app.metrics.start();
    let id = client_request_id(req.headers()).unwrap_or_else(|| app.ids.next());
    let route: &'static str = req
        .extensions()
        .get::<MatchedPath>()
        .and_then(|m| ROUTES.iter().find(|r| **r == m.as_str()))
        .copied()
        .unwrap_or("unmatched");
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut res = next.run(req).await;
    let took = start.elapsed();
    let status = res.status().as_u16();
    let model = res.extensions().get::<ModelLabel>().map(|m| Arc::clone(&m.0));
    let rows = res.extensions().get::<Rows>().map_or(0, |r| r.0);
    app.metrics.record(route, model.as_ref(), status, took, rows);
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-request-id", v);
    }
    tracing::info!(
        request_id = %id,
        method = %method,
        path = %path,
        route,
        model = model.as_deref().unwrap_or(""),
        status,
        rows,
        micros = took.as_micros() as u64,
        client = %peer.ip(),
        "request"
    );
    res
}

/// Middleware on the guarded routes: the API key, then the client's rate limit.
async fn guard(
    State(app): AppState,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    admit_client(&app, req.headers(), peer.ip())?;
    Ok(next.run(req).await)
}

/// The API key a request presents, then its client's rate limit (REST and gRPC).
pub(crate) fn admit_client(app: &App, headers: &HeaderMap, peer: IpAddr) -> Result<(), ApiError> {
    let client = match &app.keys {
        Some(keys) => match keys.check(headers) {
            Ok(i) => Client::Key(i),
            Err(Refused::Missing) => {
                return Err(ApiError::unauthorized(
                    "an API key is required: send `Authorization: Bearer <key>`, `Authorization: Key <key>` or \
                     `X-API-Key: <key>`",
                ))
            }
            Err(Refused::Wrong) => return Err(ApiError::unauthorized("the API key is not valid")),
        },
        None => Client::Ip(peer),
    };
    if let Some(limiter) = &app.limiter {
        if let Err(wait) = limiter.take(client, Instant::now()) {
            let secs = wait.as_secs_f64();
            return Err(ApiError::new(
                429,
                "rate_limited",
                format!("too many requests: {} per second are allowed; retry in {secs:.2} s", app.settings.rate),
            )
            .retry_after(secs.ceil().max(1.0) as u64));
        }
    }
    Ok(())
}

/// The model `name` (at `version`, if given), or a 404 naming what is loaded.
pub(crate) fn find(app: &App, name: &str, version: Option<&str>) -> Result<Arc<Served>, ApiError> {
    let models = app.repo.current();
    let Some(served) = models.get(name) else {
        return Err(ApiError::new(
            404,
            "not_found",
            format!("model '{name}' is not loaded (loaded: {})", models.names()),
        ));
    };
    match version {
        Some(v) if v != served.version => {
            Err(ApiError::new(404, "not_found", format!("model '{name}' has version '{}', not '{v}'", served.version))
                .for_model(&served.name))
        }
        _ => Ok(Arc::clone(served)),
    }
}

/// The model of `/predict`: the default, or a 404 that says how to choose.
fn default_model(app: &App) -> Result<Arc<Served>, ApiError> {
    let models = app.repo.current();
    match models.default.as_deref().and_then(|d| models.get(d)) {
        Some(s) => Ok(Arc::clone(s)),
        None => Err(ApiError::new(
            404,
            "not_found",
            format!(
                "no default model: the server holds {} models ({}); use /models/{{name}}/predict or start it with \
                 --default-model",
                models.models.len(),
                models.names()
            ),
        )),
    }
}

/// Read the body and answer a prediction request, under the concurrency limit and the deadline.
async fn run_prediction(
    app: &App,
    served: Arc<Served>,
    protocol: Protocol,
    options: PredictOptions,
    request_id: String,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let deadline = Instant::now() + app.settings.timeout;
    let label = Arc::clone(&served.name);
    let _permit = app.concurrency.admit().map_err(|e| e.for_model(&label))?;
    let bytes = read_body(body, headers, app.settings.max_body, deadline).await.map_err(|e| e.for_model(&label))?;
    let ask = Ask {
        protocol,
        options,
        request_id,
        deadline,
        timeout: app.settings.timeout.as_secs_f64(),
        threads: app.settings.threads,
        limits: app.settings.limits,
    };
    let answer = predict::answer(served, bytes, ask).await.map_err(|e| ApiError::from(e).for_model(&label))?;
    let mut res = json_response(StatusCode::OK, answer.body);
    res.extensions_mut().insert(ModelLabel(label));
    res.extensions_mut().insert(Rows(answer.rows));
    Ok(res)
}
