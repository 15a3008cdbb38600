# glmnet: every family x type x s (on the path, between lambdas, outside
# it, several at once), cv.glmnet's rules, dense and sparse newx, offsets,
# 1, 0 and 100,000 rows, and the refusals.

skip_if_not_installed("glmnet")
suppressPackageStartupMessages(library(glmnet))

# predict_fast() must give what predict() gives, bit for bit (the link
# adds the same products in the same order; the multinomial response sums
# in emulated long double as R does), with the same shape and dimnames
# except the row names, which fastpredict never gives.
expect_glmnet <- function(fit, newx, ..., model = fp_compile(fit), threads = NULL) {
  # (glmnet warns about its own cbind2() for no rows)
  ref <- suppressWarnings(predict(fit, newx, ...))
  got <- predict_fast(model, newx, ..., threads = threads)
  expect_identical(got, no_rownames(ref))
  invisible(got)
}

no_rownames <- function(x) {
  if (length(dim(x)) >= 2L && !is.null(dimnames(x))) {
    dn <- dimnames(x)
    dn[1L] <- list(NULL)
    dimnames(x) <- if (all(vapply(dn, is.null, NA))) NULL else dn
  }
  x
}

# Predictors of several scales (one integer-valued), with a few exact zeros.
gen_x <- function(n, p, seed, names = TRUE) {
  set.seed(seed)
  x <- matrix(rnorm(n * p), n, p)
  x[, 2] <- round(x[, 2] * 3)
  x[, 3] <- x[, 3] * 100
  x[sample(length(x), length(x) %/% 10)] <- 0
  if (names) colnames(x) <- paste0("x", seq_len(p))
  x
}

# New rows: values outside the training range, exact zeros, and NA, NaN
# and infinities in a few columns (among them columns that the path keeps
# at zero, where R's sparse product gives a number).
gen_newx <- function(x, n = 60, seed = 2) {
  set.seed(seed)
  nx <- x[sample(nrow(x), n, replace = TRUE), , drop = FALSE]
  nx[1:5, ] <- nx[1:5, ] * 4
  nx[6, 1] <- NA
  nx[7, ncol(nx)] <- NA
  nx[8, 2] <- NaN
  nx[9, 3] <- Inf
  nx[10, 4] <- -Inf
  rownames(nx) <- paste0("r", seq_len(n))
  nx
}

# s on the path, between lambdas, outside it and several at once.
s_sets <- function(fit) {
  l <- fit$lambda
  k <- length(l)
  list(
    on = l[c(1, 3, k)],
    between = c((l[2] + l[3]) / 2, l[5] * 0.7 + l[6] * 0.3, sqrt(l[k - 1] * l[k])),
    outside = c(l[1] * 10, l[k] / 10, 0, Inf),
    one = l[4] * 0.99
  )
}

p <- 12
x <- gen_x(300, p, seed = 1)
nx <- gen_newx(x)
eta <- drop(x[, 1:6] %*% c(0.8, -0.5, 0.01, 0.6, 0, 0.3))
y_gauss <- eta + rnorm(300)
y_bin <- factor(ifelse(eta + rlogis(300) > 0, "yes", "no"))
y_pois <- rpois(300, exp(eta / 3))
y_multi <- factor(c("a", "b", "c")[1 + (eta > -0.5) + (eta + rnorm(300) > 0.7)])
y_mgauss <- cbind(u = eta + rnorm(300), v = -eta + rnorm(300), w = rnorm(300))
y_cox <- survival::Surv(rexp(300, exp(eta / 2)), rbinom(300, 1, 0.7))

# (a few of the smallest lambdas of the cox path do not converge; glmnet
# warns and returns the path before them)
fits <- suppressWarnings(list(
  gaussian = glmnet(x, y_gauss),
  binomial = glmnet(x, y_bin, family = "binomial"),
  poisson = glmnet(x, y_pois, family = "poisson"),
  multinomial = glmnet(x, y_multi, family = "multinomial"),
  grouped = glmnet(x, y_multi, family = "multinomial", type.multinomial = "grouped"),
  mgaussian = glmnet(x, y_mgauss, family = "mgaussian"),
  cox = glmnet(x, y_cox, family = "cox")
))
types <- list(gaussian = c("link", "response"), binomial = c("link", "response", "class"),
              poisson = c("link", "response"), multinomial = c("link", "response", "class"),
              grouped = c("link", "response", "class"), mgaussian = c("link", "response"),
              cox = c("link", "response"))
