#' Compile a fitted model for fast prediction
#'
#' `fp_compile()` reads a fitted model once and turns it into an
#' `fp_model`: a portable description (the JSON model format, see
#' [fp_to_json()]) compiled for the engine. Predictions from it with
#' [predict_fast()] equal the model's own `predict()`.
#'
#' Anything the engine cannot reproduce exactly (a model class, family,
#' link, formula function or argument) is refused with an error of class
#' `fastpredict_error_unsupported` that names it. The sections below say,
#' for each package, what is compiled and what is refused.
#'
#' @param model A fitted model.
#' @param ... Further arguments of a family's method (see `data` for
#'   ranger); unused otherwise.
#' @param card A model card from [fp_card()] to attach.
#' @return An object of class `fp_model` (with a first class naming the
#'   algorithm, such as `fp_model_gbm`).
#' @seealso [predict_fast()], [fp_save()], [fp_to_json()], [fp_limits()]
#' @export
#' @examples
#' fit <- lm(mpg ~ wt * factor(cyl) + poly(hp, 2) + log(disp), data = mtcars)
#' m <- fp_compile(fit)
#' m
#' all.equal(predict_fast(m, mtcars), unname(predict(fit, mtcars)))
fp_compile <- function(model, ..., card = NULL) {
  if (!is.null(card)) {
    m <- fp_compile(model, ...)
    fp_card(m) <- card
    return(m)
  }
  UseMethod("fp_compile")
}

#' @export
fp_compile.default <- function(model, ...) {
  fp_unsupported(sprintf("a model of class '%s'", paste(class(model), collapse = "/")))
}

#' @export
fp_compile.fp_model <- function(model, ...) model

# The constructors every compiler builds its document from.

# Refuse a model whose class vector is not exactly one of `expected` (a
# subclass may predict differently).
fp_require_class <- function(model, ...) {
  for (expected in list(...)) if (identical(class(model), expected)) return(invisible())
  fp_unsupported(sprintf("a model of class '%s'", paste(class(model), collapse = "/")))
}

# One column of the input prototype.
fp_input <- function(name, type, levels = NULL) {
  spec <- list(name = name, type = type)
  if (!is.null(levels)) spec$levels <- I(as.character(levels))
  spec
}

# One feature of a tree model: what its splits read from an input.
fp_feature <- function(input, kind = "numeric", levels = NULL, unseen = NULL, code_offset = NULL) {
  f <- list(input = input, kind = kind)
  if (!is.null(levels)) f$levels <- I(as.character(levels))
  f$code_offset <- code_offset
  f$unseen <- unseen
  f
}

# The trees section of a document.
fp_trees_section <- function(algorithm, features, trees, split, missing, aggregation,
                             types, default_type, classes = NULL, nan = NULL) {
  list(algorithm = algorithm, features = features, split = split, missing = missing, nan = nan,
       aggregation = aggregation, types = I(types), default_type = default_type,
       classes = if (!is.null(classes)) I(as.character(classes)), trees = trees)
}

fp_producer <- function(model, source_package) {
  list(
    name = "fastpredict",
    version = as.character(utils::packageVersion("fastpredict")),
    r_version = as.character(getRversion()),
    source_class = I(class(model)),
    source_package = source_package,
    source_package_version = as.character(utils::packageVersion(source_package))
  )
}

# A whole document: `section` is the family's part, named by `kind`.
fp_document <- function(model, source_package, kind, inputs, section) {
  doc <- list(
    format = "fastpredict-model",
    format_version = fp_check(rs_format_version()),
    producer = fp_producer(model, source_package),
    kind = kind,
    inputs = inputs
  )
  doc[[kind]] <- section
  doc
}

# Build the engine model from a document given as nested R lists.
fp_from_spec <- function(doc) new_fp_model(fp_check(rs_model_from_spec(doc)))
