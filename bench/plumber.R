# Plumber made fast: the same models served by Plumber with a vetiver-style
# handler (jsonlite parses the body, as.data.frame(), predict()), by
# Plumber with fp_plumber() (the body read, predicted and answered in
# Rust), by Plumber answering a constant (its own floor: what no handler
# can beat), and by fastpredict-server for reference; all loaded by wrk on
# loopback at 1 and 8 connections with the bodies vetiver's client sends.
# Prints req/s (rows/s for batches), p50, p99, the ratios to the
# vetiver-style handler measured in this run, and how each request's CPU
# time splits between Plumber itself and the handler's work.
#
# The Plumber processes get TCP_NODELAY through the LD_PRELOAD shim of
# bench/server-helpers.R (httpuv does not set it, and keep-alive requests
# would otherwise wait out the 40 ms Nagle/delayed-ACK floor);
# fastpredict-server sets it itself.
#
# Run with `make bench`, or: R_LIBS=.lib Rscript bench/plumber.R [seconds per cell]
suppressPackageStartupMessages(library(fastpredict))

args <- commandArgs(TRUE)
secs <- if (length(args)) as.numeric(args[[1]]) else 3
root <- normalizePath(".")
source(file.path(root, "bench", "server-helpers.R"))
bin <- bench_needs(root, c(wrk = "wrk", gcc = "gcc"), c("plumber", "processx", "jsonlite"))
source(file.path(root, "demo", "models.R"))

# An fp_plumber() API on the saved models, started as start_plumber()
# starts the vetiver-style one (its first argument locates the work
# directory, its second is the port).
write_fp_plumber_api <- function(work, model_dir) {
  script <- file.path(work, "fp-plumber.R")
  writeLines(c(
    "args <- commandArgs(TRUE)",
    "suppressPackageStartupMessages(library(fastpredict))",
    sprintf("dir <- '%s'", model_dir),
    "files <- list.files(dir)",
    "models <- lapply(setNames(file.path(dir, files), sub('\\\\.json(\\\\.gz)?$', '', files)), fp_load)",
    "pr <- fastpredict::fp_plumber(plumber::pr(), models, default = 'lm')",
    "plumber::pr_run(pr, host = '127.0.0.1', port = as.integer(args[[2]]), quiet = TRUE, docs = FALSE)"
  ), script)
  script
}

# Plumber's own floor: a route that reads the body as fp_plumber() does
# and answers a constant through the same serializer, so no handler can
# make a request cheaper than this one is.
write_floor_api <- function(work) {
  script <- file.path(work, "floor.R")
  writeLines(c(
    "args <- commandArgs(TRUE)",
    "json <- plumber::serializer_content_type('application/json')",
    "pr <- plumber::pr_get(plumber::pr(), '/ping', function() '{}', serializer = json)",
    "pr <- plumber::pr_post(pr, '/models/<name>/predict', function(req) if (length(req$bodyRaw)) '{\".pred\":[0]}',",
    "                       serializer = json, parsers = character())",
    "plumber::pr_run(pr, host = '127.0.0.1', port = as.integer(args[[2]]), quiet = TRUE, docs = FALSE)"
  ), script)
  script
}

# CPU seconds per call of f(), over at least half a second of calls.
cpu_per_call <- function(f) {
  f()
  n <- 1
  repeat {
    t <- system.time(for (i in seq_len(n)) f(), gcFirst = FALSE)
    cpu <- t[["user.self"]] + t[["sys.self"]]
    if (cpu >= 0.5 || n >= 1e6) return(cpu / n)
    n <- n * 4
  }
}

