# The linear-model compiler shared by lm and glm: it reads the terms object
# the way model.frame() and model.matrix() do at prediction time and writes
# the engine's design program (src/rust/engine/src/linear.rs), with every
# data-dependent parameter resolved to plain numbers: predvars (poly()
# coefficients, spline knots, scale() centres), factor levels and contrast
# matrices.

fp_linear_section <- function(fit, family, link, types, default_type) {
  tt <- stats::terms(fit)
  env <- environment(tt) %||% globalenv()
  Terms <- stats::delete.response(tt)
  factors <- attr(Terms, "factors")
  intercept <- identical(as.integer(attr(Terms, "intercept")), 1L)
  beta <- stats::coef(fit)
  ctx <- new.env(parent = emptyenv())
  ctx$inputs <- list()
  ctx$env <- env
  ctx$xlevels <- fit$xlevels

  variables <- list()
  terms <- list()
  col_names <- if (intercept) "(Intercept)" else character()
  if (length(factors)) {
    # Term labels (and coefficient names) backtick non-syntactic names;
    # model-frame names (dataClasses, xlevels, contrasts) do not.
    labels <- rownames(factors)
    frame_names <- vapply(as.list(attr(Terms, "variables"))[-1], fp_frame_name, "")
    classes <- attr(Terms, "dataClasses")
    predvars <- as.list(attr(Terms, "predvars") %||% attr(Terms, "variables"))[-1]
    used <- rowSums(factors) > 0
    parsed <- vector("list", length(labels))
    for (i in which(used)) {
      cls <- if (frame_names[[i]] %in% names(classes)) classes[[frame_names[[i]]]]
      if (is.null(cls)) fp_unsupported(sprintf("the variable '%s' (no recorded data class)", labels[[i]]))
      parsed[[i]] <- fp_linear_variable(frame_names[[i]], predvars[[i]], cls, ctx)
    }
    coding <- fp_linear_coding(factors, parsed, intercept)
    # Engine variable index (0-based) of each model-frame variable.
    vindex <- cumsum(used) - 1L
    next_col <- length(col_names)
    for (i in which(used)) {
      if (identical(parsed[[i]]$spec$kind, "factor") && any(coding[i, ] == 1L)) {
        cm <- fp_contrast_matrix(parsed[[i]]$levels, fit$contrasts[[frame_names[[i]]]], labels[[i]])
        parsed[[i]]$spec$contrasts <- lapply(seq_len(nrow(cm)), function(r) I(unname(cm[r, ])))
        parsed[[i]]$contrast_names <- if (is.null(colnames(cm))) as.character(seq_len(ncol(cm))) else colnames(cm)
      }
      variables[[length(variables) + 1L]] <- parsed[[i]]$spec
    }
    for (j in seq_len(ncol(factors))) {
      members <- which(coding[, j] > 0L)
      parts <- lapply(members, function(i) {
        v <- parsed[[i]]
        if (identical(v$spec$kind, "factor")) {
          suffix <- if (coding[i, j] == 1L) v$contrast_names else v$levels
          list(tf = list(variable = vindex[[i]],
                         coding = if (coding[i, j] == 1L) "contrasts" else "indicators"),
               names = paste0(labels[[i]], suffix))
        } else {
          list(tf = list(variable = vindex[[i]]),
               names = if (v$ncols > 1L) paste0(labels[[i]], v$colnames) else labels[[i]])
        }
      })
      # R's column order: the first variable varies fastest.
      names_j <- fp_term_column_names(parts)
      cols <- next_col + seq_along(names_j) - 1L
      next_col <- next_col + length(names_j)
      col_names <- c(col_names, names_j)
      terms[[j]] <- list(label = colnames(factors)[[j]],
                         factors = lapply(parts, `[[`, "tf"),
                         columns = I(cols))
    }
  }
  if (!identical(col_names, names(beta))) {
    fp_unsupported(sprintf(
      "this model's design: its coefficients are [%s] but fastpredict derived the columns [%s]",
      paste(names(beta), collapse = ", "), paste(col_names, collapse = ", ")))
  }
  fp_check_rank(fit, beta)

  offsets <- list()
  all_vars <- as.list(attr(tt, "variables"))[-1]
  for (i in attr(tt, "offset")) {
    e <- all_vars[[i]]
    if (!is.call(e) || fp_call_name(e) != "offset" || length(e) != 2L) {
      fp_unsupported(sprintf("the offset term '%s'", fp_deparse(e)))
    }
    offsets[[length(offsets) + 1L]] <- fp_expr(e[[2L]], ctx)
  }
  if (!is.null(fit$call$offset)) {
    offsets[[length(offsets) + 1L]] <- fp_expr(fit$call$offset, ctx)
  }

  list(
    inputs = unname(ctx$inputs),
    section = list(
      family = family,
      link = link,
      types = I(types),
      default_type = default_type,
      intercept = intercept,
      coefficients = unname(as.double(beta)),
      coefficient_names = I(names(beta)),
      variables = variables,
      terms = terms,
      offsets = offsets
    )
  )
}

