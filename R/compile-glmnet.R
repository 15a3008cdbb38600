# glmnet: penalised regression paths, predicted as glmnet 4.1's
# predict.glmnet() and its methods (lognet, fishnet, multnet, mrelnet,
# coxnet, cv.glmnet) predict them:
# - the document keeps the path as glmnet keeps it: lambda, the intercepts
#   a0 and the coefficients beta as sparse columns (dgCMatrix slots p, i, x);
# - at prediction the engine blends the two columns around each `s` as
#   lambda.interp() does and adds the products in the order of Matrix's
#   `cbind2(1, newx) %*% nbeta`, so the link is R's to the bit;
# - newx is a matrix whose columns are the fit's (by name where the fit's
#   matrix had column names, else by position, as glmnet always reads them);
# - `s`, `newoffset` and `exact` are read in Rust as predict.glmnet() and
#   predict.cv.glmnet() read them (match.arg() for the rules), so that a
#   call needs no R hook.

# The classes glmnet() gives the fits whose predict() the engine reproduces.
fp_glmnet_classes <- list(c("elnet", "glmnet"), c("lognet", "glmnet"), c("fishnet", "glmnet"),
                          c("multnet", "glmnet"), c("mrelnet", "glmnet"), c("coxnet", "glmnet"))

#' @rdname fp_compile
#' @param s,exact For `glmnet` and `cv.glmnet` models: not taken at compile
#'   time. Give `s` to [predict_fast()]; `exact = TRUE` is refused (see the
#'   glmnet section).
#' @section glmnet: glmnet 4.1: `glmnet()` and `cv.glmnet()` fits of the
#'   families gaussian (`elnet`), binomial (`lognet`), poisson (`fishnet`),
#'   multinomial (`multnet`, grouped or not), mgaussian (`mrelnet`) and cox
#'   (`coxnet`: the linear predictor, and its `exp()` as type `"response"`).
#'   The path is stored as glmnet stores it (intercepts, and coefficients as
#'   sparse columns). Types `"link"` (the default), `"response"`, and
#'   `"class"` for binomial and multinomial; `"coefficients"` and
#'   `"nonzero"` are refused (use `coef()` on the fit). As in glmnet,
#'   `predict_fast()` takes `s`: without it, a `glmnet` fit predicts at every
#'   lambda of its path (columns `s0`, `s1`, ...) and a `cv.glmnet` fit at
#'   `"lambda.1se"`; `s` may be one number or several (columns named by
#'   `names(s)` or `s1`, `s2`, ..., and `1`, `2`, ... for multinomial,
#'   mgaussian and cox, as glmnet names them), or for `cv.glmnet`
#'   `"lambda.1se"` or `"lambda.min"`. A penalty between two lambdas blends
#'   their coefficients as glmnet's `lambda.interp()` does; one outside the
#'   path takes its nearest end (no extrapolation). `exact = TRUE`, with
#'   which glmnet refits the model in R at an `s` that is not on the path,
#'   is refused there (it is accepted, and changes nothing, when every `s`
#'   is on the path): refit `glmnet()` with that `lambda` and compile the
#'   refit. A fit with an offset needs `newoffset` (a vector, one value per
#'   row; for multinomial and mgaussian a matrix with one column per
#'   response); without one the call fails, and a fit without offset
#'   ignores it, as glmnet does. `newdata` is glmnet's `newx`: a numeric
#'   matrix, a sparse `dgCMatrix` (read where it lies, never expanded) or one
#'   row as a plain vector; a data.frame is refused. Its columns are taken by
#'   name when the fit's matrix had column names (other columns are
#'   ignored), else by position, and then their number must be the fit's.
#'   Results are the same arrays as glmnet's (the class of a multinomial
#'   fit for a single row too: a factor named by `s`), without row names.
#'   Refused by name: fits with a
#'   `family()` object (glmnet's `glmnetfit` path), `relax = TRUE` fits and
#'   their `cv.glmnet`, and any other class built on glmnet's.
#' @export
fp_compile.glmnet <- function(model, ..., s = NULL, exact = FALSE) {
  fp_glmnet_compile_args(s, exact)
  fp_glmnet_check_class(model)
  fp_from_spec(fp_glmnet_document(model, model, cv = NULL))
}

#' @export
fp_compile.cv.glmnet <- function(model, ..., s = NULL, exact = FALSE) {
  fp_glmnet_compile_args(s, exact)
  if (inherits(model, "cv.relaxed")) {
    fp_unsupported("a relaxed cv.glmnet fit (relax = TRUE): its predict() blends the relaxed fits")
  }
  fp_require_class(model, "cv.glmnet")
  fit <- model$glmnet.fit
  fp_glmnet_check_class(fit)
  cv <- list(lambda_min = model$lambda.min, lambda_1se = model$lambda.1se)
  if (!all(vapply(cv, function(x) is.numeric(x) && length(x) == 1L && is.finite(x), NA))) {
    fp_unsupported("a cv.glmnet object without lambda.min and lambda.1se")
  }
  fp_from_spec(fp_glmnet_document(model, fit, cv = lapply(cv, as.double)))
}

