# rpart: one tree, read from the fitted object's `frame`, `splits` and
# `csplit` the way pred.rpart() and its C routine pred_rpart walk them:
# node k's children are 2k and 2k + 1; a numeric split sends `x < cut` to
# 2k when ncat = -1 and to 2k + 1 when ncat = +1; a factor split (ordered
# factors included: rpart() rewrites them as csplit rows) looks the level
# up in csplit, where 1 = left, 2 = "level absent here" (treated as
# missing) and anything else = right. A missing value tries the surrogates
# in order (usesurrogate >= 1), then the child with more observations
# (usesurrogate = 2, counts not weights, none on a tie), else the walk
# stops and the node predicts its own yval / yval2.

fp_rpart_methods <- c("anova", "class", "poisson", "exp")

#' @rdname fp_compile
#' @section rpart: Trees with methods `"anova"`, `"class"`, `"poisson"`
#'   and `"exp"` (survival trees: type `"vector"` is the relative event
#'   rate); types `"vector"`, `"prob"`, `"class"` and `"matrix"` with
#'   rpart's default (`"prob"` for classification, else `"vector"`). Method
#'   `"user"` is refused: its predictions come from the user's functions.
#'   Numeric, logical, factor, ordered and character predictors, and
#'   one-column matrices, named plainly in the formula (a function call
#'   such as `log(x)` is refused). Missing values
#'   follow the fit's `usesurrogate`: the surrogate splits in order, then
#'   (with 2) the child with more observations; otherwise, as in rpart, the
#'   prediction is that of the node where the walk stops. A factor level
#'   absent at a node counts as missing there; a level unseen in training is
#'   an error. For one row, type `"matrix"` gives a one-row matrix, where
#'   `predict.rpart()` fails.
#' @export
fp_compile.rpart <- function(model, ...) {
  fp_require_class(model, "rpart")
  if (identical(model$method, "user")) {
    fp_unsupported(paste0("an rpart tree grown with a user-defined method (method 'user'): what its nodes ",
                          "predict is defined by the user's own functions"))
  }
  if (!model$method %in% fp_rpart_methods) {
    fp_unsupported(sprintf("the rpart method '%s' (fastpredict supports %s)", model$method,
                           paste0("'", fp_rpart_methods, "'", collapse = ", ")))
  }
  inputs <- fp_rpart_inputs(model)
  tree <- fp_rpart_tree(model, inputs)
  frame <- model$frame
  ylevels <- attr(model, "ylevels")
  classification <- identical(model$method, "class")
  if (classification) {
    k <- length(ylevels)
    if (is.null(frame$yval2) || ncol(frame$yval2) != 2L * k + 2L) {
      fp_unsupported("an rpart classification tree without its class probabilities (yval2)")
    }
    tree$tree$probs <- as.vector(t(frame$yval2[, 1L + k + seq_len(k), drop = FALSE]))
  }
  if (!is.null(frame$yval2)) tree$tree$matrix <- as.vector(t(unclass(frame$yval2)))
  section <- fp_trees_section(
    "rpart", tree$features, list(tree$tree), split = "lt", missing = "route",
    aggregation = list(method = "single"),
    types = if (classification) c("vector", "prob", "class", "matrix") else c("vector", "matrix"),
    default_type = if (classification) "prob" else "vector",
    classes = if (classification) ylevels
  )
  fp_from_spec(fp_document(model, "rpart", "trees", inputs$specs, section))
}

# The predictors, as predict.rpart() reads them: model.frame() over the
# terms with the training levels, then type checks against dataClasses.
# Every predictor is required (even one no split uses), as model.frame()
# requires it.
fp_rpart_inputs <- function(model) {
  Terms <- stats::delete.response(model$terms)
  if (length(attr(Terms, "offset"))) fp_unsupported("an offset() term in an rpart formula")
  vars <- as.list(attr(Terms, "variables"))[-1L]
  predvars <- as.list(attr(Terms, "predvars") %||% attr(Terms, "variables"))[-1L]
  for (i in seq_along(vars)) {
    if (!is.name(vars[[i]]) || !identical(vars[[i]], predvars[[i]])) {
      fp_unsupported(sprintf("the term '%s' in an rpart formula (only plain variables are supported)",
                             fp_deparse(vars[[i]])))
    }
  }
  names <- vapply(vars, as.character, "")
  classes <- attr(Terms, "dataClasses")
  xlev <- attr(model, "xlevels")
  # (a one-column matrix, such as scale(x) stored in the data, is a column)
  types <- c(numeric = "numeric", nmatrix.1 = "numeric", logical = "logical", factor = "factor",
             ordered = "ordered", character = "character")
  specs <- lapply(names, function(v) {
    cls <- if (v %in% names(classes)) classes[[v]] else NA_character_
    if (is.na(cls) || !cls %in% names(types)) {
      fp_unsupported(sprintf("the rpart predictor '%s' of class '%s'", v, cls))
    }
    levels <- NULL
    if (types[[cls]] %in% c("factor", "ordered", "character")) {
      if (is.null(xlev[[v]])) fp_unsupported(sprintf("the rpart predictor '%s' without its levels", v))
      if (anyNA(xlev[[v]])) fp_unsupported(sprintf("the level NA of the rpart predictor '%s'", v))
      levels <- xlev[[v]]
    }
    fp_input(v, types[[cls]], levels)
  })
  list(specs = specs, names = names,
       categorical = vapply(specs, function(s) !is.null(s$levels), NA),
       levels = lapply(specs, function(s) as.character(s$levels)))
}

