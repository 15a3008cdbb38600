# Linear models: predict() against predict_fast(), measured in one run.
# Run with `make bench` (or Rscript bench/linear.R with fastpredict installed).
local({
  here <- if (file.exists("bench/common.R")) "bench" else "."
  source(file.path(here, "common.R"))
})
machine_note()

fit <- lm(mpg ~ wt * factor(cyl) + poly(hp, 2) + log(disp), data = mtcars)
m <- fp_compile(fit)
row_df <- mtcars[7, ]
row_list <- as.list(mtcars[7, c("wt", "cyl", "hp", "disp")])
stopifnot(isTRUE(all.equal(predict_fast(m, row_df), unname(predict(fit, row_df)))))
cat("One row, lm(mpg ~ wt * factor(cyl) + poly(hp, 2) + log(disp))\n")
bench_case("1 row, data.frame", predict(fit, row_df), predict_fast(m, row_df), 50, 200)
bench_case("1 row, list of values", predict(fit, row_df), predict_fast(m, row_list), 50, 200)

set.seed(1)
d <- data.frame(y = rbinom(1000, 1, 0.4), x1 = rnorm(1000), x2 = runif(1000), f = factor(sample(letters[1:4], 1000, TRUE)))
g <- glm(y ~ x1 + log(x2) + f, family = binomial, data = d)
mg <- fp_compile(g)
g_df <- d[3, ]
g_list <- as.list(d[3, c("x1", "x2", "f")])
stopifnot(isTRUE(all.equal(predict_fast(mg, g_df, type = "response"), unname(predict(g, g_df, type = "response")))))
cat("\nOne row, binomial glm, type = \"response\"\n")
bench_case("1 row, data.frame", predict(g, g_df, type = "response"), predict_fast(mg, g_df, type = "response"), 50, 200)
bench_case("1 row, list of values", predict(g, g_df, type = "response"), predict_fast(mg, g_list, type = "response"), 50, 200)

n <- 1e6
set.seed(2)
big <- as.data.frame(matrix(rnorm(n * 10), n, 10, dimnames = list(NULL, paste0("x", 1:10))))
big$f <- factor(sample(c("a", "b", "c", "d", "e"), n, TRUE))
big$y <- rnorm(n)
fit_big <- lm(y ~ ., data = big)
mb <- fp_compile(fit_big)
stopifnot(isTRUE(all.equal(predict_fast(mb, big), unname(predict(fit_big, big)))))
cat(sprintf("\n%s rows x 10 numeric columns + 1 factor, lm(y ~ .)\n", format(n, big.mark = ",")))
# a row: 10 doubles and a factor code read, a double written
row_bytes <- 10 * 8 + 4 + 8
bench_case("1e6 rows", predict(fit_big, big), predict_fast(mb, big), 10, 40, iterations = 10,
           rows = n, limit_ns = limit_linear(row_bytes))
bench_case("1e6 rows, 1 thread", predict(fit_big, big), predict_fast(mb, big, threads = 1), 10, 40, iterations = 10,
           rows = n, limit_ns = limit_linear(row_bytes, threads = 1))
# Each call returns a new 8 MB vector. Between two garbage collections R
# gives each one memory that has not been touched yet, and the first write
# to each page faults: on the VM of 2026-12 that cost about 1 us a page,
# 2 ms a call. R's own cost of such a vector, alone, for scale:
alloc <- bench::mark(numeric(n), min_time = 1, min_iterations = 10, check = FALSE, memory = FALSE,
                     filter_gc = FALSE, time_unit = "us")
cat(sprintf("for scale, R allocating and zeroing the output alone, numeric(1e6): %s (median)\n",
            fmt_time(as.numeric(alloc$median))))

# Standard errors and intervals (predict.lm / predict.glm compute them in R
# from the QR factor; fastpredict from the stored one).
pi_native <- predict(fit, row_df, interval = "prediction")
stopifnot(isTRUE(all.equal(predict_fast(m, row_df, interval = "prediction"), pi_native, check.attributes = FALSE)))
cat("\nOne row, the lm above, interval = \"prediction\"\n")
bench_case("1 row, data.frame", predict(fit, row_df, interval = "prediction"),
           predict_fast(m, row_df, interval = "prediction"), 50, 200)

set.seed(3)
n_se <- 1e5
dse <- data.frame(x1 = rnorm(n_se), x2 = runif(n_se), f = factor(sample(letters[1:4], n_se, TRUE)))
dse$y <- rbinom(n_se, 1, plogis(0.3 * dse$x1 - dse$x2 + (dse$f == "b")))
gse <- glm(y ~ x1 + log(x2) + f, family = binomial, data = dse)
mse <- fp_compile(gse)
se_native <- predict(gse, dse, type = "response", se.fit = TRUE)
se_fast <- predict_fast(mse, dse, type = "response", se.fit = TRUE)
stopifnot(isTRUE(all.equal(unname(se_fast$se.fit), unname(se_native$se.fit))))
cat(sprintf("\n%s rows, binomial glm, type = \"response\", se.fit = TRUE\n", format(n_se, big.mark = ",")))
bench_case("1e5 rows", predict(gse, dse, type = "response", se.fit = TRUE),
           predict_fast(mse, dse, type = "response", se.fit = TRUE), 5, 20, iterations = 10, rows = n_se)
