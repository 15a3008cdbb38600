# The ranger compiler: reads the forest that predict.ranger() hands to its
# C++ core (child.nodeIDs, split.varIDs, split.values, class values,
# terminal class counts) and writes the engine's flat node arrays, one tree
# at a time with vectorised R (src/rust/engine/src/trees.rs).
#
# How predict.ranger() (0.14.1) reads the data, and what is kept of it:
# - columns are taken by name (`independent.variable.names`; split.varIDs
#   are 0-based indices into them);
# - characters become factors, then `data.matrix()` turns every factor into
#   its level position in the data at hand. Except in the "order" mode
#   (levels saved in `covariate.levels`), the forest does not record the
#   training levels, so they come from the training data (`data =`), and
#   the engine matches levels by name;
# - ordered splits send `x <= value` left; "partition" splits hold a
#   bitmask of the levels that go right (bit `level - 1`, up to 53 levels);
# - any NA in the data is an error ("Missing data in columns").

#' @rdname fp_compile
#' @param data For `ranger` models: the training data (a data.frame holding
#'   the predictors), from which the levels of factor and character
#'   predictors are read, so that they are matched by name. ranger records
#'   them only with `respect.unordered.factors = "order"`. Without `data`,
#'   the compiled model reads columns as `predict.ranger()` does: numbers,
#'   logicals as 0/1, and factors by their level position in the new data
#'   (with a warning at compile time where the forest has "partition"
#'   splits); a character column is then refused, since ranger would code it
#'   by the values present in the new data.
#' @section ranger: Regression, classification, probability and survival
#'   forests (type `"response"` and `num.trees` at prediction), compiled
#'   from the saved forest. Regression, classification and probability
#'   forests give what `$predictions` holds: for a response that is not a
#'   factor (numbers, or logicals, which ranger reads as 0/1), the classes
#'   as numbers and the probabilities as a matrix without column names, in
#'   the order of `class.values`, as ranger gives them. A survival forest
#'   gives the list `unique.death.times`, `chf` and `survival` that
#'   `predict.ranger()` returns (its other parts describe the call): the
#'   death times as the list's own part, as in ranger, rather than as
#'   column names or an attribute, so that the matrices (rows x death
#'   times, without dimnames) are the very ones ranger returns, and for one
#'   row, vectors as ranger gives them. New data may also be a sparse
#'   `dgCMatrix`, as `predict.ranger()` takes it. Columns are found by name,
#'   and factor and character predictors are matched to the training levels
#'   by name; ranger itself reads them by position in the new data, so the
#'   two agree when the new data has the training levels in training order.
#'   ranger records those levels only with `respect.unordered.factors =
#'   "order"` (where an unseen level sorts after the known ones, as in
#'   ranger); otherwise pass the training data as `data`, or factors are
#'   read by level position as ranger reads them. Missing values are
#'   an error, as in ranger 0.14; forests of newer ranger versions that store
#'   a default child for missing values route them to it. Tied votes: see
#'   [predict_fast()].
#' @export
fp_compile.ranger <- function(model, ..., data = NULL) {
  fp_require_class(model, "ranger")
  forest <- model$forest
  if (is.null(forest)) {
    fp_unsupported("a ranger model fitted with write.forest = FALSE (it holds no forest)")
  }
  treetype <- forest$treetype
  if (!is.character(treetype) || length(treetype) != 1L ||
      !treetype %in% c("Regression", "Classification", "Probability estimation", "Survival")) {
    fp_unsupported(sprintf("ranger's tree type '%s'", paste(treetype, collapse = "/")))
  }
  if (!is.null(forest$dependent.varID)) {
    fp_unsupported("a forest grown by ranger before 0.11.5 (predict() converts it first)")
  }
  n_trees <- length(forest$child.nodeIDs)
  n_child <- unique(lengths(forest$child.nodeIDs))
  if (n_trees < 1L || length(n_child) != 1L || !n_child %in% 2:3 ||
      length(forest$split.varIDs) != n_trees || length(forest$split.values) != n_trees) {
    fp_unsupported("this ranger forest layout (expected 2 or 3 child vectors per tree)")
  }
  vars <- forest$independent.variable.names
  if (!is.character(vars) || !length(vars) || anyNA(vars) || anyDuplicated(vars) ||
      length(forest$is.ordered) != length(vars)) {
    fp_unsupported("a ranger forest without distinct predictor names")
  }

  cols <- fp_ranger_columns(forest, vars, data)
  out <- fp_ranger_output(forest, treetype)
  # Newer ranger (na.action = "na.learn") stores a third child vector: the
  # child a missing value takes (0 = the left child). Not testable with the
  # ranger this was written against; partition splits are left out of it.
  route <- n_child == 3L
  if (route && any(cols$kind == "categorical")) {
    fp_unsupported("missing-value routing at 'partition' splits of a newer ranger forest")
  }
  trees <- lapply(seq_len(n_trees), fp_ranger_tree, forest = forest, cols = cols, out = out, route = route)

  features <- lapply(seq_along(vars), function(j) {
    kind <- cols$kind[[j]]
    if (kind == "numeric") return(fp_feature(vars[[j]]))
    fp_feature(vars[[j]], kind, cols$levels[[j]], unseen = cols$unseen[[j]],
               code_offset = if (kind == "codes") 1)
  })
  inputs <- lapply(seq_along(vars), function(j) fp_input(vars[[j]], cols$type[[j]], cols$levels[[j]]))
  section <- fp_trees_section(
    "ranger", features, trees, split = "le", missing = if (route) "route" else "error",
    aggregation = out$aggregation, types = "response", default_type = "response", classes = out$classes
  )
  fp_from_spec(fp_document(model, "ranger", "trees", inputs, section))
}

