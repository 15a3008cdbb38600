# randomForest: regression and classification, formula and x/y interfaces,
# every prediction type, against predict.randomForest() on generated data.

skip_if_not_installed("randomForest")
library(randomForest)

rf_train <- function(n, seed) {
  set.seed(seed)
  d <- data.frame(
    x1 = runif(n, 0, 4),
    x2 = rnorm(n),
    k = sample(0:20, n, replace = TRUE),
    flag = sample(c(TRUE, FALSE), n, replace = TRUE),
    f = factor(sample(c("a", "b", "c", "d", "e"), n, replace = TRUE)),
    o = factor(sample(c("s", "m", "l", "xl"), n, replace = TRUE), levels = c("s", "m", "l", "xl"),
               ordered = TRUE),
    id = sample(c("p", "q", "r"), n, replace = TRUE),
    stringsAsFactors = FALSE
  )
  d$y <- d$x1 + d$x2^2 + 0.2 * d$k + d$flag + c(a = 0, b = 2, c = -1, d = 1, e = 0.5)[as.character(d$f)] +
    as.integer(d$o) * 0.7 + rnorm(n, sd = 0.3)
  z <- d$y + rnorm(n)
  d$cl <- cut(z, quantile(z, c(0, 0.3, 0.7, 1)), labels = c("lo", "mid", "hi"), include.lowest = TRUE)
  d
}

# Rows where randomForest's class is a random pick among tied classes
# (votes / ntree / cutoff, as classForest computes it).
rf_tied <- function(fit, newdata) {
  votes <- unclass(predict(fit, newdata, type = "vote", norm.votes = FALSE))
  crit <- sweep(votes / fit$forest$ntree, 2, fit$forest$cutoff, "/")
  rowSums(crit == apply(crit, 1, max)) > 1
}

# predict_fast() against predict.randomForest(): regression means within
# 1e-12, vote counts and fractions identical, classes identical on rows
# without a tie; same shape, without row names.
expect_rf_parity <- function(fit, newdata, type = "response", model = fp_compile(fit), threads = NULL, ...) {
  ref <- predict(fit, newdata, type = type, ...)
  got <- predict_fast(model, newdata, type = type, ..., threads = threads)
  if (identical(fit$type, "regression")) {
    expect_type(got, "double")
    expect_null(dim(got))
    expect_null(names(got))
    expect_identical(is.na(got), unname(is.na(ref)))
    expect_equal(got, unname(ref), tolerance = 1e-12)
  } else if (type == "response") {
    expect_s3_class(got, "factor", exact = TRUE)
    expect_identical(levels(got), levels(ref))
    expect_null(names(got))
    expect_identical(is.na(got), unname(is.na(ref)))
    tied <- rf_tied(fit, newdata)
    ok <- !is.na(tied) & !tied
    expect_identical(as.integer(got)[ok], as.integer(ref)[ok])
  } else {
    # the same "votes" matrix, without row names
    rownames(ref) <- NULL
    expect_identical(got, ref)
  }
  invisible(got)
}

train <- rf_train(400, seed = 1)
nd <- gen_new(train, 150, seed = 2)

test_that("regression, formula interface: every predictor kind, missing values give NA rows", {
  fit <- randomForest(y ~ x1 + x2 + k + flag + f + o, data = train, ntree = 60)
  m <- fp_compile(fit)
  expect_s3_class(m, "fp_model")
  got <- expect_rf_parity(fit, nd, model = m)
  expect_identical(predict_fast(m, nd), got)
  expect_true(anyNA(got) && !all(is.na(got)))
  # a missing value in any predictor, one column at a time
  for (v in c("x1", "x2", "k", "flag", "f", "o")) {
    one <- nd[1:5, ]
    one[[v]][2:3] <- NA
    expect_rf_parity(fit, one, model = m)
  }
  # the forest keeps the formula's variables in their own order; newdata's order does not matter
  expect_rf_parity(fit, nd[, rev(names(nd))], model = m)
})

test_that("bias-corrected regression (corr.bias = TRUE) applies coefs", {
  fit <- randomForest(y ~ x1 + x2 + f, data = train, ntree = 40, corr.bias = TRUE)
  expect_false(is.null(fit$coefs))
  expect_rf_parity(fit, nd)
})

