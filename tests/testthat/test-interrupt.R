# Ctrl-C during a long prediction stops it quickly with a classed R error
# and leaves the session usable. Runs a child R process and sends it SIGINT.

test_that("an interrupted prediction stops early, with a classed error", {
  skip_on_cran()
  skip_on_os("windows")
  dir <- tempfile("fp-interrupt")
  dir.create(dir)
  script <- file.path(dir, "child.R")
  writeLines(c(
    sprintf("dir <- %s", deparse(dir)),
    sprintf(".libPaths(%s)", paste(deparse(.libPaths()), collapse = "")),
    "library(fastpredict)",
    "set.seed(1)",
    "tr <- data.frame(y = rnorm(500), x = runif(500, 1, 10))",
    "fit <- lm(y ~ splines::ns(x, 40) + splines::bs(x, 40) + poly(x, 10) + log(x) + sqrt(x), data = tr)",
    "m <- fp_compile(fit)",
    "big <- data.frame(x = runif(3e7, 1, 10))",
    "writeLines(as.character(Sys.getpid()), file.path(dir, 'pid'))",
    "t0 <- Sys.time()",
    # on one thread this takes well over ten seconds: an interruption half
    # a second in can only end it early
    "res <- tryCatch({ predict_fast(m, big, threads = 1); 'finished' },",
    "  fastpredict_error_interrupted = function(e) 'interrupted',",
    "  interrupt = function(e) 'raw-interrupt')",
    "t1 <- Sys.time()",
    "after <- predict_fast(m, data.frame(x = 2))",
    "ok <- isTRUE(all.equal(after, unname(predict(fit, data.frame(x = 2)))))",
    "writeLines(c(res, format(as.numeric(t1), digits = 17), format(as.numeric(t1 - t0)), ok), file.path(dir, 'out'))"
  ), script)
  rscript <- file.path(R.home("bin"), "Rscript")
  system2(rscript, script, wait = FALSE, stdout = file.path(dir, "log"), stderr = file.path(dir, "log"))
  pid_file <- file.path(dir, "pid")
  for (i in 1:600) if (!file.exists(pid_file)) Sys.sleep(0.1)
  expect_true(file.exists(pid_file))
  pid <- as.integer(readLines(pid_file))
  Sys.sleep(0.6)
  sent <- as.numeric(Sys.time())
  tools::pskill(pid, tools::SIGINT)
  out_file <- file.path(dir, "out")
  for (i in 1:300) if (!file.exists(out_file)) Sys.sleep(0.1)
  out <- readLines(out_file)
  expect_identical(out[[1]], "interrupted")
  # and soon after the signal (a generous bound: the machine may be busy)
  expect_lt(as.numeric(out[[2]]) - sent, 5)
  # and the session still predicts correctly
  expect_identical(out[[4]], "TRUE")
})
