#' Save and load compiled models
#'
#' `fp_save()` writes the model's JSON document; a path ending in `.gz` is
#' gzip-compressed. The file is written to a temporary name and renamed, so
#' it is never left half-written. `fp_load()` reads either form (it
#' recognises gzip by content) and refuses a corrupt, truncated, empty or
#' newer-format file with an error naming the file.
#'
#' A reloaded model predicts bit-identically to the saved one. Use these,
#' not `saveRDS()`: an `fp_model` restored by `readRDS()` has lost its
#' compiled form.
#'
#' @param model An `fp_model`.
#' @param path File path.
#' @param compress `TRUE` or `FALSE`; the default compresses when `path`
#'   ends in `.gz`.
#' @return `fp_save()` returns `path` invisibly; `fp_load()` an `fp_model`.
#' @seealso [fp_to_json()] for the document as text.
#' @export
#' @examples
#' m <- fp_compile(lm(mpg ~ wt + factor(cyl), data = mtcars))
#' path <- tempfile(fileext = ".json")
#' fp_save(m, path)
#' m2 <- fp_load(path)
#' identical(predict_fast(m, mtcars), predict_fast(m2, mtcars))
fp_save <- function(model, path, compress = NA) {
  fp_assert_model(model)
  if (!is.character(path) || length(path) != 1L || is.na(path)) {
    fp_abort("bad_argument", "path must be a single file path")
  }
  fp_check(rs_model_save(model$ptr, path.expand(path), as.logical(compress)))
  invisible(path)
}

#' @rdname fp_save
#' @export
fp_load <- function(path) {
  if (!is.character(path) || length(path) != 1L || is.na(path)) {
    fp_abort("bad_argument", "path must be a single file path")
  }
  new_fp_model(fp_check(rs_model_load(path.expand(path))))
}

#' The model document as JSON text
#'
#' `fp_to_json()` returns the portable model document that [fp_save()]
#' writes; `fp_from_json()` compiles one. The format is described by the
#' JSON Schema in `system.file("schema", package = "fastpredict")`.
#'
#' @param model An `fp_model`.
#' @param pretty Indent the JSON for reading.
#' @param json A single string holding a model document.
#' @return `fp_to_json()` a single string; `fp_from_json()` an
#'   `fp_model`.
#' @export
#' @examples
#' m <- fp_compile(lm(mpg ~ wt, data = mtcars))
#' txt <- fp_to_json(m)
#' m2 <- fp_from_json(txt)
#' predict_fast(m2, list(wt = 3))
fp_to_json <- function(model, pretty = FALSE) {
  fp_assert_model(model)
  fp_check(rs_model_to_json(model$ptr, isTRUE(pretty)))
}

#' @rdname fp_to_json
#' @export
fp_from_json <- function(json) {
  if (!is.character(json) || length(json) != 1L || is.na(json)) {
    fp_abort("bad_argument", "json must be a single string")
  }
  new_fp_model(fp_check(rs_model_from_json(json)))
}

fp_assert_model <- function(model) {
  if (!inherits(model, "fp_model")) {
    fp_abort("bad_argument", "model must be an fp_model (see fp_compile())")
  }
}
