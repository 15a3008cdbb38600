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
use fastpredict_engine::wire::{Protocol, WireError};
use fastpredict_engine::{Error, Model, ModelDoc};

mod args;
mod guard;
mod hot;
mod interrupt;
mod newdata;
mod output;
mod pointer;
mod r_serde;
mod sexp;
mod wire;

use guard::{guard, guard_wire};
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

/// The `.Call` routine of `predict_fast()`, as a native symbol `.Call()`
/// takes (see `hot`): it predicts `newdata` (a data.frame, a named list of
/// columns or a matrix); `options` holds the extra arguments of the call by
/// their R names.
/// @noRd
#[extendr]
fn rs_predict_routine() -> Robj {
    hot::routine()
}

/// Answer a JSON request body (vetiver records or columns, or an OIP
/// inference request; `protocol` "auto" tells them apart) with the JSON of
/// the answer. `type_` and `options` (R names) are the defaults a request
/// may override when `request_options` is TRUE. Errors carry their HTTP
/// status and JSON body.
/// @noRd
#[extendr]
#[allow(clippy::too_many_arguments)]
fn rs_predict_json(
    model: Robj,
    body: Robj,
    protocol: Robj,
    type_: Robj,
    options: Robj,
    query: Robj,
    request_options: Robj,
    max_rows: Robj,
    name: Robj,
    threads: Robj,
) -> Robj {
    guard_wire(|| {
        let engine = |e: Error| WireError::from_engine(&e, Protocol::Vetiver);
        let m = pointer::model_ref(&model).map_err(engine)?;
        let mut defaults = args::options(m, &options).map_err(engine)?;
        defaults.type_ = if type_.is_null() { None } else { Some(args::string(&type_, "type").map_err(engine)?) };
        let (query, request_options, limits, name) = wire::scalars(&query, &request_options, &max_rows, &name)?;
        let call = wire::JsonCall {
            model: m,
            body: wire::body_bytes(&body)?,
            protocol: &protocol,
            defaults,
            query,
            request_options,
            limits,
            name,
            threads: args::threads(&threads).map_err(engine)?,
        };
        wire::json_string(call.answer()?)
    })
}

/// The JSON texts that describe a model served as `name`: vetiver's
/// prototype, the OIP model metadata and vetiver's metadata (its card as
/// `user`, the engine's `ModelInfo` under `fastpredict`, as
/// fastpredict-server writes them).
/// @noRd
#[extendr]
fn rs_wire_meta(model: Robj, name: Robj) -> Robj {
    guard(|| {
        let m = pointer::model_ref(&model)?;
        let name = args::string(&name, "name")?;
        let info = m.info();
        let hash = m.content_hash()?;
        let metadata = serde_json::json!({
            "user": info.card.as_ref().map_or_else(|| serde_json::json!({}), |c| serde_json::json!(c)),
            "version": hash,
            "url": null,
            "required_pkgs": ["fastpredict"],
            "fastpredict": { "name": name, "content_hash": hash, "model": info },
        });
        let texts = [
            fastpredict_engine::wire::vetiver_prototype(m.inputs()).to_string(),
            fastpredict_engine::wire::oip_model_metadata(m, &name, hash).to_string(),
            metadata.to_string(),
        ];
        let mut l: Robj =
            List::from_values(texts.iter().map(|t| strings(&[t])).collect::<fastpredict_engine::Result<Vec<_>>>()?)
                .into();
        let _ = l.set_attrib("names", strings(&["prototype", "oip", "metadata"])?);
        Ok(l)
    })
}

/// The body of an OIP inference request for the columns `inputs` of
/// `newdata` (a raw vector); `options` by their R names for `algorithm`;
/// `by_position` NULL, or whether a matrix model reads columns by position;
/// `sparse_absent` the model's fact of that name (NULL if it has none).
/// @noRd
#[extendr]
fn rs_oip_request(
    newdata: Robj,
    inputs: Robj,
    type_: Robj,
    options: Robj,
    algorithm: Robj,
    by_position: Robj,
    sparse_absent: Robj,
) -> Robj {
    guard(|| wire::oip_request(&newdata, &inputs, &type_, &options, &algorithm, &by_position, &sparse_absent))
}

/// The prediction in an OIP inference answer (a raw vector or string), as
/// the R object `predict_fast()` returns.
/// @noRd
#[extendr]
fn rs_oip_answer(body: Robj) -> Robj {
    guard_wire(|| {
        let p = fastpredict_engine::wire::read_oip(wire::body_bytes(&body)?)?;
        wire::prediction_to_r(&p).map_err(|e| WireError::from_engine(&e, Protocol::Oip))
    })
}

/// A JSON text as R values (objects are named lists, arrays of scalars
/// vectors); NULL if it is not JSON.
/// @noRd
#[extendr]
fn rs_json_parse(text: Robj) -> Robj {
    guard(|| {
        let bytes = wire::body_bytes(&text).map_err(|e| Error::bad_argument(e.message))?;
        match serde_json::from_slice::<serde_json::Value>(bytes) {
            Ok(v) => output::json_to_r(&v),
            Err(_) => Ok(Robj::from(())),
        }
    })
}

/// The JSON body of an error that R itself answers (an unknown model, a
/// refused key), in the shape of the codec's.
/// @noRd
#[extendr]
fn rs_error_json(kind: Robj, message: Robj) -> Robj {
    guard(|| {
        let kind = match kind.as_str() {
            Some("not_found") => "not_found",
            Some("unauthorized") => "unauthorized",
            Some("bad_request") => "bad_request",
            _ => return Err(Error::internal("an unknown kind of HTTP error")),
        };
        let message = args::string(&message, "message")?;
        let body = WireError::new(0, kind, message).to_json();
        strings(&[String::from_utf8_lossy(&body)])
    })
}

/// Whether the string `presented` is one of the strings `keys`, compared
/// in constant time.
/// @noRd
#[extendr]
fn rs_key_matches(presented: Robj, keys: Robj) -> Robj {
    guard(|| {
        let p = presented.as_str().unwrap_or("");
        let keys: Vec<&[u8]> = keys.as_str_iter().map(|i| i.map(str::as_bytes).collect()).unwrap_or_default();
        Ok(Robj::from(!presented.is_null() && wire::key_matches(p.as_bytes(), &keys)))
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
    fn rs_predict_routine;
    fn rs_predict_json;
    fn rs_wire_meta;
    fn rs_oip_request;
    fn rs_oip_answer;
    fn rs_json_parse;
    fn rs_error_json;
    fn rs_key_matches;
    fn rs_threads;
    fn rs_limits;
    fn rs_format_version;
}
