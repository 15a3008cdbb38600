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
#' for each package, what is compiled and what is refused; the last one
#' gathers the refusals and their reasons.
#'
#' @section What is refused, and why: Each of these is refused when the
#'   model is compiled (or, for a prediction argument, when it is given),
#'   with a message naming it; so is a fitted object whose parts contradict
#'   each other (one edited by hand):
#'   * a class fastpredict does not know, including a subclass of a known
#'     one (it may predict differently);
#'   * a multi-stratum `aov()` (class `aovlist`, from an `Error()` term):
#'     R's `predict()` has no method for it;
#'   * a glm family or link outside those listed under lm and glm, and a
#'     family whose inverse link is not R's own under that name;
#'   * a formula function outside those listed under lm and glm, or a
#'     standard one redefined in the formula's environment;
#'   * `cut(x, <number of intervals>)`: `predict()` cuts the new data at
#'     the range of the new data itself, so its intervals are not the
#'     training data's (give the breaks as numbers); `cut(labels = FALSE)`;
#'   * a call that reads no column and gives several numbers, such as
#'     `offset(rep(1, 10))` or `1:10`: `predict()` evaluates it to the
#'     training data's length whatever the new data;
#'   * a matrix variable of several columns (`y ~ X` with a matrix `X`):
#'     fastpredict reads one column per input;
#'   * `bs()` or `ns()` fitted on a single value of its variable: its basis
#'     is undefined;
#'   * `interaction()` of anything but columns, or one whose levels do not
#'     split into its columns' labels when the training data cannot be
#'     found;
#'   * for several responses (`mlm`), two `offset()` terms and an empty
#'     model (`predict.mlm()` fails on both), and standard errors or
#'     intervals (it has none); for an
#'     empty model (`y ~ 0`), standard errors and intervals (R gives them
#'     at the training data's length);
#'   * rpart trees of method `"user"` (their predictions come from the
#'     user's own functions) and with an `offset()` term; terms other than
#'     plain variables in rpart, randomForest and gbm formulas;
#'   * character predictors of a randomForest formula model (it codes them
#'     by the values present in the new data), and of a ranger forest
#'     compiled without `data` (likewise);
#'   * randomForest and ranger models saved without their forest,
#'     unsupervised forests, ranger forests older than 0.11.5, and ranger's
#'     types `"se"`, `"terminalNodes"` and `"quantiles"` (ranger itself
#'     has no quantiles for survival forests);
#'   * gbm models whose distribution or tree layout is not gbm 2.1.8's.
#'
#'   ranger 0.14 refuses to fit a character response, so there is no such
#'   forest to compile; a numeric or logical response is compiled.
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
