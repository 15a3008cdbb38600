# gbm: boosted trees, evaluated as gbm 2.1.8's predict.gbm() does (its C
# routine gbm_pred): initF plus the leaf values (SplitCodePred) of the first
# n.trees iterations, each row walked from the root: NA to MissingNode,
# `x < split` to LeftNode, else RightNode; a factor level through the node's
# c.splits entry (-1 left, 1 right, anything else MissingNode).

# type = "response" per distribution; every other one returns the link.
fp_gbm_transforms <- c(bernoulli = "logistic", pairwise = "logistic", poisson = "exp",
                       adaboost = "adaboost", multinomial = "softmax")
# The distributions gbm 2.1.8 fits. Others (gamma, tweedie) come from other
# gbm versions, whose predict() we cannot check against.
fp_gbm_distributions <- c("adaboost", "bernoulli", "coxph", "gaussian", "huberized", "laplace",
                          "multinomial", "pairwise", "poisson", "quantile", "tdist")

#' @rdname fp_compile
#' @section gbm: gbm 2.1.8: every distribution it fits (gaussian, laplace,
#'   tdist, quantile, huberized, bernoulli, adaboost, poisson, coxph,
#'   pairwise, multinomial), types `"link"` (the default) and `"response"`
#'   (logistic for bernoulli and pairwise, `exp()` for poisson,
#'   `1/(1+exp(-2f))` for adaboost, softmax for multinomial, the link for
#'   the rest, as in `predict.gbm()`), and `n.trees` as one number or several
#'   (a matrix, or for multinomial an array rows x classes x n.trees). As in
#'   `predict.gbm()`, an `n.trees` above the iterations fitted is lowered to
#'   them with a warning, and without `n.trees` the best iteration is used
#'   (test set, else cross-validation, else all), without its message.
#'   Splits are `x < split`; `NA` and factor levels not seen in training take
#'   the missing branch, a `NaN` goes right as in gbm. Predictors are
#'   numeric, factor or ordered (compared by level code); factor levels are
#'   matched by name, also for a `gbm.fit()` model, whose `predict()` takes
#'   columns by position, and a character column is read as its levels
#'   (where `predict.gbm()` would turn the whole `newdata` into text). Like
#'   `predict.gbm()`, offsets are not added.
#' @export
fp_compile.gbm <- function(model, ...) {
  fp_require_class(model, "gbm")
  dist <- model$distribution$name
  if (!is.character(dist) || length(dist) != 1L || !dist %in% fp_gbm_distributions) {
    fp_unsupported(sprintf("the gbm distribution '%s'", paste(dist, collapse = "/")))
  }
  k <- if (is.null(model$num.classes)) 1L else as.integer(model$num.classes)
  n_iter <- as.integer(model$n.trees)
  if (length(model$trees) != n_iter * k || n_iter < 1L) {
    fp_unsupported(sprintf("a gbm object with %d trees for %d iterations of %d classes",
                           length(model$trees), n_iter, k))
  }
  features <- fp_gbm_features(model)
  var_type <- as.integer(model$var.type)
  c_splits <- model$c.splits
  trees <- lapply(model$trees, fp_gbm_tree, var_type = var_type, c_splits = c_splits)

  aggregation <- list(
    method = "sum",
    init = I(rep(as.double(model$initF), k)),
    n_classes = k,
    transform = if (dist %in% names(fp_gbm_transforms)) fp_gbm_transforms[[dist]] else "identity",
    default_n_trees = fp_gbm_default_n_trees(model)
  )
  section <- fp_trees_section(
    "gbm", features$features, trees, split = "lt", missing = "route", nan = "compare",
    aggregation = aggregation, types = c("link", "response"), default_type = "link",
    classes = if (identical(dist, "multinomial")) model$classes
  )
  fp_from_spec(fp_document(model, "gbm", "trees", features$inputs, section))
}

