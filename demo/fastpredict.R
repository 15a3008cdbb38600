# fastpredict demo: compile models fitted on R's built-in data and on a
# generated million-row data set, save them as JSON, check that
# predict_fast() gives predict()'s numbers, and time both.
# Run with `make demo`, or demo("fastpredict", package = "fastpredict").
library(fastpredict)

out_dir <- file.path(tempdir(), "fastpredict-demo")
dir.create(out_dir, showWarnings = FALSE)

time_median <- function(expr, reps) {
  f <- eval(call("function", NULL, substitute(expr)), parent.frame())
  f()
  times <- vapply(seq_len(reps), function(i) system.time(f())[["elapsed"]], 0)
  median(times)
}
per_call <- function(expr, n = 2000) {
  f <- eval(call("function", NULL, substitute(expr)), parent.frame())
  f()
  system.time(for (i in seq_len(n)) f())[["elapsed"]] / n
}
`%||%` <- function(a, b) if (is.null(a)) b else a
rel_diff <- function(a, b) max(abs(a - b) / pmax(1, abs(b)), 0, na.rm = TRUE)

models <- list(
  "lm, mtcars: mpg ~ wt * factor(cyl) + poly(hp, 2) + log(disp)" =
    list(fit = lm(mpg ~ wt * factor(cyl) + poly(hp, 2) + log(disp), data = mtcars), data = mtcars, type = NULL),
  "glm binomial, mtcars: vs ~ scale(mpg) + factor(am)" =
    list(fit = glm(vs ~ scale(mpg) + factor(am), family = binomial, data = mtcars), data = mtcars, type = "response"),
  "lm, iris: Sepal.Length ~ Species * Sepal.Width + splines::ns(Petal.Length, 3)" =
    list(fit = lm(Sepal.Length ~ Species * Sepal.Width + splines::ns(Petal.Length, 3), data = iris), data = iris, type = NULL),
  "glm poisson, warpbreaks: breaks ~ wool * tension" =
    list(fit = glm(breaks ~ wool * tension, family = poisson, data = warpbreaks), data = warpbreaks, type = "response")
)

cat("== Models on built-in data ==\n\n")
rows <- list()
for (name in names(models)) {
  x <- models[[name]]
  m <- fp_compile(x$fit)
  path <- file.path(out_dir, paste0(gsub("[^a-z0-9]+", "-", tolower(substr(name, 1, 20))), ".json"))
  fp_save(m, path)
  m <- fp_load(path)
  ref <- unname(predict(x$fit, x$data, type = x$type %||% "response"))
  got <- predict_fast(m, x$data, type = x$type)
  one <- x$data[1, , drop = FALSE]
  t_native <- per_call(predict(x$fit, one, type = x$type %||% "response"))
  t_fast <- per_call(predict_fast(m, one, type = x$type))
  rows[[name]] <- data.frame(model = name, json = sprintf("%.1f kB", file.size(path) / 1024),
                             max_rel_diff = sprintf("%.1e", rel_diff(got, ref)),
                             one_row_predict = sprintf("%.0f us", t_native * 1e6),
                             one_row_fast = sprintf("%.1f us", t_fast * 1e6),
                             speedup = sprintf("%.0fx", t_native / t_fast))
}
print(do.call(rbind, rows), row.names = FALSE, right = FALSE)

cat("\nOne compiled model, as print() shows it:\n")
print(fp_compile(models[[1]]$fit))

cat("\n== A random forest (randomForest, 500 trees) on a generated data set ==\n\n")
if (requireNamespace("randomForest", quietly = TRUE)) {
  set.seed(7)
  n_train <- 5000
  gen <- function(n) {
    d <- as.data.frame(matrix(rnorm(n * 10), n, 10, dimnames = list(NULL, paste0("x", 1:10))))
    d$f <- factor(sample(c("a", "b", "c", "d", "e"), n, TRUE))
    d$y <- d$x1 + 2 * sin(d$x2) + d$x3 * d$x4 + c(a = 0, b = 1, c = -1, d = 0.5, e = 2)[as.character(d$f)] + rnorm(n)
    d
  }
  train <- gen(n_train)
  test <- gen(100000)
  rf <- randomForest::randomForest(y ~ ., data = train, ntree = 500)
  t_compile <- system.time(mf <- fp_compile(rf))[["elapsed"]]
  path <- file.path(out_dir, "forest.json.gz")
  fp_save(mf, path)
  rds <- file.path(out_dir, "forest.rds")
  saveRDS(rf, rds)
  t_load <- system.time(mf <- fp_load(path))[["elapsed"]]
  t_read <- system.time(readRDS(rds))[["elapsed"]]
  ref <- unname(predict(rf, test))
  got <- predict_fast(mf, test)
  t_native <- time_median(predict(rf, test), 1)
  t_fast <- time_median(predict_fast(mf, test), 3)
  one <- test[1, ]
  t1_native <- per_call(predict(rf, one), 20)
  t1_fast <- per_call(predict_fast(mf, one), 200)
  cat(sprintf("%d trees, %.0f nodes per tree: compiled in %.2f s; %s is %.1f MB (saveRDS: %.1f MB), loads in %.2f s (readRDS: %.2f s)\n",
              rf$ntree, mean(rf$forest$ndbigtree), t_compile, basename(path), file.size(path) / 2^20,
              file.size(rds) / 2^20, t_load, t_read))
  cat(sprintf("parity: max relative difference %.1e over %s predictions\n", rel_diff(got, ref), format(nrow(test), big.mark = ",")))
  cat(sprintf("100,000 rows: predict() %.2f s, predict_fast() %.2f s, speedup %.1fx\n", t_native, t_fast, t_native / t_fast))
  cat(sprintf("one row: predict() %.1f ms, predict_fast() %.0f us, speedup %.0fx\n", t1_native * 1000, t1_fast * 1e6, t1_native / t1_fast))
} else {
  cat("(randomForest is not installed: Debian package r-cran-randomforest)\n")
}

cat("\n== A generated million-row data set ==\n\n")
set.seed(2026)
n <- 1e6
big <- as.data.frame(matrix(rnorm(n * 10), n, 10, dimnames = list(NULL, paste0("x", 1:10))))
big$region <- factor(sample(c("north", "south", "east", "west", "centre"), n, TRUE))
big$y <- 1 + as.matrix(big[1:10]) %*% seq(0.1, 1, by = 0.1) + rnorm(n)
fit <- lm(y ~ ., data = big)
t_compile <- system.time(m <- fp_compile(fit))[["elapsed"]]
path <- file.path(out_dir, "million-row-lm.json")
fp_save(m, path)
ref <- unname(predict(fit, big))
got <- predict_fast(m, big)
t_native <- time_median(predict(fit, big), 3)
t_fast <- time_median(predict_fast(m, big), 5)
cat(sprintf("lm(y ~ ., %s rows x 11 columns): compiled in %.3f s, saved %s (%.1f kB)\n",
            format(n, big.mark = ","), t_compile, path, file.size(path) / 1024))
cat(sprintf("parity: max relative difference %.1e over %s predictions (NA positions identical: %s)\n",
            rel_diff(got, ref), format(n, big.mark = ","), identical(is.na(got), is.na(ref))))
cat(sprintf("predict(): %.1f ms   predict_fast(): %.1f ms (%d threads)   speedup %.1fx\n",
            t_native * 1000, t_fast * 1000, fp_threads(), t_native / t_fast))
cat(sprintf("\nJSON models written to %s\n", out_dir))
