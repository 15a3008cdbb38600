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
#'   `na.action = na.pass`.
#' @export
fp_compile.lm <- function(model, ...) {
  fp_require_class(model, "lm")
  lin <- fp_linear_section(model, family = "gaussian", link = "identity",
                           types = "response", default_type = "response")
  fp_from_spec(fp_document(model, "stats", "linear", lin$inputs, lin$section))
}
