# glm: every supported family and link, link and response scale.

set.seed(21)
n <- 400
d <- data.frame(x1 = runif(n, 0.2, 2), x2 = rnorm(n), f = factor(sample(letters[1:3], n, TRUE)))
eta <- 0.3 + 0.5 * d$x1 - 0.4 * d$x2 + c(a = 0, b = 0.3, c = -0.2)[as.character(d$f)]
d$bin <- rbinom(n, 1, plogis(eta))
d$succ <- rbinom(n, 10, plogis(eta))
d$fail <- 10 - d$succ
d$prop <- (d$succ + 0.5) / 11
d$cnt <- rpois(n, exp(eta))
d$pos <- rgamma(n, shape = 5, rate = 5 / exp(eta))
d$ig <- d$pos + 0.5
d$gau <- eta + rnorm(n, sd = 0.3) + 3
d$expo <- log(d$x1 + 1)
nd <- gen_new(d, 70, seed = 22)
nd$x1 <- abs(nd$x1)

check_glm <- function(formula, family, data = d, ...) {
  fit <- suppressWarnings(fit_call(quote(glm), formula, data, ..., .values = list(family = family), env = parent.frame()))
  m <- fp_compile(fit)
  expect_parity(fit, nd, model = m)
  expect_parity(fit, nd, type = "link", model = m)
  expect_parity(fit, nd, type = "response", model = m)
  expect_parity(fit, nd[5, , drop = FALSE], type = "response", model = m)
  expect_identical(predict_fast(m, nd[0, ], type = "response"), numeric())
  invisible(m)
}

test_that("gaussian with identity, log and inverse links", {
  check_glm(gau ~ x1 + f, gaussian())
  check_glm(gau ~ x1 + x2, gaussian(link = "log"))
  check_glm(gau ~ x1, gaussian(link = "inverse"))
})

test_that("binomial with every link, and a cbind() response", {
  for (link in c("logit", "probit", "cauchit", "cloglog")) {
    check_glm(bin ~ x1 + x2 + f, binomial(link = link))
  }
  check_glm(bin ~ x1, binomial(link = "log"), start = c(-1.5, 0.1))
  check_glm(cbind(succ, fail) ~ x1 * f + x2, binomial())
  check_glm(cbind(succ, fail) ~ poly(x1, 2), binomial("probit"))
  check_glm(prop ~ x1 + f, quasibinomial())
})

test_that("the probit link is exact in the tails", {
  fit <- glm(bin ~ x2, family = binomial("probit"), data = d)
  far <- data.frame(x2 = seq(-60, 60, by = 0.7))
  expect_parity(fit, far, type = "response", tol = 1e-13)
  fit <- glm(bin ~ x2, family = binomial("cauchit"), data = d)
  expect_parity(fit, far, type = "response", tol = 1e-13)
  fit <- glm(bin ~ x2, family = binomial("cloglog"), data = d)
  expect_parity(fit, far, type = "response", tol = 1e-13)
  fit <- glm(bin ~ x2, family = binomial("logit"), data = d)
  expect_parity(fit, data.frame(x2 = seq(-300, 300, by = 3.1)), type = "response", tol = 1e-13)
})

test_that("poisson, quasipoisson and offsets", {
  check_glm(cnt ~ x1 + f, poisson())
  check_glm(cnt ~ x1 + offset(expo), poisson())
  check_glm(cnt ~ x2, poisson(), offset = log(x1))
  check_glm(cnt ~ x1, poisson(link = "sqrt"))
  check_glm(cnt ~ x1, poisson(link = "identity"), start = c(1, 1))
  check_glm(cnt ~ x1 * x2, quasipoisson())
})

test_that("Gamma and inverse.gaussian", {
  check_glm(pos ~ x1 + f, Gamma(link = "log"))
  check_glm(pos ~ x1, Gamma())
  check_glm(pos ~ x1, Gamma(link = "identity"))
  check_glm(ig ~ x1, inverse.gaussian(), start = c(0.5, 0))
  check_glm(ig ~ x1 + f, inverse.gaussian(link = "log"))
  check_glm(ig ~ x1, inverse.gaussian(link = "inverse"))
})

test_that("quasi with its links and variances", {
  check_glm(pos ~ x1, quasi(link = "log", variance = "mu"))
  check_glm(gau ~ x1 + f, quasi())
  check_glm(prop ~ x1, quasi(link = "logit", variance = "mu(1-mu)"))
  check_glm(pos ~ x1, quasi(link = "inverse", variance = "mu^2"))
  check_glm(ig ~ x1, quasi(link = "1/mu^2", variance = "mu^3"), start = c(0.5, 0))
  check_glm(cnt ~ x1, quasi(link = "sqrt", variance = "mu"), start = c(1, 0.5))
})

test_that("weighted glm", {
  check_glm(bin ~ x1 + f, binomial(), weights = rep(c(1, 2), length.out = n))
})

test_that("unsupported links and families are refused by name", {
  fit <- glm(pos ~ x1, family = quasi(link = power(1 / 3), variance = "mu"), data = d)
  expect_error(fp_compile(fit), class = "fastpredict_error_unsupported", regexp = "mu\\^0.333")
  fam <- binomial()
  fam$linkinv <- function(eta) pnorm(eta)
  fit <- glm(bin ~ x1, family = binomial(), data = d)
  fit$family <- fam
  expect_error(fp_compile(fit), class = "fastpredict_error_unsupported", regexp = "logit")
  fit2 <- glm(bin ~ x1, family = binomial(), data = d)
  fit2$family$family <- "Negative Binomial(2)"
  expect_error(fp_compile(fit2), class = "fastpredict_error_unsupported", regexp = "Negative Binomial")
  fit3 <- glm(bin ~ x1, family = binomial(), data = d)
  class(fit3) <- c("myglm", "glm", "lm")
  expect_error(fp_compile(fit3), class = "fastpredict_error_unsupported", regexp = "myglm")
})

test_that("MASS::glm.nb() and the negative.binomial(theta) family, every link", {
  skip_if_not_installed("MASS")
  quine <- MASS::quine
  fits <- list(MASS::glm.nb(Days ~ Sex + Age + Eth, data = quine, link = log),
               MASS::glm.nb(Days ~ Sex + Age + Eth, data = quine, link = sqrt),
               suppressWarnings(MASS::glm.nb(Days ~ Sex + Age + Eth, data = quine, link = identity,
                                             start = rep(15, 6))))
  for (fit in fits) {
    expect_s3_class(fit, "negbin")
    m <- expect_parity_user(fit, quine)
    expect_parity_user(fit, quine, model = m, type = "response")
    expect_parity_user(fit, quine, model = m, type = "link", se.fit = TRUE)
  }
  fit <- MASS::glm.nb(Days ~ Sex / (Age + Eth * Lrn), data = quine)
  m <- expect_parity_user(fit, quine, type = "response")
  expect_identical(m$info$producer$source_package, "MASS")
  expect_parity_user(fit, quine, model = m, type = "response", se.fit = TRUE)
  fit <- glm(Days ~ Sex + Age, family = MASS::negative.binomial(2), data = quine)
  expect_parity_user(fit, quine, type = "response")
  expect_parity_user(fit, quine, se.fit = TRUE)
})
