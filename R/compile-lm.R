#' @rdname fp_compile
#' @section lm and glm: `lm` fits, and `glm` fits of the families gaussian,
#'   binomial (also `cbind(successes, failures)`), poisson, Gamma,
#'   inverse.gaussian, quasi, quasibinomial and quasipoisson with the links
#'   logit, probit, cauchit, cloglog, log, identity, inverse, 1/mu^2 and
#'   sqrt. Types `"response"` for `lm`; `"link"` (the default) and
#'   `"response"` for `glm`. Numeric, logical, factor, ordered and character
#'   predictors; treatment, sum, helmert, poly and custom contrasts;
#'   interactions of any order; models without intercept; offsets (terms
#'   and the `offset =` argument); weights; rank-deficient fits (aliased
#'   coefficients are left out, as `predict()` leaves them out). Formula
#'   functions: `I()` with arithmetic and `^`, `log()` (any base), `log2()`,
#'   `log10()`, `log1p()`, `exp()`, `sqrt()`, `abs()`, `poly()` (orthogonal
#'   or raw), `splines::ns()`, `splines::bs()`, `scale()`, inline
#'   `factor()` and `as.numeric()`. Any other formula function, and a
#'   standard one redefined in the formula's environment, is refused by
#'   name. A row with a missing value gives `NA`, as `predict()` with
#'   `na.action = na.pass`. Standard errors and intervals as `predict.lm()`
#'   and `predict.glm()` give them: `se.fit = TRUE` (with `scale` and `df`
#'   for lm, `dispersion` for glm, on the link or the response scale),
#'   `interval = "confidence"` or `"prediction"` with `level`, `pred.var`
#'   and `weights` (a number, one per row, or a one-sided formula evaluated
#'   in `newdata`) for lm, with `predict.lm()`'s warning when a weighted fit
#'   gets no prediction weights; and `type = "terms"` (with its "constant"
#'   attribute, and standard errors and intervals too). The t and normal
#'   quantiles agree with `qt()` and `qnorm()` to about 1e-12 for levels of
#'   0.1 and above. Models compiled before format 1.2 refuse them.
#' @export
fp_compile.lm <- function(model, ...) {
  fp_require_class(model, "lm")
  lin <- fp_linear_section(model, family = "gaussian", link = "identity",
                           types = "response", default_type = "response")
  lin$section$inference <- fp_linear_inference(model, "lm")
  fp_from_spec(fp_document(model, "stats", "linear", lin$inputs, lin$section))
}

# predict.lm()'s prediction weights: a one-sided formula is evaluated in
# newdata, and a weighted fit without them gets predict.lm()'s warning.
#' @export
fp_predict_args.fp_model_lm <- function(model, args, newdata) {
  w <- args[["weights"]]
  if (inherits(w, "formula")) {
    if (length(w) != 2L) fp_abort("bad_argument", "'weights' as formula should be one-sided")
    args[["weights"]] <- as.double(eval(w[[2L]], newdata, environment(w)))
  }
  if (identical(args[["interval"]], "prediction") && is.null(w) && is.null(args[["pred.var"]]) &&
      isTRUE(model$info$facts$weighted)) {
    warning("Assuming constant prediction variance even though model fit is weighted\n", call. = FALSE)
  }
  args
}
