//! fastpredict's engine: portable model documents and exact, fast
//! prediction from them. Pure Rust with no R types, so that the R package
//! and the standalone server share it.
//!
//! The flow is one way: `ModelDoc` (the JSON format) -> `Model::from_doc`
//! (checked, compiled once) -> `Model::prepare(&Frame)` (per call: bind
//! columns, map factor levels) -> `Job::run` (fill the caller's buffers).
//!
//! Words used throughout: the **document** is the JSON model; its
//! **section** is the part of one family (`linear`, `trees`, `glmnet`); a **family**
//! is the compiled form of a section; a **call** is one prepared
//! prediction.
//!
//! This file is the engine's whole public API: the glue, the server and
//! the tests use nothing else.

#![forbid(unsafe_code)]

mod boosted;
mod error;
pub mod format;
mod frame;
mod glmnet;
mod import;
pub mod io;
mod limits;
mod linear;
mod model;
mod output;
mod runtime;
mod trees;
pub mod wire;

pub use error::{Error, Result};
pub use format::ModelDoc;
pub use frame::{is_r_na, Column, ColumnBuf, Frame, FrameBuf, NA_INTEGER, NA_REAL};
pub use limits::{limits, set_limits, Limits};
pub use model::{Job, MatrixInput, Model, ModelInfo, Numbers, Penalty, PredictOption, PredictOptions, PredictType};
pub use output::{ArrayShape, OutBuf, OutputShape, Part, Prediction, ValueKind, Values};
pub use runtime::{default_threads, set_default_threads, MAX_THREADS};

/// R's arithmetic as the linear family evaluates it (`x ^ y`, the
/// logarithms, `scale()`, the inverse links). Public so that the property
/// tests can build their reference model matrix from the same pointwise
/// functions and so check the assembly around them.
pub mod rmath {
    pub use crate::linear::expr::{apply_binary, apply_unary, r_pow, Binary, Unary};
    pub use crate::linear::link::Link;
}
