# fastpredict-server's gRPC ModelInfer beside its REST infer route, in one
# run, on one server: single-row requests to the README's lm and to a
# 500-tree randomForest, loaded by h2load (Debian's nghttp2-client) at 1 and
# 8 concurrent requests:
#   REST, HTTP/1.1:  --h1, 1 and 8 keep-alive connections;
#   REST, h2c:       1 connection, 1 and 8 concurrent streams;
#   gRPC, h2c:       1 connection (as a gRPC channel), 1 and 8 concurrent
#                    streams, each posting a pre-encoded ModelInferRequest
#                    frame (server/examples/grpc_frame.rs writes it from the
#                    REST body, so both ask the same thing).
# Prints req/s, p50 and p99 (from h2load's per-request log), the server's
# CPU time per request and the gRPC/REST ratios, all measured in this run.
# h2load judges an answer by its HTTP status only, and a gRPC error is HTTP
# 200, so every gRPC run is checked against the server's /metrics: a
# non-OK ModelInfer stops the bench.
#
# Run with `make bench`, or: R_LIBS=.lib Rscript bench/grpc.R [seconds per cell]
suppressPackageStartupMessages(library(fastpredict))

args <- commandArgs(TRUE)
secs <- if (length(args)) as.numeric(args[[1]]) else 3
root <- normalizePath(".")
source(file.path(root, "bench", "server-helpers.R"))
bin <- bench_needs(root, c(h2load = "nghttp2-client"), c("processx", "jsonlite"))
framer <- file.path(root, "server", "target", "release", "examples", "grpc_frame")
if (!file.exists(framer)) stop("build the server's frame writer first: cd server && cargo build --release --example grpc_frame")
source(file.path(root, "demo", "models.R"))

# One OIP REST inference body for row 1 of `data` (each input of the
# model's metadata, doubles at full precision) and its gRPC frame.
write_requests <- function(work, srv, name, data) {
  meta <- jsonlite::fromJSON(paste0(srv$base, "v2/models/", name), simplifyVector = FALSE)
  inputs <- lapply(meta$inputs, function(i) {
    x <- data[[i$name]][1]
    value <- switch(i$datatype, BYTES = as.character(x), BOOL = as.logical(x), as.double(x))
    list(name = i$name, datatype = i$datatype, shape = list(1), data = list(value))
  })
  json <- file.path(work, paste0(name, ".json"))
  writeLines(jsonlite::toJSON(list(inputs = inputs), auto_unbox = TRUE, digits = NA), json, sep = "")
  frame <- file.path(work, paste0(name, ".grpc"))
  if (system2(framer, name, stdin = json, stdout = frame) != 0) stop("cannot write the gRPC frame for ", name)
  list(json = json, frame = frame)
}

# The server's count of ModelInfer calls by status ("200", "400", ...),
# summed over the models (a call that failed before naming one has none).
grpc_counts <- function(srv) {
  lines <- readLines(paste0(srv$base, "metrics"), warn = FALSE)
  lines <- grep('^fastpredict_requests_total\\{route="/inference.GRPCInferenceService/ModelInfer"', lines, value = TRUE)
  if (!length(lines)) return(numeric())
  counts <- tapply(as.numeric(sub(".* ", "", lines)), sub('.*status="([0-9]+)".*', "\\1", lines), sum)
  setNames(as.vector(counts), names(counts))
}

