# Helpers of the xgboost and LightGBM parity tests: the fixtures in
# fixtures/boosters/<case>/ hold the model file as the library saved it, the
# rows (data.json) and the library's own predictions (expected.json), written
# by tests/boosters/make-boosters.py. Nothing here is typed by hand.

boosters_dir <- function() test_path("fixtures", "boosters")

# The cases of `library` ("xgboost" or "lightgbm") in `dir`.
booster_cases <- function(library, dir = boosters_dir()) {
  names <- list.files(dir)
  keep <- vapply(names, function(n) {
    f <- file.path(dir, n, "case.json")
    file.exists(f) && identical(jsonlite::fromJSON(f)$library, library)
  }, TRUE)
  names[keep]
}

booster_case <- function(name, dir = boosters_dir()) {
  d <- file.path(dir, name)
  meta <- jsonlite::fromJSON(file.path(d, "case.json"), simplifyVector = FALSE)
  list(name = name, dir = d, meta = meta, model = file.path(d, meta$model_file),
       data = jsonlite::fromJSON(file.path(d, "data.json"), simplifyVector = FALSE),
       expected = jsonlite::fromJSON(file.path(d, "expected.json"), simplifyVector = FALSE))
}

# JSON numbers: null is missing, the strings "Infinity" / "-Infinity".
booster_numbers <- function(v) {
  vapply(v, function(x) {
    if (is.null(x)) NA_real_ else if (identical(x, "Infinity")) Inf else if (identical(x, "-Infinity")) -Inf
    else as.double(x)
  }, 0)
}

# The case's rows for `model`: a numeric matrix with the model's feature
# names ("matrix"), without names, read by position ("unnamed"), or a
# data.frame ("data.frame"); where the model knows category names, the
# data.frame holds the names the library was given, as factors.
booster_newdata <- function(case, model, as = c("matrix", "unnamed", "data.frame")) {
  as <- match.arg(as)
  inputs <- vapply(model$info$inputs, function(i) i$name, "")
  factors <- vapply(model$info$inputs, function(i) length(i$levels) > 0, TRUE)
  cols <- lapply(case$data$columns, booster_numbers)
  stopifnot(length(cols) == length(inputs))
  if (as == "data.frame") {
    df <- as.data.frame(stats::setNames(cols, inputs))
    for (j in which(factors)) {
      values <- vapply(case$data$category_values[[names(case$data$columns)[j]]],
                       function(x) if (is.null(x)) NA_character_ else x, "")
      df[[j]] <- factor(values)
    }
    return(df)
  }
  x <- do.call(cbind, cols)
  colnames(x) <- if (as == "matrix") inputs
  x
}

# The arguments of predict_fast() for a recorded call.
booster_args <- function(spec) {
  if (!is.null(spec$api)) {
    args <- list(type = if (identical(spec$type, "margin")) "margin" else "response",
                 dmatrix = identical(spec$api, "dmatrix"))
    if (!is.null(spec$iteration_range)) args$iteration_range <- unlist(spec$iteration_range)
  } else {
    args <- list(type = if (isTRUE(spec$raw_score)) "raw" else "response",
                 start_iteration = spec$start_iteration, num_iteration = spec$num_iteration)
  }
  args
}

# A prediction as the libraries lay it out: rows, then outputs.
booster_row_major <- function(p) if (is.matrix(p)) as.vector(t(p)) else as.vector(p)

# Every recorded call of `case`, from `model` and each form of newdata:
# identical for xgboost (its float32 results as exact doubles), within
# 1e-12 for LightGBM.
expect_booster_case <- function(case, model, forms = c("matrix", "unnamed", "data.frame")) {
  exact <- identical(case$meta$library, "xgboost")
  for (form in forms) {
    # LightGBM's pandas case: only a data frame is re-coded by name
    if (form != "data.frame" && any(vapply(model$info$inputs, function(i) length(i$levels) > 0, TRUE))) next
    x <- booster_newdata(case, model, form)
    for (e in case$expected$predictions) {
      got <- booster_row_major(do.call(predict_fast, c(list(model, x), booster_args(e$spec))))
      want <- booster_numbers(e$values)
      label <- sprintf("%s, %s, %s", case$name, e$name, form)
      if (exact) {
        expect_identical(got, want, label = label)
      } else {
        expect_equal(got, want, tolerance = 1e-12, label = label)
      }
    }
  }
}
