# fp_serve() runs fastpredict-server as a child process; fp_endpoint()
# predicts from it as predict_fast() does. The binary is the one make test
# builds (FASTPREDICT_SERVER_BIN), else built here (helper-http.R).

test_that("without the binary, fp_serve() says how to build it", {
  skip_if_not_installed("processx")
  withr_env <- Sys.getenv(c("FASTPREDICT_SERVER_BIN", "PATH"))
  on.exit(do.call(Sys.setenv, as.list(withr_env)), add = TRUE)
  old <- options(fastpredict.server_bin = NULL)
  on.exit(options(old), add = TRUE)
  Sys.setenv(FASTPREDICT_SERVER_BIN = "", PATH = tempdir())
  m <- fp_compile(lm(mpg ~ wt, data = mtcars))
  e <- expect_error(fp_serve(m), class = "fastpredict_error_no_server")
  expect_match(conditionMessage(e), "cargo build --release --manifest-path server/Cargo.toml", fixed = TRUE)
  expect_match(conditionMessage(e), "fastpredict.server_bin", fixed = TRUE)
  e <- expect_error(fp_serve(m, bin = file.path(tempdir(), "nowhere")), class = "fastpredict_error_no_server")
  expect_match(conditionMessage(e), "the argument bin")
})

test_that("fp_serve() serves models that fp_endpoint() predicts from as predict_fast()", {
  for (p in c("processx", "httr", "rpart", "randomForest", "ranger", "gbm", "glmnet")) skip_if_not_installed(p)
  bin <- server_binary()
  if (is.null(bin)) skip("fastpredict-server cannot be built here (needs the source tree's server/ and cargo with Rust >= 1.88)")
  setup <- http_cases()
  models <- lapply(setup$fits, http_model)
  srv <- fp_serve(models, api_key = "s3cret", default = "glm", bin = bin)
  on.exit(srv$stop(), add = TRUE)
  expect_s3_class(srv, "fp_server")
  expect_match(srv$url, "^http://127\\.0\\.0\\.1:[0-9]+$")
  expect_output(print(srv), "running.*\n.*/predict serves 'glm'.*API key")

  for (case in setup$cases) {
    ep <- fp_endpoint(srv, model = case$model)
    got <- do.call(predict, c(list(ep, case$data, type = case$type), case$args))
    expect_identical(got, case_fast(models[[case$model]], case), info = paste(case$model, case$query))
  }
  # lists and matrices: se.fit with intervals, mlm, a survival forest
  if (requireNamespace("survival", quietly = TRUE)) {
    lists <- http_list_cases()
    listed <- lapply(lists$fits, fp_compile)
    more <- fp_serve(listed, bin = bin)
    on.exit(more$stop(), add = TRUE)
    expect_list_calls(lists, listed, function(name, data, type, args) {
      do.call(predict, c(list(fp_endpoint(more, model = name), data, type = type), args))
    })
  }
  # the default model, and the key the handle holds
  expect_identical(predict(fp_endpoint(srv), setup$mt), predict_fast(models$glm, setup$mt))
  expect_error(predict(fp_endpoint(srv$url, model = "glm"), setup$mt), class = "fastpredict_error_unauthorized")
  expect_error(predict(fp_endpoint(srv, model = "glm"), setup$mt[names(setup$mt) != "wt"]), class = "fastpredict_error_missing_column")

  pid <- srv$pid
  expect_true(srv$stop())  # SIGTERM: a graceful exit
  expect_false(tools::pskill(pid, 0))
  expect_output(print(srv), "stopped")
  expect_true(srv$stop())  # again: nothing to do
  expect_error(predict(fp_endpoint(srv, model = "glm"), setup$mt), class = "fastpredict_error_unavailable")
})

test_that("the server stops when its handle is garbage-collected or R exits", {
  skip_if_not_installed("processx")
  bin <- server_binary()
  if (is.null(bin)) skip("fastpredict-server cannot be built here")
  m <- fp_compile(lm(mpg ~ wt, data = mtcars))
  srv <- fp_serve(m, bin = bin)
  pid <- srv$pid
  rm(srv)
  invisible(gc())
  expect_false(tools::pskill(pid, 0))

  # an R session that starts a server and exits without stopping it
  script <- tempfile(fileext = ".R")
  writeLines(c(sprintf(".libPaths(c('%s', .libPaths()))", dirname(find.package("fastpredict"))),
               "library(fastpredict)",
               sprintf("srv <- fp_serve(fp_compile(lm(mpg ~ wt, data = mtcars)), bin = '%s')", bin),
               "cat(srv$pid, '\\n')"), script)
  out <- system2(file.path(R.home("bin"), "Rscript"), script, stdout = TRUE, stderr = FALSE)
  pid <- as.integer(out[[length(out)]])
  expect_false(is.na(pid))
  expect_false(tools::pskill(pid, 0))
})
