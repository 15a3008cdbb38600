//! JSON over HTTP from R: answering a request body (Plumber's handlers)
//! and the client's request and answer (`fp_endpoint()`), all through the
//! engine's wire codec, the one fastpredict-server uses. R never parses or
//! writes the JSON.

use std::sync::atomic::{AtomicU64, Ordering};

use extendr_api::prelude::*;
use extendr_ffi::{RAW, SEXPTYPE};
use fastpredict_engine::wire::{self, OipReply, Protocol, WireError, WireLimits};
use fastpredict_engine::{Error, MatrixInput, Model, OutBuf, PredictOptions, Values};

use super::sexp::{alloc_vector, strings};
use super::{args, interrupt, newdata, output, INTERRUPT_POLL};

pub fn bad_argument(message: impl Into<String>) -> WireError {
    WireError::from_engine(&Error::bad_argument(message), Protocol::Vetiver)
}

/// The bytes of a body given as a raw vector or a single string.
pub fn body_bytes(body: &Robj) -> Result<&[u8], WireError> {
    if let Some(b) = body.as_raw_slice() {
        return Ok(b);
    }
    match body.as_str() {
        Some(s) if body.len() == 1 => Ok(s.as_bytes()),
        _ => Err(bad_argument("body must be a raw vector or a single string")),
    }
}

fn protocol(decoder: &wire::Decoder, body: &[u8], given: &Robj) -> Result<Protocol, WireError> {
    match given.as_str() {
        Some("auto") => Ok(decoder.sniff(body)),
        Some("vetiver") => Ok(Protocol::Vetiver),
        Some("oip") => Ok(Protocol::Oip),
        _ => Err(bad_argument("protocol must be \"auto\", \"vetiver\" or \"oip\"")),
    }
}

fn max_rows(x: &Robj) -> Result<usize, WireError> {
    let v = if x.len() == 1 { x.as_real().or_else(|| x.as_integer().map(f64::from)) } else { None };
    match v {
        Some(v) if v >= 1.0 && v.fract() == 0.0 && v <= u32::MAX as f64 => Ok(v as usize),
        _ => Err(bad_argument("max_rows must be a whole number of at least 1")),
    }
}

/// The options of a request laid over the caller's: a request may choose
/// the type and options unless the caller fixed them, and then naming one
/// is refused rather than ignored.
fn merge(defaults: PredictOptions, given: PredictOptions, allowed: bool) -> Result<PredictOptions, WireError> {
    let named = wire::set_names(&given);
    if named.is_empty() {
        return Ok(defaults);
    }
    if !allowed {
        return Err(WireError::bad_request(format!(
            "this API fixes the prediction type and options; the request may not set {}",
            named.join(", ")
        )));
    }
    wire::overlay(&defaults, &given)
}

/// An OIP answer's `id` when the request gives none: unique in this R
/// process (its id, then a count).
fn next_id() -> String {
    static COUNT: AtomicU64 = AtomicU64::new(1);
    format!("{:x}-{}", std::process::id(), COUNT.fetch_add(1, Ordering::Relaxed))
}

/// A request body to answer, with what the caller fixed.
pub struct JsonCall<'a> {
    pub model: &'a Model,
    pub body: &'a [u8],
    /// "auto", "vetiver" or "oip".
    pub protocol: &'a Robj,
    /// The caller's type and options, which the request's may override.
    pub defaults: PredictOptions,
    /// A vetiver route's query string (options).
    pub query: Option<&'a str>,
    pub request_options: bool,
    pub limits: WireLimits,
    /// The model's name in an OIP answer.
    pub name: &'a str,
    pub threads: usize,
}

/// Read `max_rows` and the other scalars of a call.
pub fn scalars<'a>(
    query: &'a Robj,
    request_options: &Robj,
    limit: &Robj,
    name: &'a Robj,
) -> Result<(Option<&'a str>, bool, WireLimits, &'a str), WireError> {
    let query = match query.is_null() {
        true => None,
        false => Some(query.as_str().ok_or_else(|| bad_argument("query must be a single string"))?),
    };
    let allowed = request_options.as_bool().ok_or_else(|| bad_argument("request_options must be TRUE or FALSE"))?;
    let name = name.as_str().ok_or_else(|| bad_argument("name must be a single string"))?;
    Ok((query, allowed, WireLimits { max_rows: max_rows(limit)? }, name))
}

