//! The HTTP wire format, shared by the standalone server and the R
//! package's Plumber integration: parse a request body against a model's
//! input prototype into an owned frame and options, and write the answer.
//!
//! Two protocols:
//! - **vetiver** (`POST /predict`): a JSON array of records, as vetiver's
//!   clients send it (jsonlite's `"NA"`, `"NaN"`, `"Inf"`, `"-Inf"` strings
//!   for missing and special values, unknown keys such as `"_row"`
//!   ignored), or an object of columns (`{"wt": [2.6, 3.1]}`); options in
//!   the query string; the answer is `{".pred": [...]}`, one
//!   `.pred_<column>` per column of a matrix, and a list's parts as
//!   `.se_fit`, `.df`, ... (see [`write_vetiver`]).
//! - **the Open Inference Protocol** (KServe "V2" REST `infer`): one tensor
//!   per input, shape `[N]` or `[N, 1]`, `null` as a missing value; options
//!   in the request's `parameters`; the answer has one output tensor per
//!   part of the prediction (see [`write_oip`]). Its gRPC form carries the
//!   same tensors as typed arrays ([`TypedRequest`], [`typed_outputs`]),
//!   which the server maps to and from protobuf.
//!
//! Options are named as the engine names them ([`option_names`]: `type`,
//! `n_trees`, `se_fit`, `interval`, `level`, ...), whatever the source
//! package calls them in R.
//!
//! The client's side of OIP ([`write_oip_request`], [`read_oip`]) is here
//! too, so that the R package's client is the exact inverse of the server.
//!
//! Numbers are read correctly rounded and written in their shortest form
//! that reads back to the same double, so nothing is lost either way.
//! Hostile bodies are bounded: nesting (serde_json's depth limit, and
//! tensors nest at most [`MAX_NESTING`] deep), rows ([`WireLimits`]) and the
//! values a body may expand to (a record that omits keys still costs a
//! value per column: at most one value per byte of body, plus
//! [`SPARE_VALUES`]).

use std::collections::HashMap;

use crate::error::Error;
use crate::format::InputSpec;
use crate::frame::FrameBuf;
use crate::model::{Model, PredictOptions};

mod cells;
mod client;
mod decode;
mod encode;
mod meta;
mod options;

pub use client::{read_oip, write_oip_request};
pub use decode::typed::{Contents, Param, TypedData, TypedInput, TypedRequest};
pub use encode::typed::{typed_outputs, TypedOutput, TypedValues};
pub use encode::{write_oip, write_vetiver, OipReply};
pub use meta::{oip_datatype, oip_model_metadata, vetiver_prototype};
pub use options::{option_names, overlay, query_options, set_names};

/// Deepest nesting of an OIP tensor's `data` (`[[1], [2]]` is 2).
pub const MAX_NESTING: usize = 8;
/// Values a body may hold beyond one per byte (see the module comment).
pub const SPARE_VALUES: usize = 1 << 16;

/// How large a request may be once parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireLimits {
    /// Rows per request.
    pub max_rows: usize,
}

impl Default for WireLimits {
    fn default() -> WireLimits {
        WireLimits { max_rows: 100_000 }
    }
}

/// Which protocol a body speaks (and so which statuses its errors get).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Vetiver,
    Oip,
}

/// A parsed request: the input columns (named as the model's inputs, in
/// their order; an input the body lacks is absent, so that binding names
/// it), the prediction options, and the OIP `id` to return.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub frame: FrameBuf,
    pub options: PredictOptions,
    pub id: Option<String>,
}

/// A model's input prototype, indexed once for decoding its requests.
#[derive(Debug, Clone)]
pub struct Decoder {
    inputs: Vec<InputSpec>,
    index: HashMap<String, usize>,
    /// The model's package predicts from a matrix (glmnet): a body may
    /// also give whole rows of values in the order of the inputs.
    matrix: bool,
}

impl Decoder {
    pub fn new(inputs: &[InputSpec]) -> Decoder {
        let index = inputs.iter().enumerate().map(|(i, s)| (s.name.clone(), i)).collect();
        Decoder { inputs: inputs.to_vec(), index, matrix: false }
    }

