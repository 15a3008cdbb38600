# ranger: regression, classification and probability forests in every
# unordered-factor mode, against ranger's own predict().
skip_if_not_installed("ranger")

tr <- ranger_train()
nd <- ranger_new(tr)
preds <- c("x1", "x2", "k", "flag", "f", "o", "ch")
fit_ranger <- function(formula, ...) {
  ranger::ranger(formula, data = tr, num.trees = 40, seed = 7, num.threads = 1, ...)
}

test_that("regression forests match predict() in every unordered-factor mode", {
  for (mode in c("ignore", "order", "partition")) {
    fit <- fit_ranger(y ~ x1 + x2 + k + flag + f + o + ch, respect.unordered.factors = mode)
    m <- fp_compile(fit, data = tr)
    expect_ranger_regression(predict_fast(m, nd), fit, nd)
    expect_ranger_regression(predict_fast(m, nd, num.trees = 7), fit, nd, num.trees = 7)
    expect_identical(predict_fast(m, nd, type = "response"), predict_fast(m, nd))
  }
})

test_that("classification forests give the same classes, ties to the first class", {
  for (mode in c("ignore", "order", "partition")) {
    fit <- fit_ranger(cls ~ x1 + x2 + k + flag + f + o + ch, respect.unordered.factors = mode)
    m <- fp_compile(fit, data = tr)
    expect_ranger_classes(predict_fast(m, nd), fit, nd)
    tied <- expect_ranger_classes(predict_fast(m, nd, num.trees = 4), fit, nd, num.trees = 4)
    expect_true(any(tied))
  }
})

test_that("probability forests give class-named matrices in level order", {
  # Class values are numbered in order of appearance: "hi" first here.
  tr2 <- tr[order(tr$cls != "hi"), ]
  tr2$cls <- factor(tr2$cls, levels = c("mid", "none", "lo", "hi"))
  for (mode in c("ignore", "order", "partition")) {
    fit <- suppressWarnings(ranger::ranger(cls ~ ., data = tr2[c(preds, "cls")], num.trees = 30, seed = 3,
                                           probability = TRUE, respect.unordered.factors = mode))
    expect_false(identical(fit$forest$class.values, sort(fit$forest$class.values)))
    m <- fp_compile(fit, data = tr2)
    got <- predict_fast(m, nd)
    expect_identical(colnames(got), c("mid", "lo", "hi"))
    expect_ranger_probs(got, fit, nd)
    expect_ranger_probs(predict_fast(m, nd, num.trees = 3), fit, nd, num.trees = 3)
  }
  # classification keeps the unused response level, as predict() does
  fit <- suppressWarnings(ranger::ranger(cls ~ x1 + f, data = tr2, num.trees = 15, seed = 3))
  expect_ranger_classes(predict_fast(fp_compile(fit, data = tr2), nd), fit, nd)
})

test_that("x/y, matrix and dependent.variable.name interfaces; columns by name", {
  fit <- ranger::ranger(x = tr[preds], y = tr$y, num.trees = 30, seed = 1)
  m <- fp_compile(fit, data = tr)
  expect_ranger_regression(predict_fast(m, nd), fit, nd)
  shuffled <- nd[rev(c(preds, "cls"))]
  expect_ranger_regression(predict_fast(m, shuffled), fit, nd)

  fit <- ranger::ranger(dependent.variable.name = "cls", data = tr[c("cls", "ch", "x2", "f")],
                        num.trees = 31, seed = 1, respect.unordered.factors = "partition")
  expect_identical(fit$forest$independent.variable.names, c("ch", "x2", "f"))
  expect_ranger_classes(predict_fast(fp_compile(fit, data = tr), nd), fit, nd)

  x <- as.matrix(tr[c("x2", "x1", "k")])
  fit <- ranger::ranger(x = x, y = tr$y, num.trees = 30, seed = 1)
  m <- fp_compile(fit)
  expect_ranger_regression(predict_fast(m, as.data.frame(x[1:50, ])), fit, x[1:50, ])

  # the formula's variable order, not the data's, numbers the split variables
  fit <- fit_ranger(y ~ ch + x2 + o + x1)
  expect_ranger_regression(predict_fast(fp_compile(fit, data = tr), nd), fit, nd)
})