# One input and one feature per predictor, in var.names order (SplitVar is
# the 0-based position). predict.gbm matches a factor's levels to
# var.levels by name and turns the rest into NA, so an unseen level takes
# the missing route. Ordered factors are compared as 0-based level codes.
fp_gbm_features <- function(model) {
  var_names <- model$var.names
  var_type <- model$var.type
  var_levels <- model$var.levels
  if (length(var_names) != length(var_type) || length(var_levels) != length(var_type)) {
    fp_unsupported("a gbm object whose var.names, var.type and var.levels differ in length")
  }
  # With a formula, predict.gbm evaluates var.names (term labels, with
  # backticks) in newdata; gbm.fit() objects take newdata's columns by
  # position, which fastpredict reads by name instead.
  names <- if (is.null(model$Terms)) var_names else vapply(var_names, function(v) {
    e <- tryCatch(str2lang(v), error = function(e) NULL)
    if (!is.name(e)) fp_unsupported(sprintf("the gbm predictor '%s' (only plain variables)", v))
    as.character(e)
  }, "", USE.NAMES = FALSE)
  inputs <- vector("list", length(names))
  features <- vector("list", length(names))
  for (i in seq_along(names)) {
    lev <- var_levels[[i]]
    if (var_type[[i]] == 0 && is.numeric(lev)) {
      inputs[[i]] <- fp_input(names[[i]], "numeric")
      features[[i]] <- fp_feature(names[[i]])
    } else if (is.character(lev) && (var_type[[i]] == 0 || var_type[[i]] == length(lev))) {
      ordered <- var_type[[i]] == 0
      inputs[[i]] <- fp_input(names[[i]], if (ordered) "ordered" else "factor", lev)
      features[[i]] <- fp_feature(names[[i]], if (ordered) "codes" else "categorical", lev, unseen = "missing")
    } else {
      fp_unsupported(sprintf("the gbm predictor '%s' of var.type %s", names[[i]], var_type[[i]]))
    }
  }
  list(inputs = inputs, features = features)
}

# One tree from its gbm node table (the columns of pretty.gbm.tree()).
# Leaves predict their SplitCodePred; a categorical node's SplitCodePred
# indexes c.splits, and becomes the index of its set in the tree's own list.
fp_gbm_tree <- function(t, var_type, c_splits) {
  split_var <- as.integer(t[[1L]])
  code <- as.double(t[[2L]])
  leaf <- split_var < 0L
  cat_node <- !leaf
  cat_node[!leaf] <- var_type[split_var[!leaf] + 1L] > 0L
  threshold <- code
  threshold[leaf] <- 0
  tree <- list(feature = split_var, threshold = threshold,
               left = as.integer(t[[3L]]), right = as.integer(t[[4L]]), missing = as.integer(t[[5L]]),
               value = ifelse(leaf, code, as.double(t[[8L]])))
  if (any(cat_node)) {
    idx <- code[cat_node] + 1
    n_levels <- var_type[split_var[cat_node] + 1L]
    if (any(idx > length(c_splits)) || any(lengths(c_splits[idx]) != n_levels)) {
      fp_unsupported("a gbm tree whose categorical splits do not match c.splits")
    }
    sets <- c_splits[idx]
    tree$threshold[cat_node] <- seq_along(sets) - 1
    tree$categories <- lapply(sets, function(s) list(left = which(s == -1L) - 1L, right = which(s == 1L) - 1L))
  }
  tree
}

# predict.gbm's n.trees when the call gives none: the best iteration on the
# test set, else by cross-validation, else all of them.
fp_gbm_default_n_trees <- function(model) {
  n <- if (isTRUE(model$train.fraction < 1)) {
    which.min(model$valid.error)
  } else if (!is.null(model$cv.error)) {
    which.min(model$cv.error)
  } else {
    length(model$train.error)
  }
  if (length(n) != 1L || n < 1L || n > model$n.trees) {
    fp_unsupported("a gbm object without a best iteration (its error curve is missing)")
  }
  as.integer(n)
}

# predict.gbm() uses all fitted iterations for an n.trees above them, with
# a warning, and the default for an empty n.trees.
fp_gbm_args <- function(model, args) {
  # (on every call that gives n.trees: primitives only, no `$` on the
  # classed model and no fp_info(), which cost 5 us together)
  n <- .subset2(args, "n.trees")
  if (is.null(n)) return(args)
  if (length(n) == 0L) {
    args[["n.trees"]] <- NULL
    return(args)
  }
  info <- .subset2(model, "info")
  if (!is.list(info)) info <- fp_info(model)
  fitted <- .subset2(.subset2(info, "facts"), "n_trees")
  # (not a gbm behind the class: the engine refuses n.trees)
  if (!is.numeric(fitted) || length(fitted) != 1L) return(args)
  k <- length(.subset2(info, "classes"))
  if (k > 1L) fitted <- fitted %/% k
  if (is.numeric(n) && length(n) == 1L && !is.na(n) && n <= fitted) return(args)
  if (is.numeric(n) && any(n > fitted, na.rm = TRUE)) {
    n[!is.na(n) & n > fitted] <- fitted
    warning("Number of trees not specified or exceeded number fit so far. Using ",
            paste(n, collapse = " "), ".", call. = FALSE)
    args[["n.trees"]] <- n
  }
  args
}

# predict.gbm() without n.trees picks the best iteration, with a message.
#' @export
fp_native_predict.fp_model_gbm <- function(model, fit, data, type) {
  suppressMessages(suppressWarnings(stats::predict(fit, data, type = type)))
}