# Per predictor: input type, feature kind ("numeric", "codes": level
# position compared as a number, "categorical": partition sets by level
# name, "positions": partition sets by position, without the levels),
# levels and the rule for an unseen level.
fp_ranger_columns <- function(forest, vars, data) {
  saved <- forest$covariate.levels
  unordered <- !as.logical(forest$is.ordered)
  if (is.null(data)) {
    if (any(unordered & !vars %in% names(saved))) {
      warning(sprintf(paste0(
        "ranger does not record the levels of the unordered factor predictor(s) %s: like predict.ranger(), ",
        "the compiled model reads them by level position in the new data. Compile with ",
        "fp_compile(model, data = <training data>) to match levels by name"),
        paste0("'", vars[unordered], "'", collapse = ", ")), call. = FALSE)
    }
  } else {
    if (!is.list(data)) fp_abort("bad_argument", "data must be the training data frame")
    absent <- setdiff(vars, names(data))
    if (length(absent)) {
      fp_abort("bad_argument", sprintf("data lacks the predictor(s) %s of the model",
                                       paste0("'", absent, "'", collapse = ", ")))
    }
  }
  mismatch <- function(v, why) {
    fp_abort("bad_argument", sprintf("data does not match the model: predictor '%s' %s", v, why))
  }
  res <- lapply(seq_along(vars), function(j) {
    v <- vars[[j]]
    x <- if (!is.null(data)) data[[v]]
    type <- if (is.null(x)) NULL else fp_ranger_type(x, v)
    lv <- if (!is.null(saved)) saved[[v]]
    data_lv <- if (identical(type, "character")) levels(factor(x)) else if (!is.null(x)) levels(x)
    if (!is.null(lv)) {
      # "order" mode: predict() re-levels to c(saved, new levels), so an
      # unseen level sorts after every known one.
      if (!is.null(type) && (is.null(data_lv) || !setequal(data_lv, lv))) {
        mismatch(v, "has other levels than the forest saved")
      }
      return(list(type = type %||% "factor", kind = "codes", levels = lv, unseen = "last"))
    }
    if (is.null(data)) {
      # as data.matrix() in predict.ranger(): numbers, logicals and factor
      # codes by position (text is refused: its codes depend on the data)
      return(list(type = "coded", kind = if (unordered[[j]]) "positions" else "numeric",
                  levels = NULL, unseen = NULL))
    }
    if (unordered[[j]]) {
      if (!type %in% c("factor", "character")) mismatch(v, "is not an unordered factor")
      return(list(type = type, kind = "categorical", levels = data_lv, unseen = "error"))
    }
    if (!is.null(data_lv)) {
      return(list(type = type, kind = "codes", levels = data_lv, unseen = "error"))
    }
    list(type = type, kind = "numeric", levels = NULL, unseen = NULL)
  })
  kind <- vapply(res, `[[`, "", "kind")
  list(
    type = vapply(res, `[[`, "", "type"),
    kind = kind,
    kind_id = match(kind, c("numeric", "codes", "categorical", "positions")),
    any_levels = any(kind != "numeric"),
    levels = lapply(res, `[[`, "levels"),
    unseen = lapply(res, `[[`, "unseen"),
    # a positions feature has no levels: the split masks name up to 53
    nlevels = vapply(res, function(r) if (r$kind == "positions") 53L else length(r$levels), 0L),
    names = vars
  )
}

fp_ranger_type <- function(x, v) {
  if (is.ordered(x)) return("ordered")
  if (is.factor(x)) return("factor")
  if (is.character(x)) return("character")
  if (is.logical(x)) return("logical")
  if (is.numeric(x) && is.null(oldClass(x))) return("numeric")
  fp_unsupported(sprintf("the predictor '%s' of class '%s'", v, paste(class(x), collapse = "/")))
}