test_that("partition splits decode factors with more than 31, 32 and up to 53 levels", {
  set.seed(5)
  n <- 600
  lv <- sprintf("L%02d", 1:53)
  d <- data.frame(x = runif(n),
                  f33 = factor(sample(lv[1:33], n, TRUE), levels = lv[1:33]),
                  f40 = factor(sample(lv[1:40], n, TRUE), levels = lv[1:40]),
                  f53 = factor(sample(lv, n, TRUE), levels = lv))
  d$y <- d$x + as.integer(d$f33) %% 3 + as.integer(d$f53) %% 2 + (as.integer(d$f40) > 35) + rnorm(n, sd = 0.2)
  d$cls <- factor(ifelse(d$y > stats::median(d$y), "up", "down"))
  # extratrees draws random partitions (exhaustive search is exponential)
  fit <- ranger::ranger(y ~ x + f33 + f40 + f53, data = d, num.trees = 60, seed = 1, splitrule = "extratrees")
  masks <- unlist(fit$forest$split.values)[unlist(fit$forest$split.varIDs) > 0]
  expect_true(any(masks >= 2^31) && any(masks >= 2^32) && any(masks >= 2^45))
  m <- fp_compile(fit, data = d)
  new <- d[sample(n, 300, TRUE), ]
  expect_ranger_regression(predict_fast(m, new), fit, new)
  fit <- ranger::ranger(cls ~ x + f33 + f40 + f53, data = d, num.trees = 61, seed = 2, splitrule = "extratrees")
  expect_ranger_classes(predict_fast(fp_compile(fit, data = d), new), fit, new)
  fit <- ranger::ranger(cls ~ x + f53, data = d, num.trees = 20, seed = 2, splitrule = "extratrees", probability = TRUE)
  expect_ranger_probs(predict_fast(fp_compile(fit, data = d), new), fit, new)
})

test_that("'order' mode needs no data, and unseen levels sort last as in ranger", {
  fit <- fit_ranger(y ~ x1 + f + o + ch, respect.unordered.factors = "order")
  m <- fp_compile(fit)
  expect_ranger_regression(predict_fast(m, nd), fit, nd)
  new <- nd
  new$f <- factor(as.character(new$f), levels = c("zz", levels(tr$f), "aa"))
  new$f[c(2, 9)] <- c("zz", "aa")
  new$ch[c(4, 9, 20)] <- c("new1", "a0", "zzz")
  new$o <- factor(as.character(new$o), levels = c("s", "m", "l", "xl"), ordered = TRUE)
  new$o[5] <- "xl"
  expect_ranger_regression(predict_fast(m, new), fit, new)
  fit <- fit_ranger(cls ~ x1 + f + o + ch, respect.unordered.factors = "order")
  expect_ranger_classes(predict_fast(fp_compile(fit), new), fit, new)
})

test_that("levels are matched by name, where ranger reads positions", {
  fit <- fit_ranger(y ~ x1 + f + ch)
  m <- fp_compile(fit, data = tr)
  ref <- ranger_ref(fit, nd)
  permuted <- nd
  permuted$f <- factor(as.character(nd$f), levels = rev(levels(tr$f)))
  expect_equal(predict_fast(m, permuted), ref, tolerance = 1e-12)
  expect_false(isTRUE(all.equal(ranger_ref(fit, permuted), ref)))
  # one row at a time gives each row's prediction from the whole batch
  one <- vapply(1:5, function(i) predict_fast(m, nd[i, ]), 0)
  expect_equal(one, ref[1:5], tolerance = 1e-12)
  one <- vapply(1:5, function(i) predict_fast(m, as.list(nd[i, c("x1", "f", "ch")])), 0)
  expect_equal(one, ref[1:5], tolerance = 1e-12)
})