models <- lapply(fits, fp_compile)

test_that("every family and type along the whole path (s = NULL), with the default type", {
  for (f in names(fits)) {
    expect_glmnet(fits[[f]], nx, model = models[[f]])
    for (ty in types[[f]]) expect_glmnet(fits[[f]], nx, type = ty, model = models[[f]])
  }
})

test_that("every family and type at s on the path, between lambdas, outside it, several at once", {
  for (f in names(fits)) {
    for (s in s_sets(fits[[f]])) {
      for (ty in types[[f]]) expect_glmnet(fits[[f]], nx, s = s, type = ty, model = models[[f]])
    }
  }
})

test_that("named s values name the columns as glmnet does", {
  s <- c(small = 0.01, big = 0.2)
  expect_glmnet(fits$gaussian, nx, s = s, model = models$gaussian)
  expect_glmnet(fits$binomial, nx, s = s, type = "class", model = models$binomial)
  expect_glmnet(fits$multinomial, nx, s = s, model = models$multinomial)
  got <- predict_fast(models$gaussian, nx, s = s)
  expect_identical(colnames(got), c("small", "big"))
  expect_identical(predict_fast(models$gaussian, nx, s = 2L), predict_fast(models$gaussian, nx, s = 2))
})

test_that("sparse newx (dgCMatrix) gives what dense newx gives, and what predict() gives", {
  sx <- methods::as(nx, "CsparseMatrix")
  for (f in names(fits)) {
    s <- s_sets(fits[[f]])$between
    for (ty in types[[f]]) {
      got <- expect_glmnet(fits[[f]], sx, s = s, type = ty, model = models[[f]])
      expect_identical(got, predict_fast(models[[f]], nx, s = s, type = ty))
    }
  }
  # a wide and mostly empty matrix, with stored zeros and NA
  set.seed(5)
  wide <- Matrix::rsparsematrix(400, 300, density = 0.02)
  colnames(wide) <- paste0("c", 1:300)
  yw <- as.numeric(wide[, 1:5] %*% (1:5)) + rnorm(400)
  fw <- glmnet(wide, yw)
  mw <- fp_compile(fw)
  wide@x[1:3] <- c(0, NA, 2)
  expect_glmnet(fw, wide, model = mw)
  expect_glmnet(fw, wide, s = c(0.05, 0.5), model = mw)
  expect_glmnet(fw, as.matrix(wide), s = 0.05, model = mw)
})

test_that("integer and logical matrices are read as numbers", {
  xi <- matrix(suppressWarnings(as.integer(round(nx * 2))), nrow(nx), dimnames = dimnames(nx))
  xi[3, 2] <- NA
  expect_glmnet(fits$gaussian, xi, s = 0.05, model = models$gaussian)
  expect_glmnet(fits$binomial, xi > 0, s = 0.05, type = "response", model = models$binomial)
})

test_that("cv.glmnet: lambda.1se by default, lambda.min, numbers, and partial rule names", {
  set.seed(9)
  foldid <- sample(rep(1:5, length.out = 300))
  cvs <- list(
    gaussian = cv.glmnet(x, y_gauss, foldid = foldid),
    binomial = cv.glmnet(x, y_bin, family = "binomial", foldid = foldid),
    multinomial = cv.glmnet(x, y_multi, family = "multinomial", foldid = foldid),
    cox = cv.glmnet(x, y_cox, family = "cox", foldid = foldid)
  )
  for (f in names(cvs)) {
    cv <- cvs[[f]]
    m <- fp_compile(cv)
    expect_match(format(m), "lambda.1se", all = FALSE)
    for (ty in types[[f]]) {
      expect_glmnet(cv, nx, type = ty, model = m)
      expect_glmnet(cv, nx, s = "lambda.min", type = ty, model = m)
      expect_glmnet(cv, nx, s = "lambda.1se", type = ty, model = m)
      expect_glmnet(cv, nx, s = c(0.3, 0.01), type = ty, model = m)
    }
    expect_glmnet(cv, nx, s = "lambda.m", model = m)
    expect_glmnet(cv, nx, s = c("lambda.1se", "lambda.min"), model = m)
    expect_error(predict_fast(m, nx, s = NULL), class = "fastpredict_error_bad_argument")
    expect_error(predict_fast(m, nx, s = "lambda"), class = "fastpredict_error_bad_argument")
    expect_error(predict_fast(m, nx, s = TRUE), class = "fastpredict_error_bad_argument")
  }
})

