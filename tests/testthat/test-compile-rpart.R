# rpart: every method, type, split kind and missing-value route, against
# rpart's own predict() on generated data.

skip_if_not_installed("rpart")
library(rpart)

train <- gen_train(600, seed = 61)
train$y <- with(train, x1 + (f %in% c("a", "b")) + 0.4 * as.integer(o) + 0.5 * flag +
  (ch == "p") + 0.1 * x2 + rnorm(nrow(train), sd = 0.3))
train$cls <- factor(cut(train$y, quantile(train$y, 0:3 / 3), include.lowest = TRUE,
                        labels = c("low", "mid", "high")))
nd <- gen_new(train, 400, seed = 62)
# many missing values, in every predictor, so that surrogates, majority
# directions and stops are all reached
set.seed(63)
for (v in c("x1", "x2", "x3", "k", "flag", "f", "g", "o", "ch")) nd[[v]][sample(400, 80)] <- NA
fml <- y ~ x1 + x2 + x3 + k + flag + f + g + o + ch
ctl <- rpart.control(cp = 0.002, minsplit = 10)

test_that("anova: types vector, matrix and the default, with missing values", {
  fit <- rpart(fml, train, control = ctl)
  m <- fp_compile(fit)
  expect_s3_class(m, "fp_model")
  expect_rpart_parity(fit, nd, model = m)
  expect_rpart_parity(fit, nd, "vector", model = m)
  expect_rpart_parity(fit, nd, "matrix", model = m)
  expect_rpart_parity(fit, train, model = m)
  expect_identical(predict(m, nd), predict_fast(m, nd))
  # the splits use numeric, logical, factor, ordered and character predictors
  expect_true(all(c("x1", "flag", "f", "o", "ch") %in% fit$frame$var))
  expect_error(predict_fast(m, nd, type = "prob"), class = "fastpredict_error_bad_argument")
  expect_error(predict_fast(m, nd, type = "class"), class = "fastpredict_error_bad_argument")
})

test_that("usesurrogate 0, 1 and 2, with and without surrogates", {
  for (us in 0:2) for (ms in c(0, 1, 5)) {
    fit <- rpart(fml, train, control = rpart.control(cp = 0.002, minsplit = 10, usesurrogate = us,
                                                     maxsurrogate = ms))
    m <- fp_compile(fit)
    expect_rpart_parity(fit, nd, model = m)
    if (us < 2) expect_gt(rpart_stops(fit, nd), 0)
  }
  # surrogates that are themselves missing, then the majority
  fit <- rpart(fml, train, control = rpart.control(cp = 0.002, minsplit = 10, maxsurrogate = 2))
  allna <- nd
  allna[c("x1", "x2", "x3", "k", "flag", "f", "g", "o", "ch")] <- lapply(
    allna[c("x1", "x2", "x3", "k", "flag", "f", "g", "o", "ch")], function(v) {
      v[1:100] <- NA
      v
    })
  expect_rpart_parity(fit, allna)
})

test_that("the majority direction counts observations, not weights, and a tie stops", {
  x <- 1:100
  d <- data.frame(x = as.double(x), z = rnorm(100), y = as.double(x > 30))
  # 30 heavy rows on the left, 70 light ones on the right
  w <- ifelse(x > 30, 1, 10)
  fit <- rpart(y ~ x, d, weights = w, control = rpart.control(maxsurrogate = 0, cp = 0.1))
  expect_identical(fit$frame$n[2:3], c(30L, 70L))
  na <- data.frame(x = c(NA, 5, 50))
  got <- expect_rpart_parity(fit, na)
  expect_identical(got[1], fit$frame$yval[3])
  # 50 against 50: the walk stops at the root
  d$y <- as.double(x > 50)
  fit <- rpart(y ~ x, d, control = rpart.control(maxsurrogate = 0, cp = 0.1))
  expect_identical(fit$frame$n[2:3], c(50L, 50L))
  got <- expect_rpart_parity(fit, na)
  expect_identical(got[1], fit$frame$yval[1])
  expect_identical(rpart_stops(fit, na), 1L)
})

