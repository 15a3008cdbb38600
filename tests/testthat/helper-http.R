# Helpers of the tests over HTTP (test-server.R, test-plumber.R,
# test-serve.R): the server binary, request bodies at full precision,
# answers as plain values, a Plumber API in a background R process, and the
# models of every package with the cases to compare.

# The binary: FASTPREDICT_SERVER_BIN (make test builds it), else built with
# cargo from the source tree; NULL if it cannot be had.
server_binary <- function() {
  bin <- Sys.getenv("FASTPREDICT_SERVER_BIN")
  if (nzchar(bin) && file.exists(bin)) return(bin)
  root <- normalizePath(file.path(testthat::test_path(), "..", ".."), mustWork = FALSE)
  manifest <- file.path(root, "server", "Cargo.toml")
  if (!file.exists(manifest)) return(NULL)
  cargo <- Sys.which("cargo")
  if (!nzchar(cargo)) cargo <- file.path(Sys.getenv("HOME"), ".cargo", "bin", "cargo")
  status <- suppressWarnings(system2(cargo, c("build", "--release", "--quiet", "--manifest-path", shQuote(manifest)),
                                     stdout = FALSE, stderr = FALSE))
  bin <- file.path(root, "server", "target", "release", "fastpredict-server")
  if (identical(status, 0L) && file.exists(bin)) bin else NULL
}

# Start the server on `dir` on a free port (it picks one and logs it):
# list(process, url); the caller stops it with $process$kill() (on.exit).
start_server <- function(bin, dir, args = character()) {
  p <- processx::process$new(bin, c("--host", "127.0.0.1", "--port", "0", "--models", dir, "--watch", "false", args),
                             stdout = "|", stderr = "|")
  deadline <- Sys.time() + 30
  while (Sys.time() < deadline && p$is_alive()) {
    p$poll_io(200)
    for (line in p$read_output_lines()) {
      if (grepl('"message":"listening"', line, fixed = TRUE)) {
        return(list(process = p, url = paste0("http://", sub('.*"address":"([^"]+)".*', "\\1", line))))
      }
    }
  }
  p$kill()
  stop("fastpredict-server did not start: ", paste(p$read_all_error_lines(), collapse = "\n"))
}

# Columns as JSON with every double at full precision (jsonlite's default
# keeps 4 decimals); missing values as jsonlite writes them.
json_columns <- function(df) {
  df <- as.data.frame(df)  # a matrix model's rows
  cols <- vapply(names(df), function(n) sprintf('"%s":[%s]', n, paste(json_cells(df[[n]]), collapse = ",")), "")
  paste0("{", paste(cols, collapse = ","), "}")
}

# POST a body (no Content-Type, as vetiver's client) and read the JSON answer.
post_json <- function(url, body, headers = character()) {
  r <- httr::POST(url, body = body, httr::add_headers(.headers = headers))
  list(status = httr::status_code(r), json = jsonlite::fromJSON(httr::content(r, "text", encoding = "UTF-8")))
}

# A prediction as a plain vector or column-major matrix without names, and
# classes as strings, so that server answers and R objects compare alike.
plain <- function(x) {
  if (is.factor(x)) return(as.character(x))
  if (is.list(x) && !is.data.frame(x)) {
    x <- if (length(x) == 1) x[[1]] else do.call(cbind, x)
  }
  if (!is.null(dim(x)) && length(dim(x)) > 2) dim(x) <- c(dim(x)[1], prod(dim(x)[-1]))
  if (!is.null(dim(x)) && ncol(x) == 1) x <- x[, 1]
  x <- unclass(x)
  attributes(x) <- if (is.null(dim(x))) NULL else list(dim = dim(x))
  x
}

# A column's values as JSON at full precision: missing values as `na`,
# the special doubles as jsonlite's strings.
json_cells <- function(x, na = '"NA"') {
  if (is.factor(x) || is.character(x)) return(ifelse(is.na(x), na, paste0('"', as.character(x), '"')))
  if (is.logical(x)) return(ifelse(is.na(x), na, ifelse(x, "true", "false")))
  x <- as.numeric(x)
  ifelse(is.nan(x), '"NaN"', ifelse(is.na(x), na, ifelse(is.infinite(x), ifelse(x > 0, '"Inf"', '"-Inf"'),
                                                          sprintf("%.17g", x))))
}

