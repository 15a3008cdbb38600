# Standard errors, intervals and per-term predictions of lm and glm, against
# predict.lm() and predict.glm() themselves.

# Equal within `tol` relative, part by part and with the same shape.
expect_same_prediction <- function(got, ref, tol = 1e-9) {
  strip <- function(x) {
    if (is.list(x)) return(lapply(x, strip))
    if (is.matrix(x)) rownames(x) <- NULL else names(x) <- NULL
    x
  }
  ref <- strip(ref)
  expect_identical(names(got), names(ref))
  if (is.list(ref)) {
    for (n in names(ref)) expect_same_prediction(got[[n]], ref[[n]], tol)
    return(invisible())
  }
  expect_identical(dim(got), dim(ref))
  expect_identical(dimnames(got), dimnames(ref))
  expect_identical(is.na(got), is.na(ref))
  expect_equal(unclass(got), unclass(ref), tolerance = tol)
}

expect_inference <- function(fit, newdata, ..., model = fp_compile(fit)) {
  ref <- predict(fit, newdata, ...)
  got <- predict_fast(model, newdata, ...)
  expect_same_prediction(got, ref)
  invisible(got)
}

set.seed(11)
n <- 120
d <- data.frame(x = rnorm(n), z = runif(n, 1, 3), f = factor(sample(c("a", "b", "c"), n, TRUE)),
                w = runif(n, 0.5, 2))
d$y <- 1 + d$x - 2 * log(d$z) + c(a = 0, b = 1, c = -1)[as.character(d$f)] + rnorm(n)
d$k <- rpois(n, exp(0.3 + 0.4 * d$x))
d$b <- rbinom(n, 1, plogis(d$x))
d$g <- rgamma(n, shape = 2, rate = 2 / exp(0.2 * d$x))
nd <- d[sample(n, 40), ]
nd$x[3] <- NA

test_that("lm: se.fit, confidence and prediction intervals at several levels", {
  fit <- lm(y ~ x * f + log(z) + splines::ns(z, 3), data = d)
  m <- fp_compile(fit)
  expect_inference(fit, nd, se.fit = TRUE, model = m)
  for (level in c(0.5, 0.95, 0.999)) {
    expect_inference(fit, nd, interval = "confidence", level = level, model = m)
    expect_inference(fit, nd, interval = "prediction", level = level, model = m)
    expect_inference(fit, nd, interval = "prediction", level = level, se.fit = TRUE, model = m)
  }
  expect_inference(fit, nd, se.fit = TRUE, scale = 1.5, model = m)
  expect_inference(fit, nd, interval = "confidence", scale = 1.5, df = 12, model = m)
  expect_inference(fit, nd, interval = "prediction", pred.var = 2, model = m)
  expect_inference(fit, nd, interval = "prediction", pred.var = seq_len(nrow(nd)), model = m)
  expect_inference(fit, nd[1, ], interval = "prediction", se.fit = TRUE, model = m)
  expect_identical(predict_fast(m, nd, interval = "none"), predict_fast(m, nd))
})

test_that("lm with weights and offsets; prediction weights as numbers or a formula", {
  fit <- lm(y ~ x + f + offset(log(z)), data = d, weights = w)
  m <- fp_compile(fit)
  expect_inference(fit, nd, se.fit = TRUE, model = m)
  expect_inference(fit, nd, interval = "prediction", weights = 2, model = m)
  expect_inference(fit, nd, interval = "prediction", weights = nd$w, model = m)
  expect_inference(fit, nd, interval = "prediction", weights = ~ w, model = m)
  expect_warning(got <- predict_fast(m, nd, interval = "prediction"), "constant prediction variance")
  ref <- suppressWarnings(predict(fit, nd, interval = "prediction"))
  expect_same_prediction(got, ref)
  fit2 <- lm(y ~ x, data = d, offset = 0.5 * z)
  expect_inference(fit2, nd, interval = "confidence", se.fit = TRUE)
})

