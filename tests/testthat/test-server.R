# fastpredict-server, the standalone Rust binary, against the models' own
# predict(): the package's models are saved, served over real HTTP on a free
# loopback port, sent full-precision JSON (and a body exactly as vetiver's
# client writes it), and the answers compared with predict_fast() bit for bit
# and with predict() as the parity tests do.

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
  cols <- vapply(names(df), function(n) {
    x <- df[[n]]
    vals <- if (is.factor(x) || is.character(x)) {
      ifelse(is.na(x), '"NA"', paste0('"', as.character(x), '"'))
    } else if (is.logical(x)) {
      ifelse(is.na(x), '"NA"', ifelse(x, "true", "false"))
    } else {
      x <- as.numeric(x)
      ifelse(is.nan(x), '"NaN"', ifelse(is.na(x), '"NA"', ifelse(is.infinite(x), ifelse(x > 0, '"Inf"', '"-Inf"'),
                                                                  sprintf("%.17g", x))))
    }
    sprintf('"%s":[%s]', n, paste(vals, collapse = ","))
  }, "")
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

test_that("the server answers as predict_fast() and predict() for every model package", {
  skip_if_not_installed("processx")
  skip_if_not_installed("httr")
  skip_if_not_installed("rpart")
  skip_if_not_installed("randomForest")
  skip_if_not_installed("ranger")
  skip_if_not_installed("gbm")
  skip_if_not_installed("glmnet")
  bin <- server_binary()
  if (is.null(bin)) skip("fastpredict-server cannot be built here (needs the source tree's server/ and cargo with Rust >= 1.88)")

  set.seed(42)
  mt <- mtcars
  mt$wt[3] <- NA
  ir <- iris[sample(nrow(iris), 40), ]
  ir$Sepal.Width <- ir$Sepal.Width + rnorm(nrow(ir), sd = 1e-3)  # digits a 4-decimal JSON would lose
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
    # options whose answers are lists (se.fit) and matrices (intervals, terms)
    lmcard = lm(mpg ~ wt + poly(hp, 2) + factor(am), data = mtcars),
    # models that predict from a matrix
    glmnet = glmnet::glmnet(as.matrix(mtcars[, -1]), mtcars$mpg, nlambda = 20),
    cvglmnet = glmnet::cv.glmnet(as.matrix(mtcars[, c("mpg", "wt", "hp", "qsec", "drat")]), factor(mtcars$am),
                                 family = "binomial", foldid = rep(1:4, 8), nlambda = 20),
    multinet = glmnet::glmnet(as.matrix(iris[, 1:4]), iris$Species, family = "multinomial", nlambda = 10)
  )
  mx <- mtcars[, -1]
  cvx <- mtcars[, c("mpg", "wt", "hp", "qsec", "drat")]
  irx <- ir[, 1:4]
  # name, data, query, R's own prediction, predict_fast's, tolerance vs predict()
  cases <- list(
    list("lm", mt, "", function(f, d) predict(f, d), function(m, d) predict_fast(m, d), 1e-9),
    list("glm", mt, "type=response", function(f, d) predict(f, d, type = "response"),
         function(m, d) predict_fast(m, d, type = "response"), 1e-9),
    list("glm", mt, "", function(f, d) predict(f, d), function(m, d) predict_fast(m, d), 1e-9),
    list("rpart", ir, "", function(f, d) predict(f, d), function(m, d) predict_fast(m, d), 0),
    list("rpart", ir, "type=class", function(f, d) predict(f, d, type = "class"),
         function(m, d) predict_fast(m, d, type = "class"), 0),
    list("rf", ir, "", function(f, d) predict(f, d), function(m, d) predict_fast(m, d), 0),
    list("rf", ir, "type=prob", function(f, d) predict(f, d, type = "prob"),
         function(m, d) predict_fast(m, d, type = "prob"), 0),
    list("rf", ir, "type=vote&norm_votes=false", function(f, d) predict(f, d, type = "vote", norm.votes = FALSE),
         function(m, d) predict_fast(m, d, type = "vote", norm.votes = FALSE), 0),
    list("rfreg", mtcars, "", function(f, d) predict(f, d), function(m, d) predict_fast(m, d), 0),
    list("ranger", mtcars, "", function(f, d) predict(f, d)$predictions, function(m, d) predict_fast(m, d), 0),
    list("rangerprob", ir, "", function(f, d) predict(f, d)$predictions, function(m, d) predict_fast(m, d), 0),
    list("gbm", mtcars, "n_trees=60", function(f, d) predict(f, d, n.trees = 60),
         function(m, d) predict_fast(m, d, n.trees = 60), 0),
    # softmax within 1e-12 of predict.gbm, which sums in long double (as test-compile-gbm.R)
    list("gbmmulti", ir, "type=response", function(f, d) predict(f, d, n.trees = 30, type = "response"),
         function(m, d) predict_fast(m, d, type = "response"), 1e-12),
    # the vetiver columns of a list: .pred, .pred_lwr, .pred_upr, .se_fit, .df, .residual_scale
    list("lmcard", mt, "se_fit=true&interval=prediction&level=0.9",
         function(f, d) predict(f, d, se.fit = TRUE, interval = "prediction", level = 0.9),
         function(m, d) predict_fast(m, d, se.fit = TRUE, interval = "prediction", level = 0.9), 1e-9),
    list("lmcard", mt, "interval=confidence", function(f, d) predict(f, d, interval = "confidence"),
         function(m, d) predict_fast(m, d, interval = "confidence"), 1e-9),
    list("lmcard", mt, "type=terms", function(f, d) predict(f, d, type = "terms"),
         function(m, d) predict_fast(m, d, type = "terms"), 1e-9),
    list("glm", mt, "type=response&se_fit=true", function(f, d) predict(f, d, type = "response", se.fit = TRUE),
         function(m, d) predict_fast(m, d, type = "response", se.fit = TRUE), 1e-9),
    # glmnet predicts to the bit as predict.glmnet() does (test-compile-glmnet.R)
    list("glmnet", mx, "s=1,0.05", function(f, d) predict(f, as.matrix(d), s = c(1, 0.05)),
         function(m, d) predict_fast(m, as.matrix(d), s = c(1, 0.05)), 0),
    list("cvglmnet", cvx, "type=class&s=lambda.min", function(f, d) predict(f, as.matrix(d), s = "lambda.min", type = "class"),
         function(m, d) predict_fast(m, as.matrix(d), s = "lambda.min", type = "class"), 0),
    list("cvglmnet", cvx, "type=response", function(f, d) predict(f, as.matrix(d), type = "response"),
         function(m, d) predict_fast(m, as.matrix(d), type = "response"), 0),
    list("multinet", irx, "type=response&s=0.01", function(f, d) predict(f, as.matrix(d), s = 0.01, type = "response"),
         function(m, d) predict_fast(m, as.matrix(d), s = 0.01, type = "response"), 0)
  )

  dir <- tempfile("fastpredict-server-models-")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE), add = TRUE)
  models <- lapply(fits, fp_compile)
  card <- fp_card("mpg", "2.1.0", "Fuel use", training = mtcars, metrics = c(rmse = 2.5))
  fp_card(models$lmcard) <- card
  for (name in names(models)) fp_save(models[[name]], file.path(dir, paste0(name, if (name == "rf") ".json.gz" else ".json")))
  server <- start_server(bin, dir)
  on.exit(server$process$kill(), add = TRUE)

  for (case in cases) {
    name <- case[[1]]; data <- case[[2]]; query <- case[[3]]
    url <- paste0(server$url, "/models/", name, "/predict", if (nzchar(query)) paste0("?", query))
    res <- post_json(url, json_columns(data))
    expect_identical(res$status, 200L, info = paste(name, query))
    got <- plain(res$json)
    fast <- plain(case[[5]](models[[name]], data))
    ref <- plain(suppressWarnings(case[[4]](fits[[name]], data)))
    expect_identical(got, fast, info = paste(name, query, "vs predict_fast()"))
    if (case[[6]] == 0) {
      expect_identical(got, ref, info = paste(name, query, "vs predict()"))
    } else {
      expect_identical(is.na(got), is.na(ref), info = paste(name, query))
      expect_equal(got, ref, tolerance = case[[6]], info = paste(name, query, "vs predict()"))
    }
  }

  expect_named(post_json(paste0(server$url, "/models/lmcard/predict?se_fit=true&interval=prediction"),
                         json_columns(mt))$json,
               c(".pred", ".pred_lwr", ".pred_upr", ".se_fit", ".df", ".residual_scale"))

  # a matrix model also takes rows as arrays (jsonlite's matrices) and one [N, P] tensor, in its inputs' order
  rows <- paste0("[", paste(apply(as.matrix(mx), 1, function(r) paste0("[", paste(sprintf("%.17g", r), collapse = ","), "]")),
                            collapse = ","), "]")
  want <- plain(predict(fits$glmnet, as.matrix(mx), s = c(1, 0.05)))
  expect_identical(plain(post_json(paste0(server$url, "/models/glmnet/predict?s=1,0.05"), rows)$json), want)
  body <- sprintf('{"parameters":{"s":[1,0.05]},"inputs":[{"name":"x","datatype":"FP64","shape":[%d,%d],"data":%s}]}',
                  nrow(mx), ncol(mx), rows)
  out <- post_json(paste0(server$url, "/v2/models/glmnet/infer"), body)$json$outputs
  expect_identical(matrix(unlist(out$data), ncol = 2, byrow = TRUE), want)

  # the model card: vetiver's user metadata, and in the OIP model metadata, with the model's content hash
  meta <- httr::content(httr::GET(paste0(server$url, "/models/lmcard/metadata")), "parsed")
  expect_identical(meta$user$version, "2.1.0")
  expect_identical(meta$user$metrics$rmse, 2.5)
  expect_identical(meta$user$content_hash, fp_content_hash(models$lmcard))
  oip <- httr::content(httr::GET(paste0(server$url, "/v2/models/lmcard")), "parsed")
  expect_identical(oip$parameters$card$name, "mpg")
  expect_identical(oip$parameters$content_hash, fp_content_hash(models$lmcard))

  # the column names of a probability matrix, and the same matrix over the Open Inference Protocol
  res <- post_json(paste0(server$url, "/models/rf/predict?type=prob"), json_columns(ir))
  expect_identical(names(res$json), paste0(".pred_", levels(iris$Species)))
  inputs <- vapply(names(iris)[1:4], function(n) {
    sprintf('{"name":"%s","datatype":"FP64","shape":[%d],"data":[%s]}', n, nrow(ir),
            paste(sprintf("%.17g", ir[[n]]), collapse = ","))
  }, "")
  body <- sprintf('{"id":"r1","parameters":{"type":"prob"},"inputs":[%s]}', paste(inputs, collapse = ","))
  res <- post_json(paste0(server$url, "/v2/models/rf/infer"), body)
  expect_identical(res$json$id, "r1")
  out <- res$json$outputs
  expect_identical(unlist(out$shape), c(nrow(ir), 3L))
  expect_identical(matrix(unlist(out$data), ncol = 3, byrow = TRUE),
                   plain(predict(fits$rf, ir, type = "prob")))

  # vetiver's client: jsonlite records (4 decimals, "NA" strings, row names
  # as "_row"), no Content-Type; the answer equals predict_fast() on the
  # numbers the server received
  sent <- jsonlite::toJSON(mt, na = "string")
  res <- post_json(paste0(server$url, "/models/lm/predict"), sent)
  received <- jsonlite::fromJSON(sent)
  expect_identical(plain(res$json), plain(predict_fast(models$lm, received)))

  # a bad request: a JSON error with a message naming the column
  res <- post_json(paste0(server$url, "/models/lm/predict"), '[{"wt": "heavy"}]')
  expect_identical(res$status, 422L)
  expect_match(res$json$message, "'wt'")
})
