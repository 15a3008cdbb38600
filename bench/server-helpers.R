# Serving the same models with Plumber and fastpredict-server, and loading
# them with wrk; shared by bench/server.R and demo/serving.R. Everything
# lives in the directory `work`; every process started is recorded in
# `procs` so that the caller can stop them all (on.exit).

# What a serving benchmark needs before it starts: the server binary,
# whose path it returns, the load tools (command = its Debian package)
# and R packages; stops with what to install when one is missing.
bench_needs <- function(root, tools, packages) {
  bin <- file.path(root, "server", "target", "release", "fastpredict-server")
  if (!file.exists(bin)) stop("build the server first: make server")
  for (cmd in names(tools)) if (!nzchar(Sys.which(cmd))) stop(cmd, " is needed (Debian: ", tools[[cmd]], ")")
  for (pkg in packages) if (!requireNamespace(pkg, quietly = TRUE)) stop("R package ", pkg, " is needed")
  bin
}

# A fresh directory `work` for one run, and an empty `procs`; when the
# calling function exits, every process in `procs` is stopped and the
# directory removed.
start_run <- function(prefix) {
  work <- tempfile(prefix)
  dir.create(work)
  procs <<- list()
  cleanup <- function() {
    for (p in procs) if (p$is_alive()) p$kill()
    unlink(work, recursive = TRUE)
  }
  do.call(on.exit, list(as.call(list(cleanup)), add = TRUE), envir = parent.frame())
  work
}

# Plumber's HTTP layer (httpuv) does not set TCP_NODELAY, so a load
# generator on keep-alive connections measures the 40 ms Nagle/delayed-ACK
# floor instead of Plumber. This shim, preloaded into Plumber's R process,
# wraps accept() and accept4() to set TCP_NODELAY on every accepted socket.
build_nodelay_shim <- function(work) {
  src <- file.path(work, "nodelay.c")
  so <- file.path(work, "nodelay.so")
  writeLines(c(
    "#define _GNU_SOURCE",
    "#include <dlfcn.h>",
    "#include <netinet/in.h>",
    "#include <netinet/tcp.h>",
    "#include <sys/socket.h>",
    "typedef int (*accept_fn)(int, struct sockaddr *, socklen_t *);",
    "typedef int (*accept4_fn)(int, struct sockaddr *, socklen_t *, int);",
    "static int nodelay(int fd) { int one = 1; if (fd >= 0) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); return fd; }",
    "int accept(int s, struct sockaddr *a, socklen_t *l) { return nodelay(((accept_fn) dlsym(RTLD_NEXT, \"accept\"))(s, a, l)); }",
    "int accept4(int s, struct sockaddr *a, socklen_t *l, int f) { return nodelay(((accept4_fn) dlsym(RTLD_NEXT, \"accept4\"))(s, a, l, f)); }"
  ), src)
  if (system2("gcc", c("-O2", "-shared", "-fPIC", "-o", so, src, "-ldl")) != 0) stop("cannot compile the TCP_NODELAY shim")
  so
}

# A vetiver-style Plumber API: per model, POST /<name> parses the body with
# jsonlite (Plumber's JSON parser), makes a data frame, gives factor columns
# the training levels (as vetiver's hardhat::scream() does) and returns
# list(.pred = predict()). `models`: name -> list(fit, data, predict).
write_plumber_api <- function(work, models) {
  saveRDS(lapply(models, function(m) list(fit = m$fit, ptype = m$data[0, , drop = FALSE], predict = m$predict)),
          file.path(work, "plumber-models.rds"))
  script <- file.path(work, "plumber.R")
  writeLines(c(
    "args <- commandArgs(TRUE)",
    "models <- readRDS(args[[1]])",
    "suppressPackageStartupMessages({ library(plumber); library(gbm); library(randomForest); library(rpart) })",
    "pr <- pr()",
    "pr <- pr_get(pr, '/ping', function() list(status = 'online'), serializer = serializer_unboxed_json())",
    "for (name in names(models)) local({",
    "  m <- models[[name]]",
    "  pr <<- pr_post(pr, paste0('/', name), function(req) {",
    "    newdata <- as.data.frame(req$body)",
    "    for (col in names(m$ptype)) if (is.factor(m$ptype[[col]]) && col %in% names(newdata))",
    "      newdata[[col]] <- factor(newdata[[col]], levels = levels(m$ptype[[col]]))",
    "    list(.pred = m$predict(m$fit, newdata))",
    "  }, serializer = serializer_unboxed_json())",
    "})",
    "pr_run(pr, host = '127.0.0.1', port = as.integer(args[[2]]), quiet = TRUE, docs = FALSE)"
  ), script)
  script
}