test_that("one row, zero rows, one tree and 500 trees", {
  fit <- fit_ranger(y ~ x1 + x2 + f + o)
  m <- fp_compile(fit, data = tr)
  expect_ranger_regression(predict_fast(m, nd[3, ]), fit, nd[3, ])
  expect_identical(predict_fast(m, nd[0, ]), numeric())
  fit <- fit_ranger(cls ~ x1 + x2 + f + o)
  m <- fp_compile(fit, data = tr)
  expect_ranger_classes(predict_fast(m, nd[3, ]), fit, nd[3, ])
  expect_identical(predict_fast(m, nd[0, ]), factor(character(), levels = c("lo", "mid", "hi")))
  fit <- fit_ranger(cls ~ x1 + x2 + f + o, probability = TRUE)
  m <- fp_compile(fit, data = tr)
  expect_ranger_probs(predict_fast(m, nd[3, ]), fit, nd[3, ])
  empty <- predict_fast(m, nd[0, ])
  expect_identical(dim(empty), c(0L, 3L))
  expect_identical(colnames(empty), c("lo", "mid", "hi"))

  for (p in c(FALSE, TRUE)) {
    one <- ranger::ranger(cls ~ x1 + f + ch, data = tr, num.trees = 1, seed = 4, probability = p)
    got <- predict_fast(fp_compile(one, data = tr), nd)
    if (p) expect_ranger_probs(got, one, nd) else expect_ranger_classes(got, one, nd)
  }
  one <- ranger::ranger(y ~ x1 + f + ch, data = tr, num.trees = 1, seed = 4)
  expect_ranger_regression(predict_fast(fp_compile(one, data = tr), nd), one, nd)
  stump <- ranger::ranger(y ~ x1, data = tr, num.trees = 3, seed = 4, max.depth = 1)
  expect_ranger_regression(predict_fast(fp_compile(stump), nd), stump, nd)

  big <- ranger::ranger(y ~ ., data = tr[c(preds, "y")], num.trees = 500, seed = 9, num.threads = 2)
  m <- fp_compile(big, data = tr)
  expect_ranger_regression(predict_fast(m, nd), big, nd)
  expect_ranger_regression(predict_fast(m, nd, num.trees = 123), big, nd, num.trees = 123)
  big <- ranger::ranger(cls ~ ., data = tr[c(preds, "cls")], num.trees = 500, seed = 9, num.threads = 2,
                        respect.unordered.factors = "partition")
  expect_ranger_classes(predict_fast(fp_compile(big, data = tr), nd), big, nd)
})

test_that("100,000 rows; threads do not change the result", {
  many <- ranger_new(tr, 1e5, seed = 12)
  fit <- ranger::ranger(y ~ ., data = tr[c(preds, "y")], num.trees = 12, seed = 2, num.threads = 2)
  m <- fp_compile(fit, data = tr)
  got <- predict_fast(m, many, threads = 2)
  expect_ranger_regression(got, fit, many, num.threads = 2)
  expect_identical(predict_fast(m, many, threads = 1), got)
  fit <- ranger::ranger(cls ~ ., data = tr[c(preds, "cls")], num.trees = 12, seed = 2, num.threads = 2,
                        probability = TRUE, respect.unordered.factors = "partition")
  m <- fp_compile(fit, data = tr)
  got <- predict_fast(m, many, threads = 2)
  expect_ranger_probs(got, fit, many, num.threads = 2)
  expect_identical(predict_fast(m, many, threads = 1), got)
})

test_that("save and load give bit-identical predictions", {
  fits <- list(
    fit_ranger(y ~ x1 + f + o + ch, respect.unordered.factors = "order"),
    fit_ranger(cls ~ x1 + x2 + f + ch + flag, respect.unordered.factors = "partition"),
    fit_ranger(cls ~ x1 + x2 + f + ch, probability = TRUE)
  )
  for (fit in fits) {
    m <- fp_compile(fit, data = tr)
    for (ext in c(".json", ".json.gz")) {
      path <- tempfile(fileext = ext)
      fp_save(m, path)
      m2 <- fp_load(path)
      expect_identical(predict_fast(m2, nd), predict_fast(m, nd))
      unlink(path)
    }
    expect_identical(predict_fast(fp_from_json(fp_to_json(m)), nd), predict_fast(m, nd))
  }
})

test_that("missing values are an error, as in ranger", {
  fit <- fit_ranger(y ~ x1 + k + f + ch, respect.unordered.factors = "order")
  m <- fp_compile(fit, data = tr)
  for (v in c("x1", "k", "f", "ch")) {
    bad <- nd
    bad[[v]][4] <- NA
    expect_error(predict(fit, bad), "Missing data")
    expect_error(predict_fast(m, bad), class = "fastpredict_error_bad_argument", regexp = sprintf("'%s'", v))
  }
  # a predictor no tree splits on still has to be complete
  fit <- ranger::ranger(y ~ x1 + x2, data = tr, num.trees = 2, seed = 1, max.depth = 1, mtry = 1,
                        split.select.weights = c(1, 0))
  expect_false(1 %in% unlist(fit$forest$split.varIDs))
  bad <- nd
  bad$x2[1] <- NA
  expect_error(predict(fit, bad), "Missing data in columns: x2")
  expect_error(predict_fast(fp_compile(fit), bad), class = "fastpredict_error_bad_argument", regexp = "'x2'")
})

