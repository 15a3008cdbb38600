#' Number of threads used for prediction
#'
#' `fp_threads()` returns the default number of threads [predict_fast()]
#' uses; `fp_threads(n)` sets it. The initial default is the number of
#' cores, or 2 under `R CMD check` (which sets `_R_CHECK_LIMIT_CORES_`).
#' Small inputs always run on one thread; results never depend on the
#' number of threads.
#'
#' @param n `NULL` to query, or a whole number of threads to set.
#' @return The default number of threads (invisibly when setting).
#' @export
#' @examples
#' old <- fp_threads()
#' fp_threads(1)
#' fp_threads(old)
fp_threads <- function(n = NULL) {
  if (is.null(n)) return(fp_check(rs_threads(NULL)))
  invisible(fp_check(rs_threads(n)))
}
