//! The R binding of fastpredict's engine (extendr): R conversion, R
//! argument names and R conditions, nothing else.
//!
//! Every function returns either its result or, on failure, a list of
//! class `fastpredict_rust_error` holding the error's kind and message,
//! which the R layer re-raises as a classed condition (see `guard`).

use std::path::Path;
use std::time::Duration;

use extendr_api::prelude::*;
use fastpredict_engine::io::{self, SourceFormat};
use fastpredict_engine::{Error, Model, ModelDoc};

mod args;
mod guard;
mod interrupt;
mod newdata;
mod output;
mod pointer;
mod r_serde;
mod sexp;

use guard::guard;
use sexp::strings;

/// How often a long prediction looks for Ctrl-C: soon enough to feel
/// immediate, rarely enough to cost nothing.
const INTERRUPT_POLL: Duration = Duration::from_millis(50);

/// Compile a model document built by the R layer (nested lists).
/// @noRd
#[extendr]
fn rs_model_from_spec(spec: Robj) -> Robj {
    guard(|| {
        let doc: ModelDoc = r_serde::from_r(unsafe { spec.get() }).map_err(|e| Error::invalid(e.to_string()))?;
        Ok(pointer::wrap_model(Model::from_doc(doc)?))
    })
}

/// Read a model from JSON text.
/// @noRd
#[extendr]
fn rs_model_from_json(text: Robj) -> Robj {
    guard(|| {
        let t = args::text_bytes(&text, "json")?;
        Ok(pointer::wrap_model(Model::from_json(t)?))
    })
}

/// @noRd
#[extendr]
fn rs_model_load(path: Robj) -> Robj {
    guard(|| {
        let p = args::string(&path, "path")?;
        Ok(pointer::wrap_model(Model::load(Path::new(&p))?))
    })
}

/// Import a model file of another library (or any model file, `auto`).
/// @noRd
#[extendr]
fn rs_model_import(path: Robj, format: Robj) -> Robj {
    guard(|| {
        let p = args::string(&path, "path")?;
        let f = SourceFormat::parse(&args::string(&format, "format")?)?;
        let name = p.clone();
        let doc = io::import_file(Path::new(&p), f)?;
        Ok(pointer::wrap_model(Model::from_doc(doc).map_err(|e| e.in_file(&name))?))
    })
}

/// Import a model from its bytes (a raw vector) or text (a string), as
/// the libraries' R packages dump them.
/// @noRd
#[extendr]
fn rs_model_import_bytes(data: Robj, format: Robj) -> Robj {
    guard(|| {
        let f = SourceFormat::parse(&args::string(&format, "format")?)?;
        let doc = if let Some(raw) = data.as_raw_slice() {
            io::import(raw, f)?
        } else {
            io::import(args::string(&data, "the model dump")?.as_bytes(), f)?
        };
        Ok(pointer::wrap_model(Model::from_doc(doc).map_err(|e| e.in_file(""))?))
    })
}

/// Save atomically; `compress` is TRUE, FALSE or NA (decide from the name).
/// @noRd
#[extendr]
fn rs_model_save(model: Robj, path: Robj, compress: Robj) -> Robj {
    guard(|| {
        let m = pointer::model_ref(&model)?;
        let p = args::string(&path, "path")?;
        let gzip = compress.as_bool().unwrap_or_else(|| io::wants_gzip(Path::new(&p)));
        io::write_file(m.doc(), Path::new(&p), gzip)?;
        Ok(Robj::from(()))
    })
}

/// @noRd
#[extendr]
fn rs_model_to_json(model: Robj, pretty: Robj) -> Robj {
    guard(|| {
        let m = pointer::model_ref(&model)?;
        strings(&[io::to_json(m.doc(), pretty.as_bool().unwrap_or(false))?])
    })
}

/// The model's description (the engine's `ModelInfo`).
/// @noRd
#[extendr]
fn rs_model_info(model: Robj) -> Robj {
    guard(|| {
        let m = pointer::model_ref(&model)?;
        let info = serde_json::to_value(m.info()).map_err(|e| Error::internal(e.to_string()))?;
        output::json_to_r(&info)
    })
}