# The tree as flat node arrays in frame order (row 1 is the root).
fp_rpart_tree <- function(model, inputs) {
  frame <- model$frame
  nn <- nrow(frame)
  usesur <- as.integer(model$control$usesurrogate)
  if (length(usesur) != 1L || !usesur %in% 0:2) {
    fp_unsupported(sprintf("usesurrogate = %s", paste(usesur, collapse = ", ")))
  }
  node <- as.integer(rownames(frame))
  inner <- which(frame$var != "<leaf>")
  splits <- model$splits
  # pred.rpart(): each internal node's rows in `splits` are its primary
  # split, its competitors, then its surrogates.
  index <- 1L + c(0L, cumsum((frame$var != "<leaf>") + frame$ncompete + frame$nsurrogate))[seq_len(nn)]
  prim <- index[inner]
  nsur <- if (usesur > 0L) frame$nsurrogate[inner] else integer(length(inner))
  surr <- rep(prim + frame$ncompete[inner], nsur) + sequence(nsur)
  rows <- c(prim, surr)
  if (length(inner) && (is.null(splits) || max(rows) > nrow(splits) ||
                        !identical(rownames(splits)[prim], as.character(frame$var[inner])))) {
    fp_unsupported("an rpart object whose frame and splits disagree")
  }

  # Features: each predictor a routing split reads, and every factor
  # (so that an unseen level is refused, as model.frame() refuses it).
  var <- match(rownames(splits)[rows], inputs$names)
  if (anyNA(var)) fp_unsupported("an rpart split on a variable that is not a predictor")
  keep <- inputs$categorical | seq_along(inputs$names) %in% var
  fidx <- cumsum(keep) - 1L
  features <- lapply(which(keep), function(i) {
    if (inputs$categorical[[i]]) {
      fp_feature(inputs$names[[i]], "categorical", inputs$levels[[i]], unseen = "error")
    } else {
      fp_feature(inputs$names[[i]])
    }
  })
  ncat <- as.integer(splits[rows, "ncat"])
  cut <- unname(splits[rows, "index"])
  categorical <- ncat >= 2L
  if (!identical(categorical, inputs$categorical[var])) {
    fp_unsupported("an rpart split whose type does not match its variable")
  }
  if (any(!categorical & abs(ncat) != 1L)) fp_unsupported("an rpart numeric split with ncat other than -1 or +1")

  # The engine sends `x < threshold` left; where rpart sends it to 2k + 1,
  # the children are swapped (and so are that node's surrogate directions).
  np <- length(prim)
  swap <- !categorical[seq_len(np)] & ncat[seq_len(np)] == 1L
  lo <- match(2L * node[inner], node)
  hi <- match(2L * node[inner] + 1L, node)
  if (anyNA(lo) || anyNA(hi)) fp_unsupported("an rpart tree with a missing child node")
  flip <- c(swap, rep(swap, nsur))

  # One category set per categorical split row used: levels marked 1 go
  # to 2k, levels marked 2 count as missing, all others go to 2k + 1.
  cat_rows <- which(categorical)
  threshold <- cut
  categories <- NULL
  if (length(cat_rows)) {
    cs <- model$csplit[cut[cat_rows], , drop = FALSE]
    nlev <- lengths(inputs$levels)[var[cat_rows]]
    if (any(ncat[cat_rows] != nlev) || any(nlev > ncol(cs))) {
      fp_unsupported("an rpart factor split whose levels do not match the recorded levels")
    }
    cs[col(cs) > nlev] <- 2L
    by_row <- function(m) {
      hit <- which(m, arr.ind = TRUE)
      unname(split(hit[, "col"] - 1L, factor(hit[, "row"], levels = seq_len(nrow(m)))))
    }
    low <- by_row(cs == 1L)
    high <- by_row(cs != 1L & cs != 2L)
    f <- flip[cat_rows]
    to_left <- low
    to_left[f] <- high[f]
    to_right <- high
    to_right[f] <- low[f]
    categories <- Map(function(l, r) list(left = I(l), right = I(r)), to_left, to_right)
    threshold[cat_rows] <- seq_along(cat_rows) - 1L
  }

  feature <- rep(-1L, nn)
  feature[inner] <- fidx[var[seq_len(np)]]
  thr <- numeric(nn)
  thr[inner] <- threshold[seq_len(np)]
  left <- rep(-1L, nn)
  right <- rep(-1L, nn)
  left[inner] <- ifelse(swap, hi, lo) - 1L
  right[inner] <- ifelse(swap, lo, hi) - 1L
  missing <- rep(-1L, nn)
  if (usesur == 2L) {
    nlo <- frame$n[lo]
    nhi <- frame$n[hi]
    missing[inner] <- ifelse(nlo > nhi, lo - 1L, ifelse(nhi > nlo, hi - 1L, -1L))
  }
  tree <- list(
    feature = feature,
    threshold = thr,
    left = left,
    right = right,
    missing = missing,
    value = as.double(frame$yval)
  )
  if (!is.null(categories)) tree$categories <- categories
  if (sum(nsur)) {
    s <- np + seq_along(surr)
    counts <- integer(nn)
    counts[inner] <- nsur
    tree$surrogates <- list(
      start = c(0L, cumsum(counts)),
      feature = fidx[var[s]],
      threshold = threshold[s],
      # numeric surrogates: ncat = -1 sends `x < cut` to 2k
      less_left = (ncat[s] == -1L) != flip[s]
    )
  }
  list(tree = tree, features = features)
}