# Records as vetiver's client sends them (no Content-Type, "NA" strings,
# row names as "_row"), but with every double in full.
json_records <- function(df, row_names = TRUE) {
  df <- as.data.frame(df)
  cells <- lapply(df, json_cells)
  rows <- vapply(seq_len(nrow(df)), function(i) {
    kv <- sprintf('"%s":%s', names(df), vapply(cells, `[[`, "", i))
    if (row_names) kv <- c(kv, sprintf('"_row":"%s"', rownames(df)[[i]]))
    paste0("{", paste(kv, collapse = ","), "}")
  }, "")
  paste0("[", paste(rows, collapse = ","), "]")
}

# An OIP inference request written in R (not by the package's writer).
json_infer <- function(df, parameters = "", id = NULL) {
  df <- as.data.frame(df)
  inputs <- vapply(names(df), function(n) {
    x <- df[[n]]
    type <- if (is.factor(x) || is.character(x)) "BYTES" else if (is.logical(x)) "BOOL" else "FP64"
    sprintf('{"name":"%s","datatype":"%s","shape":[%d],"data":[%s]}', n, type, length(x),
            paste(json_cells(x, na = "null"), collapse = ","))
  }, "")
  sprintf('{%s%s"inputs":[%s]}', if (is.null(id)) "" else sprintf('"id":"%s",', id),
          if (nzchar(parameters)) sprintf('"parameters":%s,', parameters) else "", paste(inputs, collapse = ","))
}

# A JSON value as R reads it back: null is NA, jsonlite's strings are the
# special doubles.
json_number <- function(v) if (is.null(v)) NA_real_ else as.numeric(v)  # as.numeric("Inf") is Inf
specials <- c("NaN", "Inf", "-Inf")

# Values of one answer column: classes (strings), else numbers.
json_column <- function(values) {
  classes <- vapply(values, function(v) is.character(v) && !v %in% specials, NA)
  if (any(classes)) return(vapply(values, function(v) if (is.null(v)) NA_character_ else v, ""))
  vapply(values, json_number, 0)
}

# A vetiver answer ({".pred": [...]} or one .pred_<column> per column),
# read with jsonlite, as plain values.
vetiver_plain <- function(text) {
  cols <- lapply(jsonlite::fromJSON(text, simplifyVector = FALSE), json_column)
  plain(if (length(cols) == 1) cols[[1]] else do.call(cbind, cols))
}

# An OIP answer read with jsonlite, as plain values: each output (its
# row-major data back to a column-major matrix; a list's numbers repeated
# on every row, as a vetiver answer has them) side by side.
oip_plain <- function(text) {
  outputs <- jsonlite::fromJSON(text, simplifyVector = FALSE)$outputs
  rows <- NULL
  values <- lapply(outputs, function(out) {
    data <- json_column(out$data)
    if (isTRUE(out$parameters$scalar)) return(data)
    shape <- unlist(out$shape)
    rows <<- shape[[1]]
    if (length(shape) == 1) data else matrix(data, nrow = shape[[1]], byrow = TRUE)
  })
  values <- lapply(values, function(v) if (is.null(dim(v)) && length(v) == 1 && !identical(rows, 1L)) rep(v, rows) else v)
  plain(if (length(values) == 1) values[[1]] else do.call(cbind, values))
}

# A case's type and arguments as an OIP request's parameters, by their
# wire names (the engine's: n_trees, norm_votes, se_fit, ...).
oip_parameters <- function(case) {
  args <- c(if (!is.null(case$type)) list(type = case$type), case$args)
  if (!length(args)) return("")
  wire <- sub("^(n|num)_trees$", "n_trees", gsub(".", "_", names(args), fixed = TRUE))
  values <- vapply(args, function(v) {
    v <- if (is.character(v)) sprintf('"%s"', v) else if (is.logical(v)) tolower(v) else sprintf("%.17g", v)
    if (length(v) > 1) paste0("[", paste(v, collapse = ","), "]") else v
  }, "")
  paste0("{", paste(sprintf('"%s":%s', wire, values), collapse = ","), "}")
}

