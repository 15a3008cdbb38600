# Design-matrix coverage shared by lm and glm: predictor types, contrasts,
# interactions, transforms, offsets. Each model is compared with predict()
# on generated new data, on one row, and on zero rows.

train <- gen_train(300, seed = 11)
newd <- gen_new(train, 80, seed = 12)

check_lm <- function(formula, data = train, nd = newd, ...) {
  fit <- fit_call(quote(lm), formula, data, ..., env = parent.frame())
  m <- fp_compile(fit)
  expect_parity(fit, nd, model = m)
  expect_parity(fit, nd[7, , drop = FALSE], model = m)
  # zero rows: predict() itself fails for some transforms (ns() on no data)
  ref0 <- tryCatch(suppressWarnings(predict(fit, nd[0, , drop = FALSE])), error = function(e) numeric())
  expect_identical(predict_fast(m, nd[0, , drop = FALSE]), unname(as.vector(ref0)) + 0)
  # a single complete row as a list of length-1 vectors (predict() itself
  # fails on a lone NA inside ns()/bs())
  one <- nd[stats::complete.cases(nd), , drop = FALSE][1, , drop = FALSE]
  expect_equal(predict_fast(m, as.list(one)), unname(suppressWarnings(predict(fit, one))), tolerance = 1e-9)
  invisible(m)
}

test_that("numeric, integer and logical predictors", {
  check_lm(y ~ x1 + x2 + k + flag)
  check_lm(y ~ cnt + flag * x1)
})

test_that("factors, ordered factors and characters", {
  check_lm(y ~ f + g)
  check_lm(y ~ o + x1)
  check_lm(y ~ ch + f)
})

test_that("as.numeric() of a character column parses it, as R does", {
  fit <- lm(mpg ~ as.numeric(cyl), data = mtcars)
  nd <- data.frame(cyl = c("4", " 6", "8.5", "0x8", "abc", NA), stringsAsFactors = FALSE)
  expect_parity(fit, nd)
})

test_that("inline factor() and as.numeric()", {
  check_lm(y ~ factor(k) + x1)
  check_lm(y ~ factor(cnt) * x2)
  check_lm(y ~ as.numeric(f) + as.numeric(k) + factor(flag))
  check_lm(y ~ as.factor(ch) + ordered(cnt))
})

test_that("all contrasts: treatment, sum, helmert, poly and custom matrices", {
  check_lm(y ~ f + g, contrasts = list(f = "contr.sum", g = "contr.helmert"))
  check_lm(y ~ f * x1, contrasts = list(f = "contr.poly"))
  check_lm(y ~ o, contrasts = list(o = "contr.treatment"))
  custom <- matrix(c(1, 0, -1, 0, 0.5, 0.5, -1, 0, 2, -1, 0, 3), 4, 3)
  check_lm(y ~ f + x1, contrasts = list(f = custom))
  named <- custom
  colnames(named) <- c("A", "B", "C")
  check_lm(y ~ f:x1 + f, contrasts = list(f = named))
  # fewer columns than levels - 1: R completes the basis
  check_lm(y ~ f, contrasts = list(f = custom[, 1:2]))
  # contrasts set on the data column itself
  d <- train
  contrasts(d$f) <- contr.sum(4)
  check_lm(y ~ f + x2, data = d)
  op <- options(contrasts = c("contr.helmert", "contr.treatment"))
  on.exit(options(op))
  check_lm(y ~ f + o + x1)
})

test_that("interactions of any order, with and without margins", {
  check_lm(y ~ x1 * f)
  check_lm(y ~ f * g)
  check_lm(y ~ f:g)
  check_lm(y ~ x1:f)
  check_lm(y ~ x1:x2 + f:g:flag)
  check_lm(y ~ f * g * x1)
  check_lm(y ~ x1 + f:x2 + g:o)
  check_lm(y ~ poly(x1, 2):f + ch)
})

test_that("models without intercept and the dot formula", {
  check_lm(y ~ 0 + f + x1)
  check_lm(y ~ x1 + f - 1)
  check_lm(y ~ 0 + x1:f + g)
  check_lm(y ~ 0 + x1 + x2)
  check_lm(y ~ ., data = train[, c("y", "x1", "f", "ch", "flag", "o")])
  check_lm(y ~ .^2, data = train[, c("y", "x1", "f", "g")])
  check_lm(y ~ 1)
})

