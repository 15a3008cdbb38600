#' Check a compiled model against the fitted model's own predict()
#'
#' The quality gate of a deployment pipeline: for every prediction type the
#' compiled model offers, `fp_verify()` compares [predict_fast()] with the
#' fitted model's own `predict()` on `data`: numbers within `tolerance`
#' (relative), classes identical, the same shape and the same missing
#' values. Where randomForest and ranger break a tie between classes at
#' random, tied rows are left out of the class comparison and counted.
#'
#' xgboost and LightGBM models are refused (error class
#' `fastpredict_error_unsupported`): their R packages are not in Debian, so
#' a call of their `predict()` cannot be tested here. fastpredict's own
#' tests compare them with predictions the libraries recorded (see
#' [fp_import()]).
#'
#' @param fit The fitted model.
#' @param model Its compiled form (compiled from `fit` when left out).
#' @param data New data to predict, such as a holdout set.
#' @param types The prediction types to check; default every type the
#'   model offers.
#' @param tolerance Largest relative difference allowed for numbers.
#' @param report A file path: the report is also written there as JSON.
#' @return A report (class `fp_verification`): per type the rows checked,
#'   the largest relative difference, the tied rows left out and whether it
#'   passed; invisibly. If any type differs, an error of class
#'   `fastpredict_error_parity` carrying the report (`$report`), after
#'   writing it.
#' @export
#' @examples
#' fit <- glm(am ~ wt + hp, family = binomial, data = mtcars)
#' fp_verify(fit, data = mtcars)
fp_verify <- function(fit, model = fp_compile(fit), data, types = NULL, tolerance = 1e-9, report = NULL) {
  fp_assert_model(model)
  if (missing(data) || !(is.list(data) || length(dim(data)) == 2L)) {
    fp_abort("bad_argument", "data must be a data.frame (or a matrix, for a model that predicts from one)")
  }
  offered <- unlist(model$info$types)
  types <- types %||% setdiff(offered, "terms")
  if (!is.character(types) || anyNA(types) || !all(types %in% offered)) {
    fp_abort("bad_argument", sprintf("types must be some of the model's types: %s",
                                     paste0("\"", offered, "\"", collapse = ", ")))
  }
  if (!is.numeric(tolerance) || length(tolerance) != 1L || !(tolerance >= 0)) {
    fp_abort("bad_argument", "tolerance must be a single number >= 0")
  }
  if (!is.null(report)) fp_check_string(report, "report")
  rows <- lapply(types, function(type) fp_verify_type(fit, model, data, type, tolerance))
  rep <- structure(list(
    model = paste(model$info$producer$source_class, collapse = "/"),
    content_hash = fp_content_hash(model),
    rows = NROW(data),
    tolerance = tolerance,
    cases = do.call(rbind, rows),
    passed = all(vapply(rows, function(r) r$passed, NA))
  ), class = "fp_verification")
  if (!is.null(report)) fp_write_json(unclass(rep), report)
  if (!rep$passed) {
    bad <- rep$cases[!rep$cases$passed, , drop = FALSE]
    fp_abort("parity", sprintf("predict_fast() differs from predict() for type %s (largest relative difference %s)",
                               paste0("\"", bad$type, "\"", collapse = ", "), format(max(bad$max_difference))),
             report = rep)
  }
  invisible(rep)
}

fp_verify_type <- function(fit, model, data, type, tolerance) {
  # the fit's own predict() failing is the caller's input, not a parity result
  native <- tryCatch(fp_native_predict(model, fit, data, type), error = function(e) {
    # (a model fastpredict cannot check says so with its own class)
    if (inherits(e, "fastpredict_error")) stop(e)
    fp_abort("bad_argument", sprintf("the fit's own predict() failed for type \"%s\": %s", type, conditionMessage(e)))
  })
  fast <- predict_fast(model, data, type = type)
  # (classes may be numbers: ranger's classification of a numeric response)
  tied <- fp_verify_ties(model, fit, data, type)
  keep <- if (is.null(tied)) rep(TRUE, NROW(data)) else !tied
  diff <- fp_difference(fast, native, keep)
  data.frame(type = type, rows = NROW(data), tied_rows_left_out = sum(!keep),
             max_difference = diff, passed = diff <= tolerance, stringsAsFactors = FALSE)
}

