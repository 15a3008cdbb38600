test_that("lm on mtcars: the issue's example", {
  fit <- lm(mpg ~ wt * factor(cyl) + poly(hp, 2) + log(disp), data = mtcars)
  m <- fp_compile(fit)
  expect_s3_class(m, "fp_model")
  expect_true(is_fp_model(m))
  expect_parity(fit, mtcars, model = m)
  expect_parity(fit, mtcars[sample(nrow(mtcars)), ], model = m)
  expect_equal(predict(m, mtcars), predict_fast(m, mtcars))
  # a fitted model is compiled on the fly
  expect_equal(predict_fast(fit, mtcars), predict_fast(m, mtcars))
})

test_that("models fastpredict cannot reproduce are refused, naming what", {
  expect_error(fp_compile(mtcars), class = "fastpredict_error_unsupported", regexp = "data.frame")
  expect_error(fp_compile(lm(mpg ~ sin(wt), data = mtcars)), class = "fastpredict_error_unsupported",
               regexp = "'sin'")
  expect_error(fp_compile(lm(mpg ~ cut(wt, 3), data = mtcars)), class = "fastpredict_error_unsupported",
               regexp = "cut\\(wt, 3\\)")
  expect_error(fp_compile(lm(mpg ~ poly(wt, hp, degree = 2), data = mtcars)),
               class = "fastpredict_error_unsupported", regexp = "several variables")
  expect_error(fp_compile(lm(mpg ~ I(wt > 3) + cut(hp, 4), data = mtcars)),
               class = "fastpredict_error_unsupported", regexp = "cut\\(hp, 4\\).*the breaks as numbers")
  expect_error(fp_compile(lm(mpg ~ wt + I(1 / (wt + 1e400)), data = mtcars)),
               class = "fastpredict_error_unsupported", regexp = "non-finite constant")
  local({
    log <- function(x) base::log(x + 1)
    fit <- lm(mpg ~ log(wt), data = mtcars)
    expect_error(fp_compile(fit), class = "fastpredict_error_unsupported", regexp = "redefined 'log'")
  })
  expect_error(predict_fast(structure(list(), class = "foo"), mtcars),
               class = "fastpredict_error_unsupported", regexp = "foo")
})

test_that("an unknown type is a bad argument that names the types there are", {
  m <- fp_compile(lm(mpg ~ wt, data = mtcars))
  expect_error(predict_fast(m, mtcars, type = "link"), class = "fastpredict_error_bad_argument",
               regexp = "response")
})

test_that("aov() fits predict as predict.lm(), with standard errors", {
  fit <- aov(breaks ~ wool * tension, data = warpbreaks)
  m <- expect_parity_user(fit, warpbreaks)
  expect_parity_user(fit, warpbreaks, model = m, se.fit = TRUE)
  expect_parity_user(fit, warpbreaks, model = m, interval = "confidence")
  fit <- aov(yield ~ block + N * P, data = npk)
  expect_parity_user(fit, npk)
})

test_that("a multi-stratum aov is refused by name: R's predict() has none", {
  fit <- aov(yield ~ N * P + Error(block), data = npk)
  expect_error(fp_compile(fit), class = "fastpredict_error_unsupported", regexp = "aovlist.*Error\\(\\)")
})

test_that("several responses (mlm, maov, manova) give predict.mlm()'s matrix", {
  fit <- lm(cbind(mpg, qsec) ~ wt + factor(cyl), data = mtcars)
  m <- expect_parity_user(fit, mtcars)
  expect_identical(colnames(predict_fast(m, mtcars[1, ])), c("mpg", "qsec"))
  # R's names of computed responses ("" for log(qsec)), and none at all
  expect_parity_user(lm(cbind(mpg, log(qsec), hp) ~ poly(wt, 2) * am, data = mtcars), mtcars)
  y <- unname(as.matrix(mtcars[c("mpg", "qsec")]))
  expect_parity_user(lm(y ~ wt, data = mtcars), mtcars)
  expect_parity_user(aov(cbind(mpg, qsec) ~ factor(cyl) + wt, data = mtcars), mtcars)
  expect_parity_user(manova(cbind(Sepal.Length, Petal.Length) ~ Species, data = iris), iris)
  # rank-deficient: aliased rows are left out for every response
  d <- transform(mtcars, wt2 = 2 * wt)
  expect_parity_user(lm(cbind(mpg, qsec) ~ wt + wt2 + hp, data = d), d)
  # predict.mlm() takes the formula's offset, or the offset argument
  expect_parity_user(lm(cbind(mpg, qsec) ~ wt + offset(hp / 100), data = mtcars), mtcars)
  expect_parity_user(fit_call(quote(lm), cbind(mpg, qsec) ~ wt, mtcars, offset = log(hp)), mtcars)
  # missing values give NA rows
  nd <- mtcars
  nd$wt[3] <- NA
  expect_same_prediction(predict_fast(fp_compile(fit), nd), predict(fit, nd))
  # no standard errors, as in predict.mlm()
  expect_error(predict_fast(m, mtcars, se.fit = TRUE), class = "fastpredict_error_bad_argument", regexp = "se_fit")
  expect_error(fp_compile(lm(cbind(mpg, qsec) ~ wt + offset(hp) + offset(disp), data = mtcars)),
               class = "fastpredict_error_unsupported", regexp = "several offset")
  empty <- lm(cbind(mpg, qsec) ~ 0, data = mtcars)
  expect_error(predict(empty, mtcars), "qr")
  expect_error(fp_compile(empty), class = "fastpredict_error_unsupported", regexp = "empty multi-response")
})

test_that("an empty model (y ~ 0) predicts zeros, or its offset", {
  fit <- lm(mpg ~ 0, data = mtcars)
  m <- expect_parity_user(fit, mtcars)
  expect_identical(predict_fast(m, mtcars[1:3, ]), c(0, 0, 0))
  expect_parity_user(lm(mpg ~ 0 + offset(wt), data = mtcars), mtcars)
  # predict.lm()'s standard errors of an empty model have the training
  # data's length: refused
  expect_error(predict_fast(m, mtcars, se.fit = TRUE), class = "fastpredict_error_unsupported")
})

test_that("a matrix of several columns in newdata is a wrong type naming the column", {
  m <- fp_compile(lm(mpg ~ hp, data = mtcars))
  nd <- mtcars
  nd$hp <- cbind(mtcars$hp, mtcars$wt)
  expect_error(predict_fast(m, nd), class = "fastpredict_error_wrong_type", regexp = "'hp'.*matrix")
  # one column is read as the numbers it holds
  nd$hp <- as.matrix(mtcars$hp)
  expect_identical(predict_fast(m, nd), predict_fast(m, mtcars))
})
