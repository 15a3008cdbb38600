# The linear-model compiler shared by lm and glm: it reads the terms object
# the way model.frame() and model.matrix() do at prediction time and writes
# the engine's design program (src/rust/engine/src/linear.rs), with every
# data-dependent parameter resolved to plain numbers: predvars (poly()
# coefficients, spline knots, scale() centres), factor levels and contrast
# matrices.

fp_linear_section <- function(fit, family, link, types, default_type) {
  # several responses (an mlm): a coefficient matrix, a column per response
  mlm <- inherits(fit, "mlm")
  tt <- stats::terms(fit)
  env <- environment(tt) %||% globalenv()
  Terms <- stats::delete.response(tt)
  factors <- attr(Terms, "factors")
  intercept <- identical(as.integer(attr(Terms, "intercept")), 1L)
  beta <- stats::coef(fit)
  coef_names <- as.character(if (mlm) rownames(beta) else names(beta))
  ctx <- new.env(parent = emptyenv())
  ctx$inputs <- list()
  ctx$env <- env
  ctx$xlevels <- fit$xlevels
  ctx$data <- fp_training_data(fit, env)

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
      if (!is.null(parsed[[i]]$levels) && any(coding[i, ] == 1L)) {
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
        if (!is.null(v$levels)) {
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
  if (!identical(col_names, coef_names)) {
    fp_unsupported(sprintf(
      "this model's design: its coefficients are [%s] but fastpredict derived the columns [%s]",
      paste(coef_names, collapse = ", "), paste(col_names, collapse = ", ")))
  }
  fp_check_rank(fit, if (mlm) stats::setNames(beta[, 1L], coef_names) else beta)

  offsets <- list()
  all_vars <- as.list(attr(tt, "variables"))[-1]
  offset_terms <- attr(tt, "offset")
  call_offset <- fit$call$offset
  if (mlm) {
    # predict.mlm() adds the formula's offset, or only without one the
    # offset argument; with two offset() terms it fails.
    if (length(offset_terms) > 1L) {
      fp_unsupported("several offset() terms in a multi-response lm (predict.mlm() cannot evaluate them)")
    }
    if (length(offset_terms)) call_offset <- NULL
    if (is.matrix(fit$offset)) fp_unsupported("a matrix offset in a multi-response lm")
  }
  for (i in offset_terms) {
    e <- all_vars[[i]]
    if (!is.call(e) || fp_call_name(e) != "offset" || length(e) != 2L) {
      fp_unsupported(sprintf("the offset term '%s'", fp_deparse(e)))
    }
    offsets[[length(offsets) + 1L]] <- fp_expr(e[[2L]], ctx)
  }
  if (!is.null(call_offset)) {
    offsets[[length(offsets) + 1L]] <- fp_expr(call_offset, ctx)
  }

  list(
    inputs = unname(ctx$inputs),
    section = list(
      family = family,
      link = link,
      types = I(types),
      default_type = default_type,
      intercept = intercept,
      coefficients = I(unname(as.double(beta))),
      coefficient_names = I(coef_names),
      variables = variables,
      terms = terms,
      offsets = offsets,
      responses = if (mlm) list(count = ncol(beta), names = if (!is.null(colnames(beta))) I(colnames(beta)))
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
  # (an empty model, y ~ 0, has none: predict.lm() gives standard errors
  # of the training data's length for it)
  if (is.null(qr) || is.null(p) || is.null(fit$df.residual) || p == 0L) return(NULL)
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
  if (cls %in% categorical) return(fp_factor_variable(label, expr, cls, ctx))
  if (!(cls == "numeric" || startsWith(cls, "nmatrix."))) {
    fp_unsupported(sprintf("the variable '%s' of class '%s'", label, cls))
  }
  fn <- if (is.call(expr)) fp_call_name(expr) else ""
  if (fn == "poly") return(fp_poly_variable(label, expr, ctx))
  if (fn %in% c("ns", "bs")) return(fp_spline_variable(label, expr, fn, ctx))
  # A one-column matrix (say `scale(x)` stored in the data) is a column; a
  # wider one would need one input per matrix column.
  if (startsWith(cls, "nmatrix.") && cls != "nmatrix.1") {
    fp_unsupported(sprintf(paste0(
      "the matrix variable '%s' (%s columns): fastpredict reads one column per input, ",
      "so give the matrix's columns to the formula as separate variables"), label, sub("nmatrix.", "", cls)))
  }
  if (fn == "cut") {
    fp_unsupported(sprintf("'%s' with labels = FALSE (integer codes of the intervals)", label))
  }
  list(spec = list(kind = "numeric", label = label, expr = fp_expr(expr, ctx)), ncols = 1L)
}

# A factor (or logical) variable: a column, or a factor made in the formula
# by factor(), C(), relevel(), cut() with numeric breaks, interaction() or a
# comparison. The levels are the fit's xlevels, in the order model.matrix()
# codes them; model.frame() matches new data to them by name.
fp_factor_variable <- function(label, expr, cls, ctx) {
  levels <- if (cls == "logical") c("FALSE", "TRUE") else ctx$xlevels[[label]]
  if (is.null(levels)) fp_unsupported(sprintf("the factor '%s' without recorded levels", label))
  factor_spec <- function(input) {
    list(spec = list(kind = "factor", label = label, input = input, levels = I(levels)), levels = levels)
  }
  if (is.symbol(expr)) {
    input <- as.character(expr)
    fp_use_input(ctx, input, cls, if (cls == "logical") NULL else levels)
    return(factor_spec(input))
  }
  fn <- if (is.call(expr)) fp_call_name(expr) else ""
  # factor(x) of a plain column: any atomic column, matched as factor()
  # turns its values into labels
  inline_factor <- function(e) {
    is.call(e) && fp_call_name(e) %in% c("factor", "as.factor", "ordered", "as.ordered") &&
      length(e) == 2L && is.symbol(e[[2L]])
  }
  if (inline_factor(expr)) {
    fp_check_function(expr, "base", ctx$env)
    input <- as.character(expr[[2L]])
    fp_use_input(ctx, input, "any")
    return(factor_spec(input))
  }
  if (fn %in% c("C", "relevel") && length(expr) >= 2L) {
    # C() only sets the contrasts, which predict() takes from the fit, and
    # relevel() only reorders the levels, which model.frame() matches by
    # name: both read the column as it is.
    fp_check_function(expr, "stats", ctx$env)
    x <- expr[[2L]]
    if (is.symbol(x)) {
      input <- as.character(x)
      fp_use_input(ctx, input, if (cls == "ordered") "ordered" else "factor", levels)
      return(factor_spec(input))
    }
    if (fn == "C" && inline_factor(x)) {
      fp_check_function(x, "base", ctx$env)
      input <- as.character(x[[2L]])
      fp_use_input(ctx, input, "any")
      return(factor_spec(input))
    }
    fp_unsupported(sprintf("the factor '%s' (%s() of a column or of factor(column) only)", label, fn))
  }
  if (fn == "cut") return(fp_cut_variable(label, expr, levels, ctx))
  if (fn == "interaction") return(fp_interaction_variable(label, expr, levels, ctx))
  if (cls == "logical") {
    # a comparison such as I(x > 0): a factor with levels FALSE and TRUE
    return(list(spec = list(kind = "logical", label = label, arg = fp_expr(expr, ctx)), levels = levels))
  }
  fp_unsupported(sprintf(paste0(
    "the factor '%s' (a factor is made in the formula only by a column, factor(), C(), relevel(), ",
    "cut() with numeric breaks, interaction() or a comparison)"), label))
}

# cut(x, breaks = <numbers>): the interval code, as .bincode() gives it. A
# single number of intervals cuts the range of the data at hand, so
# predict() would cut new data differently: refused.
fp_cut_variable <- function(label, expr, levels, ctx) {
  fp_check_function(expr, "base", ctx$env)
  mc <- match.call(base::cut.default, expr)
  extra <- setdiff(names(mc)[-1L], c("x", "breaks", "labels", "include.lowest", "right", "dig.lab",
                                     "ordered_result"))
  if (length(extra)) fp_unsupported(sprintf("the argument(s) %s of '%s'", paste(extra, collapse = ", "), label))
  if (is.null(mc$breaks)) fp_unsupported(sprintf("'%s' without breaks", label))
  breaks <- fp_eval_arg(mc$breaks, ctx, label)
  if (!is.numeric(breaks) || anyNA(breaks)) fp_unsupported(sprintf("the breaks of '%s'", label))
  if (length(breaks) == 1L) {
    fp_unsupported(sprintf(paste0(
      "'%s': cut() into a number of intervals divides the range of the data at hand, so predict() ",
      "cuts new data at other points than the training data; give the breaks as numbers instead"), label))
  }
  breaks <- sort(as.double(breaks))
  flag <- function(nm, default) {
    v <- if (is.null(mc[[nm]])) default else fp_eval_arg(mc[[nm]], ctx, label)
    if (!is.logical(v) || length(v) != 1L || is.na(v)) fp_unsupported(sprintf("the %s of '%s'", nm, label))
    v
  }
  right <- flag("right", TRUE)
  include_lowest <- flag("include.lowest", FALSE)
  # Every interval's label, as cut() writes them whatever the data (the
  # fit's levels keep only the intervals the training data used).
  empty <- mc
  empty[[1L]] <- quote(base::cut.default)
  empty$x <- numeric()
  labels <- tryCatch(levels(eval(empty, ctx$env)), error = function(e) NULL)
  if (!is.character(labels) || length(labels) != length(breaks) - 1L || !all(levels %in% labels)) {
    fp_unsupported(sprintf("the labels of '%s'", label))
  }
  # JSON holds no infinity: an infinite first or last break is a flag
  lower_inf <- breaks[[1L]] == -Inf
  upper_inf <- breaks[[length(breaks)]] == Inf
  inner <- breaks[is.finite(breaks)]
  if (length(inner) + lower_inf + upper_inf != length(breaks)) fp_unsupported(sprintf("the breaks of '%s'", label))
  spec <- list(kind = "cut", label = label, arg = fp_expr(mc$x, ctx), breaks = I(inner),
               right = right, include_lowest = include_lowest, labels = I(labels), levels = I(levels))
  if (lower_inf) spec$lower_inf <- TRUE
  if (upper_inf) spec$upper_inf <- TRUE
  list(spec = spec, levels = levels)
}

# interaction(a, b, ...): each row's label joins its columns' labels with
# `sep`, and model.frame() matches it to the fit's levels by name. The
# engine codes each column against its own training levels, read from the
# training data (or, where the fit's levels split unambiguously at `sep`,
# from them).
fp_interaction_variable <- function(label, expr, levels, ctx) {
  fp_check_function(expr, "base", ctx$env)
  mc <- match.call(base::interaction, expr, expand.dots = FALSE)
  cols <- mc$...
  extra <- setdiff(names(mc)[-1L], c("...", "sep", "drop", "lex.order"))
  if (length(extra) || !length(cols) || !all(vapply(cols, is.symbol, NA)) || !is.null(names(cols))) {
    fp_unsupported(sprintf("'%s' (interaction() of plain columns only)", label))
  }
  inputs <- vapply(cols, as.character, "")
  sep <- if (is.null(mc$sep)) "." else fp_eval_arg(mc$sep, ctx, label)
  drop <- if (is.null(mc$drop)) FALSE else fp_eval_arg(mc$drop, ctx, label)
  if (!is.character(sep) || length(sep) != 1L || is.na(sep) || !is.logical(drop) || length(drop) != 1L) {
    fp_unsupported(sprintf("the arguments of '%s'", label))
  }
  data <- ctx$data
  components <- if (!is.null(data) && all(inputs %in% names(data))) {
    # the levels of each column as interaction() takes them
    lapply(inputs, function(v) levels(as.factor(data[[v]])[, drop = isTRUE(drop)]))
  } else {
    parts <- strsplit(levels, sep, fixed = TRUE)
    if (!nzchar(sep) || any(lengths(parts) != length(inputs)) || any(endsWith(levels, sep))) {
      fp_unsupported(sprintf(paste0(
        "'%s' without its training data: its levels do not split into the labels of its columns at '%s' ",
        "(fit the model with data = <a data frame>)"), label, sep))
    }
    lapply(seq_along(inputs), function(j) unique(vapply(parts, `[[`, "", j)))
  }
  for (v in inputs) fp_use_input(ctx, v, "any")
  spec <- list(kind = "interaction", label = label, inputs = I(inputs), components = lapply(components, I),
               sep = sep, levels = I(levels))
  list(spec = spec, levels = levels)
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
  if (bknots[[1L]] >= bknots[[2L]]) {
    # (bs() on a single observation): the basis is undefined
    fp_unsupported(sprintf(paste0(
      "'%s' fitted on a single value of its variable: its boundary knots are equal, so its basis is ",
      "undefined (and all its coefficients are aliased); fit it on more than one value or drop the term"), label))
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
    value <- fp_constant_symbol(name, ctx)
    if (!is.null(value)) return(list(op = "const", value = value))
    # a logical column in arithmetic or logic reads as 0/1
    logical <- !is.null(ctx$data) && is.logical(ctx$data[[name]])
    fp_use_input(ctx, name, if (logical) "logical" else "numeric")
    return(list(op = "input", name = name))
  }
  if ((is.numeric(e) || is.logical(e)) && length(e) == 1L && !is.na(e)) {
    # JSON has no infinity: such a model could not be saved and reloaded
    if (!is.finite(e)) fp_unsupported(sprintf("the non-finite constant '%s' in the formula", fp_deparse(e)))
    return(list(op = "const", value = as.double(e)))
  }
  if (is.call(e) && !length(all.vars(e))) return(fp_constant_call(e, ctx))
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
    # comparisons and logic give TRUE/FALSE, which arithmetic reads as 1/0
    ">" = node("gt", 2L),
    ">=" = node("ge", 2L),
    "<" = node("lt", 2L),
    "<=" = node("le", 2L),
    "==" = node("eq", 2L),
    "!=" = node("ne", 2L),
    "&" = node("and", 2L),
    "|" = node("or", 2L),
    "!" = node("not", 1L),
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

# A call that reads no column, such as log(2), rep(1, 10) or 1:10: R
# evaluates it in the formula's environment whatever the new data, so one
# number is a constant, while a vector has the training data's length and
# makes predict() fail (or recycle) on new data of any other length.
fp_constant_call <- function(e, ctx) {
  value <- tryCatch(eval(e, ctx$env), error = function(err) NULL)
  if (inherits(value, "AsIs")) value <- unclass(value)
  if ((is.numeric(value) || is.logical(value)) && is.null(dim(value)) && is.null(oldClass(value)) &&
      length(value) == 1L && is.finite(value)) {
    return(list(op = "const", value = as.double(value)))
  }
  if (is.atomic(value) && length(value) > 1L) {
    fp_unsupported(sprintf(paste0(
      "'%s' in the formula: it reads no column of the data, so predict() evaluates it to the same ",
      "%d values whatever the new data, and fails (or recycles it) on new data of another length"),
      fp_deparse(e), length(value)))
  }
  fp_unsupported(sprintf("the expression '%s' in the formula (not a finite number)", fp_deparse(e)))
}

# A name that is no column of the training data but a single number in the
# formula's environment (pi, or a constant the user set) is that number,
# as model.frame() finds it there. Unknown training data: a column.
fp_constant_symbol <- function(name, ctx) {
  if (is.null(ctx$data) || name %in% names(ctx$data)) return(NULL)
  value <- get0(name, envir = ctx$env, inherits = TRUE)
  if ((is.numeric(value) || is.logical(value)) && is.null(dim(value)) && is.null(oldClass(value)) &&
      length(value) == 1L && is.finite(value)) {
    return(as.double(value))
  }
  NULL
}

# The training data, where the fit names it plainly (glm keeps it; lm's
# call names it), as model.frame.lm() finds it again; NULL otherwise.
fp_training_data <- function(fit, env) {
  d <- fit$data
  if (!is.data.frame(d)) d <- fit$call$data  # (a call built with the data itself)
  if (!is.data.frame(d) && is.symbol(d)) {
    d <- tryCatch(get0(as.character(d), envir = env, inherits = TRUE), error = function(e) NULL)
  }
  if (is.data.frame(d)) d else NULL
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