# The largest relative difference of two predictions (Inf when their
# shapes, classes or missing values differ), over the rows kept (all rows
# when `keep` is NULL).
fp_difference <- function(a, b, keep) {
  if (is.list(a) || is.list(b)) {
    # a list of parts (a survival forest's death times and curves), which
    # has no tied rows to leave out
    if (!is.list(a) || !is.list(b) || !identical(names(a), names(b))) return(Inf)
    return(max(0, vapply(names(b), function(n) fp_difference(a[[n]], b[[n]], NULL), 0)))
  }
  strip <- function(x) {
    x <- unclass(x)
    attributes(x) <- attributes(x)[intersect(names(attributes(x)), c("dim", "levels"))]
    x
  }
  if (is.factor(a) || is.factor(b)) {
    if (!is.factor(a) || !is.factor(b) || !identical(levels(a), levels(b))) return(Inf)
    return(if (identical(as.integer(a)[keep], as.integer(b)[keep])) 0 else Inf)
  }
  a <- strip(a)
  b <- strip(b)
  if (!identical(dim(a), dim(b)) || length(a) != length(b)) return(Inf)
  rows <- if (is.null(keep)) TRUE else if (is.null(dim(a))) keep else keep[row(a)]
  a <- as.vector(a)[rows]
  b <- as.vector(b)[rows]
  if (!identical(is.na(a), is.na(b))) return(Inf)
  ok <- !is.na(a)
  if (!any(ok)) return(0)
  rel <- abs(a[ok] - b[ok]) / pmax(abs(b[ok]), .Machine$double.xmin)
  rel[a[ok] == b[ok]] <- 0
  max(rel)
}

# The fitted model's own prediction of `type`; a family whose predict()
# takes other arguments or returns another shape adds a method.
fp_native_predict <- function(model, fit, data, type) UseMethod("fp_native_predict")

#' @export
fp_native_predict.fp_model <- function(model, fit, data, type) {
  unname(stats::predict(fit, data, type = type))
}

# Rows whose class is a tie that the package breaks at random.
fp_verify_ties <- function(model, fit, data, type) UseMethod("fp_verify_ties")

#' @export
fp_verify_ties.fp_model <- function(model, fit, data, type) NULL

#' @export
print.fp_verification <- function(x, ...) {
  cat(sprintf("<fp_verification> %s, %d rows, tolerance %g: %s\n", x$model, x$rows, x$tolerance,
              if (x$passed) "passed" else "FAILED"))
  print(x$cases, row.names = FALSE)
  invisible(x)
}

# A small JSON writer for reports: named lists, data.frames (as arrays of
# records), strings, numbers and logicals.
fp_write_json <- function(x, path) {
  json <- function(v) {
    if (is.data.frame(v)) {
      return(paste0("[", paste(vapply(seq_len(nrow(v)), function(i) json(as.list(v[i, , drop = FALSE])), ""),
                               collapse = ","), "]"))
    }
    if (is.list(v)) {
      inner <- vapply(v, json, "")
      if (is.null(names(v))) return(paste0("[", paste(inner, collapse = ","), "]"))
      return(paste0("{", paste(sprintf("\"%s\":%s", names(v), inner), collapse = ","), "}"))
    }
    one <- function(e) {
      if (is.na(e)) return("null")
      if (is.character(e)) return(paste0("\"", gsub("([\"\\\\])", "\\\\\\1", e), "\""))
      if (is.logical(e)) return(if (e) "true" else "false")
      if (!is.finite(e)) return("null")
      format(e, digits = 15)
    }
    if (length(v) == 1L) one(v) else paste0("[", paste(vapply(v, one, ""), collapse = ","), "]")
  }
  tmp <- paste0(path, ".tmp")
  ok <- tryCatch({
    writeLines(json(x), tmp)
    file.rename(tmp, path)
  }, error = function(e) FALSE, warning = function(w) FALSE)
  if (!isTRUE(ok)) {
    unlink(tmp)
    fp_abort("io", sprintf("cannot write the report to '%s'", path))
  }
  invisible(path)
}