# Names of a term's design columns, as model.matrix() writes them: the
# parts' names joined by ":", with the first part varying fastest.
fp_term_column_names <- function(parts) {
  out <- parts[[1L]]$names
  for (p in parts[-1L]) {
    out <- as.vector(outer(out, p$names, function(a, b) paste(a, b, sep = ":")))
  }
  out
}

# Coding of each variable in each term: 1 = contrasts, 2 = indicators.
# Without an intercept, R codes the first factor of the first term that has
# one by indicators (modelmatrix() in R's stats/src/model.c).
fp_linear_coding <- function(factors, parsed, intercept) {
  coding <- factors
  storage.mode(coding) <- "integer"
  if (!intercept) {
    nlev <- vapply(parsed, function(v) if (is.null(v) || is.null(v$levels)) 0L else length(v$levels), 0L)
    for (j in seq_len(ncol(coding))) {
      hit <- which(nlev > 1L & coding[, j] > 0L)
      if (length(hit)) {
        coding[hit[[1L]], j] <- 2L
        break
      }
    }
  }
  coding
}

# The contrast matrix model.matrix() would use at prediction time.
fp_contrast_matrix <- function(levels, spec, label) {
  if (is.null(spec)) fp_unsupported(sprintf("the factor '%s' without recorded contrasts", label))
  f <- factor(levels, levels = levels)
  if (is.matrix(spec)) {
    stats::contrasts(f, ncol(spec)) <- spec
  } else {
    stats::contrasts(f) <- spec
  }
  cm <- stats::contrasts(f)
  storage.mode(cm) <- "double"
  if (nrow(cm) != length(levels) || anyNA(cm)) {
    fp_unsupported(sprintf("the contrasts of '%s'", label))
  }
  cm
}

# R's predict.lm() uses the first `rank` pivoted columns; the others are
# exactly the NA coefficients. Refuse a fit where that does not hold.
fp_check_rank <- function(fit, beta) {
  qr <- fit$qr
  if (is.null(qr) || is.null(fit$rank)) return(invisible())
  used <- sort(qr$pivot[seq_len(fit$rank)])
  if (!identical(as.integer(used), unname(which(!is.na(beta))))) {
    fp_unsupported("a rank-deficient fit whose aliased coefficients are not NA")
  }
  invisible()
}

# What predict.lm() reads for se.fit, intervals and type = "terms" (see
# src/rust/engine/src/linear/inference.rs), or NULL where the fit lacks it
# (no QR; a saturated fit, whose residual variance is not a number).
fp_linear_inference <- function(fit, method) {
  qr <- fit$qr
  p <- fit$rank
  if (is.null(qr) || is.null(p) || is.null(fit$df.residual)) return(NULL)
  p1 <- seq_len(p)
  piv <- qr$pivot[p1]
  rinv <- if (p) qr.solve(qr.R(qr)[p1, p1, drop = FALSE]) else numeric()
  out <- list(method = method, pivot = I(piv - 1L), r_inverse = I(as.vector(rinv)),
              df_residual = as.double(fit$df.residual))
  if (method == "lm") {
    r <- fit$residuals
    w <- fit$weights
    rss <- sum(if (is.null(w)) r^2 else r^2 * w)
    out$residual_variance <- rss / fit$df.residual
    out$weighted <- !is.null(w)
    scale <- out$residual_variance
  } else {
    out$dispersion <- summary(fit)$dispersion
    scale <- out$dispersion
  }
  if (!all(is.finite(c(scale, rinv)))) return(NULL)
  mm <- tryCatch(stats::model.matrix(fit), error = function(e) NULL)
  if (!is.null(mm) && ncol(mm) == length(stats::coef(fit))) {
    avx <- colMeans(mm)
    out$column_means <- I(unname(avx))
    beta <- stats::coef(fit)
    if (attr(stats::terms(fit), "intercept") > 0L) out$terms_constant <- sum(avx[piv] * beta[piv])
  }
  out
}

