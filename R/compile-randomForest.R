# randomForest: regression and classification forests, from the formula
# interface or from x/y. The forest arrays (see randomForest::getTree())
# become flat per-tree node arrays; predict.randomForest()'s rules are in
# the document: `x <= split` goes left, an unordered factor split is a
# bitmask of the levels that go left, regression is the mean of the trees
# (with the `coefs` bias correction of corr.bias = TRUE), classification
# the largest votes / ntree / cutoff.

#' @rdname fp_compile
#' @section randomForest: Regression and classification forests, fitted with
#'   the formula or the x/y interface, with types `"response"` (the
#'   default), `"prob"` and `"vote"` (and `norm.votes = FALSE` for raw vote
#'   counts), the `corr.bias` correction and the forest's `cutoff`. Numeric
#'   and logical predictors split at `x <= split`; unordered factors (up to
#'   the 53 levels randomForest allows) are matched to the training levels
#'   by name; ordered factors are read as level codes, as `data.matrix()`
#'   does (by name for the x/y interface, which keeps their levels). As in
#'   `predict.randomForest()`, a formula model predicts `NA` for a row with a
#'   missing value in any formula variable, and an x/y model refuses missing
#'   values. Tied votes: see [predict_fast()]. Unsupervised forests, forests
#'   fitted with `keep.forest = FALSE`, character predictors of a formula
#'   model, formula terms other than plain variables, and classes built on
#'   randomForest (such as quantile forests) are refused.
#' @export
fp_compile.randomForest <- function(model, ...) {
  fp_require_class(model, "randomForest", c("randomForest.formula", "randomForest"))
  formula <- inherits(model, "randomForest.formula")
  if (!identical(model$type, "regression") && !identical(model$type, "classification")) {
    fp_unsupported(sprintf("a randomForest of type '%s'", paste(model$type, collapse = "/")))
  }
  fs <- model$forest
  if (is.null(fs)) {
    fp_unsupported("a randomForest without its forest (fitted with keep.forest = FALSE)")
  }
  classification <- identical(model$type, "classification")
  vars <- if (formula) fp_rf_formula_variables(model) else fp_rf_xy_variables(model)
  trees <- fp_rf_trees(fs, classification)

  if (classification) {
    if (length(fs$cutoff) != length(model$classes)) {
      fp_unsupported("a randomForest whose forest has no cutoff for each class")
    }
    aggregation <- list(method = "votes", cutoff = I(as.double(fs$cutoff)))
    types <- c("response", "prob", "vote")
  } else {
    # predict.randomForest applies coefs whenever the fit stored them.
    coefs <- model$coefs
    aggregation <- list(method = "mean")
    if (!is.null(coefs)) aggregation$bias <- I(as.double(coefs[1:2]))
    types <- "response"
  }
  section <- fp_trees_section(
    "randomForest", vars$features, trees, split = "le",
    # The formula interface drops rows with a missing value in any model
    # variable (model.frame with na.omit) and returns NA for them; x/y
    # stops on any missing value.
    missing = if (formula) "na_row" else "error",
    aggregation = aggregation, types = types, default_type = "response",
    classes = if (classification) model$classes
  )
  fp_from_spec(fp_document(model, "randomForest", "trees", vars$inputs, section))
}

# One input and one feature per predictor, in the order of the forest's
# columns (bestvar indexes them).
fp_rf_numeric <- function(name, type = "numeric") {
  list(input = fp_input(name, type), feature = fp_feature(name))
}

fp_rf_factor <- function(name, levels) {
  list(input = fp_input(name, "factor", levels),
       feature = fp_feature(name, "categorical", levels, unseen = "error"))
}

fp_rf_collect <- function(parts) {
  list(inputs = unname(lapply(parts, `[[`, "input")),
       features = unname(lapply(parts, `[[`, "feature")))
}

fp_rf_forest_names <- function(fs) {
  nms <- names(fs$ncat)
  if (is.null(nms) || anyNA(nms) || any(nms == "")) {
    fp_unsupported("a randomForest fitted on a matrix without column names")
  }
  nms
}

