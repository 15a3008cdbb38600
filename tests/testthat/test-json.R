# fp_predict_json(): request bodies in every shape fastpredict-server takes,
# answered in Rust; the answers, read back with jsonlite, equal
# predict_fast() bit for bit (and predict() as the parity tests compare).

skip_packages <- function() {
  skip_if_not_installed("jsonlite")
  for (p in c("rpart", "randomForest", "ranger", "gbm", "glmnet")) skip_if_not_installed(p)
}

test_that("records, columns and OIP requests are answered as predict_fast() for every package", {
  skip_packages()
  setup <- http_cases()
  models <- lapply(setup$fits, http_model)
  for (case in setup$cases) {
    m <- models[[case$model]]
    fit <- setup$fits[[case$model]]
    # vetiver's bodies, options in the query string or as R's defaults
    for (body in list(json_records(case$data), json_columns(case$data))) {
      expect_case(vetiver_plain(fp_predict_json(m, body, query = case$query)), case, m, fit, "vetiver")
      by_r <- do.call(fp_predict_json, c(list(m, charToRaw(body), type = case$type), case$args))
      expect_identical(vetiver_plain(by_r), plain(case_fast(m, case)))
    }
    # OIP, options in parameters: read with jsonlite, and rebuilt as the R object
    answer <- fp_predict_json(m, json_infer(case$data, oip_parameters(case), id = "r-7"), name = case$model)
    expect_case(oip_plain(answer), case, m, fit, "OIP")
    expect_identical(fastpredict:::rs_oip_answer(answer), case_fast(m, case))
    parsed <- jsonlite::fromJSON(answer)
    expect_identical(parsed$id, "r-7")
    expect_identical(parsed$model_name, case$model)
  }
})

test_that("vetiver's own client bodies are read as jsonlite reads them", {
  m <- fp_compile(lm(mpg ~ wt * factor(cyl) + log(disp), data = mtcars))
  mt <- mtcars
  mt$wt[c(2, 5)] <- c(NA, NaN)
  sent <- jsonlite::toJSON(mt, na = "string")  # 4 decimals, "NA"/"NaN" strings, "_row"
  expect_match(sent, '"_row":"Mazda RX4"', fixed = TRUE)
  got <- vetiver_plain(fp_predict_json(m, sent))
  expect_identical(got, plain(predict_fast(m, jsonlite::fromJSON(sent))))
  expect_identical(is.na(got), is.na(mt$wt))
  # a single record given as an object of values
  one <- '{"wt": 2.62, "cyl": 6, "disp": 160}'
  expect_identical(vetiver_plain(fp_predict_json(m, one)), plain(predict_fast(m, list(wt = 2.62, cyl = 6, disp = 160))))
})

test_that("answers parsed back equal predict_fast() bit for bit on random data (property)", {
  skip_packages()
  for (seed in 1:4) {
    train <- gen_train(150, seed = seed)
    new <- gen_new(train, n = 40, seed = seed + 100)
    # magnitudes of every scale, and values that overflow to the infinities
    new$x2 <- new$x2 * 10^runif(nrow(new), -300, 300) * sample(c(-1, 1), nrow(new), TRUE)
    new$x1[[7]] <- Inf
    set.seed(seed)
    fits <- list(
      lm = lm(y ~ x1 + x2 * f + g + flag, data = train),
      glm = glm(flag ~ x1 + x2 + g, family = binomial, data = train),
      rpart = rpart::rpart(f ~ x1 + x2 + g + k, data = train, control = rpart::rpart.control(cp = 0.001)),
      rf = randomForest::randomForest(f ~ x1 + x2 + x3 + g, data = train, ntree = 30),
      ranger = ranger::ranger(y ~ x1 + x2 + x3 + k, data = train, num.trees = 30, seed = seed, num.threads = 1),
      gbm = suppressWarnings(gbm::gbm(y ~ x1 + x2 + x3 + f, data = train, distribution = "gaussian", n.trees = 40))
    )
    types <- list(lm = list(NULL), glm = list(NULL, "response"), rpart = list(NULL, "class"),
                  rf = list(NULL, "prob"), ranger = list(NULL), gbm = list(NULL))
    # randomForest and ranger refuse missing predictors: theirs are the complete rows
    complete <- new[stats::complete.cases(new[c("x1", "x2", "x3", "g", "k")]), ]
    complete$x1[!is.finite(complete$x1)] <- 1
    for (name in names(fits)) {
      m <- fp_compile(fits[[name]])
      data <- if (name %in% c("rf", "ranger")) complete else new
      for (type in types[[name]]) {
        fast <- predict_fast(m, data, type = type)
        info <- sprintf("seed %d, %s, type %s", seed, name, format(type))
        q <- if (is.null(type)) NULL else paste0("type=", type)
        expect_identical(vetiver_plain(fp_predict_json(m, json_records(data), query = q)), plain(fast), info = info)
        expect_identical(vetiver_plain(fp_predict_json(m, json_columns(data), type = type)), plain(fast), info = info)
        params <- if (is.null(type)) "" else sprintf('{"type":"%s"}', type)
        oip <- fp_predict_json(m, json_infer(data[fastpredict:::rs_model_info(m$ptr)$inputs |>
                                                     vapply(function(i) i$name, "")], params))
        expect_identical(fastpredict:::rs_oip_answer(oip), fast, info = info)
        expect_identical(oip_plain(oip), plain(fast), info = info)
      }
    }
  }
})