test_that("a numeric split that sends x < cut to the right child", {
  d <- data.frame(x = as.double(1:200), z = as.double(200:1) + rnorm(200))
  d$y <- ifelse(d$x < 120, 5, 1) + rnorm(200, sd = 0.1)
  fit <- rpart(y ~ x + z, d, control = rpart.control(cp = 0.01))
  expect_true(any(fit$splits[, "ncat"] == 1))
  nd2 <- data.frame(x = c(119.5, 120, 120.5, NA, NA, -Inf, Inf, NA), z = c(1, 2, 3, 50, 150, 5, 5, NA))
  nd2$x[1:3] <- fit$splits[1, "index"] + c(-1e-9, 0, 1e-9)
  expect_rpart_parity(fit, nd2)
  expect_rpart_parity(fit, d)
})

test_that("classification: prob (default), class, vector and matrix", {
  fit <- rpart(update(fml, cls ~ .), train, control = ctl)
  m <- fp_compile(fit)
  expect_rpart_parity(fit, nd, model = m)
  for (type in c("prob", "class", "vector", "matrix")) expect_rpart_parity(fit, nd, type, model = m)
  p <- predict_fast(m, nd, type = "class")
  expect_identical(levels(p), c("low", "mid", "high"))
  expect_identical(colnames(predict_fast(m, nd)), c("low", "mid", "high"))
  expect_identical(dim(predict_fast(m, nd, type = "matrix")), c(400L, 8L))
})

test_that("classification with character and logical responses, weights, priors and losses", {
  d <- train
  d$chr <- as.character(d$cls)
  d$lgl <- d$y > median(d$y)
  f2 <- fml
  fit <- rpart(update(f2, chr ~ .), d, control = ctl)
  for (type in c("prob", "class", "vector", "matrix")) expect_rpart_parity(fit, nd, type)
  fit <- rpart(update(f2, lgl ~ .), d, method = "class", control = ctl)
  for (type in c("prob", "class", "vector", "matrix")) expect_rpart_parity(fit, nd, type)
  fit <- rpart(update(f2, cls ~ .), d, weights = w, control = ctl,
               parms = list(prior = c(0.5, 0.3, 0.2), loss = matrix(c(0, 1, 4, 1, 0, 1, 2, 1, 0), 3)))
  for (type in c("prob", "class", "vector", "matrix")) expect_rpart_parity(fit, nd, type)
  fit <- rpart(update(f2, cls ~ .), d, control = ctl, parms = list(split = "information"))
  expect_rpart_parity(fit, nd)
})

test_that("anova with weights, and poisson: vector and matrix", {
  fit <- rpart(fml, train, weights = w, control = ctl)
  expect_rpart_parity(fit, nd)
  fit <- rpart(update(fml, cnt ~ .), train, method = "poisson", control = ctl)
  m <- fp_compile(fit)
  expect_rpart_parity(fit, nd, model = m)
  expect_rpart_parity(fit, nd, "matrix", model = m)
  fit <- rpart(update(fml, cbind(x3, cnt) ~ .), train, method = "poisson", control = ctl)
  expect_rpart_parity(fit, nd, "vector")
  expect_rpart_parity(fit, nd, "matrix")
  expect_error(predict_fast(fp_compile(fit), nd, type = "prob"), class = "fastpredict_error_bad_argument")
})

