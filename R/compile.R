#' Compile a fitted model for fast prediction
#'
#' `fp_compile()` reads a fitted model once and turns it into an
#' `fp_model`: a portable description (the JSON model format, see
#' [fp_to_json()]) compiled for the engine. Predictions from it with
#' [predict_fast()] equal the model's own `predict()`.
#'
#' Anything the engine cannot reproduce exactly (a model class, family,
#' link, formula function or argument) is refused with an error of class
#' `fastpredict_error_unsupported` that names it.
#'
#' Supported models: `lm` and `glm` (families gaussian, binomial, poisson,
#' Gamma, inverse.gaussian, quasi, quasibinomial, quasipoisson; links
#' logit, probit, cauchit, cloglog, log, identity, inverse, 1/mu^2, sqrt),
#' with numeric, logical, factor, ordered and character predictors, any
#' contrasts, interactions, offsets, and the formula functions `I()`,
#' `log()`, `log2()`, `log10()`, `log1p()`, `exp()`, `sqrt()`, `abs()`,
#' `poly()`, `splines::ns()`, `splines::bs()`, `scale()`, `factor()` and
#' `as.numeric()`.
#'
#' `gbm` (gbm 2.1.8): every distribution it fits (gaussian, laplace, tdist,
#' quantile, huberized, bernoulli, adaboost, poisson, coxph, pairwise,
#' multinomial), types `"link"` (the default) and `"response"` (logistic
#' for bernoulli and pairwise, `exp()` for poisson, `1/(1+exp(-2f))` for
#' adaboost, softmax for multinomial, the link for the rest, as in
#' `predict.gbm()`), and `n.trees` as one number or several (a matrix, or
#' for multinomial an array rows x classes x n.trees). Splits are
#' `x < split`; `NA` and factor levels not seen in training take the
#' missing branch, a `NaN` goes right as in gbm. Predictors are numeric,
#' factor or ordered (compared by level code); factor levels are matched
#' by name, also for a `gbm.fit()` model, whose `predict()` takes columns
#' by position, and a character column is read as its levels (where
#' `predict.gbm()` would turn the whole `newdata` into text). Like
#' `predict.gbm()`, offsets are not added.
#'
#' @param model A fitted model.
#' @param ... Unused; for methods.
#' @return An object of class `fp_model`.
#' @seealso [predict_fast()], [fp_save()], [fp_to_json()]
#' @export
#' @examples
#' fit <- lm(mpg ~ wt * factor(cyl) + poly(hp, 2) + log(disp), data = mtcars)
#' m <- fp_compile(fit)
#' m
#' all.equal(predict_fast(m, mtcars), unname(predict(fit, mtcars)))
fp_compile <- function(model, ...) UseMethod("fp_compile")

#' @export
fp_compile.default <- function(model, ...) {
  fp_unsupported(sprintf("a model of class '%s'", paste(class(model), collapse = "/")))
}

#' @export
fp_compile.fp_model <- function(model, ...) model

# Build the engine model from a document given as nested R lists.
fp_from_spec <- function(doc) new_fp_model(fp_check(rs_model_from_spec(doc)))

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

fp_document <- function(model, source_package, kind, inputs, body) {
  doc <- list(
    format = "fastpredict-model",
    format_version = fp_format_version,
    producer = fp_producer(model, source_package),
    kind = kind,
    inputs = inputs
  )
  doc[[kind]] <- body
  doc
}

fp_format_version <- "1.0"
