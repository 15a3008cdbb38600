# LightGBM models read from their own text files (fp_import(), and what
# fp_compile.lgb.Booster() imports) against LightGBM 4.7.0's own
# predictions, recorded by tests/boosters/make-boosters.py: within 1e-12,
# for every recorded call, from a named matrix, an unnamed one and a
# data.frame. The R package lightgbm is not in Debian, so
# fp_compile.lgb.Booster() itself is not called here.

for (name in setdiff(booster_cases("lightgbm"), "lgb_linear_tree")) {
  test_that(sprintf("LightGBM fixture %s predicts as LightGBM", name), {
    case <- booster_case(name)
    m <- fp_import(case$model, format = "lightgbm")
    expect_s3_class(m, "fp_model_lightgbm")
    expect_booster_case(case, m)
  })
}

test_that("LightGBM linear trees are refused by name", {
  expect_error(fp_import(booster_case("lgb_linear_tree")$model), class = "fastpredict_error_unsupported",
               regexp = "linear trees")
})

test_that("LightGBM models round-trip through the fastpredict format", {
  for (name in c("lgb_categorical_multiclass", "lgb_missing_zero", "lgb_rf_binary", "lgb_pandas_categorical")) {
    case <- booster_case(name)
    path <- tempfile(fileext = ".fp.json.gz")
    fp_save(fp_import(case$model), path)
    expect_booster_case(case, fp_load(path), forms = "data.frame")
  }
})

test_that("LightGBM's iteration arguments are clamped as LightGBM clamps them", {
  case <- booster_case("lgb_multiclass")
  m <- fp_import(case$model)
  x <- booster_newdata(case, m)
  expect_identical(predict_fast(m, x, start_iteration = -3, num_iteration = 1e9), predict_fast(m, x))
  expect_identical(predict_fast(m, x, num_iteration = 0), predict_fast(m, x))
  expect_error(predict_fast(m, x, iteration_range = c(0, 1)), class = "fastpredict_error_unsupported")
  expect_error(predict_fast(m, x, num_iteration = 1.5), class = "fastpredict_error_bad_argument")
  expect_identical(dim(predict_fast(m, x, type = "raw")), c(nrow(x), 3L))
})
