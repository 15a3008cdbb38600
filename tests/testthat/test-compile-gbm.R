# gbm: every distribution, link and response, n.trees as one number or
# several, and the routes of numbers, factors, NA, NaN and unseen levels.

skip_if_not_installed("gbm")
suppressPackageStartupMessages(library(gbm))

# predict_fast() must give what predict.gbm() gives: the same numbers (bit
# for bit, as both add the trees to initF in the same order; softmax within
# 1e-12, as R sums in long double), the same shape and dimnames.
expect_gbm <- function(fit, newdata, ..., type = "link", model = fp_compile(fit), threads = NULL, tol = 0) {
  ref <- suppressWarnings(suppressMessages(predict(fit, newdata, ..., type = type)))
  got <- predict_fast(model, newdata, ..., type = type, threads = threads)
  if (tol == 0) {
    expect_identical(got, ref)
  } else {
    expect_identical(dimnames(got), dimnames(ref))
    expect_equal(got, ref, tolerance = tol)
  }
  invisible(got)
}

fit_gbm <- function(formula, data, distribution, n.trees = 40, depth = 3, ...) {
  suppressWarnings(gbm(formula, data = data, distribution = distribution, n.trees = n.trees,
                       interaction.depth = depth, n.minobsinnode = 5, shrinkage = 0.1, ...))
}

# Numeric, integer, factor (4, 33 and 70 levels) and ordered predictors,
# with NA in every one.
gen_gbm <- function(n, seed) {
  set.seed(seed)
  d <- data.frame(
    x1 = rnorm(n), x2 = runif(n, -2, 2), k = sample(0:30, n, TRUE),
    f = factor(sample(c("a", "b", "c", "d"), n, TRUE)),
    g33 = factor(sample(sprintf("m%02d", 1:33), n, TRUE), levels = sprintf("m%02d", 1:33)),
    g70 = factor(sample(sprintf("L%02d", 1:70), n, TRUE), levels = sprintf("L%02d", 1:70)),
    o = factor(sample(c("lo", "mid", "hi", "top"), n, TRUE), levels = c("lo", "mid", "hi", "top"), ordered = TRUE)
  )
  eta <- d$x1 - 0.5 * d$x2^2 + 0.05 * d$k + c(a = 0, b = 0.8, c = -0.5, d = 0.2)[as.character(d$f)] +
    0.1 * (as.integer(d$g33) %% 5) + 0.15 * (as.integer(d$g70) %% 4) + 0.3 * as.integer(d$o)
  d$eta <- eta - mean(eta)
  for (v in c("x1", "x2", "k", "f", "g33", "g70", "o")) d[[v]][sample(n, n %/% 20)] <- NA
  d
}

train <- gen_gbm(1500, seed = 71)
train$y <- train$eta + rnorm(nrow(train), sd = 0.5)
train$bin <- rbinom(nrow(train), 1, plogis(train$eta))
train$cnt <- rpois(nrow(train), exp(train$eta / 2))
nd <- gen_gbm(400, seed = 72)
# values never seen in training: outside the range, NaN, infinities
nd$x1[1:6] <- c(NaN, Inf, -Inf, 50, -50, NA)
nd$k[7] <- NA
form <- ~ x1 + x2 + k + f + g33 + g70 + o
reg <- fit_gbm(update(form, y ~ .), train, "gaussian", n.trees = 60)
m_reg <- fp_compile(reg)

test_that("gaussian: link and response, one and several n.trees, every predictor kind", {
  expect_gbm(reg, nd, n.trees = 60, model = m_reg)
  expect_gbm(reg, nd, n.trees = 60, type = "response", model = m_reg)
  expect_gbm(reg, nd, n.trees = 1, model = m_reg)
  # several n.trees: a matrix named by them, in the order given
  got <- expect_gbm(reg, nd, n.trees = c(30, 5, 60, 5), model = m_reg)
  expect_identical(colnames(got), c("30", "5", "60", "5"))
  expect_gbm(reg, nd, n.trees = c(10L, 20L), type = "response", model = m_reg)
  # the trees use every predictor, and every split kind
  vars <- unlist(lapply(reg$trees, `[[`, 1L))
  expect_setequal(unique(vars[vars >= 0]), 0:6)
})

