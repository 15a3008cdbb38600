#' Serve models with fastpredict-server from R
#'
#' Saves the models to a temporary directory and starts fastpredict-server,
#' the standalone Rust server, on them as a child process (with
#' `processx`). It serves the same routes as [fp_plumber()] without R, on
#' every core. The call returns once the server listens; the process stops
#' with `$stop()`, when the handle is garbage-collected, or when R exits.
#'
#' The server is found as the argument `bin`, the option
#' `fastpredict.server_bin`, the environment variable
#' `FASTPREDICT_SERVER_BIN`, or `fastpredict-server` on the `PATH`, in that
#' order. It is built from fastpredict's sources (it needs Rust 1.88 or
#' later): `make server`, or
#' `cargo build --release --manifest-path server/Cargo.toml`, which writes
#' `server/target/release/fastpredict-server`.
#'
#' @param models An `fp_model`, served as `"model"`, or a named list of
#'   them (fitted models are compiled).
#' @param port The port; `NULL` lets the server pick a free one.
#' @param host The address to listen on; the default serves this machine
#'   only.
#' @param api_key `NULL`, or the key clients must send (see
#'   [fp_plumber()]); [fp_endpoint()] takes it from the handle.
#' @param default The model `/predict` serves; the first by default.
#' @param args Further command-line flags of fastpredict-server, such as
#'   `c("--max-rows", "1000", "--threads", "2")` (`fastpredict-server --help`
#'   lists them).
#' @param bin The server's path; see above for the default.
#' @param timeout Seconds to wait for the server to listen.
#' @return An `fp_server`: an environment with `url`, `port`, `pid`,
#'   `models` (their names), `default`, `api_key`, `stop()` (idempotent;
#'   returns invisibly whether the server stopped within 5 s of SIGTERM,
#'   having finished its requests, rather than being killed) and `log()`
#'   (the server's log lines, JSON).
#' @section Errors: Without the binary, `fastpredict_error_no_server`,
#'   whose message says how to build it; a server that does not start,
#'   `fastpredict_error_unavailable` with its log.
#' @export
#' @examples
#' m <- fp_compile(lm(mpg ~ wt + factor(cyl), data = mtcars))
#' srv <- tryCatch(fp_serve(m), fastpredict_error_no_server = function(e) NULL)
#' if (!is.null(srv)) {
#'   srv
#'   predict(fp_endpoint(srv), mtcars[1:3, ])
#'   srv$stop()
#' }
fp_serve <- function(models, port = NULL, host = "127.0.0.1", api_key = NULL, default = NULL, args = character(),
                     bin = NULL, timeout = 30) {
  if (!requireNamespace("processx", quietly = TRUE)) {
    fp_abort("unsupported", "fp_serve() needs the processx package (Debian: r-cran-processx)")
  }
  bin <- fp_server_binary(bin)
  models <- fp_model_list(models)
  default <- default %||% names(models)[[1]]
  if (!is.character(default) || length(default) != 1 || !default %in% names(models)) {
    fp_abort("bad_argument", sprintf("default must name one of the models (%s)", paste(names(models), collapse = ", ")))
  }
  if (!is.null(port) && (!is.numeric(port) || length(port) != 1 || is.na(port) || port < 0 || port > 65535 || port %% 1 != 0)) {
    fp_abort("bad_argument", "port must be NULL or a whole number from 0 to 65535")
  }
  if (!is.null(api_key)) fp_check_string(api_key, "api_key")
  if (!is.character(args)) fp_abort("bad_argument", "args must be a character vector of flags")

  dir <- tempfile("fastpredict-serve-")
  dir.create(file.path(dir, "models"), recursive = TRUE)
  for (name in names(models)) fp_save(models[[name]], file.path(dir, "models", paste0(name, ".json")))
  log_file <- file.path(dir, "server.log")
  # the key is given only through the environment (never on a command line
  # that `ps` shows), and a key set in this session's is not inherited
  env <- Sys.getenv()
  env <- stats::setNames(as.character(env), names(env))
  env <- env[!names(env) %in% c("FASTPREDICT_API_KEY", "FASTPREDICT_API_KEY_FILE")]
  if (!is.null(api_key)) env[["FASTPREDICT_API_KEY"]] <- api_key
  flags <- c("--models", file.path(dir, "models"), "--host", host, "--port", format(port %||% 0, scientific = FALSE),
             "--default-model", default, "--watch", "false", "--log-format", "json", args)
  # the log goes to a file: a pipe nobody reads would stop the server once full
  p <- processx::process$new(bin, flags, env = env, stdout = log_file, stderr = "2>&1", cleanup = TRUE)

  srv <- new.env(parent = emptyenv())
  srv$process <- p
  srv$pid <- p$get_pid()
  srv$models <- names(models)
  srv$default <- default
  srv$api_key <- api_key
  srv$log <- function() if (file.exists(log_file)) readLines(log_file, warn = FALSE) else character()
  srv$stop <- function() {
    graceful <- TRUE
    if (p$is_alive()) {
      p$signal(tools::SIGTERM)  # finishes the requests in flight
      p$wait(5000)
      graceful <- !p$is_alive()
      if (!graceful) p$kill()
    }
    unlink(dir, recursive = TRUE)
    invisible(graceful)
  }
  class(srv) <- "fp_server"
  reg.finalizer(srv, function(s) s$stop(), onexit = TRUE)

  address <- NULL
  deadline <- Sys.time() + timeout
  while (is.null(address) && Sys.time() < deadline && p$is_alive()) {
    line <- grep('"message":"listening"', srv$log(), fixed = TRUE, value = TRUE)
    if (length(line)) address <- sub('.*"address":"([^"]+)".*', "\\1", line[[1]]) else Sys.sleep(0.05)
  }
  if (is.null(address)) {
    log <- srv$log()
    srv$stop()
    fp_abort("unavailable", sprintf("fastpredict-server (%s) did not start within %g s:\n%s", bin, timeout,
                                    paste(utils::tail(log, 20), collapse = "\n")))
  }
  srv$url <- paste0("http://", address)
  srv$port <- as.integer(sub(".*:", "", address))
  srv
}