test_that("factor levels absent at a node route as missing; levels are matched by name", {
  set.seed(64)
  n <- 800
  d <- data.frame(a = factor(sample(sprintf("L%02d", 1:12), n, TRUE)), x = runif(n))
  d$y <- as.integer(d$a) %% 4 + 2 * (d$x > 0.5) + rnorm(n, sd = 0.2)
  # L13 is a training level no row uses: csplit marks it absent everywhere
  d$a <- factor(d$a, levels = c(levels(d$a), "L13"))
  fit <- rpart(y ~ a + x, d, control = rpart.control(cp = 0.001, minsplit = 5))
  m <- fp_compile(fit)
  expect_true(all(fit$csplit[, 13] == 2L) && any(fit$csplit[, 1:12] == 2L))
  new <- data.frame(a = factor(rep(c(levels(d$a)), 20)), x = runif(13 * 20))
  expect_rpart_parity(fit, new, model = m)
  # the same levels in another order, as character, as a level subset
  new2 <- new
  new2$a <- factor(as.character(new$a), levels = rev(levels(d$a)))
  expect_identical(predict_fast(m, new2), predict_fast(m, new))
  new2$a <- as.character(new$a)
  expect_rpart_parity(fit, new2, model = m)
  expect_identical(predict_fast(m, new2), predict_fast(m, new))
  expect_rpart_parity(fit, new[new$a %in% c("L03", "L13"), ], model = m)
  for (us in 0:1) {
    fit <- rpart(y ~ a + x, d, control = rpart.control(cp = 0.001, minsplit = 5, usesurrogate = us,
                                                       maxsurrogate = 0))
    expect_rpart_parity(fit, new)
    expect_gt(rpart_stops(fit, new), 0)
  }
})

test_that("factors with more than 31, 32 and 64 levels", {
  set.seed(65)
  for (nl in c(31, 33, 70)) {
    n <- 3000
    lv <- sprintf("v%03d", seq_len(nl))
    d <- data.frame(a = factor(sample(lv, n, TRUE), levels = lv), x = runif(n),
                    b = factor(sample(lv[1:5], n, TRUE)))
    eff <- rnorm(nl)
    d$y <- eff[as.integer(d$a)] + d$x + rnorm(n, sd = 0.1)
    d$c2 <- factor(ifelse(d$y > 0.5, "yes", "no"))
    fit <- rpart(y ~ a + x + b, d, control = rpart.control(cp = 0.001))
    new <- d[sample(n, 500), ]
    new$a[1:50] <- NA
    new$x[25:75] <- NA
    expect_rpart_parity(fit, new)
    fit <- rpart(c2 ~ a + x + b, d, control = rpart.control(cp = 0.001))
    expect_rpart_parity(fit, new)
    expect_rpart_parity(fit, new, "class")
    o <- d
    o$a <- factor(o$a, levels = lv, ordered = TRUE)
    new$a <- factor(new$a, levels = lv, ordered = TRUE)
    fit <- rpart(y ~ a + x, o, control = rpart.control(cp = 0.001))
    expect_rpart_parity(fit, new)
  }
})

test_that("a single-node tree, pruned and snipped trees", {
  fit <- rpart(fml, train, control = rpart.control(cp = 1))
  expect_identical(nrow(fit$frame), 1L)
  m <- fp_compile(fit)
  expect_rpart_parity(fit, nd, model = m)
  expect_rpart_parity(fit, nd, "matrix", model = m)
  bad <- nd
  bad$f <- as.character(bad$f)
  bad$f[3] <- "zz"
  expect_error(predict_fast(m, bad), class = "fastpredict_error_unseen_level", regexp = "'zz'")
  fit <- rpart(update(fml, cls ~ .), train, control = rpart.control(cp = 1))
  for (type in c("prob", "class", "vector")) expect_rpart_parity(fit, nd, type)
  full <- rpart(fml, train, control = rpart.control(cp = 0.001, minsplit = 5))
  expect_rpart_parity(prune(full, cp = 0.01), nd)
  expect_rpart_parity(snip.rpart(full, c(4, 7)), nd)
})

