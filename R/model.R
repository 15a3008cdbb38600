# The fp_model object: an external pointer to the compiled engine model
# plus its description (the engine's ModelInfo), read once. Its first class
# names the algorithm (fp_model_gbm, fp_model_linear, ...) so that a
# family can add a method for the generics in predict.R.

new_fp_model <- function(ptr) {
  info <- fp_check(rs_model_info(ptr))
  structure(list(ptr = ptr, info = info),
            class = c(paste0("fp_model_", info$algorithm %||% info$kind), "fp_model"))
}

#' Is this a compiled fastpredict model?
#'
#' @param x Any object.
#' @return `TRUE` if `x` is an `fp_model`.
#' @export
#' @examples
#' is_fp_model(fp_compile(lm(mpg ~ wt, data = mtcars)))
is_fp_model <- function(x) inherits(x, "fp_model")
