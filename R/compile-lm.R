#' @rdname fp_compile
#' @section lm and glm: `lm` and `aov` fits; several responses (`mlm`,
#'   and `aov()`'s `maov` and `manova`), predicted as `predict.mlm()` does:
#'   a matrix with a column per response named as R names them, the
#'   formula's offset (or only without one the `offset` argument) added to
#'   every column, no standard errors; `glm` fits of the families gaussian,
#'   binomial (also `cbind(successes, failures)`), poisson, Gamma,
#'   inverse.gaussian, quasi, quasibinomial, quasipoisson and MASS's
#'   `negative.binomial(theta)`, and `MASS::glm.nb()` fits, with the links
#'   logit, probit, cauchit, cloglog, log, identity, inverse, 1/mu^2 and
#'   sqrt. Types `"response"` for `lm`; `"link"` (the default) and
#'   `"response"` for `glm`. Numeric, logical, factor, ordered and character
#'   predictors, and one-column matrices (such as `scale(x)` stored in the
#'   data); treatment, sum, helmert, poly and custom contrasts;
#'   interactions of any order; models without intercept, and the empty
#'   model `y ~ 0` (zeros, or its offset); offsets (terms and the `offset =`
#'   argument); weights; rank-deficient fits (aliased coefficients are left
#'   out, as `predict()` leaves them out). Formula functions: `I()` with
#'   arithmetic, `^`, comparisons (`>`, `>=`, `<`, `<=`, `==`, `!=`) and
#'   logic (`&`, `|`, `!`), `log()` (any base), `log2()`, `log10()`,
#'   `log1p()`, `exp()`, `sqrt()`, `abs()`, `poly()` (orthogonal or raw),
#'   `splines::ns()`, `splines::bs()`, `scale()`, inline `factor()` and
#'   `as.numeric()`. Factors made in the formula: `factor()`, `C()` (its
#'   contrasts are the fit's), `relevel()`, `cut()` with the breaks given as
#'   numbers (infinite ends included), `interaction()` of columns, and
#'   comparisons such as `I(x > 0)` or `x > 0` (a FALSE/TRUE factor); their
#'   values are matched to the fit's levels by name, as `model.frame()`
#'   matches them, so a level the training data did not have is an error.
#'   Constants: a call that reads no column (`log(2)`) is evaluated once, and
#'   a name that is no column of the training data but a number in the
#'   formula's environment (`pi`, or a constant of your own) is that number.
#'   Any other formula function, and a standard one redefined in the
#'   formula's environment, is refused by name (see the last section). A row
#'   with a missing value gives `NA`, as `predict()` with `na.action =
#'   na.pass`. Standard errors and intervals as `predict.lm()`
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
  # aov() fits are lm fits that predict() hands to predict.lm(); several
  # responses (mlm, and aov's maov and manova) go to predict.mlm().
  fp_require_class(model, "lm", c("aov", "lm"), c("mlm", "lm"), c("maov", "aov", "mlm", "lm"),
                   c("manova", "maov", "aov", "mlm", "lm"))
  if (inherits(model, "mlm")) return(fp_compile_mlm(model))
  lin <- fp_linear_section(model, family = "gaussian", link = "identity",
                           types = "response", default_type = "response")
  lin$section$inference <- fp_linear_inference(model, "lm")
  fp_from_spec(fp_document(model, "stats", "linear", lin$inputs, lin$section))
}

# predict.lm()'s prediction weights: a one-sided formula is evaluated in
# newdata, and a weighted fit without them gets predict.lm()'s warning.
fp_lm_args <- function(model, args, newdata) {
  # (on every call with extra arguments: the cheap tests first)
  w <- args[["weights"]]
  if (is.null(w)) {
    # (primitives: identical() alone costs a microsecond)
    iv <- args[["interval"]]
    if (is.character(iv) && length(iv) == 1L && !is.na(iv) && iv == "prediction" && is.null(args[["pred.var"]]) &&
        isTRUE(.subset2(.subset2(.subset2(model, "info"), "facts"), "weighted"))) {
      warning("Assuming constant prediction variance even though model fit is weighted\n", call. = FALSE)
    }
  } else if (inherits(w, "formula")) {
    if (length(w) != 2L) fp_abort("bad_argument", "'weights' as formula should be one-sided")
    # as predict.lm() does; a formula that does not evaluate is the caller's error
    args[["weights"]] <- tryCatch(as.double(eval(w[[2L]], newdata, environment(w))), error = function(e) {
      fp_abort("bad_argument", paste("'weights' as formula:", conditionMessage(e)))
    })
  }
  args
}

#' @export
fp_compile.aovlist <- function(model, ...) {
  fp_unsupported(paste0("a multi-stratum aov (class 'aovlist', from an Error() term): ",
                        "R's predict() has no method for it"))
}

# Several responses: predict.mlm() gives a matrix with a column per
# response, named as the coefficient matrix's columns, and no standard
# errors or intervals.
fp_compile_mlm <- function(model) {
  if (identical(model$rank, 0L)) {
    fp_unsupported("an empty multi-response lm (predict.mlm() fails on a fit of rank zero)")
  }
  lin <- fp_linear_section(model, family = "gaussian", link = "identity",
                           types = "response", default_type = "response")
  fp_from_spec(fp_document(model, "stats", "linear", lin$inputs, lin$section))
}