test_that("one row, zero rows, a named list, and non-syntactic names", {
  fit <- rpart(update(fml, cls ~ .), train, control = ctl)
  m <- fp_compile(fit)
  for (i in c(1, 17, 33)) {
    for (type in c("prob", "class", "vector")) expect_rpart_parity(fit, nd[i, ], type, model = m)
    # predict.rpart() fails on one row for type "matrix" (it drops the
    # dimension); fastpredict gives the one-row matrix
    two <- predict(fit, nd[c(i, i), ], type = "matrix")
    expect_identical(predict_fast(m, nd[i, ], type = "matrix"), unname(two[1, , drop = FALSE]))
  }
  for (type in c("prob", "class", "vector", "matrix")) expect_rpart_parity(fit, nd[0, ], type, model = m)
  row <- as.list(nd[5, ])
  expect_identical(predict_fast(m, row), predict_fast(m, nd[5, ]))
  d <- train
  names(d)[names(d) == "x1"] <- "my x"
  fit <- rpart(y ~ `my x` + f, d, control = ctl)
  new <- nd
  names(new)[names(new) == "x1"] <- "my x"
  expect_rpart_parity(fit, new)
})

test_that("100,000 rows and a deep tree; threads do not change results", {
  set.seed(66)
  big <- gen_train(20000, seed = 67)
  big$y <- with(big, sin(3 * x1) + x2 / 5 + (f == "a") + rnorm(nrow(big), sd = 0.2))
  fit <- rpart(y ~ x1 + x2 + x3 + f + o + ch, big, control = rpart.control(cp = 0, minsplit = 4))
  expect_gt(nrow(fit$frame), 2000)
  m <- fp_compile(fit)
  new <- gen_new(big, 100000, seed = 68)
  new$x1[sample(100000, 5000)] <- NA
  p1 <- expect_rpart_parity(fit, new, model = m, threads = 1)
  expect_identical(predict_fast(m, new, threads = 2), p1)
  expect_identical(predict_fast(m, new, threads = 3), p1)
  fc <- rpart(update(fml, cls ~ .), train, control = ctl)
  mc <- fp_compile(fc)
  new <- gen_new(train, 100000, seed = 69)
  expect_identical(predict_fast(mc, new, threads = 1), predict_fast(mc, new, threads = 2))
  expect_rpart_parity(fc, new, model = mc)
})

test_that("save and load give bit-identical predictions", {
  fit <- rpart(update(fml, cls ~ .), train, control = ctl)
  m <- fp_compile(fit)
  path <- tempfile(fileext = ".json.gz")
  fp_save(m, path)
  m2 <- fp_load(path)
  for (type in c("prob", "class", "vector", "matrix")) {
    expect_identical(predict_fast(m2, nd, type = type), predict_fast(m, nd, type = type))
  }
  expect_identical(fp_to_json(m2), fp_to_json(m))
  expect_rpart_parity(fit, nd, model = fp_from_json(fp_to_json(m)))
})

test_that("bad input: unseen level, missing column, wrong type, bad type, extra argument", {
  fit <- rpart(fml, train, control = ctl)
  m <- fp_compile(fit)
  good <- nd[1:5, ]
  bad <- good
  bad$f <- factor(c("a", "b", "zz", "a", "b"))
  expect_error(predict(fit, bad))
  expect_error(predict_fast(m, bad), class = "fastpredict_error_unseen_level", regexp = "'f'.*'zz'")
  bad <- good
  bad$ch[2] <- "nope"
  expect_error(predict_fast(m, bad), class = "fastpredict_error_unseen_level", regexp = "'nope'")
  # every predictor is required, even one that no split uses
  unused <- setdiff(all.vars(fml[[3]]), fit$frame$var)
  for (v in c("x1", unused)) {
    expect_error(predict(fit, good[setdiff(names(good), v)]))
    expect_error(predict_fast(m, good[setdiff(names(good), v)]),
                 class = "fastpredict_error_missing_column", regexp = v)
  }
  bad <- good
  bad$x1 <- as.character(bad$x1)
  expect_error(predict_fast(m, bad), class = "fastpredict_error_wrong_type", regexp = "'x1'")
  bad <- good
  bad$flag <- as.numeric(bad$flag)
  expect_error(predict(fit, bad))
  expect_error(predict_fast(m, bad), class = "fastpredict_error_wrong_type", regexp = "'flag'")
  bad <- good
  bad$f <- 1:5
  expect_error(predict_fast(m, bad), class = "fastpredict_error_wrong_type", regexp = "'f'")
  expect_error(predict_fast(m, good, type = "prob"), class = "fastpredict_error_bad_argument")
  expect_error(predict_fast(m, good, type = "response"), class = "fastpredict_error_bad_argument")
  expect_error(predict_fast(m, good, na.action = na.omit), class = "fastpredict_error_unsupported",
               regexp = "na.action")
})

