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
#'   one-column matrix counts as a column. A list of length-1 vectors is the
#'   fast path for single rows. A numeric or logical matrix, or a sparse
#'   `dgCMatrix` (package Matrix), is read by column name, or without column
#'   names by position (one column per input, in the model's order; see the
#'   inputs in `print(model)`); of a sparse matrix, only the columns the
#'   model reads are expanded. A glmnet model, whose `predict()` takes a
#'   matrix `newx`, takes only a matrix (a sparse one read where it lies) or
#'   one row as a plain vector, by position where the fit had no column
#'   names.
#' @param type Prediction type, as in the model's `predict()`, with the same
#'   default; `print(model)` lists a model's types, and the sections of
#'   [fp_compile()] describe them for each package.
#' @param ... Further arguments of the model's own `predict()` that
#'   fastpredict reproduces, under their names there: `se.fit`, `interval`,
#'   `level`, `pred.var`, `weights`, `scale` and `df` for lm; `se.fit` and
#'   `dispersion` for glm; `n.trees` for gbm; `num.trees` for ranger;
#'   `norm.votes` for randomForest; `s`, `newoffset` and `exact` for glmnet;
#'   `iteration_range`, `ntreelimit` and `dmatrix` for xgboost,
#'   `start_iteration` and `num_iteration` for LightGBM (see [fp_import()]).
#'   Any other argument is refused with an error naming it, rather than
#'   ignored.
#' @param threads Number of threads; default [fp_threads()]. Results do not
#'   depend on it.
#' @return What the model's own `predict()` returns for `type`, without row
#'   names: a numeric vector with one value per row, a factor of classes, or
#'   a matrix (or array) with one column per class, per response (a
#'   multi-response lm) or per number of trees; for lm and glm with
#'   `se.fit = TRUE` the list `predict.lm()` / `predict.glm()` return, with
#'   `interval` the matrix `fit`, `lwr`, `upr`, and with `type = "terms"`
#'   the matrix of term contributions with its "constant" attribute; for a
#'   ranger survival forest the list `unique.death.times`, `chf`,
#'   `survival` of `predict.ranger()`.
#'   A row with a missing value gives `NA` where the model's `predict()`
#'   does; tree models otherwise route missing values as their package does.
#' @section Tied votes: randomForest and ranger break a tie between the
#'   most-voted classes at random, so their own `predict()` may give either
#'   class on such a row. fastpredict takes the first tied class in level
#'   order (for a ranger classifier of a numeric response, the smallest
#'   tied value), so its result does not change from call to call. On every
#'   row without a tie the class is the package's.
#' @section Errors: Classed conditions, all inheriting from
#'   `fastpredict_error`: `fastpredict_error_missing_column`,
#'   `_wrong_type`, `_unseen_level`, `_length_mismatch`, `_bad_argument`,
#'   `_unsupported`, `_interrupted` (Ctrl-C), and `_internal` (a bug in
#'   fastpredict: please report it). Loading and saving add `_corrupt_file`,
#'   `_newer_format`, `_io` and `_invalid_model` (see [fp_load()]).
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
  if (missing(newdata)) fp_abort("bad_argument", "newdata is missing: give a data.frame or a named list of columns")
  # The per-row hot path: straight to the engine's .Call routine on R's C
  # API (fp_routine, set when the package loads), which also checks that
  # the model is a compiled one (inherits() here cost 0.16 us of a 2.3 us
  # call). On failure the routine calls fp_predict_failed() and returns its
  # value. A family's hook is called only when there are extra arguments,
  # or an error.
  .Call(fp_routine, model, newdata, type, threads, if (...length()) fp_predict_args(model, list(...), newdata))
}

# Called by predict_fast()'s routine with the error list of a failed
# prediction and the routine's arguments (`options`: the extra arguments,
# which for a model that is not an fp_model are list(...) as given): a
# fitted model is compiled on the fly and predicted; otherwise the
# routine's error, explained.
fp_predict_failed <- function(res, model, newdata, type, threads, options) {
  if (!inherits(model, "fp_model")) {
    args <- c(list(fp_compile(model), newdata, type), options, list(threads = threads))
    return(do.call(predict_fast, args))
  }
  fp_assert_model(model)
  fp_check(fp_explain_error(model, res))
}

#' @rdname predict_fast
#' @param object An `fp_model`.
#' @export
predict.fp_model <- function(object, newdata, type = NULL, ..., threads = NULL) {
  if (missing(newdata)) fp_abort("bad_argument", "newdata is missing: give a data.frame or a named list of columns")
  predict_fast(object, newdata, type = type, ..., threads = threads)
}

# predict_fast()'s routine: rs_predict_routine(), when the package loads.
fp_routine <- NULL

# A family's hooks. fp_predict_args() adjusts the extra arguments where the
# model's own predict() adjusts them (by a switch on the first class: S3
# dispatch cost 1.2 us of a 5 us call); fp_explain_error() adds a hint to
# an error where a known trap explains it.
fp_predict_args <- function(model, args, newdata) {
  switch(.subset2(class(model), 1L),
         fp_model_gbm = fp_gbm_args(model, args),
         fp_model_lm = fp_lm_args(model, args, newdata),
         args)
}

fp_explain_error <- function(model, err) UseMethod("fp_explain_error")

#' @export
fp_explain_error.fp_model <- function(model, err) err
