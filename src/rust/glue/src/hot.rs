//! The per-call hot path of `predict_fast()`: a `.Call` routine written
//! against R's C API.
//!
//! extendr's wrapper of a function makes each argument an `Robj`, which
//! records it in a global table of protected objects (a lock, a hash map,
//! a slot of a preserved list) and removes it again: for one row of an lm
//! that was a fifth of the call. R protects `.Call` arguments for the
//! call's duration, so this routine reads them as they are, and only the
//! rare arguments (a type, threads, extra options) go through `Robj`.
//!
//! R finds the routine through a native-symbol pointer
//! (`rs_predict_routine()`), which `.Call()` takes as it takes the result
//! of `getNativeSymbolInfo()`: registering it would replace extendr's
//! table of routines.

use std::os::raw::c_void;

use extendr_api::prelude::*;
use extendr_ffi::{R_MakeExternalPtr, R_NilValue, Rf_install, SEXP};
use fastpredict_engine::{Error, PredictOptions, Result};

use super::guard::guard;
use super::{args, interrupt, newdata, output, pointer, INTERRUPT_POLL};

/// `.Call(routine, model$ptr, newdata, type, threads, options)`.
extern "C" fn predict_routine(model: SEXP, newdata: SEXP, type_: SEXP, threads: SEXP, options: SEXP) -> SEXP {
    let out = guard(|| unsafe { predict(model, newdata, type_, threads, options) });
    // the result is returned to R, which owns it from here
    unsafe { out.get() }
}

/// The routine as an external pointer tagged "native symbol", the form
/// `.Call()` accepts for a routine's address.
pub fn routine() -> Robj {
    let f: extern "C" fn(SEXP, SEXP, SEXP, SEXP, SEXP) -> SEXP = predict_routine;
    unsafe {
        Robj::from_sexp(R_MakeExternalPtr(
            f as *const () as *mut c_void,
            Rf_install(c"native symbol".as_ptr()),
            R_NilValue,
        ))
    }
}

/// Predict `newdata` with the model behind `model`.
///
/// # Safety
/// The arguments must be live R objects for the call's duration.
unsafe fn predict(model: SEXP, newdata: SEXP, type_: SEXP, threads: SEXP, options: SEXP) -> Result<Robj> {
    let m = unsafe { pointer::model_of(model)? };
    let slow = |x: SEXP| unsafe { Robj::from_sexp(x) };
    let nil = unsafe { R_NilValue };
    let mut opts = if options == nil { PredictOptions::default() } else { args::options(m, &slow(options))? };
    opts.type_ = if type_ == nil { None } else { Some(args::string(&slow(type_), "type")?) };
    let threads = if threads == nil { fastpredict_engine::default_threads() } else { args::threads(&slow(threads))? };
    let wanted: Vec<&str> = m.inputs().iter().map(|i| i.name.as_str()).collect();
    // a library that reads a sparse matrix's absent entries as missing
    // says so in its description
    let absent = newdata::absent(m.info().facts.get("sparse_absent").and_then(|v| v.as_str()));
    let data = unsafe { newdata::read(newdata, &wanted, m.info().matrix_input, absent)? };
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
}