test_that("a newer forest's default child for missing values is followed", {
  # ranger >= 0.17 stores a third child vector (0 = left). Fake one on a
  # 0.14 forest: all missing to the right child behaves as +Inf, all to
  # the left (zeros) as -Inf.
  fit <- fit_ranger(y ~ x1 + x2 + f)
  new <- nd
  new$x1[c(1, 5, 9)] <- NA
  new$x2[c(2, 5)] <- NA
  for (side in c("right", "left")) {
    fake <- fit
    fake$forest$child.nodeIDs <- lapply(fit$forest$child.nodeIDs, function(ch) {
      c(ch, list(if (side == "right") ch[[2]] else numeric(length(ch[[1]]))))
    })
    filled <- new
    for (v in c("x1", "x2")) filled[[v]][is.na(new[[v]])] <- if (side == "right") Inf else -Inf
    expect_ranger_regression(predict_fast(fp_compile(fake, data = tr), new), fit, filled)
  }
  fake <- fit_ranger(y ~ x1 + f, respect.unordered.factors = "partition")
  fake$forest$child.nodeIDs <- lapply(fake$forest$child.nodeIDs, function(ch) c(ch, ch[1]))
  expect_error(fp_compile(fake, data = tr), class = "fastpredict_error_unsupported", regexp = "partition")
})

test_that("unseen levels, missing columns and wrong types are refused", {
  for (mode in c("ignore", "partition")) {
    fit <- fit_ranger(y ~ x1 + f + ch, respect.unordered.factors = mode)
    m <- fp_compile(fit, data = tr)
    bad <- nd
    bad$f <- factor(as.character(bad$f), levels = c(levels(tr$f), "zz"))
    bad$f[3] <- "zz"
    expect_error(predict_fast(m, bad), class = "fastpredict_error_unseen_level", regexp = "'f'.*'zz'")
    bad <- nd
    bad$ch[2] <- "nope"
    expect_error(predict_fast(m, bad), class = "fastpredict_error_unseen_level", regexp = "'nope'")
    expect_error(predict_fast(m, nd[c("x1", "f")]), class = "fastpredict_error_missing_column", regexp = "'ch'")
    bad <- nd
    bad$f <- as.integer(bad$f)
    expect_error(predict_fast(m, bad), class = "fastpredict_error_wrong_type", regexp = "'f'")
  }
  fit <- fit_ranger(y ~ x1 + flag, respect.unordered.factors = "ignore")
  m <- fp_compile(fit, data = tr)
  expect_ranger_regression(predict_fast(m, nd), fit, nd)
  bad <- nd
  bad$flag <- as.numeric(bad$flag)
  expect_error(predict_fast(m, bad), class = "fastpredict_error_wrong_type", regexp = "'flag'")
})

test_that("without the training data, columns are read as predict.ranger() reads them", {
  # factors by level position in the new data, numbers and logicals as they are
  fit <- fit_ranger(y ~ x1 + f + flag + o)
  m <- fp_compile(fit)
  expect_ranger_regression(predict_fast(m, nd), fit, nd)
  coded <- nd
  coded$f <- as.integer(coded$f)
  expect_ranger_regression(predict_fast(m, coded), fit, nd)
  # a factor with its levels in another order: read by position, as ranger does
  relevelled <- nd
  relevelled$f <- factor(as.character(nd$f), levels = rev(levels(nd$f)))
  expect_ranger_regression(predict_fast(m, relevelled), fit, relevelled)
  # text would be coded by the values present: refused, with the way out
  texted <- nd
  texted$f <- as.character(texted$f)
  expect_error(predict_fast(m, texted), class = "fastpredict_error_wrong_type", regexp = "'f'")
  expect_error(predict_fast(m, texted), class = "fastpredict_error_wrong_type",
               regexp = "data = <the training data>", fixed = TRUE)
  # partition splits read level positions too, with a warning at compile time
  for (tt in c("regression", "classification")) {
    fit <- if (tt == "regression") {
      fit_ranger(y ~ x1 + f + ch, respect.unordered.factors = "partition")
    } else {
      fit_ranger(cls ~ x1 + f + ch, respect.unordered.factors = "partition")
    }
    expect_warning(m <- fp_compile(fit), "level position")
    byfactor <- nd
    byfactor$ch <- factor(byfactor$ch)
    if (tt == "regression") {
      expect_ranger_regression(predict_fast(m, byfactor), fit, byfactor)
    } else {
      expect_ranger_classes(predict_fast(m, byfactor), fit, byfactor)
    }
  }
})

