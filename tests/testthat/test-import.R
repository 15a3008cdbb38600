# fp_import(): formats recognised by content, errors that name the file and
# the field, print(), cards and fp_verify(), and (where Python has the
# libraries) the fixtures made again by xgboost and LightGBM and checked
# again.

test_that("model files are recognised by content, by fp_import() and fp_load()", {
  x <- booster_case("xgb_binary_logistic")$model
  l <- booster_case("lgb_binary")$model
  gz <- booster_case("xgb_bench_500")$model
  for (f in c(x, l, gz)) {
    a <- fp_import(f)
    expect_identical(fp_to_json(a), fp_to_json(fp_load(f)))
  }
  expect_identical(fp_to_json(fp_import(x, "xgboost")), fp_to_json(fp_import(x)))
  expect_error(fp_import(x, "lightgbm"), class = "fastpredict_error_corrupt_file", regexp = basename(x))
  expect_error(fp_import(l, "xgboost"), class = "fastpredict_error_corrupt_file")
  expect_error(fp_import(x, "catboost"))
})

test_that("the example files are the libraries' own, as in the fixtures", {
  ex <- function(f) system.file("extdata", f, package = "fastpredict")
  same <- function(a, b) identical(readBin(a, "raw", file.size(a)), readBin(b, "raw", file.size(b)))
  expect_true(same(ex("xgboost-binary.json"), booster_case("xgb_feature_names")$model))
  expect_true(same(ex("lightgbm-categorical.txt"), booster_case("lgb_pandas_categorical")$model))
})

test_that("bad files name the file and the field", {
  src <- booster_case("xgb_binary_logistic")$model
  txt <- readLines(src, warn = FALSE)
  bad <- tempfile(fileext = ".json")
  writeLines(substr(txt, 1, nchar(txt) %/% 2), bad)
  expect_error(fp_import(bad), class = "fastpredict_error_corrupt_file", regexp = basename(bad))
  writeLines(sub('"version":[3,2,0]', '"version":[9,0,0]', txt, fixed = TRUE), bad)
  expect_error(fp_import(bad), class = "fastpredict_error_unsupported", regexp = "9.0.0")
  writeLines(sub('"tree_info":[0,', '"tree_info":[', txt, fixed = TRUE), bad)
  expect_error(fp_import(bad), class = "fastpredict_error_corrupt_file", regexp = "tree_info")
  lines <- readLines(booster_case("lgb_binary")$model)
  i <- grep("^leaf_value=", lines)[1]
  lines[i] <- sub(" [^ ]*$", "", lines[i])
  writeLines(lines, bad)
  expect_error(fp_import(bad), class = "fastpredict_error_corrupt_file", regexp = "leaf_value")
})

test_that("print() shows the library, the booster and the objective", {
  m <- fp_import(booster_case("xgb_multi_softprob")$model)
  out <- format(m)
  expect_match(out[1], "boosted model from xgb.Booster (xgboost gbtree, multi:softprob)", fixed = TRUE)
  expect_true(any(grepl("types:  \"response\" (default), \"margin\"", out, fixed = TRUE)))
  expect_true(any(grepl("trees: ", out, fixed = TRUE)))
  expect_match(out[length(out)], "from xgboost 3.2.0$")
  l <- format(fp_import(booster_case("lgb_pandas_categorical")$model))
  expect_true(any(grepl("colour factor [red, green", l, fixed = TRUE)))
})

test_that("a card's content hash covers the boosted section", {
  m <- fp_import(booster_case("xgb_binary_logistic")$model)
  fp_card(m) <- fp_card("churn", "1.0.0")
  path <- tempfile(fileext = ".json")
  fp_save(m, path)
  back <- fp_load(path)
  expect_identical(back$info$card$content_hash, fp_content_hash(m))
  expect_identical(fp_content_hash(back), fp_content_hash(m))
  # one leaf of the saved file edited: the hash no longer matches the card
  txt <- fp_to_json(back)
  leaf <- regmatches(txt, regexpr("-0\\.40516114234924316", txt))
  expect_length(leaf, 1)
  edited <- fp_from_json(sub(leaf, "-0.5", txt, fixed = TRUE))
  expect_identical(edited$info$card$content_hash, back$info$card$content_hash)
  expect_false(identical(fp_content_hash(edited), fp_content_hash(back)))
  # and the LightGBM model's differs from xgboost's
  expect_false(identical(fp_content_hash(fp_import(booster_case("lgb_binary")$model)), fp_content_hash(m)))
})

test_that("fp_verify() refuses boosters by name: their R predict() cannot be tested here", {
  for (name in c("xgb_binary_logistic", "lgb_binary")) {
    case <- booster_case(name)
    m <- fp_import(case$model)
    expect_error(fp_verify(structure(list(), class = "xgb.Booster"), m, booster_newdata(case, m)),
                 class = "fastpredict_error_unsupported", regexp = "not in Debian")
  }
})

test_that("the fixtures made again by xgboost and LightGBM predict as they do", {
  # Needs Python 3 with xgboost and lightgbm (`make fixtures` installs them).
  script <- test_path("..", "boosters", "make-boosters.py")
  skip_if(!file.exists(script), "tests/boosters/make-boosters.py is not here (an installed or built package)")
  candidates <- c(Sys.getenv("FASTPREDICT_PYTHON"),
                  test_path("..", "..", ".venv-boosters", "main", "bin", "python"),
                  Sys.which("python3"))
  works <- function(p) {
    nzchar(p) && file.exists(p) &&
      suppressWarnings(system2(p, c("-c", shQuote("import xgboost, lightgbm")), stdout = FALSE, stderr = FALSE)) == 0
  }
  python <- Find(works, candidates)
  has <- !is.null(python)
  skip_if(!has, "Python 3 with xgboost and lightgbm is not available (make fixtures installs them)")
  out <- tempfile("boosters-")
  on.exit(unlink(out, recursive = TRUE), add = TRUE)
  # without the two 500-tree models (the committed ones are tested above):
  # about 40 s of training here
  status <- system2(python, c(script, "--out", out, "--skip", "bench"), stdout = FALSE, stderr = FALSE)
  expect_identical(status, 0L)
  cases <- c(booster_cases("xgboost", out), setdiff(booster_cases("lightgbm", out), "lgb_linear_tree"))
  expect_true(length(cases) >= 60)
  for (name in cases) {
    case <- booster_case(name, out)
    expect_booster_case(case, fp_import(case$model), forms = if (grepl("pandas", name)) "data.frame" else "unnamed")
  }
})
