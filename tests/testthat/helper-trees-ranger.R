# ranger parity helpers. Every expected value comes from ranger's own
# predict(); class votes are counted from predict(..., predict.all = TRUE).

# Training data with every kind of predictor ranger takes.
ranger_train <- function(n = 400, seed = 1) {
  set.seed(seed)
  d <- data.frame(
    x1 = runif(n),
    x2 = rnorm(n),
    k = sample(0:9, n, replace = TRUE),
    flag = sample(c(TRUE, FALSE), n, replace = TRUE),
    f = factor(sample(c("a", "b", "c", "d"), n, replace = TRUE)),
    o = factor(sample(c("s", "m", "l"), n, replace = TRUE), levels = c("s", "m", "l"), ordered = TRUE),
    ch = sample(c("p", "q", "r"), n, replace = TRUE),
    stringsAsFactors = FALSE
  )
  d$y <- 2 * d$x1 + d$x2 + c(a = 0, b = 1, c = -1, d = 0.5)[as.character(d$f)] + (d$ch == "q") +
    0.3 * as.integer(d$o) + 0.5 * d$flag + 0.05 * d$k + rnorm(n, sd = 0.3)
  d$cls <- cut(d$y + rnorm(n, sd = 0.5), stats::quantile(d$y, c(0, 0.3, 0.7, 1)) + c(-9, 0, 0, 9),
               labels = c("lo", "mid", "hi"))
  d
}

# New data: training rows in another order with numbers pushed outside the
# training range. ranger reads factor codes of the new data, so every
# character level is kept present (factors keep their levels anyway).
ranger_new <- function(train, n = 150, seed = 2) {
  set.seed(seed)
  d <- train[sample(nrow(train), n, replace = TRUE), , drop = FALSE]
  rownames(d) <- NULL
  far <- sample(n, n %/% 5)
  d$x1[far] <- d$x1[far] * runif(length(far), -3, 3)
  d$x2[far] <- d$x2[far] * 4
  if ("ch" %in% names(d)) d$ch[1:3] <- c("p", "q", "r")
  d
}

ranger_ref <- function(fit, newdata, ...) {
  p <- predict(fit, newdata, ...)$predictions
  if (is.matrix(p)) rownames(p) <- NULL
  p
}

expect_ranger_regression <- function(got, fit, newdata, ...) {
  ref <- ranger_ref(fit, newdata, ...)
  expect_type(got, "double")
  expect_null(dim(got))
  expect_equal(got, ref, tolerance = 1e-12)
}

expect_ranger_probs <- function(got, fit, newdata, ...) {
  ref <- ranger_ref(fit, newdata, ...)
  expect_true(is.matrix(got))
  expect_identical(dim(got), dim(ref))
  expect_identical(colnames(got), colnames(ref))
  expect_equal(unname(got), unname(ref), tolerance = 1e-12)
}

# Classes equal on rows without a tie; on tied rows, the first tied class
# in level order (ranger picks one at random).
expect_ranger_classes <- function(got, fit, newdata, num.trees = fit$num.trees) {
  ref <- ranger_ref(fit, newdata, num.trees = num.trees)
  expect_s3_class(got, "factor")
  expect_identical(levels(got), levels(ref))
  expect_length(got, length(ref))
  all <- predict(fit, newdata, predict.all = TRUE, num.trees = num.trees)$predictions
  votes <- t(apply(matrix(all, nrow = nrow(newdata)), 1, tabulate, nbins = nlevels(ref)))
  votes <- matrix(votes, nrow = nrow(newdata))
  tied <- rowSums(votes == apply(votes, 1, max)) > 1
  expect_identical(as.character(got)[!tied], as.character(ref)[!tied])
  expect_identical(as.integer(got)[tied], max.col(votes, ties.method = "first")[tied])
  invisible(tied)
}