# One h2load run (one thread) of `kind` ("h1", "h2c" or "grpc") with
# `conc` concurrent requests: req/s, p50 and p99 (seconds) over the requests
# that finished, and the server's CPU time per request.
h2load_run <- function(srv, work, name, req, kind, conc, duration) {
  log <- tempfile("h2load-", work)
  common <- c("-t1", "-D", duration, paste0("--log-file=", log))
  args <- switch(kind,
    h1 = c(common, "--h1", paste0("-c", conc), "-m1", "-d", req$json, "-H", shQuote("content-type: application/json"),
           paste0(srv$base, "v2/models/", name, "/infer")),
    h2c = c(common, "-c1", paste0("-m", conc), "-d", req$json, "-H", shQuote("content-type: application/json"),
            paste0(srv$base, "v2/models/", name, "/infer")),
    grpc = c(common, "-c1", paste0("-m", conc), "-d", req$frame, "-H", shQuote("content-type: application/grpc"),
             "-H", shQuote("te: trailers"), paste0(srv$base, "inference.GRPCInferenceService/ModelInfer")))
  before <- grpc_counts(srv)
  cpu0 <- cpu_seconds(srv$process$get_pid())
  # -D bounds the run; the timeout stops an h2load that hangs on a stuck server
  out <- system2("h2load", args, stdout = TRUE, stderr = TRUE, timeout = duration + 60)
  cpu1 <- cpu_seconds(srv$process$get_pid())
  done <- read.table(log, sep = "\t", col.names = c("start", "status", "micros"))
  if (kind == "grpc") {
    after <- grpc_counts(srv)
    grew <- vapply(names(after), function(s) after[[s]] - (if (s %in% names(before)) before[[s]] else 0), 0)
    # 499: the streams h2load resets when its time is up (at most one per
    # concurrent stream); every answer h2load counted must be an OK call
    bad <- grew[!names(grew) %in% c("200", "499") & grew > 0]
    cancelled <- if ("499" %in% names(grew)) grew[["499"]] else 0
    ok <- if ("200" %in% names(grew)) grew[["200"]] else 0
    if (length(bad) || cancelled > conc || ok < nrow(done)) {
      stop(sprintf("gRPC %s: the server answered %s", name, paste(names(grew), grew, sep = ": ", collapse = ", ")))
    }
  }
  if (any(done$status != 200)) stop(sprintf("%s %s: HTTP statuses %s", kind, name, paste(unique(done$status), collapse = ", ")))
  summary <- grep("req/s", out, value = TRUE)[1]
  list(rps = as.numeric(sub(".*, ([0-9.]+) req/s.*", "\\1", summary)),
       p50 = quantile(done$micros, 0.5, names = FALSE) / 1e6, p99 = quantile(done$micros, 0.99, names = FALSE) / 1e6,
       n = nrow(done), cpu = (cpu1 - cpu0) / nrow(done))
}

main <- function() {
  work <- start_run("fastpredict-bench-grpc-")
  cat(sprintf("machine: %d cores, load average %s\n", parallel::detectCores(), load_average()))
  models <- demo_models()[c("lm", "forest")]
  labels <- c(lm = "lm (README formula)", forest = "randomForest, 500 trees")
  model_dir <- file.path(work, "models")
  write_demo_models(model_dir, models)
  srv <- start_fastpredict(work, bin, model_dir)
  reqs <- lapply(setNames(names(models), names(models)), function(n) write_requests(work, srv, n, models[[n]]$data))

  kinds <- c(h1 = "REST, HTTP/1.1", h2c = "REST, h2c", grpc = "gRPC")
  rows <- list()
  for (name in names(models)) {
    for (kind in names(kinds)) invisible(h2load_run(srv, work, name, reqs[[name]], kind, 8, 1))  # warm-up
    for (conc in c(1, 8)) {
      for (kind in names(kinds)) {
        r <- h2load_run(srv, work, name, reqs[[name]], kind, conc, secs)
        rows[[length(rows) + 1]] <- data.frame(model = labels[[name]], concurrent = conc, protocol = kinds[[kind]],
                                               rps = r$rps, p50 = r$p50, p99 = r$p99, cpu = r$cpu)
      }
    }
  }
  res <- do.call(rbind, rows)
  rest <- res[res$protocol == kinds[["h1"]], ]
  key <- paste(res$model, res$concurrent)
  base <- setNames(rest$rps, paste(rest$model, rest$concurrent))[key]
  base_cpu <- setNames(rest$cpu, paste(rest$model, rest$concurrent))[key]
  show <- data.frame(
    model = res$model, concurrent = res$concurrent, protocol = res$protocol,
    `req/s` = sprintf("%.0f", res$rps), p50 = vapply(res$p50, fmt_time, ""), p99 = vapply(res$p99, fmt_time, ""),
    `CPU/req` = vapply(res$cpu, fmt_time, ""),
    `req/s vs REST HTTP/1.1` = sprintf("%.2fx", res$rps / base), `CPU vs REST HTTP/1.1` = sprintf("%.2fx", res$cpu / base_cpu),
    check.names = FALSE)
  cat(sprintf(paste0("\n== single-row inference on one fastpredict-server: REST and gRPC, h2load -t1, %g s per cell ==\n",
                     "(concurrent: HTTP/1.1 connections; for h2c and gRPC, streams on one connection)\n"), secs))
  old <- options(width = 200)
  print(show, row.names = FALSE, right = FALSE)
  options(old)
  cat("Every gRPC answer was checked OK in the server's /metrics (h2load counts HTTP statuses only).\n")
  cat("CPU/req: the server process's user + system time over the requests h2load completed (h2load shares the 2 cores).\n")
  cat(sprintf("load average at the end: %s\n", load_average()))
}

main()