# x/y interface: the forest records only levels and ncat. An unordered
# factor has ncat > 1; an ordered factor has ncat 1 and its levels in
# xlevels (data.matrix codes, 1-based); anything else was numeric.
fp_rf_xy_variables <- function(model) {
  fs <- model$forest
  nms <- fp_rf_forest_names(fs)
  parts <- lapply(seq_along(nms), function(i) {
    lv <- fs$xlevels[[i]]
    if (fs$ncat[[i]] > 1L) {
      fp_rf_factor(nms[[i]], as.character(lv))
    } else if (is.character(lv)) {
      list(input = fp_input(nms[[i]], "ordered", lv),
           feature = fp_feature(nms[[i]], "codes", lv, unseen = "error", code_offset = 1))
    } else {
      fp_rf_numeric(nms[[i]])
    }
  })
  fp_rf_collect(parts)
}

# Formula interface: the forest's columns are the formula's variables, with
# their data classes in the terms. Ordered factors were turned into numbers
# (as.numeric) before fitting, so the forest keeps no levels for them, and
# predict.randomForest reads them through data.matrix(): the column's own
# level codes. That is what the "any" input with a numeric feature reads.
# Variables of the formula that are not predictors (`. - v`) still make their
# missing rows NA, so they are features that no tree splits on.
fp_rf_formula_variables <- function(model) {
  fs <- model$forest
  Terms <- stats::delete.response(model$terms)
  vars <- as.list(attr(Terms, "variables"))[-1L]
  for (v in vars) {
    if (!is.name(v)) {
      fp_unsupported(sprintf("the term '%s' in a randomForest formula (only plain variables are)",
                             paste(deparse(v), collapse = " ")))
    }
  }
  vnames <- vapply(vars, as.character, "")
  classes <- attr(Terms, "dataClasses")
  nms <- fp_rf_forest_names(fs)
  if (!all(nms %in% vnames)) {
    fp_unsupported("a randomForest whose forest columns are not the formula's variables")
  }
  all_names <- c(nms, setdiff(vnames, nms))
  parts <- lapply(seq_along(all_names), function(i) {
    name <- all_names[[i]]
    cls <- if (name %in% names(classes)) classes[[name]] else NA_character_
    predictor <- i <= length(nms)
    if (predictor && (identical(cls, "factor") || fs$ncat[[i]] > 1L)) {
      if (!identical(cls, "factor")) {
        fp_unsupported(sprintf("the randomForest predictor '%s' of class '%s'", name, cls))
      }
      return(fp_rf_factor(name, as.character(fs$xlevels[[i]])))
    }
    if (!predictor && cls %in% c("factor", "ordered", "character")) {
      # Only its missing values matter, whatever its levels: with no known
      # levels, every level is "unseen" and gets the same code.
      return(list(input = fp_input(name, cls, character()),
                  feature = fp_feature(name, "codes", character(), unseen = "last")))
    }
    switch(cls,
      numeric = , nmatrix.1 = fp_rf_numeric(name),
      logical = fp_rf_numeric(name, "logical"),
      ordered = fp_rf_numeric(name, "any"),
      character = fp_unsupported(sprintf(paste(
        "the character predictor '%s' of a randomForest formula model",
        "(predict.randomForest codes it by the values present in newdata)"), name)),
      fp_unsupported(sprintf("the randomForest %s '%s' of class '%s'",
                             if (predictor) "predictor" else "formula variable", name, cls))
    )
  })
  fp_rf_collect(parts)
}

