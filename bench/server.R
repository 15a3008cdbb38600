# fastpredict-server against Plumber serving the same models the way people
# do it today (a vetiver-style handler: jsonlite parses the body,
# as.data.frame(), the training levels, predict()), both loaded by wrk on
# loopback at 1, 8 and 64 connections, with single-row and 1,000-row
# requests. Prints req/s, p50, p99, each server's CPU time per request and
# the ratios, all measured in this run.
#
# Plumber gets TCP_NODELAY through an LD_PRELOAD shim compiled here (see
# bench/server-helpers.R); the run first shows the Nagle floor without it
# and checks that Plumber then reaches its known 220-320 req/s.
#
# Run with `make bench`, or: R_LIBS=.lib Rscript bench/server.R [seconds per cell]
suppressPackageStartupMessages(library(fastpredict))

args <- commandArgs(TRUE)
secs <- if (length(args)) as.numeric(args[[1]]) else 3
root <- normalizePath(".")
source(file.path(root, "bench", "server-helpers.R"))
bin <- bench_needs(root, c(wrk = "wrk", gcc = "gcc"), c("plumber", "processx", "jsonlite"))
source(file.path(root, "demo", "models.R"))

main <- function() {
  work <- start_run("fastpredict-bench-server-")
  cat(sprintf("machine: %d cores, load average %s\n", parallel::detectCores(), load_average()))

  t0 <- Sys.time()
  models <- demo_models()[c("lm", "gbm", "forest")]
  labels <- c(lm = "lm (README formula)", gbm = "gbm, 500 trees", forest = "randomForest, 500 trees")
  model_dir <- file.path(work, "models")
  write_demo_models(model_dir, models)
  cat(sprintf("fitted and saved %s in %.0f s\n\n", paste(names(models), collapse = ", "),
              as.numeric(difftime(Sys.time(), t0, units = "secs"))))
  set.seed(1)
  bodies <- write_bodies(work, models)
  shim <- build_nodelay_shim(work)
  api <- write_plumber_api(work, models)

  cat("== Plumber and TCP_NODELAY ==\n")
  pl <- start_plumber(work, api)
  floor_run <- load_test(pl, bodies, "lm", 1, 1, 2)
  invisible(pl$process$kill())
  pl <- start_plumber(work, api, shim)
  invisible(load_test(pl, bodies, "lm", 1, 1, 1))
  check <- load_test(pl, bodies, "lm", 1, 1, secs)
  cat(sprintf("without TCP_NODELAY: %.0f req/s, p50 %s (the Nagle/delayed-ACK floor)\n", floor_run$rps, fmt_time(floor_run$p50)))
  cat(sprintf(paste0("with TCP_NODELAY (an LD_PRELOAD shim, %d lines of C compiled with gcc here, that wraps accept() and ",
                     "accept4() to set it on every socket Plumber accepts): %.0f req/s, p50 %s: %s\n\n"),
              length(readLines(file.path(work, "nodelay.c"))), check$rps, fmt_time(check$p50),
              if (check$rps >= 220 && check$rps <= 320) "within Plumber's known 220-320 req/s"
              else "OUTSIDE Plumber's known 220-320 req/s (a busy machine? see the load average)"))

  srv <- start_fastpredict(work, bin, model_dir)
  rows <- list()
  for (name in names(models)) {
    for (size in c(1, 1000)) {
      invisible(load_test(srv, bodies, name, size, 8, 1))  # warm-up
      invisible(load_test(pl, bodies, name, size, 1, 1))
      pl <- settle_plumber(pl, work, api, shim)
      for (conns in c(1, 8, 64)) {
        a <- load_test(pl, bodies, name, size, conns, secs)
        pl <- settle_plumber(pl, work, api, shim)
        b <- load_test(srv, bodies, name, size, conns, secs)
        if (a$errors > 0) warning(sprintf("Plumber, %s, %d rows, %d conns: %d non-2xx answers", name, size, conns, a$errors))
        if (b$errors > 0) warning(sprintf("fastpredict-server, %s, %d rows, %d conns: %d non-2xx answers", name, size, conns, b$errors))
        rows[[length(rows) + 1]] <- data.frame(
          model = labels[[name]], rows = size, conns = conns,
          plumber_rps = a$rps, plumber_p50 = a$p50, plumber_p99 = a$p99, plumber_cpu = a$cpu,
          server_rps = b$rps, server_p50 = b$p50, server_p99 = b$p99, server_cpu = b$cpu)
      }
    }
  }
  res <- do.call(rbind, rows)
  ratio <- function(a, b) ifelse(is.finite(a / b) & b > 0, sprintf("%.0fx", a / b), "n/a")
  show <- data.frame(
    model = res$model, rows = res$rows, conns = res$conns,
    `Plumber req/s` = sprintf("%.0f", res$plumber_rps), p50 = vapply(res$plumber_p50, fmt_time, ""),
    p99 = vapply(res$plumber_p99, fmt_time, ""), `CPU/req` = vapply(res$plumber_cpu, fmt_time, ""),
    `server req/s` = sprintf("%.0f", res$server_rps), `p50 ` = vapply(res$server_p50, fmt_time, ""),
    `p99 ` = vapply(res$server_p99, fmt_time, ""), `CPU/req ` = vapply(res$server_cpu, fmt_time, ""),
    `req/s ratio` = ratio(res$server_rps, res$plumber_rps), `CPU ratio` = ratio(res$plumber_cpu, res$server_cpu),
    check.names = FALSE)
  cat(sprintf("== Plumber (vetiver-style handler) | fastpredict-server: wrk -t1, %g s per cell ==\n", secs))
  old <- options(width = 250)
  print(show, row.names = FALSE, right = FALSE)
  options(old)

  pick <- function(m, size, conns) res[res$model == labels[[m]] & res$rows == size & res$conns == conns, ]
  cat("\n== The issue's targets (single-row requests) ==\n")
  for (m in names(models)) {
    cat(sprintf("%-24s req/s vs Plumber: %s\n", labels[[m]], paste(vapply(c(1, 8, 64), function(k) {
      x <- pick(m, 1, k)
      sprintf("%s at %d", ratio(x$server_rps, x$plumber_rps), k)
    }, ""), collapse = ", ")))
  }
  cat(sprintf("lm p99 at 8 connections: %s (target < 1 ms, ambitious < 200 us)\n", fmt_time(pick("lm", 1, 8)$server_p99)))
  # The server's default is a worker per core: with wrk on the same 2 cores, three busy threads share two, and
  # the tail is the kernel's time slice. One worker leaves wrk a core of its own, as a client on another machine.
  one <- start_fastpredict(work, bin, model_dir, c("--workers", "1"))
  invisible(load_test(one, bodies, "lm", 1, 8, 1))
  w1 <- load_test(one, bodies, "lm", 1, 8, secs)
  cat(sprintf(paste0("  the same with --workers 1 (the server and wrk a core each): p99 %s, p50 %s, %.0f req/s ",
                     "(%s Plumber's at 8)\n"), fmt_time(w1$p99), fmt_time(w1$p50), w1$rps,
              ratio(w1$rps, pick("lm", 1, 8)$plumber_rps)))
  cat(sprintf("lm p50 at 1 connection: %s (target < 100 us, ambitious < 30 us)\n", fmt_time(pick("lm", 1, 1)$server_p50)))
  cat("CPU/req: the server process's user + system time over the requests wrk completed (wrk shares the 2 cores).\n")
  cat(sprintf("load average at the end: %s\n", load_average()))
}

main()
