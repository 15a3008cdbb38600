test_that("the committed R/extendr-wrappers.R matches the compiled module", {
  path <- test_path("..", "..", "R", "extendr-wrappers.R")
  skip_if_not(file.exists(path), "not running from the source tree")
  generated <- .Call("wrap__make_fastpredict_wrappers", TRUE, "fastpredict", PACKAGE = "fastpredict")
  committed <- paste(readLines(path), collapse = "\n")
  expect_true(grepl(sub("\n+$", "", generated), committed, fixed = TRUE))
})
