//! The compiled model lives behind an R external pointer tagged with a
//! symbol of ours. A pointer is checked by its tag before its address is
//! touched, so a foreign pointer put in `model$ptr` is refused instead of
//! dereferenced.

use std::ffi::CStr;
use std::sync::OnceLock;

use extendr_api::prelude::*;
use extendr_ffi::{
    R_ClearExternalPtr, R_ExternalPtrAddr, R_ExternalPtrTag, R_MakeExternalPtr, R_NamesSymbol, R_NilValue,
    R_RegisterCFinalizerEx, Rboolean, Rf_getAttrib, Rf_install, Rf_xlength, SEXP, SEXPTYPE, STRING_ELT, TYPEOF,
    VECTOR_ELT,
};
use fastpredict_engine::{Error, Model, Result};

use super::sexp::{char_bytes, inherits};

const TAG: &CStr = c"fastpredict_model";

fn tag() -> SEXP {
    // a symbol is created once and never collected, so its address is kept
    // (looking it up hashed its name on every prediction)
    static SYMBOL: OnceLock<usize> = OnceLock::new();
    *SYMBOL.get_or_init(|| unsafe { Rf_install(TAG.as_ptr()) } as usize) as SEXP
}

extern "C" fn finalize(x: SEXP) {
    unsafe {
        let p = R_ExternalPtrAddr(x).cast::<Model>();
        if !p.is_null() {
            R_ClearExternalPtr(x);
            drop(Box::from_raw(p));
        }
    }
}

/// An external pointer that owns `m`.
pub fn wrap_model(m: Model) -> Robj {
    unsafe {
        let p = Box::into_raw(Box::new(m));
        let x = Robj::from_sexp(R_MakeExternalPtr(p.cast(), tag(), R_NilValue));
        R_RegisterCFinalizerEx(x.get(), Some(finalize), Rboolean::TRUE);
        x
    }
}

/// The model behind `x`, if `x` is one of our pointers.
pub fn model_ref(x: &Robj) -> Result<&Model> {
    // SAFETY: `x` keeps the pointer, and with it the model, alive
    unsafe { model_of(x.get()) }
}

/// The model of `x`, an `fp_model`: a list of that class whose element
/// `ptr` is one of our pointers.
///
/// # Safety
/// `x` must be a live R object, kept alive for as long as the result is used.
pub unsafe fn model_in<'a>(x: SEXP) -> Result<&'a Model> {
    unsafe {
        if TYPEOF(x) != SEXPTYPE::VECSXP || !inherits(x, "fp_model") {
            return Err(Error::bad_argument("model must be an fp_model (see fp_compile())"));
        }
        let names = Rf_getAttrib(x, R_NamesSymbol);
        let named = TYPEOF(names) == SEXPTYPE::STRSXP;
        let n = if named { Rf_xlength(names).min(Rf_xlength(x)) } else { 0 };
        let ptr = (0..n).find(|&i| char_bytes(STRING_ELT(names, i)) == b"ptr").map_or(R_NilValue, |i| VECTOR_ELT(x, i));
        model_of(ptr)
    }
}

/// As `model_ref`, for a bare `SEXP`.
///
/// # Safety
/// `x` must be a live R object, kept alive for as long as the result is used.
pub unsafe fn model_of<'a>(x: SEXP) -> Result<&'a Model> {
    let ours = unsafe { TYPEOF(x) == SEXPTYPE::EXTPTRSXP && R_ExternalPtrTag(x) == tag() };
    if !ours {
        return Err(Error::bad_argument("this is not an fp_model: its compiled form is missing or foreign"));
    }
    let p = unsafe { R_ExternalPtrAddr(x).cast::<Model>() };
    // SAFETY: our tag means the address is a `Box<Model>` we made, alive
    // until the finalizer clears it; NULL after a saveRDS()/readRDS() trip.
    unsafe { p.as_ref() }.ok_or_else(|| Error::Unsupported {
        what: "this fp_model has no compiled form: it was restored from saveRDS() or a saved \
               workspace. Save models with fp_save() and read them with fp_load()"
            .into(),
    })
}