test_that("models fastpredict cannot reproduce are refused, naming what", {
  ulist <- list(
    init = function(y, offset, parms, wt) {
      list(y = y, parms = NULL, numresp = 1, numy = 1,
           summary = function(yval, dev, wt, ylevel, digits) "")
    },
    eval = function(y, wt, parms) list(label = mean(y), deviance = sum((y - mean(y))^2)),
    split = function(y, wt, x, parms, continuous) {
      n <- length(y)
      if (continuous) list(goodness = rep(0, n - 1), direction = rep(-1, n - 1))
      else list(goodness = rep(0, length(unique(x)) - 1), direction = sort(unique(x)))
    }
  )
  fit <- rpart(y ~ x1, train, method = ulist)
  expect_error(fp_compile(fit), class = "fastpredict_error_unsupported", regexp = "method 'user'")
  fit <- rpart(y ~ log(x1) + f, train)
  expect_error(fp_compile(fit), class = "fastpredict_error_unsupported", regexp = "log\\(x1\\)")
  fit <- rpart(y ~ x1 + factor(k), train)
  expect_error(fp_compile(fit), class = "fastpredict_error_unsupported", regexp = "factor\\(k\\)")
  d <- train
  d$f <- addNA(d$f)
  d$f[1:50] <- NA
  fit <- rpart(y ~ x1 + f, d)
  expect_error(fp_compile(fit), class = "fastpredict_error_unsupported", regexp = "level NA")
  fit <- rpart(y ~ x1 + offset(off), train)
  expect_error(fp_compile(fit), class = "fastpredict_error_unsupported", regexp = "offset")
  fit <- rpart(y ~ x1, train)
  class(fit) <- c("myrpart", "rpart")
  expect_error(fp_compile(fit), class = "fastpredict_error_unsupported", regexp = "myrpart")
})

test_that("method 'exp' (survival trees): the relative event rate, and type matrix", {
  skip_if_not_installed("survival")
  veteran <- survival::veteran
  fit <- rpart(survival::Surv(time, status) ~ ., data = veteran)
  expect_identical(fit$method, "exp")
  expect_parity_user(fit, veteran, tol = 0)
  # (predict.rpart() cannot give type "matrix" for one row)
  expect_rpart_parity(fit, veteran, type = "matrix")
  expect_rpart_parity(fit, veteran[sample(nrow(veteran)), ], type = "matrix")
  fit <- rpart(survival::Surv(time, status) ~ karno + celltype + age, data = veteran,
               control = rpart.control(cp = 0.001, maxsurrogate = 2))
  nd <- veteran
  nd$karno[c(2, 5, 9)] <- NA
  nd$celltype[c(5, 7)] <- NA
  expect_rpart_parity(fit, nd)
})

test_that("a one-column matrix column is a numeric predictor", {
  d <- mtcars
  d$s <- scale(d$hp)
  fit <- rpart(mpg ~ s + wt, data = d, control = rpart.control(minsplit = 5))
  expect_parity_user(fit, d, tol = 0)
})