free_port <- function() {
  repeat {
    port <- sample(20000:40000, 1)
    con <- try(suppressWarnings(socketConnection("127.0.0.1", port, open = "r+b", timeout = 0.2)), silent = TRUE)
    if (inherits(con, "try-error")) return(port)
    close(con)
  }
}

# Whether a GET of `u` answers within `timeout` seconds.
answers <- function(u, timeout = 60) {
  old <- options(timeout = timeout)
  on.exit(options(old))
  con <- url(u)
  on.exit(close(con), add = TRUE)
  suppressWarnings(tryCatch({
    readLines(con, warn = FALSE)
    TRUE
  }, error = function(e) FALSE))
}

# `log`: the file the server's output goes to, shown if it exits.
wait_up <- function(u, p, log) {
  for (i in 1:600) {
    if (!p$is_alive()) {
      stop("the server exited (status ", p$get_exit_status(), "): ",
           paste(utils::tail(readLines(log, warn = FALSE), 20), collapse = "\n"))
    }
    if (answers(u)) return(invisible())
    Sys.sleep(0.1)
  }
  stop("the server did not come up at ", u)
}

# Plumber in its own R process, with or without the TCP_NODELAY shim.
start_plumber <- function(work, script, shim = NULL) {
  port <- free_port()
  log <- file.path(work, sprintf("plumber-%d.log", port))
  env <- Sys.getenv()
  env <- setNames(as.character(env), names(env))
  env <- env[names(env) != "LD_PRELOAD"]
  if (!is.null(shim)) env["LD_PRELOAD"] <- shim
  p <- processx::process$new(file.path(R.home("bin"), "Rscript"), c(script, file.path(work, "plumber-models.rds"), port),
                             env = env, stdout = log, stderr = "2>&1")
  procs[[length(procs) + 1]] <<- p
  wait_up(sprintf("http://127.0.0.1:%d/ping", port), p, log)
  list(process = p, base = sprintf("http://127.0.0.1:%d/", port), path = function(name) name)
}

# Plumber answers one request at a time and keeps answering requests whose
# client has gone, so after a run with many connections it may still be
# working through their backlog. A Plumber whose /ping does not answer
# within a few seconds is replaced, so that the next run measures Plumber
# and not the previous run's queue.
settle_plumber <- function(pl, work, script, shim) {
  if (answers(paste0(pl$base, "ping"), timeout = 3)) return(pl)
  pl$process$kill()
  start_plumber(work, script, shim)
}

# fastpredict-server on the model directory, with its default settings.
start_fastpredict <- function(work, bin, model_dir, flags = character()) {
  port <- free_port()
  log <- file.path(work, sprintf("server-%d.log", port))
  p <- processx::process$new(bin, c("--models", model_dir, "--host", "127.0.0.1", "--port", port, flags),
                             stdout = log, stderr = "2>&1")
  procs[[length(procs) + 1]] <<- p
  wait_up(sprintf("http://127.0.0.1:%d/v2/health/ready", port), p, log)
  list(process = p, base = sprintf("http://127.0.0.1:%d/", port), path = function(name) paste0("models/", name, "/predict"))
}