test_that("missing values, NaN, infinities and unseen levels route as in gbm", {
  one <- nd[rep(8, 12), ]
  one$x1 <- c(NA, NaN, Inf, -Inf, 0, 0, 0, 0, 0, 0, 0, 0)
  one$f <- factor(c(rep("a", 6), NA, "zz", "a", "a", "a", "a"))
  one$o[9:10] <- NA
  one$g70 <- factor(c(rep("L01", 10), "new", NA))
  o_new <- factor(as.character(one$o), levels = c(levels(train$o), "never"))
  o_new[11] <- "never"
  one$o <- o_new
  expect_gbm(reg, one, n.trees = 60, model = m_reg)
  # NA, an unseen level and NaN: NA and unseen take the missing branch
  r <- predict_fast(m_reg, one, n.trees = 60)
  expect_identical(r[7], r[8])
  # a lone NA in each predictor in turn
  for (v in c("x1", "x2", "k", "f", "g33", "g70", "o")) {
    d1 <- nd[1:20, ]
    d1[[v]][c(3, 11)] <- NA
    expect_gbm(reg, d1, n.trees = 60, model = m_reg)
  }
})

test_that("factor levels are matched by name, whatever their order in newdata", {
  d1 <- nd
  d1$f <- factor(as.character(d1$f), levels = c("d", "extra", "c", "b", "a"))
  d1$g70 <- factor(as.character(d1$g70), levels = rev(levels(train$g70)))
  d1$o <- factor(as.character(d1$o), levels = c("top", "hi", "mid", "lo"))
  expect_gbm(reg, d1, n.trees = 60, model = m_reg)
  expect_identical(predict_fast(m_reg, d1), predict_fast(m_reg, nd))
  # predict.gbm turns the whole newdata into text when a column is
  # character; fastpredict reads character columns as their levels
  d2 <- nd
  for (v in c("f", "g33", "g70", "o")) d2[[v]] <- as.character(d2[[v]])
  expect_identical(predict_fast(m_reg, d2), predict_fast(m_reg, nd))
})

test_that("the default n.trees is predict.gbm's: test set, else cross-validation, else all", {
  expect_gbm(reg, nd, model = m_reg)
  held <- fit_gbm(update(form, y ~ .), train, "gaussian", n.trees = 80, train.fraction = 0.7)
  m <- fp_compile(held)
  expect_gbm(held, nd, model = m)
  expect_identical(predict_fast(m, nd), predict_fast(m, nd, n.trees = which.min(held$valid.error)))
  cv <- fit_gbm(y ~ x1 + x2 + f, train, "gaussian", n.trees = 50, cv.folds = 2, n.cores = 1)
  expect_gbm(cv, nd, model = fp_compile(cv))
})

test_that("n.trees above the fitted number is lowered with predict.gbm's warning", {
  expect_warning(got <- predict_fast(m_reg, nd, n.trees = c(500, 10)),
                 "Number of trees not specified or exceeded number fit so far. Using 60 10.", fixed = TRUE)
  expect_identical(got, suppressWarnings(predict(reg, nd, n.trees = c(500, 10))))
  expect_warning(predict_fast(m_reg, nd, n.trees = 61), "Using 60.", fixed = TRUE)
  # an empty n.trees means the default, as in predict.gbm
  expect_identical(predict_fast(m_reg, nd, n.trees = numeric()), predict_fast(m_reg, nd))
})

test_that("every distribution on the link and the response scale", {
  dists <- list(
    list("gaussian", "y"), list("laplace", "y"), list("tdist", "y"),
    list(list(name = "quantile", alpha = 0.3), "y"), list("huberized", "bin"),
    list("bernoulli", "bin"), list("adaboost", "bin"), list("poisson", "cnt")
  )
  for (dd in dists) {
    f <- fit_gbm(update(form, paste(dd[[2]], "~ .")), train, dd[[1]], n.trees = 30)
    m <- fp_compile(f)
    for (type in c("link", "response")) {
      expect_gbm(f, nd, n.trees = 30, type = type, model = m)
      expect_gbm(f, nd, n.trees = c(7, 30), type = type, model = m)
    }
  }
})

