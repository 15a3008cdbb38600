# glmnet: predict() against predict_fast(), measured in one run.
# Run with `make bench` (or Rscript bench/glmnet.R with fastpredict installed).
local({
  here <- if (file.exists("bench/common.R")) "bench" else "."
  source(file.path(here, "common.R"))
})
suppressPackageStartupMessages(library(glmnet))
machine_note()

set.seed(1)
x <- matrix(rnorm(2000 * 20), 2000, 20, dimnames = list(NULL, paste0("x", 1:20)))
y <- drop(x[, 1:8] %*% runif(8)) + rnorm(2000)
fit <- glmnet(x, y)
m <- fp_compile(fit)
s <- 0.05
row <- x[7, , drop = FALSE]
vec <- x[7, ]
same <- function(a, b) identical(unname(a), unname(b))
stopifnot(same(predict_fast(m, row, s = s), predict(fit, row, s = s)), same(predict_fast(m, vec, s = s), predict(fit, row, s = s)))
cat("One row, glmnet gaussian (20 features), s = 0.05\n")
bench_case("1 row, matrix", predict(fit, row, s = s), predict_fast(m, row, s = s), 100, 300)
bench_case("1 row, vector", predict(fit, row, s = s), predict_fast(m, vec, s = s), 100, 300)

n <- 1e5
p <- 100
set.seed(2)
xb <- matrix(rnorm(n * p), n, p, dimnames = list(NULL, paste0("x", 1:p)))
yb <- rbinom(n, 1, plogis(drop(xb[, 1:30] %*% rnorm(30, sd = 0.3))))
fb <- glmnet(xb[1:20000, ], yb[1:20000], family = "binomial", nlambda = 30)
mb <- fp_compile(fb)
sb <- fb$lambda[length(fb$lambda) - 3] * 0.9
stopifnot(same(predict_fast(mb, xb, s = sb, type = "response"), predict(fb, xb, s = sb, type = "response")))
cat(sprintf("\n%s rows x %d features, glmnet binomial, type = \"response\" (%d coefficients at s)\n",
            format(as.integer(n), big.mark = ","), p, sum(coef(fb, s = sb) != 0) - 1))
bench_case("1e5 rows", predict(fb, xb, s = sb, type = "response"),
           predict_fast(mb, xb, s = sb, type = "response"), 10, 30, iterations = 10, rows = nrow(xb))
bench_case("1e5 rows, 1 thread", predict(fb, xb, s = sb, type = "response"),
           predict_fast(mb, xb, s = sb, type = "response", threads = 1), 10, 30, iterations = 10,
           rows = nrow(xb))