test_that("classification, formula interface: response, prob and vote with norm.votes", {
  fit <- randomForest(cl ~ x1 + x2 + k + flag + f + o, data = train, ntree = 75)
  m <- fp_compile(fit)
  for (type in c("response", "prob", "vote")) expect_rf_parity(fit, nd, type = type, model = m)
  expect_rf_parity(fit, nd, type = "vote", model = m, norm.votes = FALSE)
  expect_rf_parity(fit, nd, type = "vote", model = m, norm.votes = TRUE)
  expect_identical(predict_fast(m, nd), predict_fast(m, nd, type = "response"))
  counts <- predict_fast(m, nd, type = "vote", norm.votes = FALSE)
  expect_identical(unname(rowSums(counts)[!is.na(counts[, 1])]), rep(75, sum(!is.na(counts[, 1]))))
  # a cutoff set at fitting time weighs the votes
  fit <- randomForest(cl ~ x1 + x2 + f, data = train, ntree = 75, cutoff = c(0.2, 0.5, 0.3))
  expect_equal(fit$forest$cutoff, c(0.2, 0.5, 0.3))
  for (type in c("response", "prob")) expect_rf_parity(fit, nd, type = type)
  # forests put together with combine() (as grow() does)
  more <- randomForest::combine(fit, randomForest(cl ~ x1 + x2 + f, data = train, ntree = 20,
                                                  cutoff = c(0.2, 0.5, 0.3)))
  expect_rf_parity(more, nd, type = "vote", norm.votes = FALSE)
  expect_rf_parity(more, nd)
})

test_that("tied votes go to the first tied class", {
  fit <- randomForest(flag ~ x1 + x2 + f, data = transform(train, flag = factor(flag)), ntree = 4)
  m <- fp_compile(fit)
  newd <- transform(nd, flag = factor(flag))
  tied <- rf_tied(fit, newd)
  expect_true(any(tied, na.rm = TRUE))
  expect_rf_parity(fit, newd, model = m)
  votes <- predict_fast(m, newd, type = "vote", norm.votes = FALSE)
  cls <- predict_fast(m, newd)
  first <- max.col(votes, ties.method = "first")
  expect_identical(as.integer(cls)[which(tied)], first[which(tied)])
})

test_that("variables dropped with `. - v` still give NA rows, whatever their type", {
  d <- train[, c("y", "x1", "x2", "f", "o", "id", "k")]
  d$g <- factor(sample(c("u", "v"), nrow(d), replace = TRUE))
  fit <- randomForest(y ~ . - id - g - k - o, data = d, ntree = 30)
  expect_setequal(names(fit$forest$ncat), c("x1", "x2", "f"))
  m <- fp_compile(fit)
  newd <- d[1:12, ]
  newd$id[2] <- NA
  newd$g[4] <- NA
  newd$k[6] <- NA
  newd$o[8] <- NA
  newd$g <- factor(newd$g, levels = c("v", "u", "new"))
  got <- expect_rf_parity(fit, newd, model = m)
  expect_identical(which(is.na(got)), c(2L, 4L, 6L, 8L))
})

test_that("x/y interface: data.frame with factors and ordered factors, missing values are an error", {
  x <- train[, c("x1", "x2", "k", "f", "o")]
  fit <- randomForest(x, train$y, ntree = 50)
  expect_identical(class(fit), "randomForest")
  m <- fp_compile(fit)
  newx <- gen_new(train, 80, seed = 3, na = FALSE)[, c("x1", "x2", "k", "f", "o")]
  expect_rf_parity(fit, newx, model = m)
  expect_rf_parity(fit, newx[1, ], model = m)
  bad <- newx
  bad$x2[7] <- NA
  expect_error(predict(fit, bad), "missing values")
  expect_error(predict_fast(m, bad), class = "fastpredict_error_bad_argument", regexp = "x2")
  bad <- newx
  bad$o[3] <- NA
  expect_error(predict_fast(m, bad), class = "fastpredict_error_bad_argument", regexp = "'o'")

  fit <- randomForest(x, train$cl, ntree = 51)
  m <- fp_compile(fit)
  for (type in c("response", "prob", "vote")) expect_rf_parity(fit, newx, type = type, model = m)
  expect_rf_parity(fit, newx, type = "vote", model = m, norm.votes = FALSE)
})

