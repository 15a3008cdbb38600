# The fp_model object: an external pointer to the compiled engine model
# plus a small description read from it once.

new_fp_model <- function(ptr) {
  structure(list(ptr = ptr, info = fp_check(rs_model_info(ptr))), class = "fp_model")
}

#' Is this a compiled fastpredict model?
#'
#' @param x Any object.
#' @return `TRUE` if `x` is an `fp_model`.
#' @export
#' @examples
#' is_fp_model(fp_compile(lm(mpg ~ wt, data = mtcars)))
is_fp_model <- function(x) inherits(x, "fp_model")
