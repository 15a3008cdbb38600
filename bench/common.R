# Shared helpers for the benchmarks: time both predictors in the same run
# and print medians and their ratio. Benchmarks, not tests: no assertions.
suppressPackageStartupMessages({
  library(fastpredict)
  library(bench)
})

bench_case <- function(label, native, fast, target, ambitious, min_time = 1, iterations = NULL) {
  args <- list(exprs = list(native = substitute(native), fast = substitute(fast)), env = parent.frame(),
               check = FALSE, min_time = min_time, memory = FALSE, filter_gc = FALSE, time_unit = "us")
  if (!is.null(iterations)) args <- c(args, list(min_iterations = iterations, max_iterations = iterations))
  b <- do.call(bench::mark, args)
  med <- as.numeric(b$median)
  row <- data.frame(case = label, predict = fmt_time(med[1]), predict_fast = fmt_time(med[2]),
                    ratio = sprintf("%.1fx", med[1] / med[2]),
                    target = sprintf(">= %gx", target), ambitious = sprintf(">= %gx", ambitious),
                    stringsAsFactors = FALSE)
  print(row, row.names = FALSE, right = FALSE)
  invisible(row)
}

fmt_time <- function(us) {
  if (us < 1000) sprintf("%.1f us", us) else if (us < 1e6) sprintf("%.2f ms", us / 1000) else sprintf("%.2f s", us / 1e6)
}

machine_note <- function() {
  cat(sprintf("R %s, fastpredict %s, %d cores, threads = %d\n\n", getRversion(),
              utils::packageVersion("fastpredict"), parallel::detectCores(), fp_threads()))
}