test_that("x/y interface with a numeric matrix", {
  x <- as.matrix(train[, c("x1", "x2", "k")])
  fit <- randomForest(x, train$y, ntree = 30)
  newx <- as.matrix(gen_new(train, 50, seed = 4, na = FALSE)[, c("x1", "x2", "k")])
  ref <- predict(fit, newx)
  expect_equal(predict_fast(fp_compile(fit), as.data.frame(newx)), unname(ref), tolerance = 1e-12)
  colnames(x) <- NULL
  fit <- randomForest(x, train$y, ntree = 3)
  expect_error(fp_compile(fit), class = "fastpredict_error_unsupported", regexp = "column names")
})

test_that("factors with more than 31, 32 and up to 53 levels decode their splits exactly", {
  for (L in c(32, 33, 53)) {
    set.seed(L)
    n <- 1500
    levs <- sprintf("L%02d", seq_len(L))
    d <- data.frame(g = factor(sample(levs, n, replace = TRUE), levels = levs), x = runif(n))
    effect <- rnorm(L, sd = 2)
    d$y <- effect[as.integer(d$g)] + d$x + rnorm(n, sd = 0.3)
    d$two <- factor(ifelse(d$y > median(d$y), "up", "down"))
    d$three <- cut(d$y, quantile(d$y, c(0, 0.3, 0.6, 1)), labels = c("a", "b", "c"), include.lowest = TRUE)
    newd <- d[sample(n, 300), ]
    newd$x[1] <- NA

    reg <- randomForest(y ~ g + x, data = d, ntree = 20)
    splits <- reg$forest$xbestsplit[reg$forest$bestvar == 1 & reg$forest$nodestatus != -1]
    expect_true(any(splits >= 2^(L - 1)))
    expect_rf_parity(reg, newd)
    # two classes (catmaxb) and three classes (random partitions) code splits differently
    for (resp in c("two", "three")) {
      fit <- randomForest(stats::as.formula(paste(resp, "~ g + x")), data = d, ntree = 21)
      m <- fp_compile(fit)
      expect_rf_parity(fit, newd, type = "prob", model = m)
      expect_rf_parity(fit, newd, model = m)
    }
    xy <- randomForest(d[, c("g", "x")], d$y, ntree = 10)
    expect_rf_parity(xy, newd[-1, c("g", "x")])
  }
  d <- data.frame(g = factor(sprintf("L%02d", 1:54)), y = rnorm(54))
  expect_error(randomForest(y ~ g, data = d), "53")
})

test_that("factor levels are matched by name", {
  fit <- randomForest(y ~ x1 + f + o, data = train, ntree = 40)
  m <- fp_compile(fit)
  newd <- nd[stats::complete.cases(nd), c("x1", "f", "o")]
  ref <- predict(fit, newd)
  # levels in another order (a swap, which predict.randomForest also maps right)
  swapped <- newd
  swapped$f <- factor(as.character(newd$f), levels = c("b", "a", "c", "d", "e"))
  expect_rf_parity(fit, swapped, model = m)
  expect_equal(predict_fast(m, swapped), unname(ref), tolerance = 1e-12)
  # characters for a factor (predict.randomForest refuses them)
  chars <- newd
  chars$f <- as.character(newd$f)
  expect_equal(predict_fast(m, chars), unname(ref), tolerance = 1e-12)
  # an ordered factor of a formula model is read by its own level codes, as
  # predict.randomForest reads it (the fit keeps no levels for it)
  fewer <- newd
  fewer$o <- factor(as.character(newd$o), levels = c("m", "l", "xl", "s"), ordered = TRUE)
  expect_rf_parity(fit, fewer, model = m)

  xy <- randomForest(train[, c("x1", "f", "o")], train$y, ntree = 40)
  mxy <- fp_compile(xy)
  ref <- predict(xy, newd)
  reordered <- newd
  reordered$o <- factor(as.character(newd$o), levels = c("s", "m", "l", "xl"), ordered = TRUE)
  expect_equal(predict_fast(mxy, reordered), unname(ref), tolerance = 1e-12)
  chars$o <- as.character(newd$o)
  expect_equal(predict_fast(mxy, chars), unname(ref), tolerance = 1e-12)
})