    /// The decoder of a model: its inputs, and for a model whose package
    /// predicts from a matrix ([`crate::ModelInfo::matrix_input`]) the
    /// matrix forms too: vetiver rows as arrays (`[[1.5, 2], ...]`, as
    /// jsonlite writes a matrix) and one OIP tensor of shape `[N, P]`, both
    /// with the values in the order of the model's inputs.
    pub fn for_model(model: &Model) -> Decoder {
        Decoder { matrix: model.info().matrix_input.is_some(), ..Decoder::new(model.inputs()) }
    }

    pub fn inputs(&self) -> &[InputSpec] {
        &self.inputs
    }

    fn input(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// Which protocol a body speaks, for callers that take both on one
    /// route: an object with an `"inputs"` key is an OIP request, unless
    /// the model has an input of that name; anything else is vetiver's
    /// (whose decoder then reports what is wrong with it).
    pub fn sniff(&self, body: &[u8]) -> Protocol {
        let starts_object = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        if starts_object && self.input("inputs").is_none() && decode::has_top_level_key(body, "inputs") {
            Protocol::Oip
        } else {
            Protocol::Vetiver
        }
    }

    /// A vetiver body: records or columns. Options come from elsewhere
    /// (the query string: [`query_options`]).
    pub fn vetiver(&self, body: &[u8], limits: &WireLimits) -> Result<Request, WireError> {
        decode::vetiver(self, body, limits).map_err(|e| e.into_wire(Protocol::Vetiver))
    }

    /// An OIP inference request, options from its `parameters`.
    pub fn oip(&self, body: &[u8], limits: &WireLimits) -> Result<Request, WireError> {
        decode::oip(self, body, limits).map_err(|e| e.into_wire(Protocol::Oip))
    }

    /// An OIP inference request whose tensors come as typed arrays (the
    /// gRPC protocol), checked as a JSON body's tensors are.
    pub fn oip_typed(&self, request: &TypedRequest, limits: &WireLimits) -> Result<Request, WireError> {
        decode::typed::decode(self, request, limits).map_err(|e| e.into_wire(Protocol::Oip))
    }
}

/// An error as HTTP sees it: a status, a stable kind (the engine's kinds,
/// plus `bad_request` and `too_large`) and a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError {
    pub status: u16,
    pub kind: &'static str,
    pub message: String,
}

impl WireError {
    pub fn new(status: u16, kind: &'static str, message: impl Into<String>) -> WireError {
        WireError { status, kind, message: message.into() }
    }

    /// A malformed body (400).
    pub fn bad_request(message: impl Into<String>) -> WireError {
        WireError::new(400, "bad_request", message)
    }

    /// An engine error: input that does not fit the model is 422 for
    /// vetiver (as vetiver-python's validation) and 400 for OIP (as its
    /// specification says); a bad option 400; a deadline 503; a broken
    /// model or a bug 500.
    pub fn from_engine(e: &Error, protocol: Protocol) -> WireError {
        let status = match e {
            Error::MissingColumn { .. }
            | Error::WrongType { .. }
            | Error::UnseenLevel { .. }
            | Error::LengthMismatch { .. } => match protocol {
                Protocol::Vetiver => 422,
                Protocol::Oip => 400,
            },
            Error::BadArgument { .. } | Error::Unsupported { .. } => 400,
            Error::Timeout { .. } | Error::Interrupted => 503,
            Error::CorruptFile { .. }
            | Error::NewerFormat { .. }
            | Error::InvalidModel { .. }
            | Error::Io { .. }
            | Error::Internal { .. } => 500,
        };
        WireError::new(status, e.kind(), e.to_string())
    }

    /// The JSON body: `error` for OIP clients, `message` for vetiver's
    /// (which shows `message`), and the `kind`.
    pub fn to_json(&self) -> Vec<u8> {
        let body = serde_json::json!({ "error": self.message, "message": self.message, "kind": self.kind });
        body.to_string().into_bytes()
    }
}

/// A decoding failure before it knows its protocol's statuses.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The body is not what the protocol describes.
    Malformed(String),
    /// More rows or values than the limits allow.
    TooLarge(String),
    /// Input that does not fit the model (or a bad option).
    Engine(Error),
}

impl Failure {
    fn into_wire(self, protocol: Protocol) -> WireError {
        match self {
            Failure::Malformed(m) => WireError::bad_request(m),
            Failure::TooLarge(m) => WireError::new(413, "too_large", m),
            Failure::Engine(e) => WireError::from_engine(&e, protocol),
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Engine(e)
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod typed_tests;