#' @rdname fp_serve
#' @param x An `fp_server`.
#' @param ... Unused.
#' @export
print.fp_server <- function(x, ...) {
  alive <- x$process$is_alive()
  cat(sprintf("<fp_server> fastpredict-server at %s (pid %d, %s)\n", x$url %||% "?", x$pid,
              if (alive) "running" else "stopped"))
  cat(sprintf("  models: %s (/predict serves '%s')%s\n", paste(x$models, collapse = ", "), x$default,
              if (is.null(x$api_key)) "" else "; an API key is required"))
  if (alive) cat("  predict(fp_endpoint(<this>), newdata); stop with $stop()\n")
  invisible(x)
}

# The server binary: `bin`, the option, the environment variable, the PATH.
fp_server_binary <- function(bin = NULL) {
  given <- list(`the argument bin` = bin, `the option fastpredict.server_bin` = getOption("fastpredict.server_bin"),
                `FASTPREDICT_SERVER_BIN` = Sys.getenv("FASTPREDICT_SERVER_BIN"))
  for (where in names(given)) {
    path <- given[[where]]
    if (is.null(path) || identical(path, "")) next
    if (!is.character(path) || length(path) != 1 || !file.exists(path)) {
      fp_abort("no_server", sprintf("fastpredict-server was not found at %s (%s)", format(path), where))
    }
    return(normalizePath(path))
  }
  path <- Sys.which("fastpredict-server")
  if (nzchar(path)) return(unname(path))
  fp_abort("no_server", paste0(
    "fastpredict-server was not found: it is not on the PATH, and neither the option fastpredict.server_bin ",
    "nor the environment variable FASTPREDICT_SERVER_BIN is set. Build it from fastpredict's sources ",
    "(Rust 1.88 or later; https://rustup.rs) with `make server`, or ",
    "`cargo build --release --manifest-path server/Cargo.toml`, then give its path: ",
    "options(fastpredict.server_bin = \"<sources>/server/target/release/fastpredict-server\")"))
}
