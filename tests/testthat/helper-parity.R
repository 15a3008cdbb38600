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

# The same prediction as the package's own: numbers within `tol` (relative),
# classes and factor levels identical, matrices with the same column names,
# lists component by component; row names are not reproduced.
expect_same_prediction <- function(got, ref, tol = 1e-9, strict = TRUE) {
  if (is.list(ref)) {
    expect_identical(names(got), names(ref))
    # (predict.lm()'s df is an integer, fastpredict's a double)
    for (nm in names(ref)) expect_same_prediction(got[[nm]], ref[[nm]], tol, strict = FALSE)
  } else if (is.factor(ref)) {
    expect_identical(got, unname(ref))
  } else if (is.matrix(ref)) {
    expect_true(is.matrix(got))
    expect_identical(dim(got), dim(ref))
    expect_identical(colnames(got), colnames(ref))
    expect_null(rownames(got))
    expect_identical(is.na(unname(got)), is.na(unname(ref)))
    expect_equal(unname(got), unname(ref), tolerance = tol)
  } else {
    expect_null(dim(got))
    if (strict) expect_identical(typeof(got), typeof(as.vector(ref))) else expect_true(is.numeric(got))
    expect_identical(is.na(got), unname(is.na(ref)))
    expect_equal(got, unname(as.vector(ref)), tolerance = tol)
  }
}

# Parity as an R user checks it: on the training data, on its rows
# shuffled, and on one row. `ref(fit, newdata)` is the package's predict()
# (its $predictions for ranger); `...` goes to both.
expect_parity_user <- function(fit, data, ..., model = fp_compile(fit), tol = 1e-9, seed = 1,
                               ref = function(fit, newdata, ...) predict(fit, newdata, ...)) {
  set.seed(seed)
  one <- sample(nrow(data), 1L)
  for (nd in list(data, data[sample(nrow(data)), , drop = FALSE], data[one, , drop = FALSE])) {
    expect_same_prediction(predict_fast(model, nd, ...), suppressWarnings(ref(fit, nd, ...)), tol)
  }
  invisible(model)
}
