//! The R binding of fastpredict's engine (extendr).
//!
//! Every function returns either its result or, on failure, a list of
//! class `fastpredict_rust_error` holding the error's kind and message,
//! which the R layer re-raises as a classed condition. Errors never go
//! through `Rf_error`: that avoids extendr 0.9.0's `%` format bug, and a
//! panic is caught here and reported the same way.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use extendr_api::prelude::*;
use fastpredict_engine::{io, parallel, Error, Model, ModelDoc, OutBuf, Result};

mod from_r;
mod options;
mod rframe;
mod rtools;

use rtools::{json_to_r, strings};

/// Run `f`, turning an error or a panic into the error list.
fn guard(f: impl FnOnce() -> Result<Robj>) -> Robj {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => error_object(e.kind(), &e.to_string()),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("unknown panic");
            error_object("internal", &format!("internal error in fastpredict: {msg}"))
        }
    }
}

fn error_object(kind: &str, message: &str) -> Robj {
    let mut l: Robj = List::from_values([strings(&[kind]), strings(&[message])]).into();
    let _ = l.set_attrib("names", strings(&["kind", "message"]));
    let _ = l.set_attrib("class", strings(&["fastpredict_rust_error"]));
    l
}

fn model_ref(x: &Robj) -> Result<&Model> {
    let p: &ExternalPtr<Model> = x.try_into().map_err(|_| Error::Unsupported {
        what: "this fp_model has no compiled form: it was restored from saveRDS() or a saved \
               workspace. Save models with fp_save() and read them with fp_load()"
            .into(),
    })?;
    p.try_addr().map_err(|_| Error::invalid("empty model pointer"))
}

fn wrap_model(m: Model) -> Robj {
    ExternalPtr::new(m).into()
}

fn string_arg(x: &Robj, what: &str) -> Result<String> {
    x.as_str().map(str::to_string).ok_or_else(|| Error::bad_argument(format!("{what} must be a single string")))
}

/// Compile a model spec built by the R layer (nested lists).
/// @noRd
#[extendr]
fn rs_model_from_spec(spec: Robj) -> Robj {
    guard(|| {
        let doc: ModelDoc = from_r::from_r(unsafe { spec.get() }).map_err(|e| Error::invalid(e.to_string()))?;
        Ok(wrap_model(Model::from_doc(doc)?))
    })
}

/// Read a model from JSON text.
/// @noRd
#[extendr]
fn rs_model_from_json(text: Robj) -> Robj {
    guard(|| {
        let t = string_arg(&text, "json")?;
        Ok(wrap_model(Model::from_json(t.as_bytes())?))
    })
}

/// @noRd
#[extendr]
fn rs_model_load(path: Robj) -> Robj {
    guard(|| {
        let p = string_arg(&path, "path")?;
        Ok(wrap_model(Model::load(Path::new(&p))?))
    })
}

/// Save atomically; `compress` is TRUE, FALSE or NA (decide from the name).
/// @noRd
#[extendr]
fn rs_model_save(model: Robj, path: Robj, compress: Robj) -> Robj {
    guard(|| {
        let m = model_ref(&model)?;
        let p = string_arg(&path, "path")?;
        let gzip = match compress.as_bool() {
            Some(b) => b,
            None => io::wants_gzip(Path::new(&p)),
        };
        io::write_file(m.doc(), Path::new(&p), gzip)?;
        Ok(Robj::from(()))
    })
}

/// @noRd
#[extendr]
fn rs_model_to_json(model: Robj, pretty: Robj) -> Robj {
    guard(|| {
        let m = model_ref(&model)?;
        Ok(strings(&[io::to_json(m.doc(), pretty.as_bool().unwrap_or(false))?]))
    })
}

