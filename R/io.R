#' Save and load compiled models
#'
#' `fp_save()` writes the model's JSON document; a path ending in `.gz` is
#' gzip-compressed. The file is written to a temporary name of its own and
#' renamed, so it is never left half-written, even with several writers;
#' temporaries left by a killed save are removed by the next save. `fp_load()`
#' reads either form (it recognises gzip by content). It reads only regular
#' files, no larger than the load limits ([fp_limits()]), and refuses a
#' corrupt, truncated, empty or newer-format file with an error naming the
#' file: class `fastpredict_error_corrupt_file`, `_newer_format`, `_io` (the
#' file cannot be read, or is not a regular file) or `_unsupported` (over a
#' load limit, or something the engine does not reproduce).
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
  fp_check_string(path, "path")
  fp_check(rs_model_save(model$ptr, path.expand(path), as.logical(compress)))
  invisible(path)
}

#' @rdname fp_save
#' @export
fp_load <- function(path) {
  fp_check_string(path, "path")
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
  fp_check_string(json, "json")
  new_fp_model(fp_check(rs_model_from_json(json)))
}

# An fp_model is a list holding the compiled model's pointer; an object
# that only has the class (say structure(1, class = "fp_model")) is
# refused here rather than by `$` with an unclassed error.
fp_assert_model <- function(model) {
  if (!inherits(model, "fp_model") || !is.list(model)) {
    fp_abort("bad_argument", "model must be an fp_model (see fp_compile())")
  }
}

# The model's description: the one it carries, else (after tampering)
# the engine's, which also checks the pointer.
fp_info <- function(model) {
  fp_assert_model(model)
  if (is.list(model$info)) model$info else fp_check(rs_model_info(model$ptr))
}

#' Load limits
#'
#' A model file is checked against these limits before anything is
#' allocated for it, so that a damaged or hostile file cannot exhaust
#' memory. The defaults fit real models with room to spare; raise one to
#' load a model that exceeds it. `fp_limits()` returns the limits in force;
#' `fp_limits(name = value)` changes the given ones (and returns all of them
#' invisibly). The option `fastpredict.limits`, a named list, sets them when
#' the package loads.
#'
#' The limits, with their defaults, are: `file_bytes` (a file as stored,
#' 2^30), `json_bytes` (its JSON text once decompressed, 2^30), `inputs`
#' (input columns, 100,000), `levels` (levels of one factor, 1,000,000),
#' `features` (of a tree model, 1,000,000), `trees` (1,000,000), `nodes`
#' (of all trees together, 500,000,000), `terms` (of a linear model,
#' 100,000), `design` (entries of a linear model's design: coefficients and
#' the lookup tables of all its terms, an entry of a term that mixes
#' factors and numbers counting 8; 2^22) and `basis` (the degree of a
#' polynomial, the columns of a spline basis, 1,000).
#' A model over a limit is refused with an error of class
#' `fastpredict_error_unsupported` that names the limit.
#'
#' @param ... Limits to set, by name, as whole numbers.
#' @return A named list of the limits in force.
#' @export
#' @examples
#' fp_limits()$nodes
#' old <- fp_limits()
#' fp_limits(nodes = 2e9)
#' do.call(fp_limits, old)
fp_limits <- function(...) {
  new <- list(...)
  if (!length(new)) return(fp_check(rs_limits(NULL)))
  if (is.null(names(new)) || any(names(new) == "")) fp_abort("bad_argument", "give the limits by name")
  invisible(fp_check(rs_limits(new)))
}