test_that("offsets: newoffset as glmnet takes it, required when the fit had one, ignored otherwise", {
  set.seed(11)
  off <- runif(300, -1, 1)
  noff <- runif(nrow(nx), -1, 1)
  fo <- list(
    gaussian = glmnet(x, y_gauss, offset = off),
    binomial = glmnet(x, y_bin, family = "binomial", offset = off),
    poisson = glmnet(x, y_pois, family = "poisson", offset = off),
    cox = glmnet(x, y_cox, family = "cox", offset = off)
  )
  for (f in names(fo)) {
    m <- fp_compile(fo[[f]])
    expect_match(format(m), "newoffset", all = FALSE)
    for (ty in types[[f]]) {
      expect_glmnet(fo[[f]], nx, newoffset = noff, type = ty, model = m)
      expect_glmnet(fo[[f]], nx, newoffset = noff, s = c(0.2, 0.01, 1e-5), type = ty, model = m)
    }
    expect_error(predict_fast(m, nx), class = "fastpredict_error_bad_argument")
    expect_error(predict_fast(m, nx, s = 0.1), class = "fastpredict_error_bad_argument")
    expect_error(predict_fast(m, nx, newoffset = noff[-1]), class = "fastpredict_error_bad_argument")
    expect_error(predict_fast(m, nx, newoffset = "a"), class = "fastpredict_error_bad_argument")
  }
  # binomial: the second column of a two-column offset, as predict.glmnet() takes it
  mb <- fp_compile(fo$binomial)
  expect_glmnet(fo$binomial, nx, newoffset = cbind(noff * 2, noff), s = 0.01, model = mb)
  # multinomial and mgaussian: one column per response
  om <- matrix(runif(300 * 3, -1, 1), 300, 3)
  nom <- matrix(runif(nrow(nx) * 3, -1, 1), nrow(nx), 3)
  fm <- glmnet(x, y_multi, family = "multinomial", offset = om)
  mm <- fp_compile(fm)
  for (ty in types$multinomial) expect_glmnet(fm, nx, newoffset = nom, s = c(0.1, 0.005), type = ty, model = mm)
  expect_error(predict_fast(mm, nx, newoffset = nom[, 1:2]), class = "fastpredict_error_bad_argument")
  expect_error(predict_fast(mm, nx, newoffset = nom[, 1]), class = "fastpredict_error_bad_argument")
  fg <- glmnet(x, y_mgauss, family = "mgaussian", offset = om)
  expect_glmnet(fg, nx, newoffset = nom, s = 0.05, model = fp_compile(fg))
  # a fit without an offset ignores newoffset, as predict.glmnet() does
  expect_glmnet(fits$gaussian, nx, newoffset = noff, s = 0.05, model = models$gaussian)
})

test_that("one row (a one-row matrix or a plain vector), no rows, and 100,000 rows", {
  for (f in names(fits)) {
    for (ty in types[[f]]) {
      expect_glmnet(fits[[f]], nx[3, , drop = FALSE], s = c(0.1, 0.01), type = ty, model = models[[f]])
      expect_glmnet(fits[[f]], nx[3, , drop = FALSE], s = 0.05, type = ty, model = models[[f]])
      # a plain vector is one row for predict.glmnet() (predict.multnet()
      # fails on one); fastpredict reads it as the one-row matrix
      one <- predict_fast(models[[f]], nx[3, , drop = FALSE], s = 0.05, type = ty)
      expect_identical(predict_fast(models[[f]], unname(nx[3, ]), s = 0.05, type = ty), one)
      if (!f %in% c("multinomial", "grouped", "mgaussian")) {
        expect_glmnet(fits[[f]], unname(nx[3, ]), s = 0.05, type = ty, model = models[[f]])
      }
    }
    # no rows: predict.multnet() fails for the response (a glmnet bug); the
    # others are empty arrays of the same shape
    empty <- nx[0, , drop = FALSE]
    for (ty in setdiff(types[[f]], if (f %in% c("multinomial", "grouped")) "response")) {
      expect_glmnet(fits[[f]], empty, s = c(0.1, 0.01), type = ty, model = models[[f]])
    }
  }
  got <- predict_fast(models$multinomial, nx[0, , drop = FALSE], s = 0.1, type = "response")
  expect_identical(dim(got), c(0L, 3L, 1L))
  # the named vector: by name for a fit with names
  expect_glmnet(fits$gaussian, nx[3, ], s = 0.05, model = models$gaussian)
  expect_identical(predict_fast(models$gaussian, rev(nx[3, ]), s = 0.05),
                   predict_fast(models$gaussian, nx[3, ], s = 0.05))

  set.seed(13)
  big <- matrix(rnorm(1e5 * p), 1e5, p, dimnames = list(NULL, colnames(x)))
  big[sample(length(big), 1000)] <- NA
  for (th in c(1, 2)) {
    expect_glmnet(fits$binomial, big, s = 0.02, type = "response", model = models$binomial, threads = th)
  }
  expect_glmnet(fits$multinomial, big[1:20000, ], s = c(0.02, 0.001), type = "class", model = models$multinomial,
                threads = 2)
  expect_glmnet(fits$gaussian, methods::as(big[1:30000, ], "CsparseMatrix"), s = 0.02, model = models$gaussian,
                threads = 2)
})