test_that("transforms: I(), arithmetic, powers and math functions", {
  check_lm(y ~ I(x1^2) + I(x2 * x3) + I(1 / x1) + I(x2 - 3) + I(-x1) + I((x1 + 2)^3))
  check_lm(y ~ log(x1) + log(x3, base = 10) + log(x1, 3) + log2(x3) + log10(x1) + log1p(x3))
  check_lm(y ~ exp(x3 / 10) + sqrt(x1) + abs(x2 - 10) + I(x1^0.5) + I(x1^-1))
  check_lm(y ~ log(x1):f + sqrt(x3) * g)
  check_lm(y ~ stats::poly(x1, 2) + base::log(x3))
})

test_that("poly(), orthogonal and raw", {
  check_lm(y ~ poly(x1, 3) + poly(x2, 1))
  check_lm(y ~ poly(x1, degree = 2, raw = TRUE) + poly(log(x3), 2))
  check_lm(y ~ poly(x2, 4) * f)
})

test_that("splines::ns() and splines::bs()", {
  check_lm(y ~ splines::ns(x1, df = 4) + splines::bs(x2, df = 5))
  check_lm(y ~ splines::ns(x1, knots = c(2, 3)) + splines::bs(x3, degree = 2, knots = 1))
  check_lm(y ~ splines::ns(x2, df = 3, intercept = TRUE) + splines::bs(x1, df = 6, intercept = TRUE) - 1)
  check_lm(y ~ splines::bs(x1, degree = 1, df = 3) + splines::ns(log(x3), 2):f)
  # points exactly on the boundary and interior knots
  fit <- lm(y ~ splines::ns(x1, knots = 2) + splines::bs(x2, knots = 10), data = train)
  edge <- data.frame(x1 = c(range(train$x1), 2, 0, 100), x2 = c(range(train$x2), 10, -50, 60))
  expect_parity(fit, edge)
})

test_that("scale() with its stored centre and scale", {
  check_lm(y ~ scale(x1) + scale(x2, center = FALSE) + scale(x3, scale = FALSE))
  check_lm(y ~ scale(x1, center = 2, scale = 3) * f)
})

test_that("offsets: several offset() terms plus the offset argument", {
  check_lm(y ~ x1 + offset(off))
  check_lm(y ~ x1 + offset(off) + offset(log(x3)), offset = 2 * x2)
  check_lm(y ~ f, offset = log(x1))
})

test_that("weights and rank-deficient fits", {
  check_lm(y ~ x1 + f, weights = w)
  d <- train
  d$x4 <- 2 * d$x1 + 1
  d$f2 <- d$f
  nd <- gen_new(d, 50, seed = 3)
  check_lm(y ~ x1 + x4 + x2, data = d, nd = nd)
  check_lm(y ~ f + f2 + x1, data = d, nd = nd)
  check_lm(y ~ f * g, data = train[train$f != "a" | train$g != "lo", ])
  # NA in a column that feeds only aliased coefficients does not make the row NA
  fit <- lm(y ~ x1 + x4, data = d)
  nd <- data.frame(x1 = 1:3, x4 = c(NA, 1, 2))
  expect_parity(fit, nd)
})

test_that("unused factor levels in newdata are fine, columns may be in any order", {
  fit <- lm(y ~ f + x1 + ch, data = train)
  nd <- data.frame(x1 = c(1, 2), ch = c("r", "p"), f = factor(c("b", "a"), levels = c("zz", "b", "a")))
  expect_parity(fit, nd)
  nd2 <- data.frame(extra = 1:2, ch = factor(c("q", "q")), x1 = 3:4, f = c("d", "c"))
  expect_parity(fit, nd2)
})

test_that("values outside the training range and non-finite results", {
  fit <- lm(y ~ log(x1) + sqrt(x3) + I(1 / x2), data = train)
  nd <- data.frame(x1 = c(0, 1e300, 5), x3 = c(4, 1, 1e-300), x2 = c(1, 0, -1))
  expect_parity(fit, nd)
  # an infinite value meets zero codings of a factor: R gives NaN there
  fit <- lm(y ~ log(x1):f + g:I(1 / x2), data = train)
  nd <- data.frame(x1 = c(0, 0, 2, Inf), f = c("a", "c", "b", "d"), x2 = c(1, 0, 0, 2), g = c("lo", "mid", "hi", "lo"))
  expect_parity(fit, nd)
})

