# Bad input gets a classed error naming the culprit, never a crash.

train <- gen_train(200, seed = 41)
fit <- lm(y ~ x1 + f + ch + flag, data = train)
m <- fp_compile(fit)
good <- gen_new(train, 5, seed = 42, na = FALSE)

test_that("a missing column", {
  expect_error(predict_fast(m, good[, c("x1", "f", "ch")]),
               class = "fastpredict_error_missing_column", regexp = "'flag'")
  expect_error(predict_fast(m, good[, c("x1", "f", "ch")]), class = "fastpredict_error")
})

test_that("an unseen factor level, in a factor or a character column", {
  bad <- good
  bad$f <- factor(c("a", "b", "zz", "a", "b"))
  expect_error(predict_fast(m, bad), class = "fastpredict_error_unseen_level", regexp = "'f'.*'zz'")
  bad <- good
  bad$ch[2] <- "nope"
  expect_error(predict_fast(m, bad), class = "fastpredict_error_unseen_level", regexp = "'nope'")
  fit2 <- lm(y ~ factor(k), data = train)
  expect_error(predict_fast(fp_compile(fit2), data.frame(k = 999)),
               class = "fastpredict_error_unseen_level", regexp = "999")
})

test_that("a wrong type: text or factor for a number, a number for a factor", {
  bad <- good
  bad$x1 <- as.character(bad$x1)
  expect_error(predict_fast(m, bad), class = "fastpredict_error_wrong_type", regexp = "'x1'.*character")
  bad <- good
  bad$x1 <- factor(bad$x1)
  expect_error(predict_fast(m, bad), class = "fastpredict_error_wrong_type", regexp = "'x1'.*factor")
  bad <- good
  bad$f <- 1:5
  expect_error(predict_fast(m, bad), class = "fastpredict_error_wrong_type", regexp = "'f'")
  bad <- good
  bad$flag <- as.numeric(bad$flag)
  expect_error(predict_fast(m, bad), class = "fastpredict_error_wrong_type", regexp = "'flag'.*logical")
  bad <- good
  bad$x1 <- Sys.Date() + 1:5
  expect_error(predict_fast(m, bad), class = "fastpredict_error_wrong_type", regexp = "Date")
  bad <- good
  bad$x1 <- matrix(1:10, 5)
  expect_error(predict_fast(m, bad), class = "fastpredict_error_wrong_type", regexp = "matrix")
})

test_that("columns of different lengths and newdata that is not a table", {
  expect_error(predict_fast(m, list(x1 = 1:2, f = "a", ch = "p", flag = TRUE)),
               class = "fastpredict_error_length_mismatch")
  expect_error(predict_fast(m, as.matrix(good)), class = "fastpredict_error_bad_argument")
  expect_error(predict_fast(m, list(1, 2)), class = "fastpredict_error_bad_argument")
})

test_that("'%' in column names and levels is reported verbatim (extendr 0.9.0 bug)", {
  d <- data.frame(y = rnorm(20), `x%d%s%n` = runif(20), g = rep(c("50%", "%s"), 10), check.names = FALSE)
  fit <- lm(y ~ `x%d%s%n` + g, data = d)
  mp <- fp_compile(fit)
  expect_parity(fit, d, model = mp)
  expect_error(predict_fast(mp, d["g"]), class = "fastpredict_error_missing_column", regexp = "x%d%s%n", fixed = TRUE)
  bad <- d
  bad$g[3] <- "100%d"
  expect_error(predict_fast(mp, bad), class = "fastpredict_error_unseen_level", regexp = "100%d", fixed = TRUE)
  expect_error(fp_load("/nonexistent/%s%n%d.json"), class = "fastpredict_error_io", regexp = "%s%n%d", fixed = TRUE)
})

test_that("a model restored with readRDS() explains itself", {
  path <- tempfile(fileext = ".rds")
  saveRDS(m, path)
  stale <- readRDS(path)
  expect_error(predict_fast(stale, good), class = "fastpredict_error_unsupported", regexp = "fp_load")
})