# The models of every package the package compiles or imports, and what to
# ask each: model, data, the query string (vetiver) with the same type and
# arguments in R, R's own prediction (the library's recorded one for an
# imported booster), and the tolerance against it.
http_cases <- function() {
  set.seed(42)
  mt <- mtcars
  mt$wt[3] <- NA
  ir <- iris[sample(nrow(iris), 40), ]
  ir$Sepal.Width <- ir$Sepal.Width + rnorm(nrow(ir), sd = 1e-3)  # digits a 4-decimal JSON would lose
  mx <- as.matrix(mtcars[, -1])
  cvx <- as.matrix(mtcars[, c("mpg", "wt", "hp", "qsec", "drat")])
  irx <- as.matrix(ir[, 1:4])
  fits <- list(
    lm = lm(mpg ~ wt * factor(cyl) + poly(hp, 2) + log(disp), data = mtcars),
    glm = glm(vs ~ scale(mpg) + factor(am) + wt, family = binomial, data = mtcars),
    rpart = rpart::rpart(Species ~ ., data = iris),
    rf = randomForest::randomForest(Species ~ ., data = iris, ntree = 50),
    rfreg = randomForest::randomForest(mpg ~ wt + hp + disp + cyl, data = mtcars, ntree = 50),
    ranger = ranger::ranger(mpg ~ wt + hp + disp + cyl, data = mtcars, num.trees = 50, seed = 1, num.threads = 1),
    rangerprob = ranger::ranger(Species ~ ., data = iris, probability = TRUE, num.trees = 50, seed = 1, num.threads = 1),
    gbm = suppressWarnings(gbm::gbm(mpg ~ wt + hp + disp + cyl, data = mtcars, distribution = "gaussian",
                                    n.trees = 100, n.minobsinnode = 3)),
    gbmmulti = suppressWarnings(gbm::gbm(Species ~ ., data = iris, distribution = "multinomial", n.trees = 30)),
    # models that predict from a matrix
    glmnet = glmnet::glmnet(mx, mtcars$mpg, nlambda = 20),
    cvglmnet = glmnet::cv.glmnet(cvx, factor(mtcars$am), family = "binomial", foldid = rep(1:4, 8), nlambda = 20),
    multinet = glmnet::glmnet(as.matrix(iris[, 1:4]), iris$Species, family = "multinomial", nlambda = 10),
    # boosters imported from the files the libraries saved (fixtures/boosters)
    xgb = booster_fixture("xgb_multi_softprob"),
    lgb = booster_fixture("lgb_multiclass")
  )
  xgb <- http_model(fits$xgb)
  lgb <- http_model(fits$lgb)
  case <- function(model, data, query, ref, type = NULL, args = list(), tol = 0) {
    list(model = model, data = data, query = query, ref = ref, type = type, args = args, tol = tol)
  }
  cases <- list(
    case("lm", mt, "", function(f, d) predict(f, d), tol = 1e-9),
    # predict.lm()'s list (a matrix, a vector and two numbers), and its terms (a matrix with an attribute)
    case("lm", mt, "se_fit=true&interval=confidence&level=0.9",
         function(f, d) predict(f, d, se.fit = TRUE, interval = "confidence", level = 0.9),
         args = list(se.fit = TRUE, interval = "confidence", level = 0.9), tol = 1e-9),
    case("lm", mt, "interval=prediction&level=0.8", function(f, d) predict(f, d, interval = "prediction", level = 0.8),
         args = list(interval = "prediction", level = 0.8), tol = 1e-9),
    case("lm", mt, "type=terms", function(f, d) predict(f, d, type = "terms"), "terms", tol = 1e-9),
    case("glm", mt, "type=response", function(f, d) predict(f, d, type = "response"), "response", tol = 1e-9),
    case("glm", mt, "", function(f, d) predict(f, d), tol = 1e-9),
    case("glm", mt, "type=response&se_fit=true", function(f, d) predict(f, d, type = "response", se.fit = TRUE),
         "response", list(se.fit = TRUE), tol = 1e-9),
    case("rpart", ir, "", function(f, d) predict(f, d)),
    case("rpart", ir, "type=class", function(f, d) predict(f, d, type = "class"), "class"),
    case("rf", ir, "", function(f, d) predict(f, d)),
    case("rf", ir, "type=prob", function(f, d) predict(f, d, type = "prob"), "prob"),
    case("rf", ir, "type=vote&norm_votes=false", function(f, d) predict(f, d, type = "vote", norm.votes = FALSE),
         "vote", list(norm.votes = FALSE)),
    case("rfreg", mtcars, "", function(f, d) predict(f, d)),
    case("ranger", mtcars, "", function(f, d) predict(f, d)$predictions),
    case("rangerprob", ir, "", function(f, d) predict(f, d)$predictions),
    case("gbm", mtcars, "n_trees=60", function(f, d) predict(f, d, n.trees = 60), args = list(n.trees = 60)),
    # softmax within 1e-12 of predict.gbm, which sums in long double (as test-compile-gbm.R)
    case("gbmmulti", ir, "type=response", function(f, d) predict(f, d, n.trees = 30, type = "response"), "response",
         tol = 1e-12),
    # glmnet predicts to the bit as predict.glmnet() does (test-compile-glmnet.R)
    case("glmnet", mx, "s=1,0.05", function(f, d) predict(f, d, s = c(1, 0.05)), args = list(s = c(1, 0.05))),
    case("cvglmnet", cvx, "type=class&s=lambda.min", function(f, d) predict(f, d, s = "lambda.min", type = "class"),
         "class", list(s = "lambda.min")),
    case("cvglmnet", cvx, "type=response", function(f, d) predict(f, d, type = "response"), "response"),
    case("multinet", irx, "type=response&s=0.01", function(f, d) predict(f, d, s = 0.01, type = "response"),
         "response", list(s = 0.01)),
    # xgboost to the bit, LightGBM within 1e-12, of the predictions the libraries recorded (test-compile-xgboost.R)
    case("xgb", booster_newdata(fits$xgb, xgb), "type=margin&iteration_range=2,12",
         function(f, d) booster_recorded(f, "margin_inplace_range"), "margin", list(iteration_range = c(2, 12))),
    case("lgb", booster_newdata(fits$lgb, lgb), "type=raw&start_iteration=5&num_iteration=10",
         function(f, d) booster_recorded(f, "raw_start5_num10"), "raw", list(start_iteration = 5, num_iteration = 10),
         tol = 1e-12)
  )
  list(fits = fits, cases = cases, mt = mt, ir = ir, mx = mx)
}

