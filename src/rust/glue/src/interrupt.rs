//! Ctrl-C, polled from R's main thread while a long prediction runs.

use std::ffi::{c_int, c_void};

extern "C" {
    fn R_ToplevelExec(fun: Option<unsafe extern "C" fn(*mut c_void)>, data: *mut c_void) -> c_int;
    fn R_CheckUserInterrupt();
}

unsafe extern "C" fn check_interrupt(_: *mut c_void) {
    R_CheckUserInterrupt();
}

/// Whether the user pressed Ctrl-C. `R_CheckUserInterrupt` would jump out
/// of Rust frames; inside `R_ToplevelExec` the jump only crosses
/// `check_interrupt`, which owns nothing.
pub fn pending() -> bool {
    unsafe { R_ToplevelExec(Some(check_interrupt), std::ptr::null_mut()) == 0 }
}
