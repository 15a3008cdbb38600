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
//!
//! A failure is handed to R's `fp_predict_failed()` from the routine
//! itself, so that `predict_fast()` returns `.Call()`'s value as it is:
//! checking it in R for an error list cost 0.2 us of a 2.3 us call.

use std::os::raw::c_void;

use extendr_api::prelude::*;
use extendr_ffi::{
    R_BaseEnv, R_MakeExternalPtr, R_NilValue, R_xlen_t, Rf_allocVector, Rf_cons, Rf_install, Rf_lcons, Rf_protect,
    Rf_unprotect, REAL, SEXP, SEXPTYPE,
};
use fastpredict_engine::{Error, OutBuf, PredictOptions, Result};

use super::guard::attempt;
use super::{args, interrupt, newdata, output, pointer, INTERRUPT_POLL};

// SEXP points to an opaque R struct; passing the pointer is what R expects.
#[allow(improper_ctypes)]
extern "C" {
    fn Rf_eval(expr: SEXP, env: SEXP) -> SEXP;
}

/// `.Call(routine, model, newdata, type, threads, options)`, called by
/// `predict_fast()`.
extern "C" fn predict_routine(model: SEXP, newdata: SEXP, type_: SEXP, threads: SEXP, options: SEXP) -> SEXP {
    // the result is returned to R, which owns it from here
    let failure = match attempt(|| unsafe { predict(model, newdata, type_, threads, options) }) {
        Ok(Answer::Plain(x)) => return x,
        Ok(Answer::Object(r)) => return unsafe { r.get() },
        Err(r) => unsafe { Rf_protect(r.get()) },
    };
    // Nothing of this frame needs dropping any more: R's error may jump
    // over it (as over `sexp::alloc_body`).
    unsafe { failed([failure, model, newdata, type_, threads, options]) }
}

/// `fastpredict:::fp_predict_failed(failure, model, newdata, type,
/// threads, options)`, each argument quoted: its value (the prediction of
/// a fitted model compiled on the fly), or, usually, its classed error.
/// `failure`, the first, is protected once, and unprotected here.
unsafe fn failed(args: [SEXP; 6]) -> SEXP {
    let sym = |s: &std::ffi::CStr| Rf_install(s.as_ptr());
    let mut call = R_NilValue;
    for a in args.into_iter().rev() {
        let quoted = Rf_protect(Rf_lcons(sym(c"quote"), Rf_cons(a, R_NilValue)));
        call = Rf_protect(Rf_cons(quoted, call));
    }
    let ns = Rf_lcons(sym(c":::"), Rf_cons(sym(c"fastpredict"), Rf_cons(sym(c"fp_predict_failed"), R_NilValue)));
    let call = Rf_protect(Rf_lcons(Rf_protect(ns), call));
    let value = Rf_eval(call, R_BaseEnv);
    Rf_unprotect(15);
    value
}

/// A prediction: a plain double vector, made and filled here, or any
/// other R object `output` made.
enum Answer {
    Plain(SEXP),
    Object(Robj),
}

/// A short double vector on R's protection stack for as long as it
/// lives: cheaper than an `Robj`, which enters extendr's table of
/// protected objects (and leaves it again).
struct Protected(SEXP);

impl Protected {
    fn reals(len: usize) -> Protected {
        unsafe { Protected(Rf_protect(Rf_allocVector(SEXPTYPE::REALSXP, len as R_xlen_t))) }
    }
}

impl Drop for Protected {
    fn drop(&mut self) {
        unsafe { Rf_unprotect(1) }
    }
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
unsafe fn predict(model: SEXP, newdata: SEXP, type_: SEXP, threads: SEXP, options: SEXP) -> Result<Answer> {
    let m = unsafe { pointer::model_in(model)? };
    let slow = |x: SEXP| unsafe { Robj::from_sexp(x) };
    let nil = unsafe { R_NilValue };
    let mut opts = if options == nil { PredictOptions::default() } else { args::options(m, &slow(options))? };
    opts.type_ = if type_ == nil { None } else { Some(args::string_of(type_, "type")?) };
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
    let mut poll = || interrupt::pending().then_some(Error::Interrupted);
    if let Some(len) = output::plain_reals(&shape, job.nrows()) {
        let out = Protected::reals(len);
        let buf = if len > 0 { unsafe { std::slice::from_raw_parts_mut(REAL(out.0), len) } } else { &mut [] };
        job.run_watched(vec![OutBuf::Real(buf)], threads, INTERRUPT_POLL, &mut poll)?;
        return Ok(Answer::Plain(out.0));
    }
    let out = output::alloc(&shape, job.nrows())?;
    let bufs = unsafe { output::buffers(&out, &shape) };
    job.run_watched(bufs, threads, INTERRUPT_POLL, &mut poll)?;
    output::finish(out, &shape).map(Answer::Object)
}