test_that("rank-deficient fits give what predict.lm() gives", {
  dd <- transform(d, x2 = 2 * x, f2 = f)
  fit <- lm(y ~ x + x2 + f + f2 + z, data = dd)
  expect_true(anyNA(coef(fit)))
  ndd <- transform(nd, x2 = 2 * x, f2 = f)
  suppressWarnings({
    expect_inference(fit, ndd, se.fit = TRUE)
    expect_inference(fit, ndd, interval = "prediction")
    expect_inference(fit, ndd, type = "terms", se.fit = TRUE)
  })
})

test_that("type = \"terms\", with and without intercept, standard errors and intervals", {
  fit <- lm(y ~ x * f + log(z), data = d)
  m <- fp_compile(fit)
  expect_inference(fit, nd, type = "terms", model = m)
  expect_inference(fit, nd, type = "terms", se.fit = TRUE, model = m)
  expect_inference(fit, nd, type = "terms", interval = "confidence", model = m)
  fit0 <- lm(y ~ 0 + x + f, data = d)
  expect_inference(fit0, nd, type = "terms")
  expect_inference(fit0, nd, se.fit = TRUE)
  expect_inference(fit0, nd[0, ], se.fit = TRUE, interval = "prediction")
})

test_that("glm: se.fit on both scales for every family, with its dispersion", {
  fits <- list(
    glm(b ~ x + f, family = binomial, data = d),
    glm(b ~ x, family = binomial("probit"), data = d),
    glm(b ~ x, family = binomial("cauchit"), data = d),
    glm(b ~ x, family = binomial("cloglog"), data = d),
    glm(k ~ x + f, family = poisson, data = d),
    glm(k ~ x, family = quasipoisson, data = d),
    glm(b ~ x, family = quasibinomial, data = d),
    glm(g ~ x, family = Gamma("log"), data = d),
    glm(g ~ x, family = Gamma, data = d),
    glm(g ~ x, family = inverse.gaussian, data = d),
    glm(y ~ x + f, family = gaussian, data = d, weights = w),
    glm(k ~ x, family = poisson("sqrt"), data = d, offset = log(z)),
    glm(g ~ x, family = quasi(link = "log", variance = "mu"), data = d)
  )
  for (fit in fits) {
    m <- fp_compile(fit)
    for (type in c("link", "response")) {
      expect_inference(fit, nd, se.fit = TRUE, type = type, model = m)
      expect_inference(fit, nd, se.fit = TRUE, type = type, dispersion = 2.5, model = m)
    }
    expect_inference(fit, nd, type = "terms", model = m)
  }
})

test_that("bad arguments and old model files are refused with classed errors", {
  fit <- lm(y ~ x + f, data = d)
  m <- fp_compile(fit)
  expect_error(predict_fast(m, nd, interval = "both"), class = "fastpredict_error_bad_argument")
  expect_error(predict_fast(m, nd, interval = "confidence", level = 1.5), class = "fastpredict_error_bad_argument")
  expect_error(predict_fast(m, nd, se.fit = NA), class = "fastpredict_error_bad_argument")
  expect_error(predict_fast(m, nd, interval = "prediction", pred.var = 1:3),
               class = "fastpredict_error_bad_argument", regexp = "one per row")
  expect_error(predict_fast(m, nd, dispersion = 2), class = "fastpredict_error_unsupported", regexp = "dispersion")
  g <- fp_compile(glm(b ~ x, family = binomial, data = d))
  expect_error(predict_fast(g, nd, interval = "confidence"), class = "fastpredict_error_unsupported",
               regexp = "interval")
  old <- fp_load(test_path("fixtures", "format-1.0", "lm-mtcars.json"))
  expect_error(predict_fast(old, mtcars, se.fit = TRUE), class = "fastpredict_error_unsupported",
               regexp = "inference data")
  expect_error(predict_fast(old, mtcars, type = "terms"), class = "fastpredict_error_unsupported")
})
