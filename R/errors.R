# Classed conditions. Every error fastpredict raises has class
# c("fastpredict_error_<kind>", "fastpredict_error", "error", "condition"),
# so callers can catch one kind or all of them. The kinds are the engine's
# (src/rust/engine/src/error.rs), documented in ?predict_fast and ?fp_load.

fp_abort <- function(kind, message, ..., call = NULL) {
  cond <- structure(
    class = c(paste0("fastpredict_error_", kind), "fastpredict_error", "error", "condition"),
    list(message = message, call = call, ...)
  )
  stop(cond)
}

fp_unsupported <- function(what, ...) {
  fp_abort("unsupported", paste0("fastpredict cannot reproduce ", what, "; ",
                                 "fp_compile() refuses it rather than predict differently from R"), ...)
}

# Results of the Rust functions are either values or an error list; an
# error about an HTTP request also carries its status and JSON body.
fp_check <- function(x) {
  if (inherits(x, "fastpredict_rust_error")) {
    if (is.null(x$status)) fp_abort(x$kind, x$message)
    fp_abort(x$kind, x$message, status = x$status, body = x$body)
  }
  x
}