test_that("the training data is checked against the forest", {
  fit <- fit_ranger(y ~ x1 + f + ch, respect.unordered.factors = "partition")
  expect_error(fp_compile(fit, data = tr["x1"]), class = "fastpredict_error_bad_argument", regexp = "lacks.*'f'")
  expect_error(fp_compile(fit, data = as.matrix(tr)), class = "fastpredict_error_bad_argument")
  wrong <- tr
  wrong$f <- as.integer(wrong$f)
  expect_error(fp_compile(fit, data = wrong), class = "fastpredict_error_bad_argument", regexp = "'f'")
  wrong <- tr
  wrong$f <- factor(as.character(wrong$f), levels = c("a", "b"))
  expect_error(fp_compile(fit, data = wrong), class = "fastpredict_error_bad_argument", regexp = "does not match")
  fit <- fit_ranger(y ~ x1 + f, respect.unordered.factors = "ignore")
  expect_error(fp_compile(fit, data = wrong), class = "fastpredict_error_bad_argument", regexp = "'f'")
  fit <- fit_ranger(y ~ x1 + f, respect.unordered.factors = "order")
  expect_error(fp_compile(fit, data = wrong), class = "fastpredict_error_bad_argument", regexp = "'f'")
  dated <- tr
  dated$x1 <- as.Date("2020-01-01") + 1:nrow(tr)
  expect_error(fp_compile(fit, data = dated), class = "fastpredict_error_unsupported", regexp = "Date")
})

test_that("unsupported forests, types and arguments are refused by name", {
  fit <- fit_ranger(y ~ x1 + f, write.forest = FALSE)
  expect_error(fp_compile(fit), class = "fastpredict_error_unsupported", regexp = "write.forest")
  fit <- fit_ranger(y ~ x1 + x2)
  m <- fp_compile(fit)
  for (t in c("se", "terminalNodes", "quantiles")) {
    expect_error(predict_fast(m, nd, type = t), class = "fastpredict_error_bad_argument", regexp = t)
  }
  expect_error(predict_fast(m, nd, predict.all = TRUE), class = "fastpredict_error_unsupported", regexp = "predict.all")
  expect_error(predict_fast(m, nd, num.trees = 41), class = "fastpredict_error_bad_argument", regexp = "between 1 and 40")
  expect_error(predict_fast(m, nd, num.trees = 0), class = "fastpredict_error_bad_argument")
})

ranger_predictions <- function(fit, newdata, ...) predict(fit, newdata, ...)$predictions

test_that("survival forests give predict()'s unique.death.times, chf and survival", {
  skip_if_not_installed("survival")
  veteran <- survival::veteran
  fit <- ranger::ranger(survival::Surv(time, status) ~ ., data = veteran, num.trees = 50, seed = 1)
  expect_identical(fit$treetype, "Survival")
  survival_parts <- function(fit, newdata, ...) predict(fit, newdata, ...)[c("unique.death.times", "chf", "survival")]
  m <- expect_parity_user(fit, veteran, ref = survival_parts, tol = 1e-12)
  expect_parity_user(fit, veteran, model = m, num.trees = 9, ref = survival_parts, tol = 1e-12)
  got <- predict_fast(m, veteran[1:3, ])
  expect_identical(got$unique.death.times, fit$unique.death.times)
  expect_identical(dim(got$survival), c(3L, length(fit$unique.death.times)))
  # with the training data, factors are matched by name
  m2 <- fp_compile(fit, data = veteran)
  expect_parity_user(fit, veteran, model = m2, ref = survival_parts, tol = 1e-12)
  # the x/y interface, and a forest without factors
  surv <- data.frame(time = rexp(100), status = rbinom(100, 1, 0.7), x = rnorm(100), z = runif(100))
  fit <- ranger::ranger(dependent.variable.name = "time", status.variable.name = "status", data = surv,
                        num.trees = 20, seed = 2)
  expect_parity_user(fit, surv, ref = survival_parts, tol = 1e-12)
  expect_identical(predict_fast(fp_compile(fit), surv[0, ])$chf, matrix(0, 0, length(fit$unique.death.times)))
  # ranger itself has no quantiles for survival forests
  expect_error(predict_fast(m, veteran, type = "quantiles"), class = "fastpredict_error_bad_argument")
  path <- tempfile(fileext = ".json")
  fp_save(m, path)
  expect_identical(predict_fast(fp_load(path), veteran), predict_fast(m, veteran))
})

