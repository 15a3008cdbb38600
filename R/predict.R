#' Predict fast from a compiled model
#'
#' Gives the same values as the model's own `predict()` (within 1e-9
#' relative for linear models), with the same default `type`, computed by
#' the Rust engine from columns read in place.
#'
#' @param model An `fp_model` from [fp_compile()] or [fp_load()]. A fitted
#'   model is accepted too and compiled on the fly, which is much slower
#'   than compiling once.
#' @param newdata A data.frame, or a named list of columns of equal length.
#'   Columns the model does not use are ignored; order does not matter. A
#'   list of length-1 vectors is the fast path for single rows.
#' @param type Prediction type, as in the model's `predict()`, with the same
#'   default: `"response"` for `lm`; `"link"` or `"response"` for `glm` and
#'   `gbm`; `"vector"`, `"prob"`, `"class"` or `"matrix"` for `rpart`;
#'   `"response"`, `"prob"` or `"vote"` for `randomForest`; `"response"`
#'   for `ranger`. See `print(model)` for a model's types.
#' @param ... Further arguments of the model's own `predict()` that
#'   fastpredict reproduces: `n.trees` (gbm), `num.trees` (ranger),
#'   `norm.votes` (randomForest). Any other argument is refused with an
#'   error naming it, rather than ignored. As in `predict.gbm()`, an
#'   `n.trees` above the number of iterations fitted is lowered to it with a
#'   warning, and a missing `n.trees` means the best iteration (test set,
#'   else cross-validation, else all), without `predict.gbm()`'s message.
#' @param threads Number of threads; default [fp_threads()]. Results do not
#'   depend on it.
#' @return What the model's own `predict()` returns for `type`, without row
#'   names: a numeric vector with one value per row (linear models, rpart
#'   `"vector"`, randomForest and ranger regression, gbm with one `n.trees`);
#'   a factor with the class levels (rpart `"class"`, randomForest and ranger
#'   classification); a matrix with one column per class (rpart `"prob"`,
#'   randomForest `"prob"`/`"vote"` with class `"votes"`, ranger probability
#'   forests) or per `n.trees` (gbm); for a multinomial gbm an array rows x
#'   classes x `n.trees`. A row with a missing value gives `NA` where the
#'   model's `predict()` does (linear models, randomForest's formula
#'   interface); tree models otherwise route missing values as their package
#'   does.
#' @section Errors: Classed conditions, all inheriting from
#'   `fastpredict_error`: `fastpredict_error_missing_column`,
#'   `fastpredict_error_wrong_type`, `fastpredict_error_unseen_level`,
#'   `fastpredict_error_length_mismatch`, `fastpredict_error_bad_argument`,
#'   `fastpredict_error_unsupported`, `fastpredict_error_interrupted`.
#' @export
#' @examples
#' fit <- glm(am ~ wt + hp, family = binomial, data = mtcars)
#' m <- fp_compile(fit)
#' predict_fast(m, mtcars[1:3, ], type = "response")
#' predict_fast(m, list(wt = 2.5, hp = 110), type = "response")
#'
#' if (requireNamespace("rpart", quietly = TRUE)) {
#'   tree <- fp_compile(rpart::rpart(Species ~ ., data = iris))
#'   predict_fast(tree, iris[c(1, 51, 101), ])                  # class probabilities
#'   predict_fast(tree, iris[c(1, 51, 101), ], type = "class")
#' }
predict_fast <- function(model, newdata, type = NULL, ..., threads = NULL) {
  if (!inherits(model, "fp_model")) model <- fp_compile(model)
  # The per-row hot path: straight to the registered routine, and errors
  # come back as a list (predictions never are one).
  res <- .Call(wrap__rs_predict, model$ptr, newdata, type, threads, if (...length()) fp_args(model, list(...)))
  if (is.list(res)) fp_predict_error(res, model) else res
}

# Raise a prediction error, with a hint where a known trap explains it.
fp_predict_error <- function(err, model) {
  if (identical(err$kind, "wrong_type") && identical(model$info$algorithm, "ranger") &&
      grepl("must be numeric", err$message, fixed = TRUE)) {
    err$message <- paste0(err$message, ". ranger keeps no record of factor predictors: if this ",
                          "column was a factor when the forest was fitted, compile with ",
                          "fp_compile(fit, data = <the training data>)")
  }
  fp_check(err)
}

#' @rdname predict_fast
#' @param object An `fp_model`.
#' @export
predict.fp_model <- function(object, newdata, type = NULL, ..., threads = NULL) {
  predict_fast(object, newdata, type = type, ..., threads = threads)
}

# The extra arguments, adjusted where the model's own predict() adjusts them.
fp_args <- function(model, args) {
  if (length(args) && identical(model$info$algorithm, "gbm")) fp_gbm_args(model, args) else args
}
