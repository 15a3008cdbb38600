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
#' `rpart` trees with methods `"anova"`, `"class"` and `"poisson"`, types
#' `"vector"`, `"prob"`, `"class"` and `"matrix"` with rpart's default
#' (`"prob"` for classification, else `"vector"`), and numeric, logical,
#' factor, ordered and character predictors named plainly in the formula
#' (a function call such as `log(x)` is refused). Missing values follow the
#' fit's `usesurrogate`: the surrogate splits in order, then (with 2) the
#' child with more observations; otherwise, as in rpart, the prediction is
#' that of the node where the walk stops. A factor level absent at a node
#' counts as missing there; a level unseen in training is an error. For one
#' row, type `"matrix"` gives a one-row matrix, where `predict.rpart()`
#' fails.
#'
#' `randomForest` regression and classification forests, fitted with the
#' formula or the x/y interface, with types `"response"` (the default),
#' `"prob"` and `"vote"` (and `norm.votes = FALSE` for raw vote counts), the
#' `corr.bias` correction and the forest's `cutoff`. Numeric and logical
#' predictors split at `x <= split`; unordered factors (up to the 53
#' levels randomForest allows) are matched to the training levels by name;
#' ordered factors are read as level codes, as `data.matrix()` does (by
#' name for the x/y interface, which keeps their levels). As in
#' `predict.randomForest()`, a formula model predicts `NA` for a row with a
#' missing value in any formula variable, and an x/y model refuses missing
#' values. On tied votes the class is the first tied class in class order
#' (randomForest picks one at random). Unsupervised forests, forests fitted
#' with `keep.forest = FALSE`, character predictors of a formula model,
#' formula terms other than plain variables, and classes built on
#' randomForest (such as quantile forests) are refused.
#'
#' `ranger` forests (regression, classification and probability; type
#' `"response"`, and `num.trees` at prediction) are compiled from the saved
#' forest. Columns are found by name, and factor and character predictors
#' are matched to the training levels by name; ranger itself reads them by
#' position in the new data, so the two agree when the new data has the
#' training levels in training order. ranger records those levels only with
#' `respect.unordered.factors = "order"` (where an unseen level sorts after
#' the known ones, as in ranger); otherwise pass the training data as
#' `data`: it is required for unordered factors split by `"partition"`, and
#' without it every other predictor is declared numeric. Missing values are
#' an error, as in ranger 0.14; forests of newer ranger versions that store
#' a default child for missing values route them to it. Survival forests
#' are refused. Classification ties, which ranger breaks at random, go to
#' the first class in level order.
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