# The per-tree node arrays, vectorised within each tree. Node j of tree k
# sits at (k - 1) * nrnodes + j in the forest matrices (treemap is
# nrnodes x 2 x ntree); only the first ndbigtree nodes of a tree are used.
fp_rf_trees <- function(fs, classification) {
  nt <- as.integer(fs$ntree)
  nr <- as.integer(fs$nrnodes)
  size <- as.integer(fs$ndbigtree)
  if (length(nt) != 1L || nt < 1L || length(size) != nt || any(size < 1L | size > nr)) {
    fp_unsupported("a randomForest whose forest arrays are inconsistent (ntree, nrnodes, ndbigtree)")
  }
  ncat <- as.integer(fs$ncat)
  # indexed by bestvar + 1, so that 0 (a leaf) reads FALSE
  is_cat <- c(FALSE, ncat > 1L)
  status <- fs$nodestatus
  bestvar <- fs$bestvar
  xsplit <- fs$xbestsplit
  nodepred <- fs$nodepred
  lapply(seq_len(nt), function(k) {
    r <- seq_len(size[[k]])
    i <- (k - 1L) * nr + r
    if (classification) {
      left <- fs$treemap[i + (k - 1L) * nr]
      right <- fs$treemap[i + k * nr]
    } else {
      left <- fs$leftDaughter[i]
      right <- fs$rightDaughter[i]
    }
    # predict.randomForest walks until status -1 (terminal).
    leaf <- status[i] == -1L
    var <- as.integer(bestvar[i])
    var[leaf] <- 0L
    if (any(!leaf & (var < 1L | var > length(ncat)))) {
      fp_unsupported(sprintf("a randomForest whose tree %d splits on no predictor", k))
    }
    split <- as.double(xsplit[i])
    threshold <- split
    threshold[leaf] <- 0
    left <- as.integer(left) - 1L
    right <- as.integer(right) - 1L
    left[leaf] <- -1L
    right[leaf] <- -1L
    # Only leaves predict (no missing-value route stops inside a tree), so
    # inner nodes carry 0: it keeps the document small.
    value <- as.double(nodepred[i])
    value[!leaf] <- 0
    tree <- list(feature = var - 1L, threshold = threshold, left = left, right = right, value = value)
    cat_node <- which(is_cat[var + 1L])
    if (length(cat_node)) {
      cs <- fp_rf_category_sets(var[cat_node], split[cat_node], ncat)
      tree$threshold[cat_node] <- cs$index
      tree$categories <- cs$sets
    }
    tree
  })
}

# Unordered factor splits of one tree: xbestsplit holds, as a double, the
# bitmask of the levels that go left (bit j - 1 for level j);
# predict.randomForest reads bit j as floor(x / 2^j) mod 2, exact up to the
# 53 levels randomForest allows. Nodes with the same variable and mask
# share one category set. Returns each node's 0-based set index and the sets.
fp_rf_category_sets <- function(var, mask, ncat) {
  o <- order(var, mask, method = "radix")
  vs <- var[o]
  ms <- mask[o]
  n <- length(o)
  first <- c(TRUE, vs[-1L] != vs[-n] | ms[-1L] != ms[-n])
  index <- integer(n)
  index[o] <- cumsum(first) - 1L

  u_ncat <- ncat[vs[first]]
  set <- rep.int(seq_len(sum(first)), u_ncat)
  code <- sequence(u_ncat) - 1L
  goes_left <- floor(rep.int(ms[first], u_ncat) / 2^code) %% 2 == 1
  ids <- factor(set, levels = seq_len(sum(first)))
  lefts <- split(code[goes_left], ids[goes_left])
  rights <- split(code[!goes_left], ids[!goes_left])
  list(index = as.double(index),
       sets = .mapply(function(l, r) list(left = l, right = r), list(lefts, rights), NULL))
}

# A class vote tied at the top (after the cutoff), which randomForest breaks
# at random.
#' @export
fp_verify_ties.fp_model_randomForest <- function(model, fit, data, type) {
  if (!identical(type, "response") || !identical(fit$type, "classification")) return(NULL)
  votes <- unclass(stats::predict(fit, data, type = "vote", norm.votes = FALSE))
  score <- sweep(votes / fit$forest$ntree, 2L, fit$forest$cutoff, "/")
  rowSums(score == apply(score, 1L, max)) > 1L
}
