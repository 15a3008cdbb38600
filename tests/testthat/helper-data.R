# Data generators for the parity tests. Everything is generated from a
# seed, and every expected value comes from the model's own predict().

# Training data with every kind of predictor.
gen_train <- function(n = 200, seed = 1) {
  set.seed(seed)
  data.frame(
    y = rnorm(n),
    x1 = runif(n, 0.5, 5),
    x2 = rnorm(n, 10, 3),
    x3 = rexp(n) + 0.1,
    k = sample(0:20, n, replace = TRUE),
    cnt = rpois(n, 3),
    flag = sample(c(TRUE, FALSE), n, replace = TRUE),
    f = factor(sample(c("a", "b", "c", "d"), n, replace = TRUE)),
    g = factor(sample(c("lo", "mid", "hi"), n, replace = TRUE), levels = c("lo", "mid", "hi")),
    o = factor(sample(c("s", "m", "l", "xl"), n, replace = TRUE), levels = c("s", "m", "l", "xl"), ordered = TRUE),
    ch = sample(c("p", "q", "r"), n, replace = TRUE),
    w = runif(n, 0.5, 2),
    off = runif(n, -1, 1),
    stringsAsFactors = FALSE
  )
}

# New data for a model trained on `train`: shuffled rows, values outside
# the training range, rows with NA in each column in turn.
gen_new <- function(train, n = 60, seed = 2, na = TRUE, outside = TRUE) {
  set.seed(seed)
  d <- train[sample(nrow(train), n, replace = TRUE), , drop = FALSE]
  rownames(d) <- NULL
  num <- vapply(d, is.double, NA) & !names(d) %in% c("y")
  if (outside) {
    rows <- sample(n, max(1, n %/% 5))
    for (v in names(d)[num]) d[rows, v] <- d[rows, v] * runif(length(rows), 1.5, 3)
  }
  if (na) {
    cols <- setdiff(names(d), "y")
    for (i in seq_along(cols)) d[[cols[[i]]]][[(i %% n) + 1]] <- NA
  }
  d
}

# Call `fun(formula, data = data, ...)` keeping the extra arguments as
# expressions, as a user's call would: predict() re-evaluates `offset`
# from the call in newdata.
# `.values` holds arguments passed by value.
fit_call <- function(fun, formula, data, ..., .values = list(), env = parent.frame()) {
  extra <- as.list(substitute(list(...)))[-1L]
  eval(as.call(c(list(fun), list(formula = formula, data = data), .values, extra)), env)
}