/// Predict `newdata` (a data.frame, a named list of columns or a matrix); `options`
/// holds the extra arguments of the call by their R names.
/// @noRd
#[extendr]
fn rs_predict(model: Robj, newdata: Robj, type_: Robj, threads: Robj, options: Robj) -> Robj {
    guard(|| {
        let m = pointer::model_ref(&model)?;
        let mut opts = args::options(m, &options)?;
        opts.type_ = if type_.is_null() { None } else { Some(args::string(&type_, "type")?) };
        let threads = args::threads(&threads)?;
        let wanted: Vec<&str> = m.inputs().iter().map(|i| i.name.as_str()).collect();
        // a library that reads a sparse matrix's absent entries as missing
        // says so in its description
        let absent = match m.info().facts.get("sparse_absent").and_then(|v| v.as_str()) {
            Some("missing") => fastpredict_engine::NA_REAL,
            _ => 0.0,
        };
        let data = unsafe { newdata::read(newdata.get(), &wanted, m.info().matrix_input, absent)? };
        let expanded;
        let frame = match &data {
            newdata::NewData::Borrowed(f) => f,
            newdata::NewData::Owned(buf) => {
                expanded = buf.frame();
                &expanded
            }
        };
        let job = m.prepare(frame, &opts)?;
        let shape = job.shape();
        let out = output::alloc(&shape, job.nrows())?;
        let bufs = unsafe { output::buffers(&out, &shape) };
        let mut poll = || interrupt::pending().then_some(Error::Interrupted);
        job.run_watched(bufs, threads, INTERRUPT_POLL, &mut poll)?;
        output::finish(out, &shape)
    })
}

/// The same model with a card (a named list of the card's fields).
/// @noRd
#[extendr]
fn rs_model_with_card(model: Robj, card: Robj) -> Robj {
    guard(|| {
        let m = pointer::model_ref(&model)?;
        let card = r_serde::from_r(unsafe { card.get() }).map_err(|e| Error::bad_argument(format!("bad card: {e}")))?;
        Ok(pointer::wrap_model(m.with_card(card)?))
    })
}

/// A hash of what the model predicts ("sha256:...").
/// @noRd
#[extendr]
fn rs_model_content_hash(model: Robj) -> Robj {
    guard(|| strings(&[pointer::model_ref(&model)?.content_hash()?]))
}

/// Get (`n = NULL`) or set the default number of threads.
/// @noRd
#[extendr]
fn rs_threads(n: Robj) -> Robj {
    guard(|| {
        if !n.is_null() {
            fastpredict_engine::set_default_threads(args::threads(&n)?);
        }
        Ok(Robj::from(fastpredict_engine::default_threads() as i32))
    })
}

/// Get (`limits = NULL`) or set the load limits, as a named list.
/// @noRd
#[extendr]
fn rs_limits(limits: Robj) -> Robj {
    guard(|| {
        if !limits.is_null() {
            fastpredict_engine::set_limits(args::limits(&limits)?);
        }
        let now = serde_json::to_value(fastpredict_engine::limits()).map_err(|e| Error::internal(e.to_string()))?;
        output::json_to_r(&now)
    })
}

/// The format version this engine writes ("MAJOR.MINOR").
/// @noRd
#[extendr]
fn rs_format_version() -> Robj {
    guard(|| strings(&[fastpredict_engine::format::format_version()]))
}

extendr_module! {
    mod fastpredict;
    fn rs_model_from_spec;
    fn rs_model_from_json;
    fn rs_model_load;
    fn rs_model_import;
    fn rs_model_import_bytes;
    fn rs_model_save;
    fn rs_model_to_json;
    fn rs_model_info;
    fn rs_model_with_card;
    fn rs_model_content_hash;
    fn rs_predict;
    fn rs_threads;
    fn rs_limits;
    fn rs_format_version;
}