# A booster's fixture (helper-boosters.R) as a "fit" of http_cases().
booster_fixture <- function(name) structure(booster_case(name), class = "booster_fixture")

# A fit compiled, or a booster's file imported.
http_model <- function(fit) if (inherits(fit, "booster_fixture")) fp_import(fit$model) else fp_compile(fit)

# The prediction a booster's library recorded, as the matrix (or vector) R returns.
booster_recorded <- function(fixture, name) {
  e <- Filter(function(e) identical(e$name, name), fixture$expected$predictions)[[1]]
  values <- booster_numbers(e$values)
  shape <- unlist(e$shape)
  if (length(shape) == 1) values else matrix(values, nrow = shape[[1]], byrow = TRUE)
}

# What a case's model gives locally with predict_fast().
case_fast <- function(model, case, data = case$data) {
  do.call(predict_fast, c(list(model, data, type = case$type), case$args))
}

# `got` (an answer, as plain values) against predict_fast() bit for bit and
# against the package's predict() as the parity tests compare.
expect_case <- function(got, case, model, fit, what) {
  info <- paste(case$model, case$query, what)
  expect_identical(got, plain(case_fast(model, case)), info = paste(info, "vs predict_fast()"))
  ref <- plain(suppressWarnings(case$ref(fit, case$data)))
  if (case$tol == 0) {
    expect_identical(got, ref, info = paste(info, "vs predict()"))
  } else {
    expect_identical(is.na(got), is.na(ref), info = info)
    expect_equal(got, ref, tolerance = case$tol, info = paste(info, "vs predict()"))
  }
}