test_that("one row, a list of scalars, and zero rows", {
  fit <- randomForest(cl ~ x1 + x2 + f + o, data = train, ntree = 31)
  m <- fp_compile(fit)
  expect_rf_parity(fit, nd[3, ], model = m)
  expect_rf_parity(fit, nd[3, ], type = "prob", model = m)
  row <- list(x1 = 1.5, x2 = -0.2, f = "c", o = factor("m", levels = levels(train$o), ordered = TRUE))
  expect_identical(predict_fast(m, row, type = "vote"),
                   predict_fast(m, data.frame(row, stringsAsFactors = TRUE), type = "vote"))
  zero <- nd[0, ]
  expect_identical(predict_fast(m, zero), factor(character(), levels = c("lo", "mid", "hi")))
  expect_length(predict(fit, zero), 0)
  prob <- predict_fast(m, zero, type = "prob")
  expect_identical(dim(prob), dim(predict(fit, zero, type = "prob")))
  expect_identical(colnames(prob), c("lo", "mid", "hi"))
  reg <- randomForest(y ~ x1 + f, data = train, ntree = 5)
  expect_identical(predict_fast(fp_compile(reg), zero), numeric())
  expect_length(predict(reg, zero), 0)
  # predict.randomForest stops on zero rows with the x/y interface; fastpredict returns zero predictions
  xy <- randomForest(train[, c("x1", "f")], train$y, ntree = 5)
  expect_error(predict(xy, zero[, c("x1", "f")]), "0 rows")
  expect_identical(predict_fast(fp_compile(xy), zero), numeric())
})

test_that("one tree and 500 trees", {
  one <- randomForest(y ~ x1 + x2 + f + o, data = train, ntree = 1)
  expect_rf_parity(one, nd)
  one <- randomForest(cl ~ x1 + x2 + f + o, data = train, ntree = 1)
  expect_rf_parity(one, nd, type = "vote")
  expect_rf_parity(one, nd)
  many <- randomForest(y ~ x1 + x2 + k + f + o, data = train, ntree = 500)
  expect_rf_parity(many, nd)
  many <- randomForest(cl ~ x1 + x2 + k + f + o, data = train, ntree = 500)
  m <- fp_compile(many)
  expect_rf_parity(many, nd, type = "prob", model = m)
  expect_rf_parity(many, nd, model = m)
})

test_that("100,000 rows, and results do not depend on threads", {
  fit <- randomForest(cl ~ x1 + x2 + k + f + o, data = train, ntree = 25)
  m <- fp_compile(fit)
  big <- gen_new(train, 1e5, seed = 5)
  p1 <- expect_rf_parity(fit, big, type = "vote", model = m, threads = 1)
  expect_identical(predict_fast(m, big, type = "vote", threads = 2), p1)
  expect_identical(predict_fast(m, big, threads = 1), predict_fast(m, big, threads = 2))
  reg <- randomForest(y ~ x1 + x2 + k + f + o, data = train, ntree = 25)
  mr <- fp_compile(reg)
  r1 <- expect_rf_parity(reg, big, model = mr, threads = 2)
  expect_identical(predict_fast(mr, big, threads = 1), r1)
})

test_that("save and load give bit-identical predictions", {
  fit <- randomForest(cl ~ x1 + x2 + f + o + flag, data = train, ntree = 30)
  reg <- randomForest(train[, c("x1", "f", "o")], train$y, ntree = 30, corr.bias = TRUE)
  newx <- gen_new(train, 60, seed = 6, na = FALSE)
  for (model in list(fit, reg)) {
    m <- fp_compile(model)
    for (ext in c(".json", ".json.gz")) {
      path <- tempfile(fileext = ext)
      fp_save(m, path)
      m2 <- fp_load(path)
      expect_identical(predict_fast(m2, newx), predict_fast(m, newx))
      expect_identical(fp_to_json(m2), fp_to_json(m))
    }
  }
  m <- fp_compile(fit)
  m2 <- fp_from_json(fp_to_json(m))
  expect_identical(predict_fast(m2, nd, type = "prob"), predict_fast(m, nd, type = "prob"))
})