test_that("seeded random formulas match predict()", {
  atoms <- c("x1", "x2", "log(x3)", "f", "g", "o", "ch", "flag", "k", "factor(cnt)",
             "poly(x2, 2)", "splines::ns(x1, 3)", "I(x1^2)", "scale(x2)", "sqrt(x3)")
  contr <- c("contr.treatment", "contr.sum", "contr.helmert", "contr.poly")
  for (seed in 1:60) {
    set.seed(1000 + seed)
    picked <- sample(atoms, sample(1:4, 1))
    rhs <- paste(picked, collapse = sample(c(" + ", " * ", ":"), 1, prob = c(0.5, 0.3, 0.2)))
    if (runif(1) < 0.2) rhs <- paste("0 +", rhs)
    if (runif(1) < 0.2) rhs <- paste(rhs, "+ offset(off)")
    ctr <- list(f = sample(contr, 1), g = sample(contr, 1))
    ctr <- ctr[names(ctr) %in% all.vars(stats::as.formula(paste("~", rhs)))]
    tr <- gen_train(150, seed = seed)
    fit <- lm(stats::as.formula(paste("y ~", rhs)), data = tr,
              contrasts = if (length(ctr)) ctr else NULL)
    nd <- gen_new(tr, 40, seed = seed + 1)
    expect_parity(fit, nd)
  }
})

test_that("factors made in the formula: C(), relevel(), cut(), interaction(), comparisons", {
  expect_parity_user(lm(breaks ~ C(tension, contr.sum) + relevel(wool, "B"), data = warpbreaks), warpbreaks)
  expect_parity_user(lm(breaks ~ C(tension, poly, 1) * wool, data = warpbreaks), warpbreaks)
  # (on one row, predict() itself fails: factor(cyl) has one level there)
  fit <- lm(mpg ~ C(factor(cyl), contr.helmert) + wt, data = mtcars)
  expect_same_prediction(predict_fast(fp_compile(fit), mtcars[32:1, ]), suppressWarnings(predict(fit, mtcars[32:1, ])))
  expect_parity_user(lm(mpg ~ cut(hp, c(0, 100, 200, 400)) + cut(wt, c(-Inf, 3, 4, Inf), right = FALSE),
                        data = mtcars), mtcars)
  expect_parity_user(lm(mpg ~ cut(hp, breaks = c(52, 100, 335), include.lowest = TRUE,
                                  ordered_result = TRUE) * wt, data = mtcars), mtcars)
  expect_parity_user(lm(mpg ~ cut(hp, c(0, 150, 400), labels = c("low", "high")) + cut(log(disp), 3:7),
                        data = mtcars), mtcars)
  expect_parity_user(lm(breaks ~ interaction(wool, tension), data = warpbreaks), warpbreaks)
  # labels with the separator in them ("0.5.OJ"): levels from the data
  expect_parity_user(lm(len ~ interaction(supp, dose), data = ToothGrowth), ToothGrowth)
  expect_parity_user(lm(mpg ~ interaction(am, vs, sep = "_", lex.order = TRUE) + wt, data = mtcars), mtcars)
  expect_parity_user(lm(mpg ~ I(wt > 3) + (qsec > 18) + I(hp > 100 & am == 1) + I(!(gear == 4 | carb < 2)),
                        data = mtcars), mtcars)
  expect_parity_user(lm(mpg ~ wt * I(hp >= 150) + I((cyl != 4) * disp), data = mtcars), mtcars)
  # glm too, on both scales
  fit <- glm(am ~ cut(wt, c(1, 3, 6)) + I(hp > 120), family = binomial, data = mtcars)
  expect_parity_user(fit, mtcars, type = "response")
})

