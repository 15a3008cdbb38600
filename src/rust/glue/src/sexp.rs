//! Small helpers over R's C API, written so that no R error can be raised
//! while Rust frames are on the stack. All of them run on R's main thread.

use std::ffi::{c_char, c_int, c_void, CStr};

use extendr_api::prelude::*;
use extendr_ffi::{
    cetype_t, R_ClassSymbol, R_NaString, R_NilValue, R_xlen_t, Rf_allocVector, Rf_getAttrib, Rf_mkCharLenCE,
    Rf_xlength, DATAPTR, DATAPTR_OR_NULL, R_CHAR, SET_STRING_ELT, SEXP, SEXPTYPE, STRING_ELT, TYPEOF,
};
use fastpredict_engine::{Error, Result};

// SEXP points to an opaque R struct; passing the pointer is what R expects.
#[allow(improper_ctypes)]
extern "C" {
    fn Rf_translateCharUTF8(x: SEXP) -> *const c_char;
    fn Rf_getCharCE(x: SEXP) -> cetype_t;
    fn R_tryCatchError(
        body: unsafe extern "C" fn(*mut c_void) -> SEXP,
        bdata: *mut c_void,
        handler: unsafe extern "C" fn(SEXP, *mut c_void) -> SEXP,
        hdata: *mut c_void,
    ) -> SEXP;
}

struct AllocRequest {
    kind: SEXPTYPE,
    n: R_xlen_t,
}

// The body and the handler own nothing, so an R error jumping out of the
// body crosses no Rust frame that needs unwinding (as with R_ToplevelExec).
unsafe extern "C" fn alloc_body(data: *mut c_void) -> SEXP {
    let r = &*(data as *const AllocRequest);
    Rf_allocVector(r.kind, r.n)
}

unsafe extern "C" fn alloc_failed(_: SEXP, _: *mut c_void) -> SEXP {
    R_NilValue
}

/// The bytes of a CHARSXP as UTF-8 where it has text (translated from
/// latin1 or the native encoding), its raw bytes in the "bytes" encoding.
/// Not checked to be valid UTF-8.
pub fn char_bytes(c: SEXP) -> &'static [u8] {
    unsafe {
        let p = if Rf_getCharCE(c) == cetype_t::CE_BYTES { R_CHAR(c) } else { Rf_translateCharUTF8(c) };
        CStr::from_ptr(p).to_bytes()
    }
}

/// The UTF-8 text of a CHARSXP. The returned slice lives as long as the
/// CHARSXP (or, for translated text, until the current `.Call` returns),
/// which is as long as any caller keeps it. A string in the "bytes"
/// encoding has no text to translate, and is refused (R would raise an
/// error from inside the translation).
pub fn char_str(c: SEXP) -> std::result::Result<&'static str, String> {
    unsafe {
        if Rf_getCharCE(c) == cetype_t::CE_BYTES {
            return Err("a string has the \"bytes\" encoding, which has no text to compare".to_string());
        }
        let p = Rf_translateCharUTF8(c);
        // untranslated (ASCII or UTF-8 already), its length is R's
        let bytes = if p == R_CHAR(c) {
            std::slice::from_raw_parts(p as *const u8, Rf_xlength(c) as usize)
        } else {
            CStr::from_ptr(p).to_bytes()
        };
        std::str::from_utf8(bytes).map_err(|_| "a string is not valid UTF-8".to_string())
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

unsafe extern "C" fn dataptr_body(data: *mut c_void) -> SEXP {
    let x = *(data as *const SEXP);
    DATAPTR(x);
    x
}

/// Make the data of `x` addressable: an ALTREP vector (a compact sequence
/// such as `1:3e9`) is materialized here, where R may fail to allocate it,
/// and not inside `INTEGER()` or `REAL()`, whose error would jump over Rust
/// frames.
pub fn materialize(x: SEXP) -> Result<()> {
    if unsafe { !DATAPTR_OR_NULL(x).is_null() } || unsafe { Rf_xlength(x) } == 0 {
        return Ok(());
    }
    let mut req = x;
    let r =
        unsafe { R_tryCatchError(dataptr_body, (&mut req as *mut SEXP).cast(), alloc_failed, std::ptr::null_mut()) };
    if unsafe { TYPEOF(r) } == SEXPTYPE::NILSXP {
        let n = unsafe { Rf_xlength(x) };
        return Err(Error::bad_argument(format!("R cannot allocate a vector of {n} values")));
    }
    Ok(())
}

/// The dimensions of an array (none negative), if it has them.
pub unsafe fn dim(x: SEXP) -> Option<Vec<usize>> {
    let d = Rf_getAttrib(x, extendr_ffi::R_DimSymbol);
    if TYPEOF(d) != SEXPTYPE::INTSXP {
        return None;
    }
    let n = Rf_xlength(d) as usize;
    (0..n).map(|i| usize::try_from(*extendr_ffi::INTEGER(d).add(i)).ok()).collect()
}

/// Vectors up to this length are allocated directly: catching R's error
/// costs about as much as a whole single-row prediction, and R cannot fail
/// to allocate so little short of being out of memory altogether.
pub const PLAIN_ALLOC: usize = 1 << 16;

/// A new R vector, or an error if R cannot allocate it (an output of
/// millions of rows times many columns).
pub fn alloc_vector(kind: SEXPTYPE, n: usize) -> Result<Robj> {
    if n <= PLAIN_ALLOC {
        return Ok(unsafe { Robj::from_sexp(Rf_allocVector(kind, n as R_xlen_t)) });
    }
    let too_large = || Error::bad_argument(format!("R cannot allocate a vector of {n} values for the prediction"));
    let n = R_xlen_t::try_from(n).map_err(|_| too_large())?;
    let mut req = AllocRequest { kind, n };
    let x = unsafe {
        R_tryCatchError(alloc_body, (&mut req as *mut AllocRequest).cast(), alloc_failed, std::ptr::null_mut())
    };
    if unsafe { TYPEOF(x) } == SEXPTYPE::NILSXP {
        return Err(too_large());
    }
    Ok(unsafe { Robj::from_sexp(x) })
}

/// A character vector from Rust strings, marked UTF-8. (The engine refuses
/// documents whose strings hold a NUL, which R's strings cannot.)
pub fn strings<S: AsRef<str>>(v: &[S]) -> Result<Robj> {
    let r = alloc_vector(SEXPTYPE::STRSXP, v.len())?;
    for (i, s) in v.iter().enumerate() {
        let s = s.as_ref();
        let len = c_int::try_from(s.len()).map_err(|_| Error::bad_argument("a string over 2 GB"))?;
        unsafe {
            let c = Rf_mkCharLenCE(s.as_ptr() as *const c_char, len, cetype_t::CE_UTF8);
            SET_STRING_ELT(r.get(), i as _, c);
        }
    }
    Ok(r)
}
