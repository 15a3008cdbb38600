//! The Open Inference Protocol over gRPC (`inference.GRPCInferenceService`) and `grpc.health.v1`, on the REST
//! port: a request whose content type is `application/grpc` goes to tonic's routes, any other to the REST router.
//!
//! The REST semantics carry over: the same model lookup, input decoding and errors (as gRPC status codes with
//! the REST messages), the API key in the `authorization` or `x-api-key` metadata, the rate and concurrency
//! limits, the body size limit and the deadline (the client's `grpc-timeout` when it is shorter), request ids,
//! metrics (gRPC calls are counted under their method with the HTTP status the same outcome gets over REST) and
//! one log line per call.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use fastpredict_engine::wire::WireError;
use tonic::metadata::MetadataValue;
use tonic::{Code, Status};
use tower_http::catch_panic::CatchPanicLayer;

use crate::errors::ApiError;
use crate::routes::{admit_client, client_request_id, App};

mod convert;
mod health;
mod service;

/// The code generated from `proto/open_inference_grpc.proto` (build.rs).
#[allow(clippy::all, clippy::pedantic)]
pub mod pb {
    include!(concat!(env!("OUT_DIR"), "/server/inference.rs"));
}

const SERVICE: &str = "inference.GRPCInferenceService";
// The methods, named once for routing the guard and the metrics labels.
const SERVER_LIVE: &str = "/inference.GRPCInferenceService/ServerLive";
const SERVER_READY: &str = "/inference.GRPCInferenceService/ServerReady";
const MODEL_READY: &str = "/inference.GRPCInferenceService/ModelReady";
const SERVER_METADATA: &str = "/inference.GRPCInferenceService/ServerMetadata";
const MODEL_METADATA: &str = "/inference.GRPCInferenceService/ModelMetadata";
const MODEL_INFER: &str = "/inference.GRPCInferenceService/ModelInfer";
const HEALTH_CHECK: &str = "/grpc.health.v1.Health/Check";
const HEALTH_WATCH: &str = "/grpc.health.v1.Health/Watch";
const METHODS: [&str; 8] =
    [SERVER_LIVE, SERVER_READY, MODEL_READY, SERVER_METADATA, MODEL_METADATA, MODEL_INFER, HEALTH_CHECK, HEALTH_WATCH];
/// Behind the API key and the rate limit, as their REST routes; health and readiness stay open.
const GUARDED: [&str; 3] = [SERVER_METADATA, MODEL_METADATA, MODEL_INFER];

/// The REST router with the gRPC services beside it. `stopping` turns true at shutdown, which ends the health
/// watches (streams that would otherwise hold their connections open past the drain).
pub fn alongside(rest: Router, app: &Arc<App>, stopping: tokio::sync::watch::Receiver<bool>) -> Router {
    let max = app.settings.max_body;
    let inference =
        pb::grpc_inference_service_server::GrpcInferenceServiceServer::new(service::Inference::new(Arc::clone(app)))
            .max_decoding_message_size(max);
    let health = tonic_health::pb::health_server::HealthServer::new(health::Health::new(Arc::clone(app), stopping))
        .max_decoding_message_size(max);
    let grpc = tonic::service::Routes::new(inference)
        .add_service(health)
        .into_axum_router()
        .layer(CatchPanicLayer::custom(panic_status))
        .layer(middleware::from_fn_with_state(Arc::clone(app), observe));
    rest.layer(middleware::from_fn_with_state(grpc, to_grpc))
}

fn is_grpc(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"))
}

async fn to_grpc(State(grpc): State<Router>, req: Request, next: Next) -> Response {
    if is_grpc(req.headers()) {
        use tower::ServiceExt;
        match grpc.oneshot(req).await {
            Ok(res) => res,
            Err(never) => match never {},
        }
    } else {
        next.run(req).await
    }
}

/// What a call's handler learns for the log and the metrics.
#[derive(Debug, Default)]
struct Noted {
    /// The HTTP status of the same outcome over REST.
    status: Option<u16>,
    model: Option<Arc<str>>,
    rows: usize,
}

/// Request extension: the call's id, its deadline, and where its handler notes what happened.
#[derive(Debug, Clone)]
pub struct Call {
    pub id: String,
    pub deadline: Instant,
    /// Seconds from the call's start to its deadline, for the timeout message.
    pub timeout: f64,
    noted: Arc<Mutex<Noted>>,
}