# Request bodies as vetiver's client writes them (jsonlite records), one per
# model and row count: name "<model> <rows>" -> file.
write_bodies <- function(work, models, sizes = c(1, 1000)) {
  bodies <- list()
  for (name in names(models)) {
    d <- models[[name]]$data
    for (size in sizes) {
      rows <- if (size == 1) d[1, , drop = FALSE] else d[sample(nrow(d), size, replace = TRUE), , drop = FALSE]
      rownames(rows) <- NULL
      path <- file.path(work, sprintf("%s-%d.json", name, size))
      writeLines(jsonlite::toJSON(rows, na = "string"), path, sep = "")
      bodies[[paste(name, size)]] <- path
    }
  }
  lua <- file.path(work, "post.lua")
  writeLines(c('wrk.method = "POST"', 'local f = io.open(os.getenv("BODY_FILE"), "rb")', "wrk.body = f:read(\"*a\")",
               "f:close()"), lua)
  attr(bodies, "lua") <- lua
  bodies
}

cpu_seconds <- function(pid) {
  f <- strsplit(sub(".*\\) ", "", readLines(sprintf("/proc/%d/stat", pid))), " ")[[1]]
  ticks <- as.numeric(system2("getconf", "CLK_TCK", stdout = TRUE))
  (as.numeric(f[12]) + as.numeric(f[13])) / ticks  # utime and stime, fields 14 and 15
}

# wrk's "1.23ms" in seconds (NA when it printed none, e.g. no request done).
to_seconds <- function(x) {
  m <- regmatches(x, regexec("^([0-9.]+)(us|ms|s|m)$", trimws(x)))[[1]]
  if (length(m) != 3) return(NA_real_)
  as.numeric(m[2]) * c(us = 1e-6, ms = 1e-3, s = 1, m = 60)[[m[3]]]
}

# One wrk run (one thread, `conns` keep-alive connections): req/s, p50 and
# p99 (seconds), completed requests, non-2xx answers, and the server
# process's CPU time per completed request.
load_test <- function(srv, bodies, name, size, conns, duration) {
  url <- paste0(srv$base, srv$path(name))
  Sys.setenv(BODY_FILE = bodies[[paste(name, size)]])
  cpu0 <- cpu_seconds(srv$process$get_pid())
  out <- system2("wrk", c("-t1", paste0("-c", conns), paste0("-d", duration, "s"), "--timeout", "30s", "--latency",
                          "-s", attr(bodies, "lua"), url), stdout = TRUE, stderr = TRUE)
  cpu1 <- cpu_seconds(srv$process$get_pid())
  grab <- function(pattern) {
    l <- grep(pattern, out, value = TRUE)
    if (length(l)) l[[1]] else NA_character_
  }
  n <- suppressWarnings(as.numeric(sub("^\\s*([0-9]+) requests in.*", "\\1", grab("requests in"))))
  if (is.na(n)) n <- 0
  bad <- grab("Non-2xx")
  list(rps = as.numeric(sub(".*: *", "", grab("^Requests/sec"))),
       p50 = to_seconds(sub("^\\s*50%\\s*", "", grab("^\\s*50%"))),
       p99 = to_seconds(sub("^\\s*99%\\s*", "", grab("^\\s*99%"))),
       n = n, errors = if (is.na(bad)) 0 else as.numeric(sub(".*: *", "", bad)),
       cpu = if (n > 0) (cpu1 - cpu0) / n else NA_real_)
}

fmt_time <- function(s) {
  if (is.na(s)) return("NA")
  if (s < 1e-3) sprintf("%.0f us", s * 1e6) else if (s < 1) sprintf("%.2f ms", s * 1e3) else sprintf("%.2f s", s)
}

load_average <- function() paste(scan("/proc/loadavg", what = "", n = 3, quiet = TRUE), collapse = " ")