# What the leaves hold and how they combine, as predict() returns it.
fp_ranger_output <- function(forest, treetype) {
  if (treetype == "Regression") return(list(aggregation = list(method = "mean")))
  if (treetype == "Survival") {
    # each leaf holds the cumulative hazard at every unique death time;
    # predict() averages it over the trees and takes survival = exp(-chf)
    times <- forest$unique.death.times
    if (!is.numeric(times) || !length(times) || !all(is.finite(times)) || is.unsorted(times, strictly = TRUE)) {
      fp_unsupported("a ranger survival forest whose unique.death.times are not increasing numbers")
    }
    if (length(forest$chf) != length(forest$child.nodeIDs)) {
      fp_unsupported("a ranger survival forest without one chf list per tree")
    }
    return(list(aggregation = list(method = "survival", times = I(as.double(times))), survival = TRUE))
  }
  lv <- forest$levels
  cv <- forest$class.values
  if (is.null(lv)) {
    # A response that is not a factor (numbers, or logicals as 0/1):
    # predict() returns the class values themselves, as numbers, and
    # probabilities in class.values order without column names.
    if (!is.numeric(cv) || !length(cv) || !all(is.finite(cv)) || anyDuplicated(cv)) {
      fp_unsupported(sprintf("this ranger %s forest (its class values are not distinct numbers)",
                             tolower(treetype)))
    }
    if (treetype == "Classification") {
      # (ties go to the smallest value, as they go to the first level)
      values <- sort(as.double(cv))
      return(list(aggregation = list(method = "vote_values", values = I(values)), values = values))
    }
    return(list(aggregation = list(method = "matrix_mean"), perm = seq_along(cv), matrix = TRUE))
  }
  if (treetype == "Classification") {
    return(list(aggregation = list(method = "votes"), classes = lv))
  }
  if (!length(cv) || anyNA(cv) || any(cv != round(cv)) || any(cv < 1 | cv > length(lv)) || anyDuplicated(cv)) {
    fp_unsupported("this ranger probability forest (its class values are not levels of the response)")
  }
  # predict() names the columns levels[class.values] and puts them in
  # level order.
  list(aggregation = list(method = "prob_mean"), classes = lv[sort(cv)], perm = match(sort(cv), cv))
}

fp_ranger_tree <- function(k, forest, cols, out, route) {
  ch <- forest$child.nodeIDs[[k]]
  left <- ch[[1L]]
  right <- ch[[2L]]
  feature <- forest$split.varIDs[[k]]
  sv <- forest$split.values[[k]]
  n <- length(left)
  if (length(right) != n || length(feature) != n || length(sv) != n) {
    fp_unsupported(sprintf("ranger tree %d (its node vectors differ in length)", k))
  }
  if (anyNA(feature) || min(feature) < 0 || max(feature) >= length(cols$kind)) {
    fp_unsupported(sprintf("ranger tree %d (it splits on a variable outside the predictors)", k))
  }
  # Node arrays stay doubles (ranger's storage; the engine reads whole
  # numbers as integers). The root is no node's child, so a left child 0
  # marks a leaf. The split values are the splits' thresholds and the
  # leaves' payload (the prediction, or the class); the engine reads a
  # threshold only at a split and a value only at a leaf, so the other
  # slots hold 0, which keeps the file small.
  leaf <- left == 0
  feature[leaf] <- -1
  left[leaf] <- -1
  right[leaf] <- -1
  threshold <- sv
  threshold[leaf] <- 0
  value <- sv
  value[!leaf] <- 0
  tree <- list(feature = feature, threshold = threshold, left = left, right = right, value = value)
  if (route) {
    # 0 in the third vector means the left child
    miss <- ch[[3L]]
    miss[miss == 0] <- left[miss == 0]
    tree$missing <- miss
  }
  if (cols$any_levels) {
    # Level positions: every split point lies within the levels, unless the
    # data given is not the training data. (A leaf, feature -1, is neither.)
    kind <- c(0L, cols$kind_id)[feature + 2]
    coded <- which(kind == 2L)
    bad <- coded[sv[coded] < 1 | sv[coded] > cols$nlevels[feature[coded] + 1]]
    if (length(bad)) {
      j <- feature[bad[1L]] + 1
      fp_abort("bad_argument", sprintf(
        "data does not match the model: predictor '%s' is split at level position %g of %d",
        cols$names[[j]], sv[bad[1L]], cols$nlevels[[j]]))
    }
    part <- which(kind >= 3L)
  } else {
    part <- integer()
  }
  # Partition splits: bit (level - 1) of the split value sends a level right.
  if (length(part)) {
    tree$threshold[part] <- seq_along(part) - 1
    tree$categories <- fp_ranger_partitions(sv[part], cols$nlevels[feature[part] + 1], k)
  }
  if (isTRUE(out$survival)) {
    # inner nodes hold no curve: zeros, which no walk reads
    chf <- forest$chf[[k]]
    nt <- length(forest$unique.death.times)
    if (length(chf) != n || any(lengths(chf)[leaf] != nt)) {
      fp_unsupported(sprintf("ranger tree %d (its chf does not hold a curve per leaf)", k))
    }
    m <- matrix(0, nt, n)
    m[, leaf] <- unlist(chf[leaf], use.names = FALSE)
    tree$matrix <- as.vector(m)
    tree$value[] <- 0
  } else if (!is.null(out$values)) {
    # leaves hold class values: their index among the sorted values
    idx <- match(sv[leaf], out$values)
    if (anyNA(idx)) fp_unsupported(sprintf("ranger tree %d (a leaf holds no class of the response)", k))
    tree$value[leaf] <- idx
  } else if (is.null(out$perm)) {
    if (!is.null(out$classes)) {
      cl <- sv[leaf]
      if (anyNA(cl) || any(cl != round(cl) | cl < 1 | cl > length(out$classes))) {
        fp_unsupported(sprintf("ranger tree %d (a leaf holds no class of the response)", k))
      }
    }
  } else {
    counts <- forest$terminal.class.counts[[k]]
    kc <- length(out$perm)
    if (length(counts) != n || any(lengths(counts) != kc * leaf)) {
      fp_unsupported(sprintf("ranger tree %d (its terminal class counts do not match its leaves)", k))
    }
    probs <- matrix(0, kc, n)
    probs[, leaf] <- matrix(unlist(counts, use.names = FALSE), nrow = kc)[out$perm, , drop = FALSE]
    if (isTRUE(out$matrix)) tree$matrix <- as.vector(probs) else tree$probs <- as.vector(probs)
  }
  tree
}