/// A description of the model for printing and for the R layer.
/// @noRd
#[extendr]
fn rs_model_info(model: Robj) -> Robj {
    guard(|| {
        let m = model_ref(&model)?;
        let d = m.doc();
        let mut info = serde_json::json!({
            "format": d.format,
            "format_version": d.format_version,
            "kind": d.kind.as_str(),
            "producer": d.producer,
            "inputs": d.inputs,
            "types": m.types(),
            "default_type": m.default_type(),
        });
        if let (Some(tr), Some(o)) = (&d.trees, info.as_object_mut()) {
            o.insert("algorithm".into(), tr.algorithm.clone().into());
            o.insert("n_trees".into(), tr.trees.len().into());
            o.insert("n_nodes".into(), tr.trees.iter().map(|t| t.feature.len()).sum::<usize>().into());
            if let Some(c) = &tr.classes {
                o.insert("classes".into(), c.clone().into());
            }
        }
        if let (Some(lin), Some(o)) = (&d.linear, info.as_object_mut()) {
            o.insert("family".into(), lin.family.clone().into());
            o.insert("link".into(), lin.link.clone().into());
            o.insert("n_coefficients".into(), lin.coefficients.len().into());
            o.insert("n_aliased".into(), lin.coefficients.iter().filter(|c| c.is_none()).count().into());
        }
        Ok(json_to_r(&info))
    })
}

fn threads_arg(x: &Robj) -> Result<usize> {
    if x.is_null() {
        return Ok(parallel::default_threads());
    }
    match x.as_real().or_else(|| x.as_integer().map(f64::from)) {
        Some(v) if v >= 1.0 && v.fract() == 0.0 && v <= 1024.0 => Ok(v as usize),
        _ => Err(Error::bad_argument("threads must be a whole number between 1 and 1024")),
    }
}

/// Predict `newdata` (a data.frame or a named list of columns); `options`
/// holds the extra arguments of the call by their R names.
/// @noRd
#[extendr]
fn rs_predict(model: Robj, newdata: Robj, type_: Robj, threads: Robj, options: Robj) -> Robj {
    guard(|| {
        let m = model_ref(&model)?;
        let mut opts = options::from_r(m, &options)?;
        opts.type_ = if type_.is_null() { None } else { Some(string_arg(&type_, "type")?) };
        let threads = threads_arg(&threads)?;
        let frame = unsafe { rframe::frame_from_r(newdata.get(), m.inputs().iter().map(|i| i.name.as_str()))? };
        let job = m.prepare(&frame, &opts)?;
        let mut out = rtools::alloc_output(&job.shape(), job.nrows());
        let buf = match out.as_real_slice_mut() {
            Some(s) => OutBuf::Real(s),
            None => OutBuf::Int(out.as_integer_slice_mut().unwrap_or(&mut [])),
        };
        run_interruptible(&job, buf, threads)?;
        Ok(out)
    })
}

/// Run a job. A large one runs on the pool while this (R's main) thread
/// watches for Ctrl-C and, when it comes, asks the workers to stop.
fn run_interruptible(job: &fastpredict_engine::Job, out: OutBuf, threads: usize) -> Result<()> {
    let cancel = AtomicBool::new(false);
    if !job.is_large() {
        return job.run(out, threads, &cancel);
    }
    let pool = parallel::pool(threads)?;
    let (tx, rx) = mpsc::channel();
    pool.in_place_scope(|s| {
        let cancel = &cancel;
        s.spawn(move |_| {
            let _ = tx.send(job.run(out, threads, cancel));
        });
        loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(r) => return r,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if rtools::pending_interrupt() {
                        cancel.store(true, Ordering::Relaxed);
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(Error::invalid("a prediction worker stopped unexpectedly"))
                }
            }
        }
    })
}

/// Get (`n = NULL`) or set the default number of threads.
/// @noRd
#[extendr]
fn rs_threads(n: Robj) -> Robj {
    guard(|| {
        if !n.is_null() {
            parallel::set_default_threads(threads_arg(&n)?);
        }
        Ok(Robj::from(parallel::default_threads() as i32))
    })
}

extendr_module! {
    mod fastpredict;
    fn rs_model_from_spec;
    fn rs_model_from_json;
    fn rs_model_load;
    fn rs_model_save;
    fn rs_model_to_json;
    fn rs_model_info;
    fn rs_predict;
    fn rs_threads;
}
