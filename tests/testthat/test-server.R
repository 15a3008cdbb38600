# fastpredict-server, the standalone Rust binary, against the models' own
# predict(): the package's models are saved, served over real HTTP on a free
# loopback port, sent full-precision JSON (and a body exactly as vetiver's
# client writes it), and the answers compared with predict_fast() bit for bit
# and with predict() as the parity tests do. (The helpers are in
# helper-http.R.)

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

  setup <- http_cases()
  fits <- setup$fits
  mt <- setup$mt
  ir <- setup$ir
  mx <- setup$mx

  dir <- tempfile("fastpredict-server-models-")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE), add = TRUE)
  models <- lapply(fits, http_model)
  fp_card(models$lm) <- fp_card("mpg", "2.1.0", "Fuel use", training = mtcars, metrics = c(rmse = 2.5))
  for (name in names(models)) fp_save(models[[name]], file.path(dir, paste0(name, if (name == "rf") ".json.gz" else ".json")))
  server <- start_server(bin, dir)
  on.exit(server$process$kill(), add = TRUE)

  for (case in setup$cases) {
    url <- paste0(server$url, "/models/", case$model, "/predict", if (nzchar(case$query)) paste0("?", case$query))
    res <- post_json(url, json_columns(case$data))
    expect_identical(res$status, 200L, info = paste(case$model, case$query))
    expect_case(plain(res$json), case, models[[case$model]], fits[[case$model]], "server")
  }

  expect_named(post_json(paste0(server$url, "/models/lm/predict?se_fit=true&interval=prediction"),
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
  meta <- httr::content(httr::GET(paste0(server$url, "/models/lm/metadata")), "parsed")
  expect_identical(meta$user$version, "2.1.0")
  expect_identical(meta$user$metrics$rmse, 2.5)
  expect_identical(meta$user$content_hash, fp_content_hash(models$lm))
  oip <- httr::content(httr::GET(paste0(server$url, "/v2/models/lm")), "parsed")
  expect_identical(oip$parameters$card$name, "mpg")
  expect_identical(oip$parameters$content_hash, fp_content_hash(models$lm))

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
