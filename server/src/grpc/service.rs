//! `inference.GRPCInferenceService`: the REST routes' answers as protobuf messages.

use std::sync::Arc;

use fastpredict_engine::wire::{Protocol, Request as Decoded, WireError};
use fastpredict_engine::{Error, PredictOptions, Prediction};
use prost::Message;
use tonic::{Request, Response, Status};

use super::convert::{metadata, response, typed_request};
use super::pb::grpc_inference_service_server::GrpcInferenceService;
use super::pb::{
    ModelInferRequest, ModelInferResponse, ModelMetadataRequest, ModelMetadataResponse, ModelReadyRequest,
    ModelReadyResponse, ServerLiveRequest, ServerLiveResponse, ServerMetadataRequest, ServerMetadataResponse,
    ServerReadyRequest, ServerReadyResponse,
};
use super::Call;
use crate::errors::ApiError;
use crate::predict::{run_watched, Ask, INLINE_BODY};
use crate::repository::Served;
use crate::routes::{find, App};

pub struct Inference {
    app: Arc<App>,
}

impl Inference {
    pub fn new(app: Arc<App>) -> Inference {
        Inference { app }
    }
}

/// The call's extension (the middleware always puts it there).
fn call<T>(r: &Request<T>) -> Result<Call, Status> {
    r.extensions().get::<Call>().cloned().ok_or_else(|| Status::internal("the request went around the gRPC middleware"))
}

/// An empty version is any version, as a missing one over REST.
fn version(v: &str) -> Option<&str> {
    (!v.is_empty()).then_some(v)
}

fn internal() -> WireError {
    WireError::new(500, "internal", "internal error in fastpredict-server (please report it; details are in its log)")
}

/// Decode, predict and answer on this thread.
fn answer_here(
    served: &Served,
    req: &ModelInferRequest,
    decoded: Option<Decoded>,
    ask: &Ask,
) -> Result<Answer, WireError> {
    let decoded = match decoded {
        Some(d) => d,
        None => served.decoder.oip_typed(&typed_request(req)?, &ask.limits)?,
    };
    let frame = decoded.frame.frame();
    let engine = |e: Error| WireError::from_engine(&e, Protocol::Oip);
    let job = served.model.prepare(&frame, &decoded.options).map_err(engine)?;
    let p = if job.is_large() { run_watched(&job, ask).map_err(engine)? } else { job.predict(1).map_err(engine)? };
    Ok(respond(served, req, &decoded, &p, ask))
}

struct Answer {
    message: ModelInferResponse,
    rows: usize,
}

fn respond(served: &Served, req: &ModelInferRequest, decoded: &Decoded, p: &Prediction, ask: &Ask) -> Answer {
    let info = served.model.info();
    let output = decoded.options.type_.as_deref().unwrap_or(info.default_type.as_str());
    let id = decoded.id.as_deref().unwrap_or(&ask.request_id);
    // answer in the form asked: raw bytes for raw inputs
    let raw = !req.raw_input_contents.is_empty();
    Answer { message: response(&served.name, &served.version, id, output, p, raw), rows: p.nrows }
}

/// As REST's `predict::answer`: a small request is decoded and predicted inline, a large one (a large message or
/// a large job) on the blocking threads under the deadline.
async fn answer(served: Arc<Served>, req: ModelInferRequest, ask: Ask) -> Result<Answer, WireError> {
    let decoded = if req.encoded_len() <= INLINE_BODY {
        let decoded = served.decoder.oip_typed(&typed_request(&req)?, &ask.limits)?;
        let frame = decoded.frame.frame();
        let job =
            served.model.prepare(&frame, &decoded.options).map_err(|e| WireError::from_engine(&e, Protocol::Oip))?;
        if !job.is_large() {
            let p = job.predict(1).map_err(|e| WireError::from_engine(&e, Protocol::Oip))?;
            return Ok(respond(&served, &req, &decoded, &p, &ask));
        }
        drop(job);
        Some(decoded)
    } else {
        None
    };
    tokio::task::spawn_blocking(move || answer_here(&served, &req, decoded, &ask)).await.unwrap_or_else(|e| {
        if e.is_panic() {
            tracing::error!(error = %e, "a prediction panicked");
        }
        Err(internal())
    })
}

#[tonic::async_trait]
impl GrpcInferenceService for Inference {
    async fn server_live(&self, _: Request<ServerLiveRequest>) -> Result<Response<ServerLiveResponse>, Status> {
        Ok(Response::new(ServerLiveResponse { live: true }))
    }

    /// Ready when at least one model is loaded (REST answers 503 otherwise; gRPC says `ready: false`).
    async fn server_ready(&self, _: Request<ServerReadyRequest>) -> Result<Response<ServerReadyResponse>, Status> {
        Ok(Response::new(ServerReadyResponse { ready: !self.app.repo.current().models.is_empty() }))
    }

    async fn model_ready(&self, r: Request<ModelReadyRequest>) -> Result<Response<ModelReadyResponse>, Status> {
        let call = call(&r)?;
        let m = r.get_ref();
        let served = find(&self.app, &m.name, version(&m.version)).map_err(|e| call.failed(&e))?;
        call.answered(&served.name, 0);
        Ok(Response::new(ModelReadyResponse { ready: true }))
    }

    async fn server_metadata(
        &self,
        _: Request<ServerMetadataRequest>,
    ) -> Result<Response<ServerMetadataResponse>, Status> {
        Ok(Response::new(ServerMetadataResponse {
            name: "fastpredict-server".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            extensions: Vec::new(),
        }))
    }

    async fn model_metadata(
        &self,
        r: Request<ModelMetadataRequest>,
    ) -> Result<Response<ModelMetadataResponse>, Status> {
        let call = call(&r)?;
        let m = r.get_ref();
        let served = find(&self.app, &m.name, version(&m.version)).map_err(|e| call.failed(&e))?;
        let message =
            metadata(&served.oip_metadata).map_err(|e| call.failed(&ApiError::from(e).for_model(&served.name)))?;
        call.answered(&served.name, 0);
        Ok(Response::new(message))
    }

    async fn model_infer(&self, r: Request<ModelInferRequest>) -> Result<Response<ModelInferResponse>, Status> {
        let call = call(&r)?;
        let req = r.into_inner();
        let served = find(&self.app, &req.model_name, version(&req.model_version)).map_err(|e| call.failed(&e))?;
        let label = Arc::clone(&served.name);
        let settings = &self.app.settings;
        let ask = Ask {
            protocol: Protocol::Oip,
            options: PredictOptions::default(),
            request_id: call.id.clone(),
            deadline: call.deadline,
            timeout: call.timeout,
            threads: settings.threads,
            limits: settings.limits,
        };
        match answer(served, req, ask).await {
            Ok(a) => {
                call.answered(&label, a.rows);
                Ok(Response::new(a.message))
            }
            Err(e) => Err(call.failed(&ApiError::from(e).for_model(&label))),
        }
    }
}