impl JsonCall<'_> {
    /// Decode, predict and encode: the answer's JSON.
    pub fn answer(self) -> Result<Vec<u8>, WireError> {
        let decoder = wire::Decoder::new(self.model.inputs());
        let protocol = protocol(&decoder, self.body, self.protocol)?;
        let (request, given) = match protocol {
            Protocol::Vetiver => {
                let r = decoder.vetiver(self.body, &self.limits)?;
                (r, wire::query_options(self.query.map_or("", |q| q.trim_start_matches('?')))?)
            }
            Protocol::Oip => {
                let mut r = decoder.oip(self.body, &self.limits)?;
                let given = std::mem::take(&mut r.options);
                (r, given)
            }
        };
        let options = merge(self.defaults, given, self.request_options)?;
        let engine = |e: Error| WireError::from_engine(&e, protocol);
        let frame = request.frame.frame();
        let job = self.model.prepare(&frame, &options).map_err(engine)?;
        let mut poll = || interrupt::pending().then_some(Error::Interrupted);
        let p = job.predict_watched(self.threads, INTERRUPT_POLL, &mut poll).map_err(engine)?;
        match protocol {
            Protocol::Vetiver => wire::write_vetiver(&p),
            Protocol::Oip => {
                let output = options.type_.as_deref().unwrap_or(self.model.info().default_type.as_str());
                let id = request.id.unwrap_or_else(next_id);
                wire::write_oip(&p, &OipReply { model_name: self.name, model_version: None, id: &id, output })
            }
        }
    }
}

/// JSON bytes the engine wrote as an R string.
pub fn json_string(bytes: Vec<u8>) -> Result<Robj, WireError> {
    let text = String::from_utf8(bytes).map_err(|_| WireError::new(500, "internal", "the answer is not UTF-8"))?;
    strings(&[text]).map_err(|e| WireError::from_engine(&e, Protocol::Vetiver))
}

/// A raw vector holding `bytes`.
pub fn raw_vector(bytes: &[u8]) -> fastpredict_engine::Result<Robj> {
    let r = alloc_vector(SEXPTYPE::RAWSXP, bytes.len())?;
    if !bytes.is_empty() {
        // SAFETY: a fresh raw vector of bytes.len() bytes
        unsafe { std::slice::from_raw_parts_mut(RAW(r.get()), bytes.len()) }.copy_from_slice(bytes);
    }
    Ok(r)
}

/// The R object of a prediction read from an answer, as `predict_fast()`
/// would have made it.
pub fn prediction_to_r(p: &fastpredict_engine::Prediction) -> fastpredict_engine::Result<Robj> {
    let out = output::alloc(&p.shape, p.nrows)?;
    // SAFETY: `out` was made by `alloc` for this shape and lives to the end
    let bufs = unsafe { output::buffers(&out, &p.shape) };
    for (buf, values) in bufs.into_iter().zip(&p.parts) {
        match (buf, values) {
            (OutBuf::Real(b), Values::Real(v)) => b.copy_from_slice(v),
            (OutBuf::Int(b), Values::Int(v)) => b.copy_from_slice(v),
            _ => return Err(Error::internal("an answer's values do not match its shape")),
        }
    }
    output::finish(out, &p.shape)
}

/// The OIP request for `newdata`'s columns named in `inputs`, read as
/// `predict_fast()` reads them (a data frame, a list, a matrix; only a
/// matrix for a model that predicts from one, `by_position` TRUE or FALSE;
/// a sparse matrix's absent entries as the model's `sparse_absent` says).
pub fn oip_request(
    newdata: &Robj,
    inputs: &Robj,
    type_: &Robj,
    options: &Robj,
    algorithm: &Robj,
    by_position: &Robj,
    sparse_absent: &Robj,
) -> fastpredict_engine::Result<Robj> {
    let names: Vec<&str> = inputs.as_str_iter().ok_or_else(|| Error::bad_argument("inputs must be strings"))?.collect();
    let mut opts = args::options_for(algorithm.as_str().unwrap_or(""), options)?;
    opts.type_ = if type_.is_null() { None } else { Some(args::string(type_, "type")?) };
    let matrix = by_position.as_bool().map(|by_position| MatrixInput { by_position });
    let absent = newdata::absent(sparse_absent.as_str());
    let data = unsafe { newdata::read(newdata.get(), &names, matrix, absent)? };
    let body = match &data {
        newdata::NewData::Borrowed(frame) => wire::write_oip_request(frame, &opts),
        newdata::NewData::Owned(buf) => wire::write_oip_request(&buf.frame(), &opts),
    };
    let body = body.map_err(|e| Error::internal(e.message))?;
    raw_vector(&body)
}

/// Whether `presented` is one of `keys`, in a time that depends on the
/// keys' lengths only, not on where (or whether) they differ.
pub fn key_matches(presented: &[u8], keys: &[&[u8]]) -> bool {
    let mut found = false;
    for k in keys {
        let mut diff = u8::from(k.len() != presented.len());
        for (i, b) in k.iter().enumerate() {
            diff |= b ^ presented.get(i).copied().unwrap_or(!b);
        }
        found |= diff == 0;
    }
    found
}
