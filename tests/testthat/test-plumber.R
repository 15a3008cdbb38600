# fp_plumber(): a real Plumber API in a background R process on a free
# loopback port, called with fp_endpoint() and with raw httr bodies exactly
# as vetiver's client sends them; answers compared with predict_fast() bit
# for bit and with each package's predict(). (Helpers: helper-http.R.)

skip_plumber <- function() {
  for (p in c("plumber", "httr", "processx", "httpuv", "jsonlite", "rpart", "randomForest", "ranger", "gbm", "glmnet")) {
    skip_if_not_installed(p)
  }
}

key <- "k-123"
auth <- c(Authorization = paste("Bearer", key))

test_that("fp_plumber() answers as predict_fast() and predict() for every package, by fp_endpoint() and raw bodies", {
  skip_plumber()
  setup <- http_cases()
  models <- lapply(setup$fits, http_model)
  api <- start_plumber_api(models, sprintf("api_key = '%s', max_rows = 500, default = 'lm'", key))
  on.exit(api$process$kill(), add = TRUE)

  for (case in setup$cases) {
    m <- models[[case$model]]
    fit <- setup$fits[[case$model]]
    # the R client: the same R object as predict_fast()
    ep <- fp_endpoint(paste0(api$url, "/models/", case$model, "/predict"), api_key = key)
    got <- do.call(predict, c(list(ep, case$data, type = case$type), case$args))
    expect_identical(got, case_fast(m, case), info = paste(case$model, case$query, "fp_endpoint()"))
    expect_case(plain(got), case, m, fit, "fp_endpoint()")
    # vetiver's client's bodies (records, "NA" strings, "_row", no Content-Type), at full precision
    url <- paste0(api$url, "/models/", case$model, "/predict", if (nzchar(case$query)) paste0("?", case$query))
    r <- httr::POST(url, body = json_records(case$data), httr::add_headers(.headers = auth))
    expect_identical(httr::status_code(r), 200L)
    expect_identical(r$request$headers[["Content-Type"]], "")  # none sent, as vetiver's client
    expect_case(vetiver_plain(httr::content(r, "text", encoding = "UTF-8")), case, m, fit, "records")
    # the Open Inference Protocol
    r <- httr::POST(paste0(api$url, "/v2/models/", case$model, "/infer"), httr::add_headers(.headers = auth),
                    body = json_infer(case$data, oip_parameters(case), id = "q1"), httr::content_type_json())
    expect_identical(httr::status_code(r), 200L)
    expect_case(oip_plain(httr::content(r, "text", encoding = "UTF-8")), case, m, fit, "OIP")
  }

  # vetiver's own client body (jsonlite, 4 decimals) on the default route
  sent <- jsonlite::toJSON(setup$mt, na = "string")
  r <- httr::POST(paste0(api$url, "/predict"), body = sent, httr::add_headers(.headers = auth))
  expect_identical(vetiver_plain(httr::content(r, "text", encoding = "UTF-8")),
                   plain(predict_fast(models$lm, jsonlite::fromJSON(sent))))
  # the default model, found by the client through /metadata
  ep <- fp_endpoint(api$url, api_key = key)
  expect_identical(predict(ep, setup$mt), predict_fast(models$lm, setup$mt))
  expect_output(print(ep), "model 'lm'.*API key")

  # Plumber logged nothing per request (no "No suitable parser" line)
  expect_false(any(grepl("parser", readLines(api$log))))
})