impl Call {
    fn note(&self, status: u16, model: Option<&Arc<str>>, rows: usize) {
        let mut n = self.noted.lock().unwrap_or_else(|e| e.into_inner());
        *n = Noted { status: Some(status), model: model.cloned(), rows };
    }

    /// A successful call for `model`.
    pub fn answered(&self, model: &Arc<str>, rows: usize) {
        self.note(200, Some(model), rows);
    }

    /// A failed call: noted, and told as a gRPC status.
    pub fn failed(&self, e: &ApiError) -> Status {
        self.note(e.wire().status, e.model(), 0);
        status(e)
    }
}

/// The gRPC code of an outcome REST answers with this status (and kind).
fn code(e: &WireError) -> Code {
    match (e.status, e.kind) {
        (_, "timeout") => Code::DeadlineExceeded,
        (400 | 422, _) => Code::InvalidArgument,
        (401, _) => Code::Unauthenticated,
        (404, _) => Code::NotFound,
        (413 | 429, _) => Code::ResourceExhausted,
        (503, _) => Code::Unavailable,
        _ => Code::Internal,
    }
}

/// The HTTP status of an outcome that only gRPC code knows (tonic's own errors), for the metrics.
fn http_status(code: Code) -> u16 {
    match code {
        Code::Ok => 200,
        Code::InvalidArgument | Code::OutOfRange | Code::FailedPrecondition => 400,
        Code::Unauthenticated => 401,
        Code::PermissionDenied => 403,
        Code::NotFound => 404,
        Code::ResourceExhausted => 429,
        Code::Cancelled => 499,
        Code::Unimplemented => 501,
        Code::Unavailable => 503,
        Code::DeadlineExceeded => 504,
        _ => 500,
    }
}

/// An error as a gRPC status: the REST message, its kind in `fastpredict-error-kind`, and `retry-after`.
pub fn status(e: &ApiError) -> Status {
    let w = e.wire();
    let mut s = Status::new(code(w), w.message.clone());
    s.metadata_mut().insert("fastpredict-error-kind", MetadataValue::from_static(w.kind));
    if let Some(secs) = e.retry_after_seconds() {
        s.metadata_mut().insert("retry-after", MetadataValue::from(secs));
    }
    s
}

fn status_response(s: Status) -> Response {
    s.into_http::<Body>()
}

fn panic_status(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("a panic without a message");
    tracing::error!(panic = what, "a gRPC handler panicked");
    status_response(Status::internal("internal error in fastpredict-server (please report it; details are in its log)"))
}

/// The client's `grpc-timeout` (an integer of at most 8 digits and a unit: H, M, S, m, u or n).
fn grpc_timeout(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get("grpc-timeout")?.to_str().ok()?;
    let (digits, unit) = v.split_at(v.len().checked_sub(1)?);
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n * 3600),
        "M" => Duration::from_secs(n * 60),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// Middleware around every gRPC call: the request id, the in-flight gauge, the guard (key, rate limit,
/// concurrency limit), the body limits, then the metrics and one log line.
async fn observe(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    let start = Instant::now();
    let _in_flight = app.metrics.start();
    let id = client_request_id(req.headers()).unwrap_or_else(|| app.ids.next());
    let path = req.uri().path().to_string();
    let route: &'static str = METHODS.iter().find(|m| **m == path).copied().unwrap_or("unmatched");
    let timeout = grpc_timeout(req.headers()).map_or(app.settings.timeout, |t| t.min(app.settings.timeout));
    let call =
        Call { id: id.clone(), deadline: start + timeout, timeout: timeout.as_secs_f64(), noted: Arc::default() };
    let admitted = GUARDED
        .contains(&route)
        .then(|| admit_client(&app, req.headers(), peer.ip()))
        .transpose()
        .and_then(|_| (route == MODEL_INFER).then(|| app.concurrency.admit()).transpose());
    let mut res = match admitted {
        Err(e) => status_response(call.failed(&e)),
        Ok(_permit) => {
            let (mut parts, body) = req.into_parts();
            parts.extensions.insert(call.clone());
            let body = Body::new(Limited::new(body, app.settings.max_body, call.clone()));
            next.run(Request::from_parts(parts, body)).await
        }
    };
    let took = start.elapsed();
    let noted = std::mem::take(&mut *call.noted.lock().unwrap_or_else(|e| e.into_inner()));
    // tonic's own errors (an undecodable message, an unknown method) come as a status in the headers
    let code = res.headers().get("grpc-status").and_then(|v| v.to_str().ok()?.parse::<i32>().ok()).map(Code::from);
    let status = noted.status.unwrap_or_else(|| http_status(code.unwrap_or(Code::Ok)));
    app.metrics.record(route, noted.model.as_ref(), status, took, noted.rows);
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-request-id", v);
    }
    tracing::info!(
        request_id = %id,
        method = "POST",
        path = %path,
        route,
        model = noted.model.as_deref().unwrap_or(""),
        status,
        grpc_status = code.map_or(0, |c| c as i32),
        rows = noted.rows,
        micros = took.as_micros() as u64,
        client = %peer.ip(),
        "request"
    );
    res
}

