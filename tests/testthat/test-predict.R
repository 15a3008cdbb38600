# The prediction call itself: input forms, sizes, threads.

train <- gen_train(500, seed = 31)
fit <- lm(y ~ x1 * f + poly(x2, 2) + log(x3) + ch + flag, data = train)
m <- fp_compile(fit)

test_that("data.frame, named list, one row and zero rows", {
  nd <- gen_new(train, 50, seed = 32)
  expect_parity(fit, nd, model = m)
  expect_equal(predict_fast(m, as.list(nd)), predict_fast(m, nd))
  row <- list(x1 = 2, f = "b", x2 = 9, x3 = 1.5, ch = "q", flag = TRUE)
  expect_equal(predict_fast(m, row), unname(predict(fit, as.data.frame(row))), tolerance = 1e-9)
  expect_identical(predict_fast(m, nd[0, ]), numeric())
  expect_identical(predict_fast(m, lapply(row, function(v) v[0])), numeric())
})

test_that("200,000 rows match predict() and do not depend on threads", {
  big <- gen_new(train, 200000, seed = 33)
  p1 <- predict_fast(m, big, threads = 1)
  p2 <- predict_fast(m, big, threads = 2)
  p3 <- predict_fast(m, big, threads = 3)
  expect_identical(p1, p2)
  expect_identical(p1, p3)
  expect_parity(fit, big, model = m)
})

test_that("fp_threads() reads and sets the default", {
  old <- fp_threads()
  on.exit(fp_threads(old))
  expect_true(is.numeric(old) && old >= 1)
  fp_threads(1)
  expect_identical(fp_threads(), 1L)
  expect_error(fp_threads(0), class = "fastpredict_error_bad_argument")
  expect_error(predict_fast(m, train, threads = 1.5), class = "fastpredict_error_bad_argument")
})

test_that("integer columns work where numbers are expected", {
  nd <- gen_new(train, 20, seed = 34, na = FALSE)
  nd2 <- nd
  nd2$x2 <- as.integer(round(nd$x2))
  nd$x2 <- as.double(nd2$x2)
  expect_identical(predict_fast(m, nd2), predict_fast(m, nd))
})

test_that("ALTREP and compact sequences are read correctly", {
  fit2 <- lm(y ~ k, data = train)
  m2 <- fp_compile(fit2)
  nd <- data.frame(k = 1:100)
  expect_parity(fit2, nd, model = m2)
  expect_parity(fit2, data.frame(k = as.double(1:100)), model = m2)
})

test_that("a numeric matrix is newdata: columns by name, or by position without names", {
  set.seed(5)
  d <- data.frame(x1 = rnorm(50), x2 = runif(50), x3 = rnorm(50))
  d$y <- d$x1 - 2 * d$x2 + d$x3 + rnorm(50)
  fit <- lm(y ~ x1 + log(x2) + x3, data = d)
  m <- fp_compile(fit)
  ref <- unname(predict(fit, d))
  x <- as.matrix(d[c("x3", "x1", "x2", "y")])
  expect_equal(predict_fast(m, x), ref, tolerance = 1e-12)
  # without names: one column per input, in the model's order
  bare <- unname(as.matrix(d[c("x1", "x2", "x3")]))
  expect_equal(predict_fast(m, bare), ref, tolerance = 1e-12)
  expect_error(predict_fast(m, bare[, 1:2]), class = "fastpredict_error_bad_argument", regexp = "2 columns")
  expect_error(predict_fast(m, x[, c("x1", "x2")]), class = "fastpredict_error_missing_column", regexp = "'x3'")
  storage.mode(bare) <- "integer"
  expect_equal(predict_fast(m, bare), unname(predict(fit, as.data.frame(`colnames<-`(bare, c("x1", "x2", "x3"))))),
               tolerance = 1e-12)
})

test_that("a sparse dgCMatrix gives what its dense form gives", {
  skip_if_not_installed("Matrix")
  set.seed(6)
  n <- 200
  d <- data.frame(a = rbinom(n, 3, 0.3) * runif(n), b = rbinom(n, 1, 0.2) * rnorm(n), c = rnorm(n))
  d$y <- d$a + d$b - d$c + rnorm(n)
  m <- fp_compile(lm(y ~ a + b + c, data = d))
  dense <- as.matrix(d[c("a", "b", "c")])
  sp <- Matrix::Matrix(dense, sparse = TRUE)
  expect_s4_class(sp, "dgCMatrix")
  expect_identical(predict_fast(m, sp), predict_fast(m, dense))
  expect_identical(predict_fast(m, suppressMessages(unname(sp))), predict_fast(m, dense))
  broken <- sp
  broken@i[1] <- 10000L
  expect_error(predict_fast(m, broken), class = "fastpredict_error_bad_argument", regexp = "dgCMatrix")
})
