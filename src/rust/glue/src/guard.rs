//! Errors and panics become a classed list, never an R error raised from
//! Rust: `Rf_error` would jump over Rust frames, and extendr 0.9.0 passes
//! its message to `Rf_error` as a printf format (a `%` in a column name
//! would crash R).

use std::panic::{catch_unwind, AssertUnwindSafe};

use extendr_api::prelude::*;
use fastpredict_engine::wire::WireError;
use fastpredict_engine::Result;

use super::sexp::strings;

/// Run `f`, turning an error or a panic into the error list.
pub fn guard(f: impl FnOnce() -> Result<Robj>) -> Robj {
    attempt(f).unwrap_or_else(|e| e)
}

/// `f`'s value, or the error list for its error or panic.
pub fn attempt<T>(f: impl FnOnce() -> Result<T>) -> std::result::Result<T, Robj> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(r)) => Ok(r),
        Ok(Err(e)) => Err(error_object(e.kind(), &e.to_string(), None)),
        Err(panic) => Err(error_object("internal", &panic_message(panic), None)),
    }
}

/// As `guard` for a request answered over HTTP: the error list also holds
/// the status to answer with and the JSON error body.
pub fn guard_wire(f: impl FnOnce() -> std::result::Result<Robj, WireError>) -> Robj {
    let e = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(r)) => return r,
        Ok(Err(e)) => e,
        Err(panic) => WireError::new(500, "internal", panic_message(panic)),
    };
    error_object(e.kind, &e.message, Some((e.status, &e.to_json())))
}

fn panic_message(panic: Box<dyn std::any::Any + Send>) -> String {
    let msg = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    format!("internal error in fastpredict (please report it): {msg}")
}

fn error_object(kind: &str, message: &str, http: Option<(u16, &[u8])>) -> Robj {
    // messages may echo user strings: never let one hold a NUL
    let message = message.replace('\0', "\\0");
    let mut parts = vec![strings(&[kind]), strings(&[message.as_str()])];
    let mut names = vec!["kind", "message"];
    if let Some((status, body)) = http {
        parts.push(Ok(Robj::from(i32::from(status))));
        // serde_json escapes every control character: the body holds no NUL
        parts.push(strings(&[String::from_utf8_lossy(body)]));
        names.extend(["status", "body"]);
    }
    let mut l: Robj = List::from_values(parts.into_iter().map(|p| p.unwrap_or_else(|_| Robj::from(())))).into();
    let _ = l.set_attrib("names", strings(&names).unwrap_or_else(|_| Robj::from(())));
    let _ = l.set_attrib("class", strings(&["fastpredict_rust_error"]).unwrap_or_else(|_| Robj::from(())));
    l
}
