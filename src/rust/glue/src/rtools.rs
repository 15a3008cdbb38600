//! Small helpers over R's C API. All of them must run on R's main thread.

use std::ffi::{c_char, c_int, c_void, CStr};

use extendr_api::prelude::*;
use extendr_ffi::{
    cetype_t, R_ClassSymbol, R_NaString, Rf_allocVector, Rf_getAttrib, Rf_mkCharLenCE, Rf_xlength, SET_STRING_ELT,
    SEXP, SEXPTYPE, STRING_ELT, TYPEOF,
};
use fastpredict_engine::{OutputShape, ValueKind};

// SEXP points to an opaque R struct; passing the pointer is what R expects.
#[allow(improper_ctypes)]
extern "C" {
    fn R_ToplevelExec(fun: Option<unsafe extern "C" fn(*mut c_void)>, data: *mut c_void) -> c_int;
    fn R_CheckUserInterrupt();
    fn Rf_translateCharUTF8(x: SEXP) -> *const c_char;
}

unsafe extern "C" fn check_interrupt(_: *mut c_void) {
    R_CheckUserInterrupt();
}

/// Whether the user pressed Ctrl-C. `R_CheckUserInterrupt` would jump out
/// of Rust frames; inside `R_ToplevelExec` the jump only crosses
/// `check_interrupt`, which owns nothing.
pub fn pending_interrupt() -> bool {
    unsafe { R_ToplevelExec(Some(check_interrupt), std::ptr::null_mut()) == 0 }
}

/// The UTF-8 text of a CHARSXP. The returned slice lives as long as the
/// CHARSXP (or, for translated text, until the current `.Call` returns),
/// which is as long as any caller keeps it.
pub fn char_str(c: SEXP) -> std::result::Result<&'static str, String> {
    unsafe {
        let p = Rf_translateCharUTF8(c);
        CStr::from_ptr(p).to_str().map_err(|_| "a string is not valid UTF-8".to_string())
    }
}

/// `inherits(x, class)` for a plain class attribute.
pub unsafe fn inherits(x: SEXP, class: &str) -> bool {
    let cl = Rf_getAttrib(x, R_ClassSymbol);
    if TYPEOF(cl) != SEXPTYPE::STRSXP {
        return false;
    }
    (0..Rf_xlength(cl)).any(|i| {
        let c = STRING_ELT(cl, i);
        c != R_NaString && char_str(c).is_ok_and(|s| s == class)
    })
}

/// First element of the class attribute, if any.
pub unsafe fn first_class(x: SEXP) -> Option<&'static str> {
    let cl = Rf_getAttrib(x, R_ClassSymbol);
    if TYPEOF(cl) != SEXPTYPE::STRSXP || Rf_xlength(cl) == 0 {
        return None;
    }
    char_str(STRING_ELT(cl, 0)).ok()
}

/// A character vector from Rust strings, marked UTF-8.
pub fn strings<S: AsRef<str>>(v: &[S]) -> Robj {
    unsafe {
        let r = Robj::from_sexp(Rf_allocVector(SEXPTYPE::STRSXP, v.len() as _));
        for (i, s) in v.iter().enumerate() {
            let s = s.as_ref();
            let c = Rf_mkCharLenCE(s.as_ptr() as *const c_char, s.len() as c_int, cetype_t::CE_UTF8);
            SET_STRING_ELT(r.get(), i as _, c);
        }
        r
    }
}

/// The R object a prediction of this shape fills: a double vector, a
/// factor, or a matrix/array with its dimnames. Allocated once; the
/// engine writes into it.
pub fn alloc_output(shape: &OutputShape, nrows: usize) -> Robj {
    let len = shape.len(nrows);
    unsafe {
        match &shape.values {
            ValueKind::Factor(levels) => {
                let mut r = Robj::from_sexp(Rf_allocVector(SEXPTYPE::INTSXP, len as _));
                let _ = r.set_attrib("levels", strings(levels));
                let _ = r.set_attrib("class", strings(&["factor"]));
                r
            }
            ValueKind::Real => {
                let mut r = Robj::from_sexp(Rf_allocVector(SEXPTYPE::REALSXP, len as _));
                if let Some(dim) = &shape.dim {
                    let d: Vec<i32> = dim.iter().map(|&x| x as i32).collect();
                    let _ = r.set_attrib("dim", Robj::from(d));
                    if let Some(dn) = &shape.dimnames {
                        if dn.iter().any(|x| x.is_some()) {
                            let parts = dn.iter().map(|x| match x {
                                Some(v) => strings(v),
                                None => Robj::from(()),
                            });
                            let _ = r.set_attrib("dimnames", List::from_values(parts));
                        }
                    }
                }
                if let Some(cl) = &shape.class {
                    let _ = r.set_attrib("class", strings(cl));
                }
                r
            }
        }
    }
}

/// Convert a JSON value to the R object a user would expect: objects to
/// named lists, homogeneous arrays of strings or numbers to vectors,
/// anything else to lists, `null` to NULL.
pub fn json_to_r(v: &serde_json::Value) -> Robj {
    use serde_json::Value;
    match v {
        Value::Null => Robj::from(()),
        Value::Bool(b) => Robj::from(*b),
        Value::Number(n) => Robj::from(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => strings(&[s.as_str()]),
        Value::Array(a) => {
            if !a.is_empty() && a.iter().all(|x| x.is_string()) {
                let s: Vec<&str> = a.iter().filter_map(|x| x.as_str()).collect();
                strings(&s)
            } else if !a.is_empty() && a.iter().all(|x| x.is_number()) {
                Robj::from(a.iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect::<Vec<f64>>())
            } else {
                List::from_values(a.iter().map(json_to_r)).into()
            }
        }
        Value::Object(o) => {
            let names: Vec<&str> = o.keys().map(|k| k.as_str()).collect();
            let values: Vec<Robj> = o.values().map(json_to_r).collect();
            let mut l: Robj = List::from_values(values).into();
            let _ = l.set_attrib("names", strings(&names));
            l
        }
    }
}
