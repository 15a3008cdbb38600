# predict_fast(m, newdata, type) must be identical to predict(fit, newdata,
# type) for an rpart tree: the same numbers bit for bit, the same factor
# levels, the same matrix columns; only row names are not reproduced.
expect_rpart_parity <- function(fit, newdata, type = NULL, model = fp_compile(fit), threads = NULL) {
  ref <- if (is.null(type)) predict(fit, newdata) else predict(fit, newdata, type = type)
  got <- predict_fast(model, newdata, type = type, threads = threads)
  if (is.matrix(ref)) {
    rownames(ref) <- NULL
    if (all(vapply(dimnames(ref), is.null, NA))) dimnames(ref) <- NULL
    if (all(vapply(dimnames(got) %||% list(), is.null, NA))) dimnames(got) <- NULL
  } else {
    names(ref) <- NULL
  }
  expect_identical(got, ref)
  invisible(got)
}

# Rows of `newdata` whose walk in R ends at an internal node (a stop for
# lack of a route), to check that a test reaches that case.
rpart_stops <- function(fit, newdata) {
  mf <- model.frame(delete.response(fit$terms), newdata, na.action = na.pass,
                    xlev = attr(fit, "xlevels"))
  where <- rpart:::pred.rpart(fit, rpart:::rpart.matrix(mf))
  sum(fit$frame$var[where] != "<leaf>")
}