test_that("factors made in the formula: missing values, unseen levels and values outside the breaks", {
  fit <- lm(mpg ~ cut(hp, c(60, 100, 200, 300)) + interaction(am, gear) + I(wt > 3), data = mtcars)
  m <- fp_compile(fit)
  nd <- mtcars[1:6, ]
  nd$hp[1] <- NA       # NA
  nd$hp[2] <- 335      # outside the breaks: NA
  nd$hp[3] <- 60       # on the open lower end: NA
  nd$am[4] <- NA
  nd$wt[5] <- NaN
  expect_same_prediction(predict_fast(m, nd), predict(fit, nd))
  nd$gear[6] <- 9
  expect_error(predict(fit, nd), "new level")
  expect_error(predict_fast(m, nd), class = "fastpredict_error_unseen_level", regexp = "gear")
  # an interval the training data did not use is a level model.frame() refuses
  fit <- lm(mpg ~ cut(log(disp), 3:7), data = mtcars)
  expect_error(predict(fit, data.frame(disp = 33)), "new level")
  expect_error(predict_fast(fp_compile(fit), data.frame(disp = 33)), class = "fastpredict_error_unseen_level",
               regexp = "\\(3,4\\]")
  # a combination the training data did not have (interaction(drop = TRUE))
  d <- warpbreaks[!(warpbreaks$wool == "B" & warpbreaks$tension == "H"), ]
  fit <- lm(breaks ~ interaction(wool, tension, drop = TRUE), data = d)
  expect_parity_user(fit, d)
  expect_error(predict_fast(fp_compile(fit), data.frame(wool = "B", tension = "H")),
               class = "fastpredict_error_unseen_level", regexp = "B.H")
  # generated data with NA in every column in turn
  check_lm(y ~ cut(x1, c(0, 1, 2.5, 10)) * x2 + I(x3 > 1) + interaction(f, g) + C(o, contr.treatment))
  check_lm(y ~ relevel(f, "c") : x1 + cut(x2, c(-Inf, 8, 12, Inf), right = FALSE) + I(flag | x1 > 2))
})

test_that("cut() into a number of intervals is refused, saying why", {
  expect_error(fp_compile(lm(mpg ~ cut(hp, 3), data = mtcars)), class = "fastpredict_error_unsupported",
               regexp = "cut\\(hp, 3\\).*range of the data at hand")
  expect_error(fp_compile(lm(mpg ~ cut(hp, c(0, 100, 400), labels = FALSE), data = mtcars)),
               class = "fastpredict_error_unsupported", regexp = "labels = FALSE")
})

test_that("literal constants: numbers are kept, fixed-length vectors refused by name", {
  expect_parity_user(lm(mpg ~ I(wt * pi) + I(hp / log(2)) + offset(rep(1, 1) * qsec), data = mtcars), mtcars)
  k <- 7.5
  expect_parity_user(lm(mpg ~ I(wt - k), data = mtcars), mtcars)
  expect_error(fp_compile(lm(mpg ~ wt + offset(rep(1, 32)), data = mtcars)),
               class = "fastpredict_error_unsupported", regexp = "'rep\\(1, 32\\)'.*same 32 values")
  expect_error(fp_compile(lm(mpg ~ wt + I(1:32), data = mtcars)),
               class = "fastpredict_error_unsupported", regexp = "'I\\(1:32\\)'.*another length")
  fit <- fit_call(quote(lm), mpg ~ wt, mtcars, offset = rep(0.5, 32))
  expect_error(fp_compile(fit), class = "fastpredict_error_unsupported", regexp = "rep\\(0.5, 32\\)")
})

test_that("a one-column matrix in the data is a column; a wider one is refused by name", {
  d <- mtcars
  d$s <- scale(d$hp)
  expect_parity_user(lm(mpg ~ s + wt, data = d), d)
  expect_parity_user(glm(am ~ s, family = binomial, data = d), d, type = "response")
  d$X <- as.matrix(mtcars[c("wt", "hp")])
  expect_error(fp_compile(lm(mpg ~ X, data = d)), class = "fastpredict_error_unsupported",
               regexp = "matrix variable 'X' \\(2 columns\\)")
})

test_that("bs() fitted on a single observation is refused, never an invalid model", {
  for (fit in list(lm(Y ~ splines::bs(u), data.frame(u = 2, Y = 5)),
                   lm(Y ~ splines::bs(u, degree = 1), data.frame(u = 2, Y = 5)),
                   lm(Y ~ splines::bs(u, df = 4), data.frame(u = c(2, 2, 2), Y = c(5, 6, 7))))) {
    expect_error(fp_compile(fit), class = "fastpredict_error_unsupported", regexp = "single value")
  }
})