test_that("columns by name where the fit has names, else by position", {
  # by name: order and extra columns do not matter
  shuffled <- cbind(extra = 1, nx[, rev(seq_len(p))])
  expect_identical(predict_fast(models$gaussian, shuffled, s = 0.05), predict_fast(models$gaussian, nx, s = 0.05))
  # without names, the fit's own order, and the count is checked
  expect_identical(predict_fast(models$gaussian, unname(nx), s = 0.05), predict_fast(models$gaussian, nx, s = 0.05))
  expect_error(predict_fast(models$gaussian, unname(nx)[, -1], s = 0.05), class = "fastpredict_error_bad_argument")
  expect_error(predict_fast(models$gaussian, unname(nx[1, -1]), s = 0.05), class = "fastpredict_error_bad_argument")
  renamed <- nx
  colnames(renamed)[4] <- "other"
  expect_error(predict_fast(models$gaussian, renamed, s = 0.05), class = "fastpredict_error_missing_column",
               regexp = "x4")
  expect_error(predict_fast(models$gaussian, methods::as(renamed, "CsparseMatrix"), s = 0.05),
               class = "fastpredict_error_missing_column")

  # a fit on a matrix without names (glmnet calls the columns V1, V2, ...)
  # takes newx by position, whatever its names, as glmnet does
  xu <- unname(x)
  fu <- glmnet(xu, y_bin, family = "binomial")
  mu <- fp_compile(fu)
  expect_match(format(mu), "by position", all = FALSE)
  expect_glmnet(fu, nx, s = c(0.1, 0.01), type = "response", model = mu)
  expect_glmnet(fu, unname(nx), s = 0.01, type = "class", model = mu)
  expect_glmnet(fu, methods::as(nx, "CsparseMatrix"), s = 0.01, model = mu)
  expect_error(predict_fast(mu, nx[, -1]), class = "fastpredict_error_bad_argument")
  expect_error(predict_fast(mu, methods::as(nx[, -1], "CsparseMatrix")), class = "fastpredict_error_bad_argument")
})

test_that("bad input gets classed errors", {
  m <- models$gaussian
  expect_error(predict_fast(m, as.data.frame(nx)), class = "fastpredict_error_bad_argument", regexp = "data.frame")
  expect_error(predict_fast(m, as.list(as.data.frame(nx))), class = "fastpredict_error_bad_argument")
  expect_error(predict_fast(m, matrix(letters[1:12], 1)), class = "fastpredict_error_bad_argument")
  expect_error(predict_fast(m, methods::as(nx, "TsparseMatrix")), class = "fastpredict_error_bad_argument")
  expect_error(predict_fast(m, nx, s = "a"), class = "fastpredict_error_bad_argument")
  expect_error(predict_fast(m, nx, s = "lambda.min"), class = "fastpredict_error_bad_argument")
  expect_error(predict_fast(m, nx, s = NA), class = "fastpredict_error_bad_argument")
  expect_error(predict_fast(m, nx, s = NA_real_), class = "fastpredict_error_bad_argument")
  expect_error(predict_fast(m, nx, s = NaN), class = "fastpredict_error_bad_argument")
  expect_error(predict_fast(m, nx, s = list(0.1)), class = "fastpredict_error_bad_argument")
  expect_error(predict_fast(m, nx, s = factor("a")), class = "fastpredict_error_bad_argument")
  expect_error(predict_fast(m, nx, s = numeric(0)), class = "fastpredict_error_bad_argument")
  expect_error(predict_fast(m, nx, exact = NA), class = "fastpredict_error_bad_argument")
  expect_error(predict_fast(m, nx, type = "class"), class = "fastpredict_error_bad_argument")
  expect_error(predict_fast(m, nx, type = "coefficients"), class = "fastpredict_error_unsupported")
  expect_error(predict_fast(m, nx, type = "nonzero"), class = "fastpredict_error_unsupported")
  expect_error(predict_fast(m, nx, n.trees = 3), class = "fastpredict_error_unsupported")
  expect_error(predict_fast(models$poisson, nx, type = "class"), class = "fastpredict_error_bad_argument")
})