test_that("bad requests raise classed errors with their HTTP status and a JSON message", {
  m <- fp_compile(glm(vs ~ wt + factor(gear), family = binomial, data = transform(mtcars, gear = factor(gear))))
  err <- function(..., class) {
    e <- tryCatch(fp_predict_json(m, ...), error = identity)
    expect_s3_class(e, class)
    expect_s3_class(e, "fastpredict_error")
    body <- jsonlite::fromJSON(e$body)
    expect_identical(body$message, conditionMessage(e))
    expect_identical(body$kind, sub("fastpredict_error_", "", class))
    e
  }
  e <- err('[{"wt": 2.6, "gear": "4"', class = "fastpredict_error_bad_request")
  expect_identical(e$status, 400L)
  expect_match(conditionMessage(e), "not valid JSON")
  expect_identical(err("", class = "fastpredict_error_bad_request")$status, 400L)
  e <- err('[{"wt": 2.6}]', class = "fastpredict_error_missing_column")
  expect_identical(e$status, 422L)
  expect_match(conditionMessage(e), "'gear'")
  e <- err(json_infer(data.frame(wt = 2.6)), class = "fastpredict_error_missing_column")
  expect_identical(e$status, 400L)  # the OIP specification's status for bad input
  e <- err('[{"wt": 2.6, "gear": "6"}]', class = "fastpredict_error_unseen_level")
  expect_identical(e$status, 422L)
  expect_match(conditionMessage(e), "'6'")
  e <- err('[{"wt": "heavy", "gear": "4"}]', class = "fastpredict_error_wrong_type")
  expect_match(conditionMessage(e), "'wt'")
  e <- err(json_records(mtcars[1:11, c("wt", "gear")]), max_rows = 10, class = "fastpredict_error_too_large")
  expect_identical(e$status, 413L)
  e <- err('[{"wt": 2.6, "gear": "4"}]', query = "type=response", request_options = FALSE,
           class = "fastpredict_error_bad_request")
  expect_match(conditionMessage(e), "fixes the prediction type")
  e <- err(json_infer(data.frame(wt = 2.6, gear = "4"), '{"type":"response"}'), request_options = FALSE,
           class = "fastpredict_error_bad_request")
  e <- err('[{"wt": 2.6, "gear": "4"}]', query = "type=probability", class = "fastpredict_error_bad_argument")
  expect_identical(e$status, 400L)
  e <- err('[{"wt": 2.6, "gear": "4"}]', protocol = "soap", class = "fastpredict_error_bad_argument")
  expect_error(fp_predict_json(m, 42), class = "fastpredict_error_bad_argument")
  expect_error(fp_predict_json(lm(mpg ~ wt, data = mtcars), "[]"), class = "fastpredict_error_bad_argument")

  # with Plumber's response object the error is answered, not raised
  res <- new.env()
  res$status <- 200L
  out <- fp_predict_json(m, '[{"wt": 2.6}]', res = res)
  expect_identical(res$status, 422L)
  expect_match(jsonlite::fromJSON(out)$message, "'gear'")
  ok <- fp_predict_json(m, '[{"wt": 2.6, "gear": "4"}]', type = "response", res = res)
  expect_identical(jsonlite::fromJSON(ok)$.pred, predict_fast(m, data.frame(wt = 2.6, gear = "4"), type = "response"))
})

test_that("the protocol is told from the body, or given", {
  m <- fp_compile(lm(mpg ~ wt, data = mtcars))
  oip <- '{"inputs": [{"name": "wt", "datatype": "FP64", "shape": [1], "data": [3]}]}'
  expect_match(fp_predict_json(m, oip), '"outputs"', fixed = TRUE)
  expect_match(fp_predict_json(m, oip, protocol = "oip"), '"outputs"', fixed = TRUE)
  expect_error(fp_predict_json(m, oip, protocol = "vetiver"), class = "fastpredict_error_missing_column")
  expect_error(fp_predict_json(m, '{"wt": [3]}', protocol = "oip"), class = "fastpredict_error_bad_request")
  # a model whose input is called "inputs" reads such objects as columns
  inputs_model <- fp_compile(lm(mpg ~ inputs, data = transform(mtcars, inputs = wt)))
  expect_identical(vetiver_plain(fp_predict_json(inputs_model, '{"inputs": [3]}')),
                   plain(predict_fast(inputs_model, list(inputs = 3))))
})