main <- function() {
  work <- start_run("fastpredict-bench-plumber-")
  cat(sprintf("machine: %d cores, load average %s\n", parallel::detectCores(), load_average()))

  t0 <- Sys.time()
  models <- demo_models()[c("lm", "forest")]
  labels <- c(lm = "lm (README formula)", forest = "randomForest, 500 trees")
  model_dir <- file.path(work, "models")
  write_demo_models(model_dir, models)
  cat(sprintf("fitted and saved %s in %.0f s\n", paste(names(models), collapse = ", "),
              as.numeric(difftime(Sys.time(), t0, units = "secs"))))
  set.seed(1)
  bodies <- write_bodies(work, models, sizes = c(1, 1000))
  shim <- build_nodelay_shim(work)
  vetiver_api <- write_plumber_api(work, models)
  fp_api <- write_fp_plumber_api(work, model_dir)
  floor_api <- write_floor_api(work)
  with_name_path <- function(pl) {
    pl$path <- function(name) paste0("models/", name, "/predict")
    pl
  }
  start <- list(
    vetiver = function() start_plumber(work, vetiver_api, shim),
    fp = function() with_name_path(start_plumber(work, fp_api, shim)),
    floor = function() with_name_path(start_plumber(work, floor_api, shim))
  )
  settle <- function(pl, which) if (answers(paste0(pl$base, "ping"), timeout = 3)) pl else {
    pl$process$kill()
    start[[which]]()
  }
  servers <- list(vetiver = start$vetiver(), fp = start$fp(), floor = start$floor(),
                  server = start_fastpredict(work, bin, model_dir))
  cat(sprintf("Plumber processes run with TCP_NODELAY set by an LD_PRELOAD shim (%d lines of C wrapping accept()); ",
              length(readLines(file.path(work, "nodelay.c")))),
      "fastpredict-server sets it itself.\n\n", sep = "")

  cases <- list(c("lm", 1), c("forest", 1), c("lm", 1000))
  rows <- list()
  for (case in cases) {
    name <- case[[1]]
    size <- as.numeric(case[[2]])
    for (which in names(servers)) invisible(load_test(servers[[which]], bodies, name, size, 1, 1))  # warm-up
    for (conns in c(1, 8)) {
      res <- list()
      for (which in names(servers)) {
        if (which != "server") servers[[which]] <- settle(servers[[which]], which)
        res[[which]] <- load_test(servers[[which]], bodies, name, size, conns, secs)
        if (res[[which]]$errors > 0) warning(sprintf("%s, %s, %d rows, %d conns: %d non-2xx answers", which, name, size,
                                                     conns, res[[which]]$errors))
      }
      rows[[length(rows) + 1]] <- data.frame(
        model = labels[[name]], rows = size, conns = conns,
        vetiver_rps = res$vetiver$rps, vetiver_p50 = res$vetiver$p50, vetiver_p99 = res$vetiver$p99,
        vetiver_cpu = res$vetiver$cpu,
        fp_rps = res$fp$rps, fp_p50 = res$fp$p50, fp_p99 = res$fp$p99, fp_cpu = res$fp$cpu, floor_rps = res$floor$rps,
        server_rps = res$server$rps, server_p50 = res$server$p50, server_p99 = res$server$p99)
    }
  }
  res <- do.call(rbind, rows)
  ratio <- function(a, b) ifelse(is.finite(a / b) & b > 0, sprintf("%.1fx", a / b), "n/a")
  rate <- function(rps, size) if (size == 1) sprintf("%.0f", rps) else sprintf("%.0f rows/s", rps * size)
  show <- data.frame(
    model = res$model, rows = res$rows, conns = res$conns,
    `vetiver-style req/s` = mapply(rate, res$vetiver_rps, res$rows), p50 = vapply(res$vetiver_p50, fmt_time, ""),
    `fp_plumber req/s` = mapply(rate, res$fp_rps, res$rows), `p50 ` = vapply(res$fp_p50, fmt_time, ""),
    `p99 ` = vapply(res$fp_p99, fmt_time, ""), `vs vetiver-style` = ratio(res$fp_rps, res$vetiver_rps),
    `Plumber floor req/s` = mapply(rate, res$floor_rps, res$rows), `floor vs vetiver-style` = ratio(res$floor_rps, res$vetiver_rps),
    `server req/s` = mapply(rate, res$server_rps, res$rows), `p50  ` = vapply(res$server_p50, fmt_time, ""),
    `server vs vetiver-style` = ratio(res$server_rps, res$vetiver_rps),
    check.names = FALSE)
  cat(sprintf(paste("== Plumber + vetiver-style handler | Plumber + fp_plumber() | Plumber answering a constant (its floor)",
                    "| fastpredict-server: wrk -t1, %g s per cell ==\n"), secs))
  old <- options(width = 250)
  print(show, row.names = FALSE, right = FALSE)
  options(old)

  # Where a request's time goes: the handler's own work (CPU time in this
  # process on the same body) against the Plumber process's CPU time per
  # request at one connection; the rest is Plumber (httpuv, routing,
  # filters, the response). CPU time on both sides, so that a busy machine
  # slows both alike.
  cat("\n== Share of each request (1 connection): Plumber itself vs the handler's work ==\n")
  fits <- lapply(models, function(m) m$fit)
  compiled <- lapply(setNames(file.path(model_dir, vapply(models, function(m) m$file, "")), names(models)), fp_load)
  ptypes <- lapply(models, function(m) m$data[0, , drop = FALSE])
  vetiver_handler <- function(name, body) {
    # what write_plumber_api()'s handler and Plumber's JSON parser and serializer do
    newdata <- as.data.frame(jsonlite::parse_json(rawToChar(body), simplifyVector = TRUE))
    for (col in names(ptypes[[name]])) if (is.factor(ptypes[[name]][[col]]) && col %in% names(newdata))
      newdata[[col]] <- factor(newdata[[col]], levels = levels(ptypes[[name]][[col]]))
    jsonlite::toJSON(list(.pred = models[[name]]$predict(fits[[name]], newdata)), auto_unbox = TRUE)
  }
  for (case in cases) {
    name <- case[[1]]
    size <- as.numeric(case[[2]])
    body <- readBin(bodies[[paste(name, size)]], "raw", file.size(bodies[[paste(name, size)]]))
    work_s <- c(cpu_per_call(function() vetiver_handler(name, body)),
                cpu_per_call(function() fp_predict_json(compiled[[name]], body)))
    r <- res[res$model == labels[[name]] & res$rows == size & res$conns == 1, ]
    for (k in 1:2) {
      cpu <- c(r$vetiver_cpu, r$fp_cpu)[[k]]
      cat(sprintf("%-24s %4d row%s  %-13s CPU/request %8s: handler's work %8s (%3.0f%%), Plumber %8s (%3.0f%%)\n",
                  labels[[name]], size, if (size == 1) " " else "s", c("vetiver-style", "fp_plumber")[[k]],
                  fmt_time(cpu), fmt_time(work_s[[k]]), 100 * min(1, work_s[[k]] / cpu),
                  fmt_time(max(0, cpu - work_s[[k]])), 100 * max(0, 1 - work_s[[k]] / cpu)))
    }
  }

  pick <- function(m, size, conns) res[res$model == labels[[m]] & res$rows == size & res$conns == conns, ]
  cat("\n== The issue's targets: fp_plumber vs the vetiver-style handler, measured above ==\n")
  target <- function(label, m, size, goal, ambitious) {
    got <- vapply(c(1, 8), function(k) { x <- pick(m, size, k); x$fp_rps / x$vetiver_rps }, 0)
    most <- vapply(c(1, 8), function(k) { x <- pick(m, size, k); x$floor_rps / x$vetiver_rps }, 0)
    cat(sprintf("%-40s %s  (target >= %gx, ambitious >= %gx; Plumber's floor allows %s)\n", label,
                paste(sprintf("%.1fx at %d conn", got, c(1, 8)), collapse = ", "), goal, ambitious,
                paste(sprintf("%.1fx", most), collapse = " and ")))
  }
  target("single-row lm, req/s", "lm", 1, 2, 3)
  target("single-row 500-tree randomForest, req/s", "forest", 1, 50, 200)
  target("1,000-row batch lm, rows/s", "lm", 1000, 10, 30)
  cat("CPU/request: the Plumber process's user + system time over the requests wrk completed (wrk shares the 2 cores).\n")
  cat(sprintf("load average at the end: %s\n", load_average()))
}

main()