test_that("fp_plumber() answers every error with its status and a JSON message", {
  skip_plumber()
  fit <- glm(vs ~ wt + gear, family = binomial, data = transform(mtcars, gear = factor(gear)))
  m <- fp_compile(fit)
  api <- start_plumber_api(list(glm = m), sprintf("api_key = '%s', max_rows = 10", key))
  on.exit(api$process$kill(), add = TRUE)
  post <- function(body, path = "/predict", headers = auth) post_json(paste0(api$url, path), body, headers)
  expect_error_answer <- function(res, status, kind, says) {
    expect_identical(res$status, status)
    expect_identical(res$json$kind, kind)
    expect_match(res$json$message, says, fixed = TRUE)
  }
  expect_error_answer(post('[{"wt": 2.6, "gear": "4"'), 400L, "bad_request", "not valid JSON")
  expect_error_answer(post('[{"wt": 2.6}]'), 422L, "missing_column", "'gear'")
  expect_error_answer(post('[{"wt": 2.6, "gear": "7"}]'), 422L, "unseen_level", "'7'")
  expect_error_answer(post(json_records(transform(mtcars, gear = factor(gear))[1:11, c("wt", "gear")])),
                      413L, "too_large", "more than 10 rows")
  expect_error_answer(post('[{"wt": 2.6, "gear": "4"}]', headers = c(Authorization = "Bearer nope")),
                      401L, "unauthorized", "not valid")
  expect_error_answer(post('[{"wt": 2.6, "gear": "4"}]', headers = character()), 401L, "unauthorized", "X-API-Key")
  expect_error_answer(post('[{"wt": 2.6, "gear": "4"}]', path = "/models/forest/predict"), 404L, "not_found",
                      "model 'forest'")
  expect_error_answer(post(json_infer(data.frame(wt = 2.6)), path = "/v2/models/glm/infer"), 400L,
                      "missing_column", "'gear'")
  # the other schemes of presenting a key
  expect_identical(post('[{"wt": 2.6, "gear": "4"}]', headers = c(`X-API-Key` = key))$status, 200L)
  expect_identical(post('[{"wt": 2.6, "gear": "4"}]', headers = c(Authorization = paste("Key", key)))$status, 200L)

  # the client raises the conditions local prediction raises, with the status
  ep <- fp_endpoint(api$url, api_key = key, model = "glm")
  e <- expect_error(predict(ep, data.frame(wt = 2.6)), class = "fastpredict_error_missing_column")
  expect_identical(e$status, 400L)
  expect_error(predict(ep, data.frame(wt = 2.6, gear = "7")), class = "fastpredict_error_unseen_level")
  expect_error(predict(ep, data.frame(wt = 2.6, gear = "4"), type = "votes"), class = "fastpredict_error_bad_argument")
  expect_error(predict(ep, transform(mtcars, gear = factor(gear))[1:11, ]), class = "fastpredict_error_too_large")
  expect_error(predict(fp_endpoint(api$url, api_key = "nope", model = "glm"), mtcars),
               class = "fastpredict_error_unauthorized")
  expect_error(predict(fp_endpoint(api$url, api_key = key, model = "forest"), mtcars),
               class = "fastpredict_error_not_found")

  # health stays open, descriptions need the key
  get <- function(path, headers = character()) {
    r <- httr::GET(paste0(api$url, path), httr::add_headers(.headers = headers))
    list(status = httr::status_code(r), json = jsonlite::fromJSON(httr::content(r, "text", encoding = "UTF-8")))
  }
  expect_identical(get("/ping")$json$status, "online")
  expect_true(get("/v2/health/ready")$json$ready)
  expect_true(get("/v2/models/glm/ready")$json$ready)
  expect_identical(get("/metadata")$status, 401L)
  meta <- get("/metadata", auth)$json
  expect_identical(meta$fastpredict$name, "glm")
  expect_setequal(names(meta), c("user", "version", "url", "required_pkgs", "fastpredict"))
  expect_identical(get("/prototype", auth)$json$gear$details$levels, levels(factor(mtcars$gear)))
  oip <- get("/v2/models/glm", auth)$json
  expect_identical(oip$inputs$name, c("wt", "gear"))
  expect_identical(get("/v2/models/forest", auth)$status, 404L)

  api$process$kill()
  expect_error(predict(ep, data.frame(wt = 2.6, gear = "4")), class = "fastpredict_error_unavailable")
})