# A Plumber API from fp_plumber() in a background R process on a free
# loopback port: `models` are saved and loaded there, `args` is the rest of
# the fp_plumber() call as text. list(process, url); the caller kills the
# process (on.exit).
start_plumber_api <- function(models, args = "") {
  dir <- tempfile("fastpredict-plumber-")
  dir.create(dir)
  for (name in names(models)) fp_save(models[[name]], file.path(dir, paste0(name, ".json")))
  port <- httpuv::randomPort(host = "127.0.0.1")
  script <- file.path(dir, "api.R")
  writeLines(c(
    sprintf(".libPaths(c('%s', .libPaths()))", dirname(find.package("fastpredict"))),  # the package under test
    "library(fastpredict)",
    sprintf("dir <- '%s'", dir),
    sprintf("names <- c(%s)", paste0("'", names(models), "'", collapse = ", ")),
    "models <- lapply(setNames(names, names), function(n) fp_load(file.path(dir, paste0(n, '.json'))))",
    sprintf("pr <- fp_plumber(plumber::pr(), models%s)", if (nzchar(args)) paste0(", ", args) else ""),
    sprintf("plumber::pr_run(pr, host = '127.0.0.1', port = %d, quiet = TRUE, docs = FALSE)", port)
  ), script)
  log <- file.path(dir, "plumber.log")
  p <- processx::process$new(file.path(R.home("bin"), "Rscript"), script, stdout = log, stderr = "2>&1")
  url <- sprintf("http://127.0.0.1:%d", port)
  deadline <- Sys.time() + 60
  while (Sys.time() < deadline && p$is_alive()) {
    up <- tryCatch(httr::status_code(httr::GET(paste0(url, "/ping"), httr::timeout(2))) == 200, error = function(e) FALSE)
    if (up) return(list(process = p, url = url, log = log))
    Sys.sleep(0.1)
  }
  p$kill()
  stop("the Plumber API did not start: ", paste(readLines(log), collapse = "\n"))
}

# Models whose predictions are lists or several columns, and the calls to
# make of each: list(fits, calls), a call being (model, data, type, args,
# R's own prediction).
http_list_cases <- function() {
  veteran <- survival::veteran
  fits <- list(
    mlm = lm(cbind(mpg, log(qsec), hp) ~ poly(wt, 2) * am, data = mtcars),
    surv = ranger::ranger(survival::Surv(time, status) ~ ., data = veteran, num.trees = 20, seed = 1, num.threads = 1),
    lmse = lm(mpg ~ wt + factor(cyl), data = mtcars)
  )
  call <- function(model, data, ref, type = NULL, args = list()) {
    list(model = model, data = data, ref = ref, type = type, args = args)
  }
  surv_parts <- function(f, d) predict(f, d, num.threads = 1)[c("unique.death.times", "chf", "survival")]
  list(fits = fits, calls = list(
    call("mlm", mtcars[1:7, ], function(f, d) predict(f, d)),
    call("surv", veteran[1:9, ], surv_parts),
    call("surv", veteran[3, ], surv_parts),
    call("lmse", mtcars, function(f, d) predict(f, d, se.fit = TRUE, interval = "prediction", level = 0.8),
         args = list(se.fit = TRUE, interval = "prediction", level = 0.8))
  ))
}

# Each call of http_list_cases() made by `predict_remote(model name, data,
# type, args)`: identical to predict_fast(), and as predict() within 1e-9.
expect_list_calls <- function(setup, models, predict_remote) {
  for (cl in setup$calls) {
    got <- predict_remote(cl$model, cl$data, cl$type, cl$args)
    fast <- do.call(predict_fast, c(list(models[[cl$model]], cl$data, type = cl$type), cl$args))
    expect_identical(got, fast, info = cl$model)
    # predict_fast() leaves out the row names
    unrow <- function(x) if (length(dim(x)) == 2) `rownames<-`(x, NULL) else `names<-`(x, NULL)
    ref <- cl$ref(setup$fits[[cl$model]], cl$data)
    ref <- if (is.list(ref)) lapply(ref, unrow) else unrow(ref)
    if (is.list(ref)) {
      expect_identical(names(got), names(ref), info = cl$model)
      for (k in names(ref)) expect_equal(unclass(got[[k]]), unclass(ref[[k]]), tolerance = 1e-9, info = paste(cl$model, k))
    } else {
      expect_equal(got, ref, tolerance = 1e-9, info = cl$model)
    }
  }
}
