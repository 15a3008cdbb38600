# Tree models: each package's own predict() against predict_fast(),
# measured in one run, plus model size, load and compile times.
# Run with `make bench` (or Rscript bench/trees.R with fastpredict installed).
local({
  here <- if (file.exists("bench/common.R")) "bench" else "."
  source(file.path(here, "common.R"))
})
suppressPackageStartupMessages({
  library(rpart)
  library(randomForest)
  library(ranger)
  library(gbm)
})
machine_note()

# Generated data: 10 numeric columns and a 5-level factor.
gen <- function(n, seed) {
  set.seed(seed)
  d <- as.data.frame(matrix(rnorm(n * 10), n, 10, dimnames = list(NULL, paste0("x", 1:10))))
  d$f <- factor(sample(c("a", "b", "c", "d", "e"), n, TRUE))
  d$y <- d$x1 + 2 * sin(d$x2) + d$x3 * d$x4 + c(a = 0, b = 1, c = -1, d = 0.5, e = 2)[as.character(d$f)] + rnorm(n)
  d
}
train <- gen(10000, 1)
test <- gen(1e5, 2)
one <- test[1, ]
form <- y ~ x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + f

same <- function(a, b) isTRUE(all.equal(unname(a), unname(b), tolerance = 1e-12))

cat("Fitting models on 10,000 rows ...\n")
fits <- list(
  randomForest = randomForest(form, data = train, ntree = 500),
  ranger = ranger(form, data = train, num.trees = 500, num.threads = 2),
  gbm = gbm(form, data = train, distribution = "gaussian", n.trees = 500, interaction.depth = 3),
  rpart = rpart(form, data = train)
)
# ranger keeps no record of its factor levels: they come from the training data
compile <- function(name) if (name == "ranger") fp_compile(fits[[name]], data = train) else fp_compile(fits[[name]])
compile_time <- vapply(names(fits), function(name) median(replicate(3, system.time(compile(name))[["elapsed"]])), 0)
models <- sapply(names(fits), compile, simplify = FALSE)
native <- list(
  randomForest = function(d) predict(fits$randomForest, d),
  ranger = function(d) predict(fits$ranger, d, num.threads = 2)$predictions,
  gbm = function(d) predict(fits$gbm, d, n.trees = 500),
  rpart = function(d) predict(fits$rpart, d)
)
fast <- function(name, d) predict_fast(models[[name]], d)
for (name in names(fits)) {
  stopifnot(same(fast(name, test[1:2000, ]), native[[name]](test[1:2000, ])))
}

cat("\nOne row (a 1-row data.frame)\n")
bench_case("randomForest, 500 trees", native$randomForest(one), fast("randomForest", one), 50, 200)
bench_case("ranger, 500 trees", native$ranger(one), fast("ranger", one), 50, 200)
bench_case("gbm, 500 trees, depth 3", native$gbm(one), fast("gbm", one), 30, 80)
bench_case("rpart", native$rpart(one), fast("rpart", one), 50, 200)

cat("\n100,000 rows\n")
batch <- function(label, name, d, target, ambitious, limit_ns = limit_trees(models[[name]])) {
  bench_case(label, native[[name]](d), fast(name, d), target, ambitious, iterations = 3,
             rows = nrow(d), limit_ns = limit_ns)
}
batch("randomForest", "randomForest", test, 3, 6)
batch("ranger, num.threads = 2", "ranger", test, 3, 8)
batch("gbm", "gbm", test, 4, 10)
big <- gen(1e6, 3)
cat("\n1,000,000 rows\n")
# one tree: reading the columns its splits use (a double each, a factor's
# codes) and writing a double, or its walk, whichever is longer
split_vars <- setdiff(unique(as.character(fits$rpart$frame$var)), "<leaf>")
rpart_bytes <- sum(ifelse(split_vars == "f", 4, 8)) + 8
batch("rpart", "rpart", big, 20, 50, limit_ns = max(limit_linear(rpart_bytes), limit_trees(models$rpart)))

cat("\nModel files: fp_save(.json.gz) against saveRDS(), fp_load() against readRDS(), fp_compile()\n")
dir <- tempfile("fp-bench")
dir.create(dir)
rows <- lapply(names(fits), function(name) {
  rds <- file.path(dir, paste0(name, ".rds"))
  js <- file.path(dir, paste0(name, ".json.gz"))
  saveRDS(fits[[name]], rds)
  fp_save(models[[name]], js)
  t_rds <- median(replicate(3, system.time(readRDS(rds))[["elapsed"]]))
  t_fp <- median(replicate(3, system.time(fp_load(js))[["elapsed"]]))
  data.frame(model = name,
             nodes = models[[name]]$info$facts$n_nodes,
             rds = sprintf("%.1f MB", file.size(rds) / 2^20),
             json_gz = sprintf("%.1f MB", file.size(js) / 2^20),
             readRDS = sprintf("%.3f s", t_rds), fp_load = sprintf("%.3f s", t_fp),
             fp_compile = sprintf("%.3f s", compile_time[[name]]))
})
print(do.call(rbind, rows), row.names = FALSE, right = FALSE)
