#' fastpredict: fast, exact and portable predictions
#'
#' Compile a fitted model once with [fp_compile()], then predict with
#' [predict_fast()]: the same numbers as `predict()`, computed in Rust.
#' Compiled models are saved as portable JSON with [fp_save()].
#'
#' @keywords internal
#' @useDynLib fastpredict, .registration = TRUE
"_PACKAGE"

.onLoad <- function(libname, pkgname) {
  fp_routine <<- rs_predict_routine()
  limit <- Sys.getenv("_R_CHECK_LIMIT_CORES_", "")
  if (nzchar(limit) && !identical(toupper(limit), "FALSE")) rs_threads(2L)
  n <- getOption("fastpredict.threads")
  if (!is.null(n)) rs_threads(n)
  limits <- getOption("fastpredict.limits")
  if (is.list(limits) && length(limits)) rs_limits(limits)
}