/// A gRPC request body held to the REST limits: at most `max` bytes of message (else RESOURCE_EXHAUSTED, as
/// soon as the message's length prefix says so) before the deadline (else DEADLINE_EXCEEDED), with REST's
/// messages. tonic finds the status in the body's error.
struct Limited {
    inner: Body,
    call: Call,
    max: usize,
    seen: usize,
    /// The first bytes: a 1-byte compression flag and the message's 4-byte length.
    prefix: Vec<u8>,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

/// gRPC's length prefix.
const PREFIX: usize = 5;

impl Limited {
    fn new(inner: Body, max: usize, call: Call) -> Limited {
        let deadline = Box::pin(tokio::time::sleep_until(call.deadline.into()));
        Limited { inner, call, max, seen: 0, prefix: Vec::with_capacity(PREFIX), deadline }
    }

    fn too_large(&self) -> Status {
        self.call.failed(&ApiError::new(
            413,
            "too_large",
            format!("the request body is larger than {} bytes, the most this server accepts", self.max),
        ))
    }

    fn check(&mut self, data: &Bytes) -> Result<(), Status> {
        self.seen = self.seen.saturating_add(data.len());
        if self.prefix.len() < PREFIX {
            let take = (PREFIX - self.prefix.len()).min(data.len());
            self.prefix.extend_from_slice(&data[..take]);
            if let [_, a, b, c, d] = self.prefix[..] {
                if u32::from_be_bytes([a, b, c, d]) as usize > self.max {
                    return Err(self.too_large());
                }
            }
        }
        if self.seen > self.max.saturating_add(PREFIX) {
            return Err(self.too_large());
        }
        Ok(())
    }
}

impl http_body::Body for Limited {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<http_body::Frame<Bytes>, Status>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    if let Err(s) = this.check(data) {
                        return Poll::Ready(Some(Err(s)));
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            // the client reset the stream or the connection: CANCELLED, counted as 499 (client closed request)
            Poll::Ready(Some(Err(e))) => {
                this.call.note(499, None, 0);
                Poll::Ready(Some(Err(Status::cancelled(format!("cannot read the request body: {e}")))))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(this.call.failed(&ApiError::new(
                    408,
                    "timeout",
                    "the request body did not arrive in time",
                ))))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_parse() {
        let t = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert("grpc-timeout", HeaderValue::from_static(v));
            grpc_timeout(&h)
        };
        assert_eq!(t("100m"), Some(Duration::from_millis(100)));
        assert_eq!(t("2S"), Some(Duration::from_secs(2)));
        assert_eq!(t("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(t("5u"), Some(Duration::from_micros(5)));
        assert_eq!(t("123456789S"), None);
        assert_eq!(t("m"), None);
        assert_eq!(t("10x"), None);
        assert_eq!(grpc_timeout(&HeaderMap::new()), None);
    }

    #[test]
    fn rest_outcomes_map_to_grpc_codes() {
        let c = |status, kind| code(&WireError::new(status, kind, ""));
        assert_eq!(c(400, "wrong_type"), Code::InvalidArgument);
        assert_eq!(c(404, "not_found"), Code::NotFound);
        assert_eq!(c(401, "unauthorized"), Code::Unauthenticated);
        assert_eq!(c(413, "too_large"), Code::ResourceExhausted);
        assert_eq!(c(429, "rate_limited"), Code::ResourceExhausted);
        assert_eq!(c(503, "overloaded"), Code::Unavailable);
        assert_eq!(c(503, "timeout"), Code::DeadlineExceeded);
        assert_eq!(c(408, "timeout"), Code::DeadlineExceeded);
        assert_eq!(c(500, "internal"), Code::Internal);
    }
}
