# The models of issue 13 (aov/mlm, glm.nb, factors made in the formula,
# ranger survival forests): their own predict() against predict_fast(),
# measured in one run. Run with `make bench` (or Rscript bench/zoo.R with
# fastpredict installed).
local({
  here <- if (file.exists("bench/common.R")) "bench" else "."
  source(file.path(here, "common.R"))
})
suppressPackageStartupMessages({
  library(MASS)
  library(ranger)
  library(survival)
})
machine_note()

gen <- function(n, seed) {
  set.seed(seed)
  d <- data.frame(x1 = rnorm(n), x2 = runif(n, 0, 10), x3 = rnorm(n),
                  f = factor(sample(letters[1:4], n, TRUE)), g = factor(sample(c("u", "v", "w"), n, TRUE)))
  eta <- 1 + 0.3 * d$x1 + 0.1 * d$x2 + c(a = 0, b = 0.5, c = -0.5, d = 1)[as.character(d$f)]
  d$y1 <- eta + rnorm(n)
  d$y2 <- -eta + rnorm(n)
  d$y3 <- d$x3 + rnorm(n)
  d$n <- rnbinom(n, size = 2, mu = exp(eta))
  d$time <- rexp(n, exp(eta - 3))
  d$status <- rbinom(n, 1, 0.7)
  d
}
train <- gen(5000, 1)
test <- gen(1e5, 2)
one <- test[1, ]
same <- function(a, b) isTRUE(all.equal(unname(a), unname(b), tolerance = 1e-9))

fits <- list(
  mlm = lm(cbind(y1, y2, y3) ~ x1 * f + poly(x2, 2) + x3, data = train),
  glm.nb = glm.nb(n ~ x1 + x2 + f, data = train),
  made = lm(y1 ~ cut(x2, c(0, 2, 5, 10)) + interaction(f, g) + I(x1 > 0) + I((x3 > 0 & x1 < 1) * x2), data = train),
  # (log-rank splitting is slow to grow: 1,000 rows)
  survival = ranger(Surv(time, status) ~ x1 + x2 + x3 + f, data = train[1:1000, ], num.trees = 100,
                    num.threads = 2, seed = 1, verbose = FALSE)
)
models <- lapply(fits, fp_compile)
native <- list(
  mlm = function(d) predict(fits$mlm, d),
  glm.nb = function(d) predict(fits$glm.nb, d, type = "response"),
  made = function(d) predict(fits$made, d),
  survival = function(d) predict(fits$survival, d, num.threads = 2, verbose = FALSE)$survival
)
fast <- list(
  mlm = function(d) predict_fast(models$mlm, d),
  glm.nb = function(d) predict_fast(models$glm.nb, d, type = "response"),
  made = function(d) predict_fast(models$made, d),
  survival = function(d) predict_fast(models$survival, d)$survival
)
for (name in names(fits)) stopifnot(same(fast[[name]](test[1:2000, ]), native[[name]](test[1:2000, ])))

cat("One row (a 1-row data.frame)\n")
bench_case("lm, 3 responses", native$mlm(one), fast$mlm(one), 20, 50)
bench_case("glm.nb, response", native$glm.nb(one), fast$glm.nb(one), 20, 50)
bench_case("lm, cut/interaction/comparisons", native$made(one), fast$made(one), 20, 50)
bench_case("ranger survival, 100 trees", native$survival(one), fast$survival(one), 5, 20)

cat("\n100,000 rows\n")
bench_case("lm, 3 responses", native$mlm(test), fast$mlm(test), 3, 8, iterations = 3, rows = nrow(test))
bench_case("glm.nb, response", native$glm.nb(test), fast$glm.nb(test), 3, 8, iterations = 3, rows = nrow(test))
bench_case("lm, cut/interaction/comparisons", native$made(test), fast$made(test), 3, 8, iterations = 3, rows = nrow(test))
cat(sprintf("\n10,000 rows x %d death times\n", length(fits$survival$unique.death.times)))
bench_case("ranger survival, num.threads = 2", native$survival(test[1:1e4, ]), fast$survival(test[1:1e4, ]),
           1, 2, iterations = 3, rows = 1e4)
