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
  mlm <- lm(cbind(mpg, qsec) ~ wt, data = mtcars)
  expect_error(fp_compile(mlm), class = "fastpredict_error_unsupported", regexp = "mlm")
  a <- aov(mpg ~ factor(cyl), data = mtcars)
  expect_error(fp_compile(a), class = "fastpredict_error_unsupported", regexp = "aov")
  expect_error(fp_compile(mtcars), class = "fastpredict_error_unsupported", regexp = "data.frame")
  expect_error(fp_compile(lm(mpg ~ sin(wt), data = mtcars)), class = "fastpredict_error_unsupported",
               regexp = "'sin'")
  expect_error(fp_compile(lm(mpg ~ cut(wt, 3), data = mtcars)), class = "fastpredict_error_unsupported",
               regexp = "cut\\(wt, 3\\)")
  expect_error(fp_compile(lm(mpg ~ poly(wt, hp, degree = 2), data = mtcars)),
               class = "fastpredict_error_unsupported", regexp = "several variables")
  expect_error(fp_compile(lm(mpg ~ I(wt > 3), data = mtcars)), class = "fastpredict_error_unsupported",
               regexp = "I\\(wt > 3\\)")
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