# One model-frame variable: its engine spec, and what naming its design
# columns needs.
fp_linear_variable <- function(label, expr, cls, ctx) {
  categorical <- c("factor", "ordered", "character", "logical")
  if (cls %in% categorical) {
    levels <- if (cls == "logical") c("FALSE", "TRUE") else ctx$xlevels[[label]]
    if (is.null(levels)) fp_unsupported(sprintf("the factor '%s' without recorded levels", label))
    if (is.symbol(expr)) {
      input <- as.character(expr)
      fp_use_input(ctx, input, cls, if (cls == "logical") NULL else levels)
    } else if (is.call(expr) && fp_call_name(expr) %in% c("factor", "as.factor", "ordered", "as.ordered") &&
               length(expr) == 2L && is.symbol(expr[[2L]])) {
      fp_check_function(expr, "base", ctx$env)
      input <- as.character(expr[[2L]])
      fp_use_input(ctx, input, "any")
    } else {
      fp_unsupported(sprintf("the factor '%s' (only a column or factor(column) can make a factor)", label))
    }
    return(list(spec = list(kind = "factor", label = label, input = input, levels = I(levels)),
                levels = levels))
  }
  if (!(cls == "numeric" || startsWith(cls, "nmatrix."))) {
    fp_unsupported(sprintf("the variable '%s' of class '%s'", label, cls))
  }
  fn <- if (is.call(expr)) fp_call_name(expr) else ""
  if (fn == "poly") return(fp_poly_variable(label, expr, ctx))
  if (fn %in% c("ns", "bs")) return(fp_spline_variable(label, expr, fn, ctx))
  list(spec = list(kind = "numeric", label = label, expr = fp_expr(expr, ctx)), ncols = 1L)
}

fp_poly_variable <- function(label, expr, ctx) {
  fp_check_function(expr, "stats", ctx$env)
  args <- as.list(expr)[-1L]
  nms <- names(args) %||% rep("", length(args))
  positional <- args[nms == ""]
  named <- args[nms != ""]
  known <- c("degree", "coefs", "raw", "simple")
  if (length(positional) < 1L || any(!names(named) %in% known)) {
    fp_unsupported(sprintf("the arguments of '%s'", label))
  }
  x <- positional[[1L]]
  # As poly() does: one extra positional argument of length 1 is the
  # degree; anything else is a second variable.
  degree <- if (length(positional) == 2L) {
    tryCatch(eval(positional[[2L]], ctx$env), error = function(e) NULL)
  } else if (!is.null(named$degree)) fp_eval_arg(named$degree, ctx, label) else 1
  if (length(positional) > 2L || length(degree) != 1L || !is.numeric(degree)) {
    fp_unsupported(sprintf("poly() of several variables ('%s')", label))
  }
  raw <- isTRUE(fp_eval_arg(named$raw %||% FALSE, ctx, label))
  coefs <- if (is.null(named$coefs)) NULL else fp_eval_arg(named$coefs, ctx, label)
  arg <- fp_expr(x, ctx)
  if (raw) {
    spec <- list(kind = "poly_raw", label = label, arg = arg, degree = as.integer(degree))
  } else {
    if (is.null(coefs$alpha) || is.null(coefs$norm2)) {
      fp_unsupported(sprintf("'%s' without the stored poly() coefficients", label))
    }
    spec <- list(kind = "poly", label = label, arg = arg,
                 alpha = I(as.double(coefs$alpha)), norm2 = I(as.double(coefs$norm2)))
  }
  list(spec = spec, ncols = as.integer(degree), colnames = as.character(seq_len(degree)))
}