test_that("exact = TRUE: refused where glmnet would refit, the same where every s is on the path", {
  f <- fits$gaussian
  m <- models$gaussian
  expect_error(predict_fast(m, nx, s = 0.0123, exact = TRUE), class = "fastpredict_error_unsupported",
               regexp = "exact = TRUE")
  expect_error(predict_fast(m, nx, s = c(f$lambda[2], 0.0123), exact = TRUE), class = "fastpredict_error_unsupported")
  expect_glmnet(f, nx, s = f$lambda[c(2, 7)], exact = TRUE, model = m)
  expect_glmnet(f, nx, exact = TRUE, model = m)
  expect_glmnet(f, nx, s = 0.0123, exact = FALSE, model = m)
  expect_error(fp_compile(f, s = 0.0123, exact = TRUE, x = x, y = y_gauss), class = "fastpredict_error_unsupported")
  expect_error(fp_compile(f, s = 0.0123), class = "fastpredict_error_bad_argument")
})

test_that("fits glmnet's predict() does not reproduce are refused by name", {
  expect_error(fp_compile(glmnet(x, y_gauss, family = gaussian())), class = "fastpredict_error_unsupported",
               regexp = "glmnetfit")
  expect_error(fp_compile(glmnet(x, y_bin, family = binomial(link = "probit"))),
               class = "fastpredict_error_unsupported", regexp = "family")
  expect_error(fp_compile(suppressWarnings(glmnet(x, y_gauss, relax = TRUE))), class = "fastpredict_error_unsupported",
               regexp = "relax")
  set.seed(3)
  cvr <- suppressWarnings(cv.glmnet(x, y_gauss, relax = TRUE, nfolds = 3))
  expect_error(fp_compile(cvr), class = "fastpredict_error_unsupported", regexp = "relax")
  odd <- fits$gaussian
  class(odd) <- c("myfit", class(odd))
  expect_error(fp_compile(odd), class = "fastpredict_error_unsupported", regexp = "myfit")
})

test_that("a path of one lambda, and a fit without intercept", {
  f1 <- glmnet(x, y_gauss, lambda = 0.05)
  expect_glmnet(f1, nx, model = fp_compile(f1))
  expect_glmnet(f1, nx, s = c(0.5, 0.05, 0.001), model = fp_compile(f1))
  f0 <- glmnet(x, y_pois, family = "poisson", intercept = FALSE)
  expect_glmnet(f0, nx, s = c(0.5, 0.01), type = "response", model = fp_compile(f0))
  fb <- glmnet(x, cbind(fail = y_pois, success = rpois(300, 2)), family = "binomial")
  expect_glmnet(fb, nx, s = 0.01, type = "class", model = fp_compile(fb))
})

test_that("documents round-trip through JSON and describe the fit", {
  for (f in c("binomial", "multinomial", "cox")) {
    m <- models[[f]]
    m2 <- fp_from_json(fp_to_json(m))
    expect_identical(predict_fast(m2, nx, s = c(0.1, 0.003), type = "response"),
                     predict_fast(m, nx, s = c(0.1, 0.003), type = "response"))
  }
  m <- models$multinomial
  expect_s3_class(m, "fp_model_glmnet")
  expect_identical(m$info$classes, c("a", "b", "c"))
  expect_identical(m$info$facts$family, "multnet")
  expect_match(format(m), "glmnet model from multnet/glmnet", fixed = TRUE, all = FALSE)
  doc <- jsonlite::fromJSON(fp_to_json(models$gaussian), simplifyVector = FALSE)
  expect_identical(doc$kind, "glmnet")
  # the coefficients are stored as glmnet stores them: only the entries of its sparse columns
  expect_identical(length(doc$glmnet$beta[[1]]$x), length(fits$gaussian$beta@x))
})