test_that("classification of a numeric or logical response returns ranger's numbers", {
  fit <- ranger::ranger(cyl ~ ., data = mtcars, classification = TRUE, num.trees = 51, seed = 1)
  expect_null(fit$forest$levels)
  m <- expect_parity_user(fit, mtcars, ref = ranger_predictions)
  expect_type(predict_fast(m, mtcars), "double")
  d <- transform(iris, setosa = Species == "setosa", big = as.integer(Sepal.Length > 6) * 10L)
  fit <- ranger::ranger(setosa ~ Sepal.Width + Petal.Width, data = d, classification = TRUE, num.trees = 31, seed = 2)
  expect_parity_user(fit, d, ref = ranger_predictions)
  fit <- ranger::ranger(x = d[1:4], y = d$big, classification = TRUE, num.trees = 31, seed = 3)
  expect_parity_user(fit, d, ref = ranger_predictions)
  # tied votes (an even number of trees) go to the smallest value
  fit <- ranger::ranger(cyl ~ ., data = mtcars, classification = TRUE, num.trees = 2, seed = 4)
  all <- predict(fit, mtcars, predict.all = TRUE)$predictions
  tied <- apply(all, 1, function(v) sum(table(v) == max(table(v))) > 1)
  expect_true(any(tied))
  smallest <- apply(all, 1, function(v) min(as.numeric(names(which(table(v) == max(table(v)))))))
  got <- predict_fast(fp_compile(fit), mtcars)
  expect_identical(got[tied], unname(smallest[tied]))
  expect_identical(got[!tied], predict(fit, mtcars)$predictions[!tied])
})

test_that("probability forests of a numeric response: columns in class.values order, unnamed", {
  fit <- ranger::ranger(cyl ~ ., data = mtcars, probability = TRUE, num.trees = 40, seed = 1)
  expect_false(identical(fit$forest$class.values, sort(fit$forest$class.values)))
  m <- expect_parity_user(fit, mtcars, ref = ranger_predictions, tol = 1e-12)
  expect_null(colnames(predict_fast(m, mtcars)))
  expect_parity_user(fit, mtcars, model = m, num.trees = 7, ref = ranger_predictions, tol = 1e-12)
})

test_that("sparse new data (dgCMatrix) predicts as predict.ranger() on it", {
  skip_if_not_installed("Matrix")
  x <- as.matrix(mtcars[-1])
  x[sample(length(x), 100)] <- 0
  sx <- Matrix::Matrix(x, sparse = TRUE)
  expect_s4_class(sx, "dgCMatrix")
  fit <- ranger::ranger(x = x, y = mtcars$mpg, num.trees = 30, seed = 1)
  m <- fp_compile(fit)
  for (nd in list(sx, sx[sample(nrow(sx)), ], sx[5, , drop = FALSE])) {
    expect_equal(predict_fast(m, nd), ranger_predictions(fit, nd), tolerance = 1e-12)
  }
  # a forest grown on sparse data, a classifier, and columns by name in another order
  fit <- ranger::ranger(x = sx, y = factor(mtcars$am), num.trees = 31, seed = 2)
  expect_identical(predict_fast(fp_compile(fit), sx), ranger_predictions(fit, sx))
  fit <- ranger::ranger(mpg ~ ., data = mtcars, num.trees = 20, seed = 3)
  expect_equal(predict_fast(fp_compile(fit), sx[, rev(colnames(sx))]), ranger_predictions(fit, sx),
               tolerance = 1e-12)
})

test_that("a one-column matrix column (scale(x) stored in the data) is a numeric column", {
  d <- mtcars
  d$s <- scale(d$hp)
  fit <- ranger::ranger(mpg ~ s + wt, data = d, num.trees = 20, seed = 1)
  expect_parity_user(fit, d, ref = ranger_predictions, tol = 1e-12)
  expect_parity_user(fit, d, model = fp_compile(fit, data = d), ref = ranger_predictions, tol = 1e-12)
})
