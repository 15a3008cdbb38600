//! Running a prediction: small ones inline on the HTTP thread, large ones on the engine's pool under the deadline.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use fastpredict_engine::wire::{self, OipReply, Protocol, Request, WireError};
use fastpredict_engine::{Error, Job, PredictOptions, Prediction};

use crate::repository::Served;

/// Bodies larger than this are parsed off the HTTP threads too (64 KiB is about 600 records of 10 columns,
/// a few hundred microseconds to parse).
const INLINE_BODY: usize = 64 << 10;

/// How often a large prediction checks its deadline.
const POLL: Duration = Duration::from_millis(10);

/// What a request asks.
pub struct Ask {
    pub protocol: Protocol,
    /// Vetiver: options from the query string (OIP's come in the body).
    pub options: PredictOptions,
    /// OIP: the id to answer with when the request has none.
    pub request_id: String,
    pub deadline: Instant,
    /// The operator's timeout, for the message.
    pub timeout: f64,
    pub threads: usize,
    pub limits: wire::WireLimits,
}

/// The answer's bytes and the rows predicted.
pub struct Answer {
    pub body: Vec<u8>,
    pub rows: usize,
}

fn decode(served: &Served, body: &[u8], ask: &Ask) -> Result<Request, WireError> {
    match ask.protocol {
        Protocol::Vetiver => {
            let mut r = served.decoder.vetiver(body, &ask.limits)?;
            r.options = ask.options.clone();
            Ok(r)
        }
        Protocol::Oip => served.decoder.oip(body, &ask.limits),
    }
}

fn encode(served: &Served, request: &Request, p: &Prediction, ask: &Ask) -> Result<Vec<u8>, WireError> {
    match ask.protocol {
        Protocol::Vetiver => wire::write_vetiver(p),
        Protocol::Oip => {
            let info = served.model.info();
            let output = request.options.type_.as_deref().unwrap_or(info.default_type.as_str());
            let id = request.id.as_deref().unwrap_or(&ask.request_id);
            wire::write_oip(p, &OipReply { model_name: &served.name, model_version: Some(&served.version), id, output })
        }
    }
}

/// Run `job` on the pool while this thread watches the deadline.
fn run_watched(job: &Job, ask: &Ask) -> Result<Prediction, Error> {
    let limit = ask.deadline;
    let mut poll = || (Instant::now() > limit).then_some(Error::Timeout { seconds: ask.timeout });
    job.predict_watched(ask.threads, POLL, &mut poll)
}

/// Predict a decoded request (on the pool under the deadline if it is large) and write the answer.
fn finish(served: &Served, request: &Request, ask: &Ask) -> Result<Answer, WireError> {
    let frame = request.frame.frame();
    let engine = |e: Error| WireError::from_engine(&e, ask.protocol);
    let job = served.model.prepare(&frame, &request.options).map_err(engine)?;
    let p = if job.is_large() { run_watched(&job, ask).map_err(engine)? } else { job.predict(1).map_err(engine)? };
    Ok(Answer { body: encode(served, request, &p, ask)?, rows: p.nrows })
}

/// Answer a request: inline when the body and the work are small, else off the HTTP threads.
pub async fn answer(served: Arc<Served>, body: Bytes, ask: Ask) -> Result<Answer, WireError> {
    let request = if body.len() <= INLINE_BODY {
        let request = decode(&served, &body, &ask)?;
        let frame = request.frame.frame();
        let job =
            served.model.prepare(&frame, &request.options).map_err(|e| WireError::from_engine(&e, ask.protocol))?;
        if !job.is_large() {
            let p = job.predict(1).map_err(|e| WireError::from_engine(&e, ask.protocol))?;
            return Ok(Answer { body: encode(&served, &request, &p, &ask)?, rows: p.nrows });
        }
        drop(job);
        Some(request)
    } else {
        None
    };
    let work = move || match request {
        Some(r) => finish(&served, &r, &ask),
        None => decode(&served, &body, &ask).and_then(|r| finish(&served, &r, &ask)),
    };
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|e| {
        if e.is_panic() {
            tracing::error!(error = %e, "a prediction panicked");
        }
        Err(WireError::new(
            500,
            "internal",
            "internal error in fastpredict-server (please report it; details are in its log)",
        ))
    })
}
