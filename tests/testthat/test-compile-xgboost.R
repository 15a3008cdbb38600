# xgboost models read from their own JSON files (fp_import(), and what
# fp_compile.xgb.Booster() imports) against xgboost's own predictions,
# recorded by tests/boosters/make-boosters.py with xgboost 3.2.0, 2.1.4 and
# 1.7.6: bit for bit, for every recorded call, from a named matrix, an
# unnamed one and a data.frame. The R package xgboost is not in Debian, so
# fp_compile.xgb.Booster() itself is not called here.

for (name in booster_cases("xgboost")) {
  test_that(sprintf("xgboost fixture %s predicts as xgboost", name), {
    case <- booster_case(name)
    m <- fp_import(case$model, format = "xgboost")
    expect_s3_class(m, "fp_model_xgboost")
    expect_booster_case(case, m)
  })
}

test_that("xgboost models round-trip through the fastpredict format", {
  for (name in c("xgb_dart", "xgb_categorical", "xgb_multi_softprob", "xgb_gblinear_multiclass",
                 "xgb_pandas_categorical")) {
    case <- booster_case(name)
    m <- fp_import(case$model)
    path <- tempfile(fileext = ".fp.json")
    fp_save(m, path)
    m2 <- fp_load(path)
    expect_identical(m2$info$kind, "boosted")
    expect_booster_case(case, m2, forms = "data.frame")
  }
})

test_that("xgboost's prediction arguments are checked as xgboost checks them", {
  case <- booster_case("xgb_multi_parallel")
  m <- fp_import(case$model)
  x <- booster_newdata(case, m)
  rounds <- m$info$facts$n_rounds
  expect_error(predict_fast(m, x, iteration_range = c(0, rounds + 1)), class = "fastpredict_error_bad_argument")
  expect_error(predict_fast(m, x, iteration_range = 3), class = "fastpredict_error_bad_argument")
  expect_error(predict_fast(m, x, num_iteration = 3), class = "fastpredict_error_unsupported")
  expect_error(predict_fast(m, x, type = "raw"), class = "fastpredict_error_bad_argument")
  # ntreelimit counts the parallel trees of one class: ntreelimit / num_parallel_tree rounds
  per <- m$info$facts$n_trees / rounds / m$info$facts$n_outputs
  expect_identical(predict_fast(m, x, ntreelimit = 3 * per), predict_fast(m, x, iteration_range = c(0, 3)))
  expect_identical(predict_fast(m, x, iteration_range = NULL), predict_fast(m, x))
  # gblinear takes no range
  g <- fp_import(booster_case("xgb_gblinear")$model)
  expect_error(predict_fast(g, booster_newdata(booster_case("xgb_gblinear"), g), iteration_range = c(0, 1)),
               class = "fastpredict_error_bad_argument")
})

test_that("a sparse matrix's absent entries are missing values, as xgboost reads them", {
  skip_if_not_installed("Matrix")
  case <- booster_case("xgb_binary_logistic")
  m <- fp_import(case$model)
  x <- booster_newdata(case, m)
  x[is.na(x)] <- 0
  s <- Matrix::Matrix(x, sparse = TRUE)
  dense <- x
  dense[x == 0] <- NA
  expect_identical(predict_fast(m, s), predict_fast(m, dense))
})