test_that("coxph and pairwise", {
  skip_if_not_installed("survival")
  d <- train
  d$time <- rexp(nrow(d), exp(d$eta))
  d$status <- rbinom(nrow(d), 1, 0.8)
  cox <- fit_gbm(survival::Surv(time, status) ~ x1 + x2 + f + o, d, "coxph", n.trees = 30)
  m <- fp_compile(cox)
  expect_gbm(cox, nd, n.trees = 30, model = m)
  expect_gbm(cox, nd, n.trees = c(3, 30), type = "response", model = m)
  d$qid <- sample(1:60, nrow(d), TRUE)
  d$rel <- pmax(0, round(d$eta + 1))
  pw <- fit_gbm(rel ~ x1 + x2 + f + g33, d, list(name = "pairwise", metric = "ndcg", group = "qid"), n.trees = 30)
  m <- fp_compile(pw)
  expect_gbm(pw, nd, n.trees = 30, model = m)
  expect_gbm(pw, nd, n.trees = 30, type = "response", model = m)
})

test_that("multinomial: an array rows x classes x n.trees, softmax for response", {
  d <- train
  d$cls <- factor(c("lo", "mid", "hi")[findInterval(d$eta + rnorm(nrow(d)), c(-0.5, 0.5)) + 1])
  mn <- fit_gbm(cls ~ x1 + x2 + f + g70 + o, d, "multinomial", n.trees = 25)
  m <- fp_compile(mn)
  got <- expect_gbm(mn, nd, n.trees = 25, model = m)
  expect_identical(dim(got), c(nrow(nd), 3L, 1L))
  expect_gbm(mn, nd, n.trees = c(25, 4, 9), model = m)
  expect_warning(got <- predict_fast(m, nd, n.trees = c(4, 40)), "Using 4 25.", fixed = TRUE)
  expect_identical(got, suppressWarnings(predict(mn, nd, n.trees = c(4, 40))))
  expect_gbm(mn, nd, model = m)
  expect_gbm(mn, nd, n.trees = 25, type = "response", model = m, tol = 1e-12)
  expect_gbm(mn, nd[3, ], n.trees = c(2, 25), type = "response", model = m, tol = 1e-12)
  expect_gbm(mn, nd[0, ], n.trees = c(2, 25), model = m)
  # predict.gbm fails on 0 rows for multinomial responses; fastpredict gives the empty array
  expect_identical(dim(predict_fast(m, nd[0, ], type = "response")), c(0L, 3L, 1L))
})

test_that("one row, no rows, a list of scalars, and a model of one tree", {
  expect_gbm(reg, nd[5, ], n.trees = 60, model = m_reg)
  expect_gbm(reg, nd[0, ], n.trees = 60, model = m_reg)
  expect_gbm(reg, nd[0, ], n.trees = c(2, 3), model = m_reg)
  row <- lapply(nd[9, ], function(x) x)
  expect_identical(predict_fast(m_reg, row), predict(reg, nd[9, ], n.trees = 60))
  one <- fit_gbm(update(form, y ~ .), train, "gaussian", n.trees = 1, depth = 5)
  expect_gbm(one, nd, n.trees = 1)
  expect_gbm(one, nd, type = "response")
})

test_that("500 trees on 100,000 rows, threads agree", {
  big_train <- gen_gbm(5000, seed = 73)
  big_train$y <- big_train$eta + rnorm(nrow(big_train))
  fit <- fit_gbm(update(form, y ~ .), big_train, "gaussian", n.trees = 500, depth = 3)
  m <- fp_compile(fit)
  big <- gen_gbm(1e5, seed = 74)
  got <- expect_gbm(fit, big, n.trees = 500, model = m, threads = 2)
  expect_identical(predict_fast(m, big, threads = 1), got)
  expect_identical(predict_fast(m, big, n.trees = c(100, 500), threads = 1),
                   predict_fast(m, big, n.trees = c(100, 500), threads = 2))
})

