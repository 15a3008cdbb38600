# xgboost and LightGBM: predict_fast() on the 500-tree depth-6 fixture models
# against the libraries' own predictors and the fast tree runtimes (treelite,
# lleaves), all on the same rows in the same run. bench/boosters.py times
# the Python side and writes the rows; this script times fastpredict on
# them and prints the ratios. `make bench` installs the Python side into
# .venv-boosters/bench (or set FASTPREDICT_BENCH_PYTHON).
local({
  here <- if (file.exists("bench/common.R")) "bench" else "."
  source(file.path(here, "common.R"))
})
machine_note()

here <- if (file.exists("bench/boosters.py")) "bench" else "."
python <- Sys.getenv("FASTPREDICT_BENCH_PYTHON", file.path(here, "..", ".venv-boosters", "bench", "bin", "python"))
if (!file.exists(python)) {
  cat("No Python with xgboost, LightGBM and treelite at", python, "(make bench installs it): skipped\n")
  quit(save = "no")
}
work <- tempfile("boosters-bench-")
dir.create(work)
json <- file.path(work, "python.json")
rows_file <- file.path(work, "rows.f64")
cat("Timing the Python predictors (about 1.5 minutes) ...\n")
status <- system2(python, c(file.path(here, "boosters.py"), "--out", json, "--data-out", rows_file))
if (status != 0) stop("bench/boosters.py failed")
py <- jsonlite::fromJSON(json, simplifyVector = FALSE)

n <- py$rows
x <- matrix(readBin(rows_file, "double", n = n * py$columns, endian = "little"), nrow = n, byrow = TRUE)
one <- x[1, , drop = FALSE]
fixture <- function(case) {
  dir <- file.path(here, "..", "tests", "testthat", "fixtures", "boosters", case)
  file.path(dir, jsonlite::fromJSON(file.path(dir, "case.json"))$model_file)
}
cases <- c("xgb_bench_500", "lgb_bench_500")
models <- sapply(cases, function(case) fp_import(fixture(case)), simplify = FALSE)
load_s <- vapply(cases, function(case) median(replicate(3, system.time(fp_import(fixture(case)))[["elapsed"]])), 0)

# the same predictions as the libraries before any timing: xgboost to the
# bit, LightGBM within 1e-12
check <- seq_len(py$check$rows)
stopifnot(identical(predict_fast(models$xgb_bench_500, x[check, ]), unlist(py$check$xgb_bench_500)))
stopifnot(isTRUE(all.equal(predict_fast(models$lgb_bench_500, x[check, ]), unlist(py$check$lgb_bench_500),
                           tolerance = 1e-12)))

median_us <- function(expr, ...) {
  b <- bench::mark(exprs = list(substitute(expr)), env = parent.frame(), check = FALSE, memory = FALSE,
                   filter_gc = FALSE, time_unit = "us", ...)
  as.numeric(b$median)
}
fast <- list()
for (case in names(models)) {
  m <- models[[case]]
  fast[[case]] <- c(one = median_us(predict_fast(m, one, threads = 1), min_time = 1),
                    batch = median_us(predict_fast(m, x, threads = 2), min_iterations = 5, max_iterations = 5))
}

# targets of the issue, by predictor and case
targets <- list(
  "inplace_predict one" = c(5, 20), "inplace_predict batch" = c(1, 2),
  "lightgbm.*predict one" = c(10, 30), "lightgbm.*predict batch" = c(1, 2),
  "treelite.*batch" = c(0.7, 1), "lleaves.*batch" = c(0.7, 1), "tl2cgen.*batch" = c(0.7, 1)
)
target_of <- function(predictor, what) {
  hit <- Filter(function(p) grepl(p, paste(predictor, what)), names(targets))
  if (length(hit)) sprintf(">= %gx / >= %gx", targets[[hit[1]]][1], targets[[hit[1]]][2]) else ""
}
rows <- list()
for (r in py$results) {
  if (!is.null(r$error)) {
    cat("error:", r$predictor, r$model, r$error, "\n")
    next
  }
  for (what in c("one", "batch")) {
    lib <- if (what == "one") r$one_row_us_per_call else r$batch_us_per_call
    fp <- fast[[r$model]][[what]]
    rows[[length(rows) + 1]] <- data.frame(
      model = r$model, rows = if (what == "one") "1 (1 thread)" else sprintf("%s (2 threads)", format(n, big.mark = ",")),
      predictor = r$predictor, predictor_time = fmt_time(lib), predict_fast = fmt_time(fp),
      ratio = sprintf("%.1fx", lib / fp), "target / ambitious" = target_of(r$predictor, what),
      check.names = FALSE, stringsAsFactors = FALSE)
  }
}
table <- do.call(rbind, rows)
table <- table[order(table$model, table$rows), ]
options(width = 200)
cat("\nRatio: the predictor's median time over predict_fast()'s (above 1: fastpredict is faster)\n")
print(table, row.names = FALSE, right = FALSE)
cat(sprintf("\nfp_import() of the gzip model files: xgboost %s, LightGBM %s\n",
            fmt_time(load_s[["xgb_bench_500"]] * 1e6), fmt_time(load_s[["lgb_bench_500"]] * 1e6)))
for (note in py$notes) cat("note:", note, "\n")
unlink(work, recursive = TRUE)
