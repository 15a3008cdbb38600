# predict_fast(m, newdata, type) must equal predict(fit, newdata, type):
# same values (1e-9 relative for linear models), same NA positions, same
# shape (a plain numeric vector with one value per row).
expect_parity <- function(fit, newdata, type = NULL, model = fp_compile(fit), tol = 1e-9, threads = NULL) {
  ref <- suppressWarnings(if (is.null(type)) predict(fit, newdata) else predict(fit, newdata, type = type))
  got <- predict_fast(model, newdata, type = type, threads = threads)
  expect_type(got, "double")
  expect_null(dim(got))
  expect_null(names(got))
  expect_length(got, NROW(newdata))
  expect_identical(is.na(got), unname(is.na(ref)))
  expect_equal(got, unname(as.vector(ref)), tolerance = tol)
  invisible(got)
}