fp_glmnet_compile_args <- function(s, exact) {
  if (isTRUE(exact)) {
    fp_unsupported(paste("exact = TRUE: glmnet refits the model in R at an s that is not on its path;",
                         "refit glmnet() with lambda = s and compile the refit"))
  }
  if (!is.null(s)) {
    fp_abort("bad_argument", "s is an argument of the prediction: predict_fast(model, newx, s = ...)")
  }
}

fp_glmnet_check_class <- function(fit) {
  if (inherits(fit, "relaxed")) {
    fp_unsupported("a relaxed glmnet fit (relax = TRUE): its predict() blends the relaxed fits")
  }
  if (inherits(fit, "glmnetfit")) {
    fam <- tryCatch(fit$family$family, error = function(e) NULL)
    fp_unsupported(sprintf("a glmnet fit with a family() object%s (the glmnetfit path); fit it with family = \"%s\"",
                           if (is.character(fam) && length(fam) == 1L) sprintf(" (%s)", fam) else "",
                           if (identical(fam, "gaussian")) "gaussian" else "..."))
  }
  do.call(fp_require_class, c(list(fit), fp_glmnet_classes))
}

# The document of a glmnet fit; `source` is the object compiled (the fit
# or its cv.glmnet), `cv` the cross-validated lambdas.
fp_glmnet_document <- function(source, fit, cv) {
  family <- class(fit)[[1L]]
  multi <- family %in% c("multnet", "mrelnet")
  beta <- if (multi) fit$beta else list(fit$beta)
  lambda <- as.double(fit$lambda)
  p <- fit$dim[[1L]]
  if (!is.list(beta) || !length(beta) || !length(lambda) || !is.numeric(p) || length(p) != 1L) {
    fp_unsupported(sprintf("a glmnet %s object without its lambda path and coefficients", family))
  }
  steps <- paste0("s", seq_along(lambda) - 1L)
  for (b in beta) {
    if (!methods::is(b, "dgCMatrix") || !identical(dim(b), c(as.integer(p), length(lambda))) ||
        !identical(colnames(b), steps)) {
      fp_unsupported(sprintf(paste("a glmnet %s object whose coefficients are not a %d x %d dgCMatrix",
                                   "with columns s0, s1, ... (as glmnet() makes them)"), family, p, length(lambda)))
    }
  }
  # glmnet names the columns of a matrix without names V1, V2, ...; it
  # reads newx by position whatever its names. fastpredict reads by name
  # where the fit had real names.
  vnames <- rownames(beta[[1L]])
  by_position <- is.null(vnames) || identical(vnames, paste0("V", seq_len(p))) ||
    anyNA(vnames) || any(vnames == "") || anyDuplicated(vnames) > 0L
  inputs <- lapply(if (by_position) paste0("V", seq_len(p)) else vnames, fp_input, type = "numeric")

  a0 <- switch(family,
    coxnet = list(),
    multnet = , mrelnet = {
      a <- as.matrix(fit$a0)
      if (!identical(dim(a), c(length(beta), length(lambda)))) fp_unsupported("a glmnet fit whose a0 does not match beta")
      lapply(seq_len(nrow(a)), function(k) I(as.double(a[k, ])))
    },
    list(I(as.double(fit$a0)))
  )
  classes <- switch(family,
    lognet = fit$classnames,
    multnet = , mrelnet = names(fit$beta),
    NULL
  )
  if (multi && (length(classes) != length(beta) || anyNA(classes))) {
    fp_unsupported(sprintf("a glmnet %s object without the names of its responses", family))
  }
  if (family == "lognet" && (length(classes) != 2L || anyNA(classes))) classes <- NULL
  types <- switch(family,
    lognet = c("link", "response", if (!is.null(classes)) "class"),
    multnet = c("link", "response", "class"),
    c("link", "response")
  )
  section <- list(
    family = family,
    types = I(types),
    default_type = "link",
    lambda = I(lambda),
    a0 = a0,
    beta = lapply(beta, function(b) list(p = I(b@p), i = I(b@i), x = I(b@x))),
    classes = if (!is.null(classes)) I(as.character(classes)),
    grouped = if (family == "multnet") isTRUE(fit$grouped),
    offset = isTRUE(fit$offset),
    by_position = by_position,
    cv = cv
  )
  fp_document(source, "glmnet", "glmnet", inputs, section)
}