fp_spline_variable <- function(label, expr, fn, ctx) {
  fp_check_function(expr, "splines", ctx$env)
  mc <- match.call(getExportedValue("splines", fn), expr)
  extra <- setdiff(names(mc)[-1L], c("x", "knots", "Boundary.knots", "intercept", "degree"))
  if (length(extra)) fp_unsupported(sprintf("the argument(s) %s of '%s'", paste(extra, collapse = ", "), label))
  value <- function(nm, default) if (is.null(mc[[nm]])) default else fp_eval_arg(mc[[nm]], ctx, label)
  knots <- sort(as.double(value("knots", numeric())))
  bknots <- sort(as.double(value("Boundary.knots", NULL)))
  intercept <- isTRUE(value("intercept", FALSE))
  degree <- if (fn == "ns") 3L else as.integer(value("degree", 3L))
  if (length(bknots) != 2L || !all(is.finite(c(knots, bknots)))) {
    fp_unsupported(sprintf("'%s' without stored boundary knots", label))
  }
  ord <- degree + 1L
  aknots <- sort(c(rep(bknots, ord), knots))
  design <- function(x, derivs) splines::splineDesign(aknots, x, ord, derivs, outer.ok = TRUE)
  rows <- function(m) lapply(seq_len(nrow(m)), function(r) I(unname(m[r, ])))
  if (fn == "ns") {
    # ns(): linear beyond the boundary knots; the basis is projected onto
    # the space with zero second derivative at both ends.
    left <- list(pivot = bknots[[1L]], coefs = rows(design(rep(bknots[[1L]], 2L), 0:1)))
    right <- list(pivot = bknots[[2L]], coefs = rows(design(rep(bknots[[2L]], 2L), 0:1)))
    const <- splines::splineDesign(aknots, bknots, ord, c(2L, 2L))
    if (!intercept) const <- const[, -1L, drop = FALSE]
    projection <- qr.Q(qr(t(const)), complete = TRUE)[, -(1:2), drop = FALSE]
    ncols <- ncol(projection)
  } else {
    # bs(): a Taylor polynomial around a pivot a quarter inside the end.
    e <- 1 / 4
    scalef <- gamma(seq_len(ord))
    kl <- (1 - e) * bknots[[1L]] + e * aknots[[ord + 1L]]
    kr <- (1 - e) * bknots[[2L]] + e * aknots[[length(aknots) - ord]]
    left <- list(pivot = kl, coefs = rows(design(rep(kl, ord), 0:degree) / scalef))
    right <- list(pivot = kr, coefs = rows(design(rep(kr, ord), 0:degree) / scalef))
    projection <- NULL
    ncols <- length(aknots) - ord - if (intercept) 0L else 1L
  }
  spec <- list(kind = "spline", label = label, basis = fn, arg = fp_expr(mc$x, ctx),
               order = ord, knots = I(aknots), boundary = I(bknots), intercept = intercept,
               left = left, right = right)
  if (!is.null(projection)) spec$projection <- rows(projection)
  list(spec = spec, ncols = ncols, colnames = as.character(seq_len(ncols)))
}