# One category set per partition split, built without a loop over nodes:
# split the level codes by (node, side), then pair the sides up.
fp_ranger_partitions <- function(mask, nlev, k) {
  m <- length(mask)
  if (any(nlev > 53L | mask != floor(mask) | mask < 0 | mask >= 2^nlev)) {
    fp_abort("bad_argument", sprintf(
      "data does not match the model: a partition split of tree %d names levels beyond the data's", k))
  }
  node <- rep.int(seq_len(m), nlev)
  code <- sequence(nlev) - 1L
  right <- floor(rep.int(mask, nlev) / 2^code) %% 2 == 1
  key <- structure(2L * node - 1L + right, levels = as.character(seq_len(2L * m)), class = "factor")
  sides <- split(code, key)
  names(sides) <- rep(c("left", "right"), m)
  pair <- structure(rep(seq_len(m), each = 2L), levels = as.character(seq_len(m)), class = "factor")
  unname(split(sides, pair))
}

# Text where a number or a factor was expected, in a forest compiled
# without its training data: say why, and what to do.
#' @export
fp_explain_error.fp_model_ranger <- function(model, err) {
  if (identical(err$kind, "wrong_type") && grepl("read by its level codes", err$message, fixed = TRUE)) {
    err$message <- paste0(err$message, ". predict.ranger() turns text into a factor of the values present ",
                          "in newdata, which fastpredict does not reproduce; compile with ",
                          "fp_compile(fit, data = <the training data>) to match levels by name")
  }
  err
}

#' @export
fp_native_predict.fp_model_ranger <- function(model, fit, data, type) {
  p <- stats::predict(fit, data)
  # a survival forest's prediction is the list of these three (the rest of
  # predict()'s list describes the call)
  if (identical(fit$treetype, "Survival")) return(p[c("unique.death.times", "chf", "survival")])
  p$predictions
}

# A class vote tied at the top, which ranger breaks at random.
#' @export
fp_verify_ties.fp_model_ranger <- function(model, fit, data, type) {
  if (!identical(fit$treetype, "Classification")) return(NULL)
  per_tree <- stats::predict(fit, data, predict.all = TRUE)$predictions
  # the trees vote with level indices, or with the class values themselves
  # for a response that is not a factor
  lv <- fit$forest$levels
  classes <- if (is.null(lv)) fit$forest$class.values else seq_along(lv)
  counts <- vapply(classes, function(c) rowSums(per_tree == c), numeric(nrow(per_tree)))
  if (is.null(dim(counts))) counts <- matrix(counts, nrow = nrow(per_tree))
  rowSums(counts == apply(counts, 1L, max)) > 1L
}
