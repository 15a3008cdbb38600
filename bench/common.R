# Shared helpers for the benchmarks: time both predictors in the same run
# and print medians and their ratio. Benchmarks, not tests: no assertions.
suppressPackageStartupMessages({
  library(fastpredict)
  library(bench)
})

# `rows`: rows per call, for the time per row. `limit_ns`: the machine's
# floor for one row (see limit_linear() and limit_trees()), printed with
# the fraction of it reached (above 100%: the estimate is beaten).
# `iterations`: the fewest calls of each, for a slow native predict();
# each still runs for `min_time`, so a fast one takes more calls (three
# calls of a 13 ms rpart prediction gave medians of 12.9 to 19.5 ms).
bench_case <- function(label, native, fast, target, ambitious, min_time = 1, iterations = NULL,
                       rows = 1, limit_ns = NA_real_) {
  args <- list(exprs = list(native = substitute(native), fast = substitute(fast)), env = parent.frame(),
               check = FALSE, min_time = min_time, memory = FALSE, filter_gc = FALSE, time_unit = "us")
  if (!is.null(iterations)) args <- c(args, list(min_iterations = iterations))
  b <- do.call(bench::mark, args)
  med <- as.numeric(b$median)
  per_row_ns <- med[2] * 1000 / rows
  row <- data.frame(case = label, predict = fmt_time(med[1]), predict_fast = fmt_time(med[2]),
                    per_row = fmt_ns(per_row_ns),
                    ratio = sprintf("%.1fx", med[1] / med[2]),
                    target = sprintf(">= %gx", target), ambitious = sprintf(">= %gx", ambitious),
                    stringsAsFactors = FALSE)
  if (!is.na(limit_ns)) {
    row$limit <- fmt_ns(limit_ns)
    row$of_limit <- sprintf("%.0f%%", 100 * limit_ns / per_row_ns)
  }
  print(row, row.names = FALSE, right = FALSE)
  invisible(row)
}

# The machine's limits, from ../shared/reference/performance.md §8 (this
# VM, measured in a quiet window): sequential read bandwidth with 1 and 2
# threads, and the latency of a dependent load by working-set size.
BANDWIDTH <- c(8.9e9, 18.9e9)
LOAD_NS <- c(`16384` = 1.7, `65536` = 5.4, `1048576` = 12.7, `4194304` = 35.7, `33554432` = 162, `Inf` = 198)

# A linear model reads every input column once: `bytes` a row at the
# machine's bandwidth is its floor (ns a row) when the columns come from
# memory. Where a VM reports a 504 MB L3 (the one measured), a batch of
# 1e6 rows (92 MB) stays in it from one call to the next, so a run can
# pass 100%; where it reports 32 MB, the batch comes from memory, whose
# bandwidth may differ from the figures above (see `machine_note()`).
limit_linear <- function(bytes, threads = fp_threads()) {
  bytes / BANDWIDTH[[min(threads, 2L)]] * 1e9
}

# A tree walk costs a node load a level: for shallow trees in cache,
# about 2 ns a level with branch-free steps (§8.2, the low end); for big
# trees, each level misses to the cache level the tree fits in, with up
# to 10 misses in flight a core (its line-fill buffers). Trees x mean
# leaf depth levels a row, over the threads (ns a row).
limit_trees <- function(model, threads = fp_threads()) {
  facts <- model$info$facts
  tree_bytes <- facts$node_bytes * facts$n_nodes / facts$n_trees
  per_level <- if (tree_bytes <= 4096) 2 else LOAD_NS[[which(tree_bytes <= as.numeric(names(LOAD_NS)))[1]]] / 10
  facts$n_trees * facts$mean_leaf_depth * per_level / min(threads, 2L)
}

fmt_ns <- function(ns) if (ns < 1000) sprintf("%.1f ns", ns) else fmt_time(ns / 1000)

fmt_time <- function(us) {
  if (us < 1000) sprintf("%.1f us", us) else if (us < 1e6) sprintf("%.2f ms", us / 1000) else sprintf("%.2f s", us / 1e6)
}

machine_note <- function() {
  options(width = 200)
  cat(sprintf("R %s, fastpredict %s, %d cores, threads = %d\n", getRversion(),
              utils::packageVersion("fastpredict"), parallel::detectCores(), fp_threads()))
  # the VMs here differ in their caches, which move the figures
  if (nzchar(Sys.which("lscpu"))) {
    l <- system2("lscpu", stdout = TRUE)
    pick <- function(key) trimws(sub("^[^:]*:", "", grep(paste0("^", key, ":"), l, value = TRUE)[1]))
    cat(sprintf("CPU %s, L2 %s, L3 %s\n", pick("Model name"), pick("L2 cache"), pick("L3 cache")))
  }
  cat("\n")
}