# A numeric expression as an engine expression tree.
fp_expr <- function(e, ctx) {
  if (is.symbol(e)) {
    name <- as.character(e)
    fp_use_input(ctx, name, "numeric")
    return(list(op = "input", name = name))
  }
  if ((is.numeric(e) || is.logical(e)) && length(e) == 1L && !is.na(e)) {
    # JSON has no infinity: such a model could not be saved and reloaded
    if (!is.finite(e)) fp_unsupported(sprintf("the non-finite constant '%s' in the formula", fp_deparse(e)))
    return(list(op = "const", value = as.double(e)))
  }
  if (!is.call(e)) fp_unsupported(sprintf("the expression '%s'", fp_deparse(e)))
  fn <- fp_call_name(e)
  args <- as.list(e)[-1L]
  node <- function(op, n) {
    if (length(args) != n || !is.null(names(args))) {
      fp_unsupported(sprintf("the call '%s'", fp_deparse(e)))
    }
    list(op = op, args = lapply(args, fp_expr, ctx = ctx))
  }
  switch(fn,
    "(" = node("identity", 1L)$args[[1L]],
    "I" = { fp_check_function(e, "base", ctx$env); node("identity", 1L)$args[[1L]] },
    "+" = if (length(args) == 1L) node("identity", 1L)$args[[1L]] else node("add", 2L),
    "-" = if (length(args) == 1L) node("neg", 1L) else node("sub", 2L),
    "*" = node("mul", 2L),
    "/" = node("div", 2L),
    "^" = node("pow", 2L),
    "log" = {
      fp_check_function(e, "base", ctx$env)
      mc <- match.call(function(x, base) NULL, e)
      out <- list(op = "log", args = list(fp_expr(mc$x, ctx)))
      if (!is.null(mc$base)) {
        base <- fp_eval_arg(mc$base, ctx, fp_deparse(e))
        if (!is.numeric(base) || length(base) != 1L || !is.finite(base) || base <= 0) {
          fp_unsupported(sprintf("the logarithm base in '%s'", fp_deparse(e)))
        }
        out$base <- as.double(base)
      }
      out
    },
    "log2" = , "log10" = , "log1p" = , "exp" = , "sqrt" = , "abs" = {
      fp_check_function(e, "base", ctx$env)
      node(fn, 1L)
    },
    "scale" = fp_scale_expr(e, ctx),
    "as.numeric" = , "as.double" = {
      fp_check_function(e, "base", ctx$env)
      if (length(args) != 1L) fp_unsupported(sprintf("the call '%s'", fp_deparse(e)))
      if (is.symbol(args[[1L]])) {
        name <- as.character(args[[1L]])
        fp_use_input(ctx, name, "any")
        list(op = "as_numeric", args = list(list(op = "input", name = name)))
      } else {
        fp_expr(args[[1L]], ctx)
      }
    },
    fp_unsupported(sprintf("the function '%s' in the formula (in '%s')", fn, fp_deparse(e)))
  )
}

fp_scale_expr <- function(e, ctx) {
  fp_check_function(e, "base", ctx$env)
  mc <- match.call(function(x, center = TRUE, scale = TRUE) NULL, e)
  out <- list(op = "scale", args = list(fp_expr(mc$x, ctx)))
  for (nm in c("center", "scale")) {
    v <- if (is.null(mc[[nm]])) TRUE else fp_eval_arg(mc[[nm]], ctx, fp_deparse(e))
    if (isFALSE(v)) next
    if (!is.numeric(v) || length(v) != 1L || !is.finite(v)) {
      fp_unsupported(sprintf("'%s' without a stored %s", fp_deparse(e), nm))
    }
    out[[nm]] <- as.double(v)
  }
  out
}

# Record an input column and the type it must have. A type from a bare
# column (its data class) beats "numeric" from a transform, which beats
# "any" (factor(x), as.numeric(x)).
fp_use_input <- function(ctx, name, type, levels = NULL) {
  rank <- function(t) if (t == "any") 1L else if (t == "numeric") 2L else 3L
  old <- ctx$inputs[[name]]
  if (!is.null(old)) {
    if (rank(old$type) > rank(type)) return(invisible())
    if (rank(old$type) == 3L && rank(type) == 3L && old$type != type) {
      fp_unsupported(sprintf("the column '%s' used both as %s and as %s", name, old$type, type))
    }
  }
  spec <- list(name = name, type = type)
  if (!is.null(levels)) spec$levels <- I(levels)
  ctx$inputs[[name]] <- spec
  invisible()
}

# Evaluate a constant argument of a formula function (a degree, knots,
# a base) where model.frame() would: the formula's environment.
fp_eval_arg <- function(x, ctx, where) {
  if (!is.language(x)) return(x)
  tryCatch(eval(x, ctx$env), error = function(e) {
    fp_unsupported(sprintf("the argument '%s' of '%s' (it is not a constant)", fp_deparse(x), where))
  })
}

# Refuse a formula function that is not the standard one (a user's own
# log(), say), since the engine implements the standard one.
fp_check_function <- function(call, pkg, env) {
  name <- fp_call_name(call)
  f <- call[[1L]]
  if (is.call(f)) {
    # pkg::name names the function itself
    if (as.character(f[[2L]]) == pkg) return(invisible())
    fp_unsupported(sprintf("'%s::%s' in the formula", as.character(f[[2L]]), name))
  }
  found <- get0(name, envir = env, mode = "function")
  if (!identical(found, getExportedValue(pkg, name))) {
    fp_unsupported(sprintf("a redefined '%s' function in the formula environment", name))
  }
  invisible()
}
