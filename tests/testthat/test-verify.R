# The quality gate: fp_verify(), model cards, and the pipeline scripts in
# inst/pipeline run as a user runs them.

test_that("fp_verify() passes an exact model and reports, and blocks a drifted one", {
  fit <- glm(am ~ wt + factor(cyl), family = binomial, data = mtcars)
  m <- fp_compile(fit)
  path <- tempfile(fileext = ".json")
  rep <- fp_verify(fit, m, mtcars, report = path)
  expect_s3_class(rep, "fp_verification")
  expect_true(rep$passed)
  expect_identical(rep$cases$type, c("link", "response"))
  expect_true(file.exists(path))
  expect_match(paste(readLines(path), collapse = ""), "\"passed\":true}$")
  # a document edited so that one coefficient moves by one part in a million
  txt <- fp_to_json(m)
  b <- coef(fit)[["wt"]]
  edited <- sub(format(b, digits = 17), format(b * (1 + 1e-6), digits = 17), txt, fixed = TRUE)
  expect_false(identical(edited, txt))
  err <- tryCatch(fp_verify(fit, fp_from_json(edited), mtcars), fastpredict_error_parity = function(e) e)
  expect_s3_class(err, "fastpredict_error_parity")
  expect_false(err$report$passed)
  expect_output(print(rep), "passed")
})

test_that("fp_verify() leaves out the tied classes that ranger breaks at random", {
  skip_if_not_installed("ranger")
  fit <- ranger::ranger(Species ~ ., data = iris, num.trees = 4, seed = 2, num.threads = 1)
  rep <- fp_verify(fit, fp_compile(fit), iris)
  expect_true(rep$passed)
  expect_gt(rep$cases$tied_rows_left_out, 0)
})

test_that("fp_verify() checks a glmnet model on a matrix, and refuses data of no shape", {
  skip_if_not_installed("glmnet")
  x <- as.matrix(mtcars[, c("wt", "hp", "disp")])
  fit <- glmnet::glmnet(x, mtcars$mpg, nlambda = 10)
  rep <- fp_verify(fit, fp_compile(fit), x)
  expect_true(rep$passed)
  expect_error(fp_verify(fit, fp_compile(fit), mtcars$wt), class = "fastpredict_error_bad_argument")
})

test_that("a model card travels in the file, and an edited model no longer matches it", {
  fit <- lm(mpg ~ wt + hp, data = mtcars)
  card <- fp_card("mpg", "1.2.0", "Fuel use", training = mtcars, metrics = c(r2 = 0.83, rmse = 2.5))
  m <- fp_compile(fit, card = card)
  expect_identical(m$info$card$name, "mpg")
  expect_equal(m$info$card$metrics$rmse, 2.5)
  expect_identical(m$info$card$training$rows, 32)
  expect_identical(m$info$card$content_hash, fp_content_hash(m))
  expect_match(fp_content_hash(m), "^sha256:[0-9a-f]{64}$")
  expect_output(print(m), "card: mpg 1.2.0; r2 = 0.83, rmse = 2.5")
  path <- tempfile(fileext = ".json")
  fp_save(m, path)
  back <- fp_load(path)
  expect_identical(back$info$card, m$info$card)
  expect_identical(predict_fast(back, mtcars), predict_fast(fp_compile(fit), mtcars))
  # the card does not change what the model predicts, nor its hash
  expect_identical(fp_content_hash(fp_compile(fit)), fp_content_hash(m))
  fp_card(back) <- fp_card("mpg", "1.2.1")
  expect_identical(back$info$card$version, "1.2.1")
  expect_error(fp_card(m) <- list(name = "x"), class = "fastpredict_error_bad_argument")
  expect_error(fp_card(metrics = c(1, 2)), class = "fastpredict_error_bad_argument")
})

