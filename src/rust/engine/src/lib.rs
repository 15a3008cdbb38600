//! fastpredict's engine: portable model documents and exact, fast
//! prediction from them. Pure Rust with no R types, so that the R package
//! and a standalone server can share it.
//!
//! The flow is `ModelDoc` (the JSON format) -> `Model::from_doc` (checked,
//! compiled once) -> `Model::prepare(&Frame)` (per call: bind columns, map
//! factor levels) -> `Job::run` (fill a caller-allocated output).

// Comparisons are written as `!(x < t)` on purpose: with NaN they must
// come out as R's C code makes them (a failed test), not as an ordering.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

pub mod error;
pub mod expr;
pub mod format;
pub mod frame;
pub mod inputs;
pub mod io;
pub mod linear;
pub mod link;
pub mod model;
pub mod parallel;
pub mod spline;
pub mod trees;

pub use error::{Error, Result};
pub use format::ModelDoc;
pub use frame::{Column, Frame, NA_INTEGER, NA_REAL};
pub use model::{Job, Model, OutBuf, OutputShape, PredictOptions, ValueKind};
