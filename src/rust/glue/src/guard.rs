//! Errors and panics become a classed list, never an R error raised from
//! Rust: `Rf_error` would jump over Rust frames, and extendr 0.9.0 passes
//! its message to `Rf_error` as a printf format (a `%` in a column name
//! would crash R).

use std::panic::{catch_unwind, AssertUnwindSafe};

use extendr_api::prelude::*;
use fastpredict_engine::Result;

use super::sexp::strings;

/// Run `f`, turning an error or a panic into the error list.
pub fn guard(f: impl FnOnce() -> Result<Robj>) -> Robj {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => error_object(e.kind(), &e.to_string()),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("unknown panic");
            error_object("internal", &format!("internal error in fastpredict (please report it): {msg}"))
        }
    }
}

fn error_object(kind: &str, message: &str) -> Robj {
    // messages may echo user strings: never let one hold a NUL
    let message = message.replace('\0', "\\0");
    let parts = [strings(&[kind]), strings(&[message.as_str()])];
    let mut l: Robj = List::from_values(parts.into_iter().map(|p| p.unwrap_or_else(|_| Robj::from(())))).into();
    let _ = l.set_attrib("names", strings(&["kind", "message"]).unwrap_or_else(|_| Robj::from(())));
    let _ = l.set_attrib("class", strings(&["fastpredict_rust_error"]).unwrap_or_else(|_| Robj::from(())));
    l
}