test_that("the pipeline's gate passes a good model and blocks bad ones", {
  skip_on_cran()
  scripts <- system.file("pipeline", package = "fastpredict")
  skip_if(scripts == "", "the pipeline scripts are not installed")
  rscript <- file.path(R.home("bin"), "Rscript")
  env <- paste0("R_LIBS=", paste(.libPaths(), collapse = ":"))
  run <- function(script, ...) {
    out <- suppressWarnings(system2(rscript, c(file.path(scripts, script), ...), stdout = TRUE, stderr = TRUE,
                                    env = env))
    status <- attr(out, "status")
    list(status = if (is.null(status)) 0L else status, out = paste(out, collapse = "\n"))
  }
  dir <- tempfile("pipeline")
  on.exit(unlink(dir, recursive = TRUE), add = TRUE)
  trained <- run("train.R", "--out", dir, "--rows", "600")
  expect_identical(trained$status, 0L, label = trained$out)
  good <- run("gate.R", "--candidate", dir, "--max-rmse", "1")
  expect_identical(good$status, 0L, label = good$out)
  expect_match(good$out, "PASSED")

  # a worse metric than the limit
  strict <- run("gate.R", "--candidate", dir, "--max-rmse", "0.1")
  expect_identical(strict$status, 1L)
  expect_match(strict$out, "above the limit")

  # worse than production by more than the margin: a model fitted on the
  # holdout itself predicts it better
  hold <- readRDS(file.path(dir, "holdout.rds"))
  prod <- file.path(dir, "production.json")
  fp_save(fp_compile(glm(y ~ poly(x1, 3) + log(x2) * g, data = hold$data)), prod)
  worse <- run("gate.R", "--candidate", dir, "--production", prod, "--margin", "0")
  expect_identical(worse$status, 1L)
  expect_match(worse$out, "worse than production")

  # a parity report that failed
  file.copy(file.path(dir, "parity.json"), file.path(dir, "parity.ok"))
  writeLines(sub("\"passed\":true}$", "\"passed\":false}", readLines(file.path(dir, "parity.json"))),
             file.path(dir, "parity.json"))
  failed <- run("gate.R", "--candidate", dir)
  expect_identical(failed$status, 1L)
  expect_match(failed$out, "parity report")
  file.rename(file.path(dir, "parity.ok"), file.path(dir, "parity.json"))

  # a model file edited so that its predictions drift
  model <- file.path(dir, "model.json.gz")
  txt <- readLines(gzfile(model), warn = FALSE)
  doc <- jsonlite::fromJSON(paste(txt, collapse = ""), simplifyVector = FALSE)
  doc$linear$coefficients[[2]] <- doc$linear$coefficients[[2]] * 1.001
  con <- gzfile(model, "w")
  writeLines(jsonlite::toJSON(doc, auto_unbox = TRUE, digits = NA, null = "null"), con)
  close(con)
  drifted <- run("gate.R", "--candidate", dir)
  expect_identical(drifted$status, 1L)
  expect_match(drifted$out, "content hash differs")
  expect_match(drifted$out, "no longer reproduces")
})

test_that("the content hash is stable: a card written by an earlier fastpredict still matches", {
  versions <- list.files(test_path("fixtures"), pattern = "^format-")
  cards <- file.path(test_path("fixtures"), versions, "lm-card.json")
  cards <- cards[file.exists(cards)]
  expect_gte(length(cards), 1L)
  for (f in cards) {
    m <- fp_load(f)
    expect_identical(m$info$card$content_hash, fp_content_hash(m), label = f)
  }
})

test_that("fp_verify() checks ranger survival forests part by part, and numeric classes with their ties", {
  skip_if_not_installed("ranger")
  skip_if_not_installed("survival")
  veteran <- survival::veteran
  fit <- ranger::ranger(survival::Surv(time, status) ~ ., data = veteran, num.trees = 5, seed = 1)
  m <- fp_compile(fit)
  rep <- fp_verify(fit, m, veteran)
  expect_true(rep$passed)
  expect_identical(rep$cases$rows, nrow(veteran))
  # one leaf's cumulative hazard edited: the chf and survival parts differ
  txt <- fp_to_json(m)
  chf <- format(fit$forest$chf[[1]][[which(lengths(fit$forest$chf[[1]]) > 0)[1]]][[60]], digits = 17)
  edited <- sub(chf, format(as.numeric(chf) * 1.01, digits = 17), txt, fixed = TRUE)
  expect_false(identical(edited, txt))
  expect_error(fp_verify(fit, fp_from_json(edited), veteran), class = "fastpredict_error_parity")
  # classes that are numbers: the ties ranger breaks at random are left out
  fit <- ranger::ranger(cyl ~ ., data = mtcars, classification = TRUE, num.trees = 2, seed = 4)
  rep <- fp_verify(fit, fp_compile(fit), mtcars)
  expect_true(rep$passed)
  expect_gt(rep$cases$tied_rows_left_out, 0)
})