test_that("save and load give bit-identical predictions", {
  path <- tempfile(fileext = ".json.gz")
  fp_save(m_reg, path)
  m2 <- fp_load(path)
  expect_identical(predict_fast(m2, nd, n.trees = c(10, 60)), predict_fast(m_reg, nd, n.trees = c(10, 60)))
  expect_identical(predict_fast(fp_from_json(fp_to_json(m_reg)), nd), predict_fast(m_reg, nd))
})

test_that("gbm.fit() models, non-syntactic names and offsets", {
  x <- train[, c("x1", "f", "o", "k")]
  gf <- suppressWarnings(gbm.fit(x, train$y, distribution = "gaussian", n.trees = 30,
                                 interaction.depth = 2, shrinkage = 0.1, verbose = FALSE))
  m <- fp_compile(gf)
  expect_gbm(gf, nd[, names(x)], n.trees = 30, model = m)
  # fastpredict reads the columns by name; predict.gbm by position
  expect_identical(predict_fast(m, nd[, rev(names(x))], n.trees = 30), predict_fast(m, nd, n.trees = 30))
  d <- train
  names(d)[names(d) == "x1"] <- "my x"
  d$off <- runif(nrow(d))
  odd <- fit_gbm(y ~ `my x` + f + offset(off), d, "gaussian", n.trees = 20)
  n2 <- nd
  names(n2)[names(n2) == "x1"] <- "my x"
  n2$off <- 1
  # predict.gbm warns that it leaves out the offset; so does fastpredict (silently)
  expect_gbm(odd, n2, n.trees = 20)
})

test_that("bad input and what cannot be reproduced are refused", {
  expect_error(predict_fast(m_reg, nd[, setdiff(names(nd), "g33")]), class = "fastpredict_error_missing_column")
  d1 <- nd
  d1$x1 <- as.character(d1$x1)
  expect_error(predict_fast(m_reg, d1), class = "fastpredict_error_wrong_type")
  d1 <- nd
  d1$f <- as.integer(d1$f)
  expect_error(predict_fast(m_reg, d1), class = "fastpredict_error_wrong_type")
  expect_error(predict_fast(m_reg, nd, type = "class"), class = "fastpredict_error_bad_argument")
  expect_error(predict_fast(m_reg, nd, n.trees = 0), class = "fastpredict_error_bad_argument")
  expect_error(predict_fast(m_reg, nd, n.trees = 2.5), class = "fastpredict_error_bad_argument")
  expect_error(predict_fast(m_reg, nd, single.tree = TRUE), class = "fastpredict_error_unsupported")
  expect_error(predict_fast(m_reg, nd, num.trees = 3), class = "fastpredict_error_unsupported")
  bad <- reg
  bad$distribution$name <- "tweedie"
  expect_error(fp_compile(bad), "tweedie", class = "fastpredict_error_unsupported")
  bad$distribution$name <- "gamma"
  expect_error(fp_compile(bad), class = "fastpredict_error_unsupported")
  bad <- reg
  bad$c.splits <- bad$c.splits[1]
  expect_error(fp_compile(bad), "c.splits", class = "fastpredict_error_unsupported")
  bad <- reg
  class(bad) <- c("mygbm", "gbm")
  expect_error(fp_compile(bad), class = "fastpredict_error_unsupported")
  logfit <- fit_gbm(y ~ log(abs(x2) + 1) + f, train, "gaussian", n.trees = 5)
  expect_error(fp_compile(logfit), "log(abs(x2) + 1)", fixed = TRUE, class = "fastpredict_error_unsupported")
})

test_that("a one-column matrix column (scale(x) stored in the data) is a numeric predictor", {
  d <- mtcars
  d$s <- scale(d$hp)
  set.seed(1)
  fit <- gbm::gbm(mpg ~ s + wt, data = d, distribution = "gaussian", n.trees = 20, n.minobsinnode = 3)
  expect_parity_user(fit, d, n.trees = 20, tol = 1e-12)
})