test_that("fp_plumber() can fix the prediction type, which a request may then not change", {
  skip_plumber()
  tree <- fp_compile(rpart::rpart(Species ~ ., data = iris))
  api <- start_plumber_api(list(tree = tree), "type = 'class', request_options = FALSE")
  on.exit(api$process$kill(), add = TRUE)
  res <- post_json(paste0(api$url, "/predict"), json_records(iris[c(1, 51, 101), ]))
  expect_identical(res$json$.pred, as.character(predict_fast(tree, iris[c(1, 51, 101), ], type = "class")))
  res <- post_json(paste0(api$url, "/predict?type=prob"), json_records(iris[1, ]))
  expect_identical(res$status, 400L)
  expect_match(res$json$message, "may not set type")
  expect_identical(predict(fp_endpoint(api$url), iris[1:3, ]), predict_fast(tree, iris[1:3, ], type = "class"))
  expect_error(predict(fp_endpoint(api$url), iris[1:3, ], type = "prob"), class = "fastpredict_error_bad_request")
})

test_that("fp_plumber() checks its arguments before adding routes", {
  skip_if_not_installed("plumber")
  m <- fp_compile(lm(mpg ~ wt, data = mtcars))
  expect_error(fp_plumber(list(), m), class = "fastpredict_error_bad_argument")
  expect_error(fp_plumber(plumber::pr(), list(m)), class = "fastpredict_error_bad_argument")
  expect_error(fp_plumber(plumber::pr(), list(`a/b` = m)), class = "fastpredict_error_bad_argument")
  expect_error(fp_plumber(plumber::pr(), m, type = "prob"), "no type 'prob'", class = "fastpredict_error_bad_argument")
  expect_error(fp_plumber(plumber::pr(), m, type = c(other = "response")), class = "fastpredict_error_bad_argument")
  expect_error(fp_plumber(plumber::pr(), m, api_key = ""), class = "fastpredict_error_bad_argument")
  expect_error(fp_plumber(plumber::pr(), m, max_rows = 0), class = "fastpredict_error_bad_argument")
  expect_error(fp_plumber(plumber::pr(), m, default = "lm"), class = "fastpredict_error_bad_argument")
  # a fitted model is compiled; the routes are added to the router given
  pr <- plumber::pr()
  expect_identical(fp_plumber(pr, lm(mpg ~ wt, data = mtcars)), pr)
  paths <- vapply(pr$endpoints[[1]], function(e) e$path, "")
  expect_true(all(c("/predict", "/models/<name>/predict", "/v2/models/<name>/infer", "/ping") %in% paths))
})

test_that("lists and matrices (se.fit, intervals, mlm, survival forests) come back as predict_fast() gives them", {
  skip_plumber()
  skip_if_not_installed("survival")
  setup <- http_list_cases()
  models <- lapply(setup$fits, fp_compile)
  api <- start_plumber_api(models)
  on.exit(api$process$kill(), add = TRUE)
  expect_list_calls(setup, models, function(name, data, type, args) {
    do.call(predict, c(list(fp_endpoint(api$url, model = name), data, type = type), args))
  })
  # fp_predict_json()'s OIP answer, rebuilt by the client's reader (a
  # factor the forest reads by its codes sent as the codes)
  expect_list_calls(setup, models, function(name, data, type, args) {
    data <- data[vapply(models[[name]]$info$inputs, function(i) i$name, "")]
    data[] <- lapply(data, function(x) if (is.factor(x)) as.integer(x) else x)
    body <- json_infer(data, oip_parameters(list(type = type, args = args)))
    fastpredict:::rs_oip_answer(fp_predict_json(models[[name]], body))
  })
  # the death times once in a vetiver answer, the rows' curves as columns
  answer <- jsonlite::fromJSON(fp_predict_json(models$surv, json_records(data.matrix(survival::veteran[1:4, ]))))
  expect_identical(answer$.unique_death_times, setup$fits$surv$unique.death.times)
})
