# Small helpers shared by the compilers and the rest of the package.

`%||%` <- function(a, b) if (is.null(a)) b else a

fp_deparse <- function(e) paste(deparse(e, width.cutoff = 500L), collapse = " ")

# The name of the function a call calls (`f` of `f(x)` and `pkg::f(x)`).
fp_call_name <- function(e) {
  f <- e[[1L]]
  if (is.symbol(f)) return(as.character(f))
  if (is.call(f) && length(f) == 3L && as.character(f[[1L]]) %in% c("::", ":::")) {
    return(as.character(f[[3L]]))
  }
  ""
}

# The name model.frame() gives a variable (deparse2() in R's model.frame).
fp_frame_name <- function(e) {
  paste(deparse(e, width.cutoff = 500L, backtick = !is.symbol(e) && is.language(e)), collapse = " ")
}

# A single non-missing string argument, or a classed error naming it.
fp_check_string <- function(x, what) {
  if (!is.character(x) || length(x) != 1L || is.na(x)) {
    fp_abort("bad_argument", sprintf("%s must be a single string", what))
  }
  invisible(x)
}