test_that("bad input: unseen levels, missing columns, wrong types, bad arguments", {
  fit <- randomForest(cl ~ x1 + f + o, data = train, ntree = 10)
  m <- fp_compile(fit)
  newd <- nd[1:5, ]
  bad <- newd
  bad$f <- factor(c("a", "b", "zz", "a", "b"))
  expect_error(predict(fit, bad), "New factor levels")
  expect_error(predict_fast(m, bad), class = "fastpredict_error_unseen_level", regexp = "zz")
  expect_error(predict_fast(m, newd[, c("x1", "o")]), class = "fastpredict_error_missing_column", regexp = "'f'")
  bad <- newd
  bad$x1 <- factor(bad$x1)
  expect_error(predict_fast(m, bad), class = "fastpredict_error_wrong_type", regexp = "x1")
  bad <- newd
  bad$f <- as.integer(bad$f)
  expect_error(predict_fast(m, bad), class = "fastpredict_error_wrong_type", regexp = "'f'")
  expect_error(predict_fast(m, newd, type = "class"), class = "fastpredict_error_bad_argument")
  expect_error(predict_fast(m, newd, cutoff = c(0.2, 0.4, 0.4)), class = "fastpredict_error_unsupported",
               regexp = "cutoff")
  expect_error(predict_fast(m, newd, predict.all = TRUE), class = "fastpredict_error_unsupported",
               regexp = "predict.all")
  expect_error(predict_fast(m, newd, norm.votes = NA), class = "fastpredict_error_bad_argument")

  xy <- randomForest(train[, c("x1", "f", "o")], train$y, ntree = 10)
  mxy <- fp_compile(xy)
  bad <- newd
  bad$o <- factor(as.character(bad$o), levels = c("s", "m", "l", "xl", "xxl"), ordered = TRUE)
  bad$o[1] <- "xxl"
  expect_error(predict_fast(mxy, bad), class = "fastpredict_error_unseen_level", regexp = "xxl")
  bad <- newd
  bad$x1 <- as.character(bad$x1)
  expect_error(predict_fast(mxy, bad), class = "fastpredict_error_wrong_type", regexp = "x1")

  reg <- fp_compile(randomForest(y ~ x1 + f, data = train, ntree = 5))
  expect_error(predict(randomForest(y ~ x1, data = train, ntree = 2), newd, type = "prob"), "regression")
  expect_error(predict_fast(reg, newd, type = "prob"), class = "fastpredict_error_bad_argument")
  expect_error(predict_fast(reg, newd, norm.votes = FALSE), class = "fastpredict_error_bad_argument")
})

test_that("forests fastpredict cannot reproduce are refused, naming what", {
  x <- train[, c("x1", "x2", "f")]
  unsup <- randomForest(x, ntree = 5)
  expect_error(fp_compile(unsup), class = "fastpredict_error_unsupported", regexp = "unsupervised")
  noforest <- randomForest(x, train$y, ntree = 5, keep.forest = FALSE)
  expect_error(fp_compile(noforest), class = "fastpredict_error_unsupported", regexp = "keep.forest")
  fit <- randomForest(x, train$y, ntree = 5)
  other <- structure(fit, class = c("quantregForest", "randomForest"))
  expect_error(fp_compile(other), class = "fastpredict_error_unsupported", regexp = "quantregForest")
  withoff <- randomForest(y ~ x1 + offset(x2), data = train, ntree = 5)
  expect_error(fp_compile(withoff), class = "fastpredict_error_unsupported", regexp = "offset\\(x2\\)")
  ch <- randomForest(y ~ x1 + id, data = train, ntree = 5)
  expect_error(fp_compile(ch), class = "fastpredict_error_unsupported", regexp = "character predictor 'id'")
})

test_that("a 500-tree forest with ~7000 nodes per tree compiles and predicts as R", {
  set.seed(7)
  n <- 10000
  d <- as.data.frame(matrix(rnorm(n * 10), n, 10, dimnames = list(NULL, paste0("x", 1:10))))
  d$f <- factor(sample(letters[1:5], n, replace = TRUE))
  d$y <- d$x1 + 2 * d$x2 * d$x3 + sin(d$x4) + as.integer(d$f) + rnorm(n)
  fit <- randomForest(y ~ ., data = d, ntree = 4)
  # 125 copies of the 4 trees: the size of a real 500-tree forest
  fs <- fit$forest
  rep_cols <- function(a) a[, rep(seq_len(ncol(a)), 125), drop = FALSE]
  for (a in c("nodestatus", "leftDaughter", "rightDaughter", "nodepred", "bestvar", "xbestsplit")) {
    fs[[a]] <- rep_cols(fs[[a]])
  }
  fs$ndbigtree <- rep(fs$ndbigtree, 125)
  fs$ntree <- 500
  fit$forest <- fs
  fit$ntree <- 500
  expect_gt(mean(fs$ndbigtree), 6000)
  m <- fp_compile(fit)
  expect_rf_parity(fit, d[1:200, ], model = m)
})

test_that("a one-column matrix column is a numeric predictor", {
  d <- mtcars
  d$s <- scale(d$hp)
  set.seed(1)
  fit <- randomForest::randomForest(mpg ~ s + wt, data = d, ntree = 20)
  expect_parity_user(fit, d, tol = 1e-12)
})
