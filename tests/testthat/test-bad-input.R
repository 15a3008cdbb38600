# The bad-input matrix: hostile newdata, arguments, model objects, paths
# and documents. Each case runs in its own R process (under a memory cap),
# so that a crash or a hang is caught and counted instead of ending the
# test run. Every case must end in a classed fastpredict_error_<kind> of
# the expected kind, or in the right value; nothing may crash, hang, raise
# an unclassed error, or leave a temporary file behind.

skip_if_not_installed("processx")
skip_on_cran()

fixtures <- normalizePath(test_path("fixtures"))

# What every case's process has: the fixture models, their data, and a
# directory of its own (`dir`) for files.
prelude <- '
suppressPackageStartupMessages(library(fastpredict))
fx <- function(f, v = "1.0") file.path(FIXTURES, paste0("format-", v), f)
delayedAssign("lm_m", fp_load(fx("lm-mtcars.json")))
# with the inference section (format 1.2), and a card (1.3)
delayedAssign("lm_i", fp_load(fx("lm-mtcars.json", "1.3")))
delayedAssign("glm_i", fp_load(fx("glm-poisson-iris.json", "1.3")))
delayedAssign("lm_c", fp_load(fx("lm-card.json", "1.3")))
delayedAssign("fit_s", lm(mpg ~ wt + hp, mtcars))
delayedAssign("m_s", fp_compile(fit_s))
X <- as.matrix(mtcars[c("wt", "cyl", "hp", "disp", "qsec")])
# glmnet (format 1.4): a path, a cross-validated fit, and a fit with an offset
delayedAssign("gn", fp_load(fx("glmnet-gaussian-mtcars.json", "1.4")))
delayedAssign("gcv", fp_load(fx("glmnet-binomial-cv-mtcars.json", "1.4")))
delayedAssign("gmn", fp_load(fx("glmnet-multinomial-iris-gz.json.gz", "1.4")))
delayedAssign("go", fp_compile(glmnet::glmnet(M, mtcars$mpg, offset = rep(1, 32), nlambda = 10)))
M <- as.matrix(mtcars[, -1])
Mc <- as.matrix(mtcars[, c("mpg", "wt", "hp", "qsec", "drat")])
delayedAssign("S", Matrix::Matrix(X, sparse = TRUE))
delayedAssign("rp", fp_load(fx("rpart-warpbreaks.json")))
delayedAssign("rf", fp_load(fx("randomForest-iris-gz.json.gz")))
delayedAssign("rg", fp_load(fx("ranger-iris-partition.json")))
delayedAssign("gb", fp_load(fx("gbm-iris.json")))
d <- mtcars
iris_d <- iris
col <- function(name, value) { x <- as.list(mtcars); x[[name]] <- value; x }
latin1 <- "caf\\xe9"; Encoding(latin1) <- "latin1"
bytes <- "caf\\xc3\\xa9"; Encoding(bytes) <- "bytes"
invalid <- "caf\\xe9"
write_gz <- function(path, text, times = 1) {
  con <- gzfile(path, "wb"); on.exit(close(con))
  for (i in seq_len(times)) writeBin(charToRaw(text), con)
}
doc <- function(m = lm_m) fp_to_json(m)
# the document of `m` with its first match of `from` replaced, compiled
edit <- function(m, from, to, fixed = FALSE) {
  d <- doc(m)
  if (!grepl(from, d, fixed = fixed)) stop("the edit does not apply: ", from)
  fp_from_json(sub(from, to, d, fixed = fixed))
}
NUL <- paste0(intToUtf8(92), "u0000")  # the JSON escape of a NUL
'

# name, code, and what must come of it: an error kind, several allowed
# kinds, or "value" with a check on `value`.
case <- function(name, code, expect, check = "TRUE") list(name = name, code = code, expect = expect, check = check)
kinds <- c("missing_column", "wrong_type", "unseen_level", "length_mismatch", "corrupt_file", "newer_format",
           "invalid_model", "unsupported", "bad_argument", "io", "interrupted", "timeout", "internal", "parity")

cases <- list(
  # newdata of every R kind
  case("newdata NULL", "predict_fast(lm_m, NULL)", "bad_argument"),
  case("newdata integer vector", "predict_fast(lm_m, 1:10)", "bad_argument"),
  case("newdata string", "predict_fast(lm_m, 'wt')", "bad_argument"),
  case("newdata numeric matrix", "predict_fast(lm_m, as.matrix(mtcars))", "value", "length(value) == 32"),
  case("newdata environment", "predict_fast(lm_m, list2env(as.list(mtcars)))", "bad_argument"),
  case("newdata function", "predict_fast(lm_m, function(x) x)", "bad_argument"),
  case("newdata call", "predict_fast(lm_m, quote(wt + hp))", "bad_argument"),
  case("newdata expression", "predict_fast(lm_m, expression(wt))", "bad_argument"),
  case("newdata S4 object", "methods::setClass('P', methods::representation(wt = 'numeric')); predict_fast(lm_m, methods::new('P', wt = 1))",
       "bad_argument"),
  case("newdata complex", "predict_fast(lm_m, complex(3))", "bad_argument"),
  case("newdata raw", "predict_fast(lm_m, as.raw(1:3))", "bad_argument"),
  case("newdata Date", "predict_fast(lm_m, Sys.Date())", "bad_argument"),
  case("newdata pairlist", "predict_fast(lm_m, as.pairlist(as.list(mtcars)))", "bad_argument"),
  case("newdata external pointer", "predict_fast(lm_m, lm_m$ptr)", "bad_argument"),
  case("newdata empty list", "predict_fast(lm_m, list())", "bad_argument"),
  case("newdata unnamed list", "predict_fast(lm_m, unname(as.list(mtcars)))", "bad_argument"),
  case("newdata empty data.frame", "predict_fast(lm_m, data.frame())", "missing_column"),
  case("newdata data.table-like", "predict_fast(lm_m, structure(as.list(mtcars), class = c('data.table', 'data.frame')))",
       "value", "length(value) == 32"),
  case("newdata tibble-like", "predict_fast(lm_m, structure(as.list(mtcars), class = c('tbl_df', 'tbl', 'data.frame'), row.names = c(NA, -32L)))",
       "value", "length(value) == 32"),
  case("newdata list with NA names", "x <- as.list(mtcars); names(x)[1] <- NA; predict_fast(lm_m, x)",
       "value", "length(value) == 32"),
  case("newdata duplicated names", "predict_fast(lm_m, c(as.list(mtcars), list(wt = 'x')))", "value", "length(value) == 32"),
  case("newdata a bytes-encoded name of an unused column",
       "x <- as.list(mtcars); names(x)[1] <- bytes; predict_fast(lm_m, x)", "value", "length(value) == 32"),
  case("newdata a bytes-encoded name of a used column",
       "x <- as.list(mtcars); names(x)[names(x) == 'wt'] <- bytes; predict_fast(lm_m, x)", "missing_column"),
  case("newdata an invalid UTF-8 name", "x <- as.list(mtcars); names(x)[1] <- invalid; predict_fast(lm_m, x)",
       "value", "length(value) == 32"),
  case("newdata a latin1 name", "x <- as.list(mtcars); names(x)[1] <- latin1; predict_fast(lm_m, x)",
       "value", "length(value) == 32"),

  # matrices, dense and sparse
  case("matrix by position", "predict_fast(lm_m, unname(X))", "value", "length(value) == 32"),
  case("matrix by position, a column short", "predict_fast(lm_m, unname(X[, -1]))", "bad_argument"),
  case("matrix without a used column", "predict_fast(lm_m, X[, -1])", "missing_column"),
  case("matrix of 0 rows", "predict_fast(lm_m, X[0, ])", "value", "identical(value, numeric(0))"),
  case("matrix of 0 columns", "predict_fast(lm_m, X[, 0])", c("bad_argument", "missing_column")),
  case("matrix integer", "x <- X; storage.mode(x) <- 'integer'; predict_fast(lm_m, x)", "value", "length(value) == 32"),
  case("matrix logical", "x <- X > 3; predict_fast(lm_m, x)", "wrong_type"),
  case("matrix character", "x <- X; storage.mode(x) <- 'character'; predict_fast(lm_m, x)", "bad_argument"),
  case("matrix complex", "x <- X; storage.mode(x) <- 'complex'; predict_fast(lm_m, x)", "bad_argument"),
  case("matrix NA column names", "x <- X; colnames(x)[1] <- NA; predict_fast(lm_m, x)", "missing_column"),
  case("matrix duplicated column names", "predict_fast(lm_m, cbind(X, wt = 0))", "value", "length(value) == 32"),
  case("matrix a bytes-encoded column name", "x <- X; colnames(x)[1] <- bytes; predict_fast(lm_m, x)",
       c("bad_argument", "missing_column")),
  case("matrix a three-way array", "predict_fast(lm_m, array(1, c(32, 5, 2)))", "bad_argument"),
  case("matrix an ALTREP sequence", "x <- 1:64; dim(x) <- c(32L, 2L); colnames(x) <- c('wt', 'hp'); predict_fast(m_s, x)",
       "value", "length(value) == 32"),
  case("matrix an ALTREP sequence R cannot allocate",
       "x <- 1:3e9; dim(x) <- c(6e8, 5); colnames(x) <- colnames(X); predict_fast(lm_m, x)", "bad_argument"),
  case("matrix NA, NaN and Inf", "x <- X; x[1:4, 'wt'] <- c(NA, NaN, Inf, -Inf); predict_fast(lm_m, x)", "value",
       "length(value) == 32 && all(is.na(value[1:2]))"),
  case("matrix of a tree model", "x <- as.matrix(iris[1:4]); predict_fast(rf, x)", "value", "length(value) == 150"),
  case("sparse matrix", "predict_fast(lm_m, S)", "value", "length(value) == 32"),
  case("sparse matrix by position", "predict_fast(lm_m, unname(S))", "value", "length(value) == 32"),
  case("sparse matrix, a column short", "predict_fast(lm_m, unname(S[, -1]))", "bad_argument"),
  case("sparse matrix of 0 rows", "predict_fast(lm_m, S[0, ])", "value", "identical(value, numeric(0))"),
  case("sparse matrix a row index past its rows", "x <- S; x@i[1] <- 1000000L; predict_fast(lm_m, x)", "bad_argument"),
  case("sparse matrix a negative row index", "x <- S; x@i[1] <- -1L; predict_fast(lm_m, x)", "bad_argument"),
  case("sparse matrix column pointers reversed", "x <- S; x@p <- rev(x@p); predict_fast(lm_m, x)", "bad_argument"),
  case("sparse matrix column pointers cut", "x <- S; x@p <- x@p[-1]; predict_fast(lm_m, x)", "bad_argument"),
  case("sparse matrix values cut", "x <- S; x@x <- x@x[-1]; predict_fast(lm_m, x)", "bad_argument"),
  case("sparse matrix a billion rows declared", "x <- S; x@Dim <- c(1000000000L, 5L); predict_fast(lm_m, x)",
       "bad_argument"),
  case("sparse matrix an ALTREP value slot",
       "x <- Matrix::Matrix(X[, c('wt', 'hp')], sparse = TRUE); x@x <- as.numeric(seq_along(x@x)); predict_fast(m_s, x)",
       "value", "length(value) == 32"),
  case("sparse matrix of another class", "predict_fast(lm_m, methods::as(S, 'TsparseMatrix'))", "bad_argument"),
  case("sparse matrix classed by hand", "predict_fast(lm_m, structure(list(), class = 'dgCMatrix'))", "bad_argument"),

  # glmnet: newdata, s, exact and newoffset
  case("glmnet newdata a data.frame", "predict_fast(gn, mtcars)", "bad_argument"),
  case("glmnet newdata a list", "predict_fast(gn, as.list(mtcars[-1]))", "bad_argument"),
  case("glmnet newdata one row as a vector", "predict_fast(gn, M[1, ])", "value", "identical(dim(value), c(1L, 19L))"),
  case("glmnet newdata columns reordered", "predict_fast(gn, M[, 10:1])", "value", "identical(dim(value), c(32L, 19L))"),
  case("glmnet newdata a column short, unnamed", "predict_fast(gn, unname(M[, -1]))", "bad_argument"),
  case("glmnet newdata a column short, named", "predict_fast(gn, M[, -1])", c("bad_argument", "missing_column")),
  case("glmnet newdata character", "x <- M; storage.mode(x) <- 'character'; predict_fast(gn, x)", "bad_argument"),
  case("glmnet newdata logical", "predict_fast(gn, M > 3)", "value", "identical(dim(value), c(32L, 19L))"),
  case("glmnet newdata 0 rows", "predict_fast(gn, M[0, ])", "value", "identical(dim(value), c(0L, 19L))"),
  # (at the first lambda no coefficient is stored, so glmnet's sparse
  # product gives the intercept there)
  case("glmnet newdata NA, NaN and Inf", "x <- M; x[1:4, 1] <- c(NA, NaN, Inf, -Inf); predict_fast(gn, x)", "value",
       "identical(dim(value), c(32L, 19L)) && all(is.na(value[1:2, -1]))"),
  case("glmnet newdata sparse", "predict_fast(gn, Matrix::Matrix(M, sparse = TRUE))", "value",
       "identical(dim(value), c(32L, 19L))"),
  case("glmnet newdata sparse, a row index past its rows",
       "x <- Matrix::Matrix(M, sparse = TRUE); x@i[3] <- 99L; predict_fast(gn, x)", "bad_argument"),
  case("glmnet newdata sparse, row indices out of order",
       "x <- Matrix::Matrix(M, sparse = TRUE); x@i[1:2] <- x@i[2:1]; predict_fast(gn, x)", "bad_argument"),
  case("glmnet newdata sparse, a billion rows declared",
       "x <- Matrix::Matrix(M, sparse = TRUE); x@Dim <- c(1000000000L, 10L); predict_fast(gn, x)", "bad_argument"),
  case("glmnet newdata an ALTREP row", "predict_fast(gn, as.numeric(1:10))", "value", "identical(dim(value), c(1L, 19L))"),
  case("s NA", "predict_fast(gn, M, s = NA)", "bad_argument"),
  case("s negative", "predict_fast(gn, M, s = -1)", "value", "identical(dim(value), c(32L, 1L))"),
  case("s NaN", "predict_fast(gn, M, s = NaN)", c("bad_argument", "value")),
  case("s a rule of a plain path", "predict_fast(gn, M, s = 'lambda.min')", "bad_argument"),
  case("s bytes", "predict_fast(gcv, Mc, s = bytes)", "bad_argument"),
  case("s a start of a rule", "predict_fast(gcv, Mc, s = 'lambda.m')", "value", "identical(dim(value), c(32L, 1L))"),
  case("s NULL for a cv fit", "predict_fast(gcv, Mc, s = NULL)", "bad_argument"),
  case("s NA_character_", "predict_fast(gcv, Mc, s = NA_character_)", "bad_argument"),
  case("s named", "predict_fast(gn, M, s = c(a = 0.1, b = 0.2))", "value", "identical(colnames(value), c('a', 'b'))"),
  case("s a bytes name", "s <- c(0.1, 0.2); names(s) <- c('a', bytes); predict_fast(gn, M, s = s)", "bad_argument"),
  case("s a list", "predict_fast(gn, M, s = list(0.1))", "bad_argument"),
  case("s a factor", "predict_fast(gn, M, s = factor('a'))", "bad_argument"),
  case("s an ALTREP sequence R cannot allocate", "predict_fast(gn, M, s = 1:3e9)", "bad_argument"),
  case("s 100,000 values", "predict_fast(gn, M, s = seq(0.001, 1, length.out = 1e5))", "value",
       "identical(dim(value), c(32L, 100000L))"),
  case("exact NA", "predict_fast(gn, M, exact = NA)", "bad_argument"),
  case("exact TRUE off the path", "predict_fast(gn, M, s = 0.123456, exact = TRUE)", "unsupported"),
  case("newoffset missing", "predict_fast(go, M)", "bad_argument"),
  case("newoffset of the wrong length", "predict_fast(go, M, newoffset = 1:3)", "bad_argument"),
  case("newoffset a string", "predict_fast(go, M, newoffset = 'a')", "bad_argument"),
  case("newoffset NA values", "predict_fast(go, M, newoffset = rep(NA_real_, 32))", "value", "all(is.na(value))"),
  case("newoffset an ALTREP sequence R cannot allocate", "predict_fast(go, M, newoffset = 1:3e9)", "bad_argument"),
  case("newoffset a matrix of another shape but as many values, as glmnet takes it",
       "predict_fast(go, M, newoffset = matrix(1, 16, 2))", "value", "identical(dim(value), c(32L, 10L))"),
  case("newoffset a matrix of too few values", "predict_fast(go, M, newoffset = matrix(1, 16, 1))", "bad_argument"),
  case("type coefficients", "predict_fast(gn, M, type = 'coefficients')", "unsupported"),
  case("glmnet multinomial class, 0 rows", "predict_fast(gmn, as.matrix(iris[0, 1:4]), type = 'class')", "value",
       "length(value) == 0"),
  case("glmnet lambda empty", "edit(gn, '\"lambda\":[[][^]]*[]]', '\"lambda\":[]')", "corrupt_file"),
  case("glmnet lambda increasing", "edit(gn, '\"lambda\":[[]', '\"lambda\":[1e300,')", c("corrupt_file", "unsupported")),
  case("glmnet a row index past the features", "edit(gn, '\"i\":[[][0-9]+', '\"i\":[4294967295')", "corrupt_file"),
  case("glmnet column starts of a huge number", "edit(gn, '\"p\":[[]0', '\"p\":[18446744073709551615')",
       "corrupt_file"),
  case("glmnet an unknown family", "edit(gn, '\"family\":\"elnet\"', '\"family\":\"tweedie\"', fixed = TRUE)",
       "corrupt_file"),
  case("glmnet a NUL in a class", "edit(gcv, '\"classes\":[\"', paste0('\"classes\":[\"', NUL), fixed = TRUE)",
       "corrupt_file"),

  # columns of every R kind
  case("column list", "predict_fast(lm_m, col('wt', as.list(mtcars$wt)))", "wrong_type"),
  case("column complex", "predict_fast(lm_m, col('wt', complex(32)))", "wrong_type"),
  case("column raw", "predict_fast(lm_m, col('wt', as.raw(1:32)))", "wrong_type"),
  case("column Date", "predict_fast(lm_m, col('wt', Sys.Date() + 1:32))", "wrong_type"),
  case("column POSIXct", "predict_fast(lm_m, col('wt', Sys.time() + 1:32))", "wrong_type"),
  case("column POSIXlt", "predict_fast(lm_m, col('wt', as.POSIXlt(Sys.time() + 1:32)))", "wrong_type"),
  case("column difftime", "predict_fast(lm_m, col('wt', as.difftime(1:32, units = 'secs')))", "wrong_type"),
  case("column two-column matrix", "predict_fast(lm_m, col('wt', cbind(mtcars$wt, mtcars$wt)))", "wrong_type"),
  case("column one-column matrix", "predict_fast(lm_m, col('wt', cbind(mtcars$wt)))", "value", "length(value) == 32"),
  case("column environment", "predict_fast(lm_m, col('wt', new.env()))", "wrong_type"),
  case("column function", "predict_fast(lm_m, col('wt', sum))", "wrong_type"),
  case("column S4", "methods::setClass('Q', methods::representation(x = 'numeric')); predict_fast(lm_m, col('wt', methods::new('Q', x = 1)))",
       "wrong_type"),
  case("column data.frame", "predict_fast(lm_m, col('wt', data.frame(a = mtcars$wt)))", "wrong_type"),
  case("column external pointer", "predict_fast(lm_m, col('wt', lm_m$ptr))", "wrong_type"),
  case("column missing", "predict_fast(lm_m, col('wt', NULL))", "missing_column"),
  case("column strings for a number", "predict_fast(lm_m, col('wt', as.character(mtcars$wt)))", "wrong_type"),
  case("column factor for a number", "predict_fast(lm_m, col('wt', factor(mtcars$wt)))", "wrong_type"),
  case("column logical for a number", "predict_fast(lm_m, col('wt', mtcars$wt > 3))", "wrong_type"),
  case("column integer for a number", "predict_fast(lm_m, col('wt', as.integer(mtcars$wt)))", "value",
       "length(value) == 32"),
  case("column AsIs", "predict_fast(lm_m, col('wt', I(mtcars$wt)))", "value", "length(value) == 32"),
  case("column ALTREP sequence", "predict_fast(lm_m, col('hp', 1:32))", "value", "length(value) == 32"),
  case("column an ALTREP sequence R cannot allocate", "predict_fast(lm_m, col('hp', 1:3e9))", "bad_argument"),
  case("column too short", "predict_fast(lm_m, col('wt', 1:3))", "length_mismatch"),
  case("column unseen level", "predict_fast(lm_m, col('cyl', rep(5, 32)))", "unseen_level"),
  case("column factor with an NA level", "predict_fast(lm_m, col('cyl', factor(c(NA, mtcars$cyl[-1]), exclude = NULL)))",
       "bad_argument"),
  case("column factor with codes past its levels",
       "predict_fast(lm_m, col('cyl', structure(rep(7L, 32), levels = c('4', '6', '8'), class = 'factor')))",
       "bad_argument"),
  case("column factor with integer levels",
       "predict_fast(lm_m, col('cyl', structure(rep(1L, 32), levels = 1:3, class = 'factor')))", "bad_argument"),
  case("column factor with unused unseen levels",
       "predict_fast(lm_m, col('cyl', factor(mtcars$cyl, levels = c(4, 6, 8, 10))))", "value", "length(value) == 32"),
  case("factor column latin1 level", "x <- warpbreaks; x$wool <- as.character(x$wool); x$wool[1] <- latin1; predict_fast(rp, x)",
       "unseen_level"),
  case("factor column bytes level", "x <- warpbreaks; x$wool <- as.character(x$wool); x$wool[1] <- bytes; predict_fast(rp, x)",
       "bad_argument"),
  # (R translates the invalid byte to "<e9>")
  case("factor column invalid UTF-8", "x <- warpbreaks; x$wool <- as.character(x$wool); x$wool[1] <- invalid; predict_fast(rp, x)",
       c("bad_argument", "unseen_level")),
  case("factor column odd Unicode", "x <- warpbreaks; x$wool <- as.character(x$wool); x$wool[1:3] <- c('\\U0010FFFF', '\\u200b', 'A\\u0301'); predict_fast(rp, x)",
       "unseen_level"),
  case("factor column of numbers", "x <- warpbreaks; x$wool <- 1; predict_fast(rp, x)", "wrong_type"),
  case("factor column logical", "x <- warpbreaks; x$wool <- TRUE; predict_fast(rp, x)", "wrong_type"),

  # missing and special values everywhere
  case("NA in every column (lm)", "x <- mtcars; x[] <- lapply(x, function(v) v[NA_integer_]); predict_fast(lm_m, x)",
       "value", "length(value) == 32 && all(is.na(value))"),
  case("NaN and Inf everywhere (lm)", "x <- mtcars; x$wt <- c(NaN, Inf, -Inf, NA); x$hp <- Inf; predict_fast(lm_m, x)",
       "value", "length(value) == 32"),
  case("NA in every column (rpart)", "x <- warpbreaks; x$breaks <- NA_real_; x$wool <- factor(NA, levels = c('A', 'B')); predict_fast(rp, x)",
       "value", "nrow(value) == 54"),
  case("NaN and Inf (rpart)", "x <- warpbreaks; x$breaks <- c(NaN, Inf, -Inf); predict_fast(rp, x, type = 'class')",
       "value", "length(value) == 54"),
  case("NA (randomForest)", "x <- iris; x$Petal.Width <- NA_real_; predict_fast(rf, x)", "value", "length(value) == 150 && all(is.na(value))"),
  case("NA (ranger, which refuses them)", "x <- iris; x$Petal.Width[3] <- NA; predict_fast(rg, x)", "bad_argument"),
  case("NaN and Inf (gbm)", "x <- iris; x$Petal.Width <- c(NA, NaN, Inf, -Inf, 1); predict_fast(gb, x)", "value",
       "length(value) == 150"),

  # row counts
  case("0 rows (lm)", "predict_fast(lm_m, mtcars[0, ])", "value", "identical(value, numeric(0))"),
  case("0 rows (rpart prob)", "predict_fast(rp, warpbreaks[0, ])", "value", "identical(dim(value), c(0L, 3L))"),
  case("0 rows (randomForest)", "predict_fast(rf, iris[0, ])", "value", "length(value) == 0 && is.factor(value)"),
  case("0 rows (ranger)", "predict_fast(rg, iris[0, ])", "value", "length(value) == 0"),
  case("0 rows (gbm)", "predict_fast(gb, iris[0, ], n.trees = c(1, 5))", "value", "identical(dim(value), c(0L, 2L))"),
  case("1 row of scalars", "predict_fast(lm_m, list(wt = 3, cyl = 4, hp = 100, disp = 200, qsec = 18))", "value",
       "length(value) == 1"),
  case("two million rows", "n <- 2e6; predict_fast(lm_m, list(wt = rep(3, n), cyl = rep(4, n), hp = rep(100, n), disp = rep(200, n), qsec = rep(18, n)), threads = 2)",
       "value", "length(value) == 2e6"),
  case("no columns read and 5 rows", "predict_fast(fp_compile(lm(mpg ~ 1, mtcars)), data.frame(row.names = 1:5))",
       "value", "length(value) == 5"),
  case("an output R cannot allocate",
       "x <- structure(list(), names = character(0), row.names = c(NA_integer_, -.Machine$integer.max), class = 'data.frame'); predict_fast(fp_compile(lm(mpg ~ 1, mtcars)), x)",
       "bad_argument"),

  # threads
  case("threads NA", "predict_fast(lm_m, d, threads = NA)", "bad_argument"),
  case("threads NA_real_", "predict_fast(lm_m, d, threads = NA_real_)", "bad_argument"),
  case("threads -1", "predict_fast(lm_m, d, threads = -1)", "bad_argument"),
  case("threads 0", "predict_fast(lm_m, d, threads = 0)", "bad_argument"),
  case("threads 2.5", "predict_fast(lm_m, d, threads = 2.5)", "bad_argument"),
  case("threads 1e10", "predict_fast(lm_m, d, threads = 1e10)", "bad_argument"),
  case("threads Inf", "predict_fast(lm_m, d, threads = Inf)", "bad_argument"),
  case("threads a vector", "predict_fast(lm_m, d, threads = c(1, 2))", "bad_argument"),
  case("threads a string", "predict_fast(lm_m, d, threads = '2')", "bad_argument"),
  case("threads TRUE", "predict_fast(lm_m, d, threads = TRUE)", "bad_argument"),
  case("threads a list", "predict_fast(lm_m, d, threads = list(2))", "bad_argument"),
  case("threads NULL", "predict_fast(lm_m, d, threads = NULL)", "value", "length(value) == 32"),
  case("threads integer", "predict_fast(lm_m, d, threads = 2L)", "value", "length(value) == 32"),
  case("fp_threads NA", "fp_threads(NA)", "bad_argument"),
  case("fp_threads -1", "fp_threads(-1)", "bad_argument"),
  case("fp_threads 1e10", "fp_threads(1e10)", "bad_argument"),
  case("fp_threads a string", "fp_threads('4')", "bad_argument"),
  case("threads 1 to 64 in turn", "for (t in 1:64) predict_fast(rf, iris, threads = t); fp_threads()", "value",
       "value >= 1"),

  # type
  case("type NA", "predict_fast(lm_m, d, type = NA_character_)", "bad_argument"),
  case("type NA logical", "predict_fast(lm_m, d, type = NA)", "bad_argument"),
  case("type empty", "predict_fast(lm_m, d, type = '')", "bad_argument"),
  case("type terms", "predict_fast(lm_m, d, type = 'terms')", "unsupported"),
  case("type a vector", "predict_fast(lm_m, d, type = c('link', 'response'))", "bad_argument"),
  case("type a number", "predict_fast(lm_m, d, type = 1)", "bad_argument"),
  case("type a list", "predict_fast(lm_m, d, type = list('response'))", "bad_argument"),
  case("type latin1", "predict_fast(lm_m, d, type = latin1)", "bad_argument"),
  case("type bytes", "predict_fast(lm_m, d, type = bytes)", "bad_argument"),
  case("type invalid UTF-8", "predict_fast(lm_m, d, type = invalid)", "bad_argument"),
  case("type of another model", "predict_fast(lm_m, d, type = 'prob')", "bad_argument"),

  # extra arguments
  case("an unknown argument", "predict_fast(lm_m, d, foo = 1)", "unsupported"),
  case("an unnamed extra argument", "predict_fast(lm_m, d, NULL, 5)", "bad_argument"),
  case("n.trees NA", "predict_fast(gb, iris, n.trees = NA)", "bad_argument"),
  case("n.trees -1", "predict_fast(gb, iris, n.trees = -1)", "bad_argument"),
  case("n.trees 0", "predict_fast(gb, iris, n.trees = 0)", "bad_argument"),
  case("n.trees 1e10", "suppressWarnings(predict_fast(gb, iris, n.trees = 1e10))", "value", "length(value) == 150"),
  case("n.trees a string", "predict_fast(gb, iris, n.trees = '5')", "bad_argument"),
  case("n.trees a list", "predict_fast(gb, iris, n.trees = list(5))", "bad_argument"),
  case("n.trees with NA", "predict_fast(gb, iris, n.trees = c(1, NA))", "bad_argument"),
  case("n.trees NaN", "predict_fast(gb, iris, n.trees = NaN)", "bad_argument"),
  case("num.trees 0", "predict_fast(rg, iris, num.trees = 0)", "bad_argument"),
  case("num.trees two numbers", "predict_fast(rg, iris, num.trees = c(1, 2))", "bad_argument"),
  case("num.trees 1e300", "predict_fast(rg, iris, num.trees = 1e300)", "bad_argument"),
  case("norm.votes NA", "predict_fast(rf, iris, type = 'vote', norm.votes = NA)", "bad_argument"),
  case("norm.votes a string", "predict_fast(rf, iris, type = 'vote', norm.votes = 'yes')", "bad_argument"),
  case("norm.votes on a linear model", "predict_fast(lm_m, d, norm.votes = FALSE)", "unsupported"),
  case("predict() without newdata", "predict(lm_m)", "bad_argument"),
  case("predict_fast() without newdata", "predict_fast(lm_m)", "bad_argument"),

  # standard errors, intervals and terms (lm and glm, format 1.2)
  case("se.fit NA", "predict_fast(lm_i, d, se.fit = NA)", "bad_argument"),
  case("se.fit a string", "predict_fast(lm_i, d, se.fit = 'yes')", "bad_argument"),
  case("se.fit two values", "predict_fast(lm_i, d, se.fit = c(TRUE, FALSE))", "bad_argument"),
  case("se.fit on a file without inference data", "predict_fast(lm_m, d, se.fit = TRUE)", "unsupported"),
  case("se.fit with 0 rows", "predict_fast(lm_i, d[0, ], se.fit = TRUE)", "value", "length(value$fit) == 0"),
  case("se.fit with NA, NaN and Inf", "x <- d; x$wt[1:4] <- c(NA, NaN, Inf, -Inf); predict_fast(lm_i, x, se.fit = TRUE)",
       "value", "length(value$se.fit) == 32"),
  case("se.fit for a million rows", "n <- 1e6; predict_fast(lm_i, list(wt = rep(3, n), cyl = rep(4, n), hp = rep(100, n), disp = rep(200, n), qsec = rep(18, n)), se.fit = TRUE, interval = 'prediction', threads = 2)",
       "value", "nrow(value$fit) == 1e6"),
  case("interval NA", "predict_fast(lm_i, d, interval = NA)", "bad_argument"),
  case("interval a number", "predict_fast(lm_i, d, interval = 1)", "bad_argument"),
  case("interval unknown", "predict_fast(lm_i, d, interval = 'wide')", "bad_argument"),
  case("interval bytes", "predict_fast(lm_i, d, interval = bytes)", "bad_argument"),
  case("interval on a glm", "predict_fast(glm_i, iris, interval = 'confidence')", "unsupported"),
  case("level NA", "predict_fast(lm_i, d, interval = 'confidence', level = NA_real_)", "bad_argument"),
  case("level 0", "predict_fast(lm_i, d, interval = 'confidence', level = 0)", "bad_argument"),
  case("level 1", "predict_fast(lm_i, d, interval = 'confidence', level = 1)", "bad_argument"),
  case("level Inf", "predict_fast(lm_i, d, interval = 'confidence', level = Inf)", "bad_argument"),
  case("level two values", "predict_fast(lm_i, d, interval = 'confidence', level = c(0.9, 0.95))", "bad_argument"),
  case("level a string", "predict_fast(lm_i, d, interval = 'confidence', level = '0.9')", "bad_argument"),
  case("level 1e-300", "predict_fast(lm_i, d, interval = 'confidence', level = 1e-300)", "value", "nrow(value) == 32"),
  case("df 0 with scale", "predict_fast(lm_i, d, interval = 'confidence', scale = 2, df = 0)", "bad_argument"),
  case("df 5e-324 with scale", "predict_fast(lm_i, d, interval = 'confidence', scale = 2, df = 5e-324)", "unsupported"),
  case("df NaN with scale", "predict_fast(lm_i, d, interval = 'confidence', scale = 2, df = NaN)", "bad_argument"),
  case("scale NaN", "predict_fast(lm_i, d, se.fit = TRUE, scale = NaN)", "value", "all(is.nan(value$se.fit))"),
  case("scale a string", "predict_fast(lm_i, d, se.fit = TRUE, scale = 'a')", "bad_argument"),
  case("pred.var of the wrong length", "predict_fast(lm_i, d, interval = 'prediction', pred.var = 1:3)", "bad_argument"),
  case("pred.var NA", "predict_fast(lm_i, d, interval = 'prediction', pred.var = NA_real_)", "value", "nrow(value) == 32"),
  case("weights 0", "predict_fast(lm_i, d, interval = 'prediction', weights = 0)", "value", "nrow(value) == 32"),
  case("weights a string", "predict_fast(lm_i, d, interval = 'prediction', weights = 'a')", "bad_argument"),
  case("weights a formula of an unknown column", "predict_fast(lm_i, d, interval = 'prediction', weights = ~ nonexistent)",
       "bad_argument"),
  case("weights a formula that fails", "predict_fast(lm_i, d, interval = 'prediction', weights = ~ stop('no'))",
       "bad_argument"),
  case("weights a two-sided formula", "predict_fast(lm_i, d, interval = 'prediction', weights = y ~ wt)", "bad_argument"),
  case("dispersion NA", "predict_fast(glm_i, iris, se.fit = TRUE, dispersion = NA)", "bad_argument"),
  case("dispersion -1", "predict_fast(glm_i, iris, se.fit = TRUE, dispersion = -1)", "value",
       "all(is.nan(value$se.fit))"),
  case("dispersion a list", "predict_fast(glm_i, iris, se.fit = TRUE, dispersion = list(1))", "bad_argument"),
  case("type terms with se.fit and interval", "predict_fast(lm_i, d, type = 'terms', se.fit = TRUE, interval = 'confidence')",
       "value", "is.list(value)"),
  case("inference r_inverse cut", "edit(lm_i, '\"r_inverse\":[[][^,]*,', '\"r_inverse\":[')",
       "corrupt_file"),
  case("inference pivot past the coefficients", "edit(lm_i, '\"pivot\":[0', '\"pivot\":[99', fixed = TRUE)",
       "corrupt_file"),
  case("inference pivot huge", "edit(lm_i, '\"pivot\":[0', '\"pivot\":[18446744073709551615', fixed = TRUE)",
       "corrupt_file"),
  case("inference df_residual tiny", "edit(lm_i, '\"df_residual\":[0-9.]+', '\"df_residual\":5e-324')",
       "corrupt_file"),
  case("inference residual_variance negative",
       "edit(lm_i, '\"residual_variance\":', '\"residual_variance\":-', fixed = TRUE)", "corrupt_file"),
  case("inference method unknown", "edit(lm_i, '\"method\":\"lm\"', '\"method\":\"xx\"', fixed = TRUE)",
       c("corrupt_file", "unsupported")),
  case("inference a string", "edit(lm_i, '\"inference\":{', '\"inference\":\"x\",\"i\":{', fixed = TRUE)",
       "corrupt_file"),

  # model cards and the quality gate (format 1.3)
  case("card name NA", "fp_card(name = NA_character_)", "bad_argument"),
  case("card name two strings", "fp_card(name = c('a', 'b'))", "bad_argument"),
  case("card metrics unnamed", "fp_card(metrics = c(1, 2))", "bad_argument"),
  case("card metrics NaN", "fp_card(metrics = c(a = NaN))", "bad_argument"),
  case("card metrics strings", "fp_card(metrics = c(a = 'x'))", "bad_argument"),
  case("card training rows a string", "m <- m_s; fp_card(m) <- fp_card(training = list(rows = 'x')); m", "bad_argument"),
  case("card training an environment", "fp_card(training = new.env())", "bad_argument"),
  case("card made by hand with a number for a name",
       "m <- m_s; fp_card(m) <- structure(list(name = 1), class = 'fp_card'); m", "bad_argument"),
  case("card made by hand with a bytes name",
       "m <- m_s; fp_card(m) <- structure(list(name = bytes), class = 'fp_card'); m", "bad_argument"),
  case("card a plain list", "m <- m_s; fp_card(m) <- list(name = 'a'); m", "bad_argument"),
  case("card on a tampered model", "m <- m_s; m$ptr <- 1; fp_card(m) <- fp_card('a'); m", "bad_argument"),
  case("card in a file, a NUL in its name", "edit(lm_c, '\"name\":\"mpg\"', paste0('\"name\":\"m', NUL, '\"'), fixed = TRUE)",
       "corrupt_file"),
  case("card in a file, a string metric", "edit(lm_c, '\"r2\":[0-9.]+', '\"r2\":\"x\"')",
       "corrupt_file"),
  case("card in a file, a number", "edit(lm_c, '\"card\":{', '\"card\":1,\"c\":{', fixed = TRUE)",
       "corrupt_file"),
  case("card in a file, its hash edited", "m <- edit(lm_c, '\"sha256:[0-9a-f]+\"', '\"sha256:0\"'); format(m)",
       "value", "is.character(value)"),
  case("content hash of a tampered model", "m <- lm_c; m$ptr <- NULL; fp_content_hash(m)", "bad_argument"),
  case("verify without data", "fp_verify(fit_s, m_s)", "bad_argument"),
  case("verify data a number", "fp_verify(fit_s, m_s, data = 1:3)", "bad_argument"),
  case("verify data missing a column", "fp_verify(fit_s, m_s, data = mtcars['wt'])", c("bad_argument", "missing_column")),
  case("verify an unknown type", "fp_verify(fit_s, m_s, data = mtcars, types = 'nope')", "bad_argument"),
  case("verify types NA", "fp_verify(fit_s, m_s, data = mtcars, types = NA_character_)", "bad_argument"),
  case("verify tolerance NA", "fp_verify(fit_s, m_s, data = mtcars, tolerance = NA)", "bad_argument"),
  case("verify tolerance negative", "fp_verify(fit_s, m_s, data = mtcars, tolerance = -1)", "bad_argument"),
  case("verify a report in a missing directory", "fp_verify(fit_s, m_s, data = mtcars, report = file.path(dir, 'no', 'r.json'))",
       "io"),
  case("verify a report path NA", "fp_verify(fit_s, m_s, data = mtcars, report = NA_character_)", "bad_argument"),
  case("verify another model's fit", "fp_verify(glm(am ~ wt, binomial, mtcars), m_s, data = mtcars)", "parity"),
  case("verify a tampered model", "m <- m_s; m$ptr <- 1; fp_verify(fit_s, m, data = mtcars)", "bad_argument"),

  # tampered model objects
  case("ptr NULL", "m <- lm_m; m$ptr <- NULL; predict_fast(m, d)", "bad_argument"),
  case("ptr a number", "m <- lm_m; m$ptr <- 1; predict_fast(m, d)", "bad_argument"),
  case("ptr a string", "m <- lm_m; m$ptr <- 'x'; predict_fast(m, d)", "bad_argument"),
  case("ptr an environment", "m <- lm_m; m$ptr <- new.env(); predict_fast(m, d)", "bad_argument"),
  case("ptr a NULL external pointer", "m <- lm_m; m$ptr <- methods::new('externalptr'); predict_fast(m, d)", "bad_argument"),
  case("ptr a native symbol", "m <- lm_m; m$ptr <- getNativeSymbolInfo('wrap__rs_predict_json', 'fastpredict')$address; predict_fast(m, d)",
       "bad_argument"),
  case("ptr predict_fast's own routine", "m <- lm_m; m$ptr <- fastpredict:::fp_routine; predict_fast(m, d)", "bad_argument"),
  case("ptr a base native symbol", "m <- lm_m; m$ptr <- getNativeSymbolInfo('R_addTaskCallback', 'base')$address; predict_fast(m, d)",
       "bad_argument"),
  case("ptr an environment-backed object", "m <- lm_m; m$ptr <- structure(new.env(), class = 'externalptr'); predict_fast(m, d)",
       "bad_argument"),
  case("ptr of another model", "m <- rp; m$ptr <- lm_m$ptr; predict_fast(m, d)", "value", "length(value) == 32"),
  case("ptr after saveRDS", "f <- file.path(dir, 'm.rds'); saveRDS(lm_m, f); predict_fast(readRDS(f), d)", "unsupported"),
  case("ptr after serialize", "predict_fast(unserialize(serialize(lm_m, NULL)), d)", "unsupported"),
  case("info removed, predict", "m <- lm_m; m$info <- NULL; predict_fast(m, d)", "value", "length(value) == 32"),
  case("info removed, print", "m <- gb; m$info <- NULL; format(m)", "value", "is.character(value) && length(value) > 3"),
  case("info removed, gbm n.trees", "m <- gb; m$info <- NULL; predict_fast(m, iris, n.trees = 5)", "value",
       "length(value) == 150"),
  case("class removed", "m <- lm_m; class(m) <- NULL; predict_fast(m, d)", "unsupported"),
  case("class changed", "m <- lm_m; class(m) <- 'fp_model'; predict_fast(m, d)", "value", "length(value) == 32"),
  case("class of another family", "m <- lm_m; class(m) <- c('fp_model_gbm', 'fp_model'); predict_fast(m, d, n.trees = 1)",
       "unsupported"),
  case("an atomic vector classed fp_model", "predict_fast(structure(1, class = 'fp_model'), d)", "bad_argument"),
  case("an atomic vector classed fp_model, printed", "format(structure(1, class = 'fp_model'))", "bad_argument"),
  case("an atomic vector classed fp_model, saved", "fp_save(structure(1, class = 'fp_model'), file.path(dir, 'x.json'))",
       "bad_argument"),
  case("an empty list classed fp_model", "predict_fast(structure(list(), class = 'fp_model'), d)", "bad_argument"),
  case("an environment classed fp_model", "e <- new.env(); e$ptr <- lm_m$ptr; predict_fast(structure(e, class = 'fp_model'), d)",
       "bad_argument"),
  case("fp_to_json of a tampered model", "m <- lm_m; m$ptr <- 1; fp_to_json(m)", "bad_argument"),
  case("fp_save of a tampered model", "m <- lm_m; m$ptr <- methods::new('externalptr'); fp_save(m, file.path(dir, 'x.json'))",
       "bad_argument"),

  # fp_load paths
  case("load a directory", "fp_load(dir)", "io"),
  case("load a FIFO", "f <- file.path(dir, 'fifo'); system2('mkfifo', f); fp_load(f)", "io"),
  case("load /dev/zero", "fp_load('/dev/zero')", "io"),
  case("load /dev/null", "fp_load('/dev/null')", "io"),
  case("load a missing file", "fp_load(file.path(dir, 'none.json'))", "io"),
  case("load an empty path", "fp_load('')", "io"),
  case("load NA", "fp_load(NA_character_)", "bad_argument"),
  case("load two paths", "fp_load(c('a', 'b'))", "bad_argument"),
  case("load a number", "fp_load(1)", "bad_argument"),
  case("load a long path", "fp_load(strrep('a', 5000))", "io"),
  case("load a symlink loop", "f <- file.path(dir, 'loop'); file.symlink(f, f); fp_load(f)", "io"),
  case("load a latin1 path", "f <- file.path(dir, latin1); file.copy(fx('lm-mtcars.json'), f); fp_load(f)", "value",
       "inherits(value, 'fp_model')"),
  case("load an empty file", "f <- file.path(dir, 'e.json'); file.create(f); fp_load(f)", "corrupt_file"),
  case("load a file of blanks", "f <- file.path(dir, 'e.json'); writeLines(strrep(' ', 1000), f); fp_load(f)", "corrupt_file"),
  case("load a truncated file", "f <- file.path(dir, 't.json'); writeChar(substr(doc(), 1, 500), f, eos = NULL); fp_load(f)",
       "corrupt_file"),
  case("load a truncated gzip file", "f <- file.path(dir, 't.json.gz'); b <- readBin(fx('glm-binomial-gz.json.gz'), 'raw', 1e6); writeBin(b[1:200], f); fp_load(f)",
       "corrupt_file"),
  case("load a gzip of nothing", "f <- file.path(dir, 'z.json.gz'); write_gz(f, ''); fp_load(f)", "corrupt_file"),
  case("load a gzip bomb of blanks", "f <- file.path(dir, 'bomb.json.gz'); write_gz(f, strrep(' ', 1e6), 200); fp_load(f)",
       "corrupt_file"),
  case("load a gzip bomb past the default limit", "f <- file.path(dir, 'bomb.json.gz'); write_gz(f, strrep(' ', 1e7), 110); fp_load(f)",
       "unsupported"),
  case("load a gzip bomb over the limit", "f <- file.path(dir, 'bomb.json.gz'); write_gz(f, strrep(' ', 1e6), 20); fp_limits(json_bytes = 1e7); fp_load(f)",
       "unsupported"),
  case("load a gzip bomb of nested arrays", "f <- file.path(dir, 'nest.json.gz'); write_gz(f, strrep('[', 1e6), 10); fp_load(f)",
       "corrupt_file"),
  case("load a sparse file over the size limit", "f <- file.path(dir, 'big.json'); con <- file(f, 'wb'); seek(con, 2^31); writeBin(as.raw(32), con); close(con); fp_load(f)",
       "unsupported"),
  case("load a file under a low size limit", "fp_limits(file_bytes = 100); fp_load(fx('lm-mtcars.json'))", "unsupported"),
  case("load a newer format", "f <- file.path(dir, 'n.json'); writeLines(sub('\"1.0\"', '\"9.0\"', doc()), f); fp_load(f)",
       "newer_format"),
  case("load random bytes", "f <- file.path(dir, 'r.json'); set.seed(1); writeBin(as.raw(sample(0:255, 1e4, TRUE)), f); fp_load(f)",
       "corrupt_file"),

  # fp_save paths
  case("save to a directory", "fp_save(lm_m, dir)", "io"),
  case("save into a missing directory", "fp_save(lm_m, file.path(dir, 'no', 'm.json'))", "io"),
  case("save into /proc", "fp_save(lm_m, '/proc/fastpredict-test.json')", "io"),
  case("save to /", "fp_save(lm_m, '/')", "io"),
  case("save to an empty path", "fp_save(lm_m, '')", "io"),
  case("save over a FIFO", "f <- file.path(dir, 'fifo'); system2('mkfifo', f); fp_save(lm_m, f)", "io"),
  case("save over a directory of that name", "f <- file.path(dir, 'sub'); dir.create(f); fp_save(lm_m, f)", "io"),
  case("save with path NA", "fp_save(lm_m, NA_character_)", "bad_argument"),
  case("save with compress NA", "f <- file.path(dir, 'm.json'); fp_save(lm_m, f, compress = NA); inherits(fp_load(f), 'fp_model')",
       "value", "isTRUE(value)"),
  case("save with compress a string", "f <- file.path(dir, 'm.json'); fp_save(lm_m, f, compress = 'yes'); inherits(fp_load(f), 'fp_model')",
       "value", "isTRUE(value)"),
  case("save removes a dead process's temporary",
       "f <- file.path(dir, 'm.json'); stale <- file.path(dir, '.m.json.tmp-999999999-0'); writeLines('x', stale); fp_save(lm_m, f); file.exists(stale)",
       "value", "identical(value, FALSE)"),
  case("save 200 times to one path",
       "f <- file.path(dir, 'm.json.gz'); for (i in 1:200) fp_save(rf, f); inherits(fp_load(f), 'fp_model')", "value",
       "isTRUE(value)"),

  # fp_from_json
  case("json empty", "fp_from_json('')", "corrupt_file"),
  case("json blanks", "fp_from_json('   ')", "corrupt_file"),
  case("json null", "fp_from_json('null')", "corrupt_file"),
  case("json an object", "fp_from_json('{}')", "corrupt_file"),
  case("json a number", "fp_from_json('1e999')", "corrupt_file"),
  case("json deep nesting", "fp_from_json(strrep('[', 1e5))", "corrupt_file"),
  case("json invalid UTF-8", "fp_from_json(invalid)", "corrupt_file"),
  case("json latin1", "fp_from_json(latin1)", "corrupt_file"),
  case("json bytes", "fp_from_json(bytes)", "corrupt_file"),
  case("json a NUL escape in a name", "fp_from_json(sub('\"wt\"', '\"w\\\\\\\\u0000t\"', doc()))", "corrupt_file"),
  case("json a NUL escape in a level", "fp_from_json(sub('\"A\"', '\"A\\\\\\\\u0000\"', doc(rp)))", "corrupt_file"),
  case("json a lone surrogate", "fp_from_json(sub('\"wt\"', '\"\\\\\\\\ud800\"', doc()))", "corrupt_file"),
  case("json a newer format", "fp_from_json(sub('\"1.0\"', '\"2.0\"', doc()))", "newer_format"),
  case("json another format", "fp_from_json(sub('fastpredict-model', 'other', doc()))", "corrupt_file"),
  case("json an inconsistent model", "fp_from_json(sub('\"response\"]', '\"response\",\"vote\"]', doc()))", "corrupt_file"),
  case("json a huge degree", "fp_from_json(sub('\"kind\":\"poly\"', '\"kind\":\"poly_raw\",\"degree\":4294967295', doc()))",
       c("corrupt_file", "unsupported")),
  case("json NA", "fp_from_json(NA_character_)", "bad_argument"),
  case("json two strings", "fp_from_json(c(doc(), doc()))", "bad_argument"),
  case("json a number argument", "fp_from_json(1)", "bad_argument"),
  case("json round trip", "inherits(fp_from_json(doc(rf)), 'fp_model')", "value", "isTRUE(value)"),

  # fp_limits
  case("limit negative", "fp_limits(nodes = -1)", "bad_argument"),
  case("limit NA", "fp_limits(nodes = NA)", "bad_argument"),
  case("limit a string", "fp_limits(nodes = 'a')", "bad_argument"),
  case("limit 1e300", "fp_limits(nodes = 1e300)", "bad_argument"),
  case("limit a vector", "fp_limits(nodes = c(1, 2))", "bad_argument"),
  case("limit unknown", "fp_limits(foo = 1)", "bad_argument"),
  case("limit unnamed", "fp_limits(1)", "bad_argument"),
  case("limit NULL", "fp_limits(nodes = NULL)", "bad_argument"),
  case("limit low levels, then load", "fp_limits(levels = 1); fp_load(fx('rpart-warpbreaks.json'))", "unsupported"),
  case("limit low nodes, then load", "fp_limits(nodes = 10); fp_load(fx('randomForest-iris-gz.json.gz'))", "unsupported")
)

# Run each case in its own Rscript, two at a time, under a memory cap
# (so that an output too large for R fails to allocate rather than
# swapping) and a time limit.
run_case_scripts <- function(cases, lib, parallel = 2L, timeout = 90) {
  root <- tempfile("fp-bad-input-")
  dir.create(root)
  on.exit(unlink(root, recursive = TRUE))
  start <- function(i) {
    dir <- file.path(root, i)
    dir.create(dir)
    c <- cases[[i]]
    script <- file.path(root, sprintf("case-%d.R", i))
    body <- c(
      sprintf("FIXTURES <- %s", deparse(fixtures)),
      sprintf("dir <- %s", deparse(dir)),
      prelude,
      "out <- tryCatch({",
      sprintf("  value <- local({ %s })", c$code),
      sprintf("  if (isTRUE(%s)) 'value' else paste('wrong value:', paste(utils::capture.output(str(value)), collapse = ' '))", c$check),
      "}, error = function(e) paste('error', class(e)[1], conditionMessage(e)))",
      "cat('\\nFPCASE:', gsub('\\n', ' ', out), '\\n')"
    )
    writeLines(body, script, useBytes = TRUE)
    log <- file.path(root, sprintf("case-%d.log", i))
    p <- processx::process$new("sh", c("-c", "ulimit -v 6000000; exec Rscript --vanilla --default-packages=datasets,utils,stats \"$0\"", script),
                               stdout = log, stderr = "2>&1", env = c("current", R_LIBS = lib))
    list(p = p, log = log, dir = dir, started = Sys.time())
  }
  results <- vector("list", length(cases))
  running <- list()
  nexti <- 1L
  while (nexti <= length(cases) || length(running)) {
    while (length(running) < parallel && nexti <= length(cases)) {
      running[[as.character(nexti)]] <- start(nexti)
      nexti <- nexti + 1L
    }
    Sys.sleep(0.05)
    for (k in names(running)) {
      r <- running[[k]]
      hung <- difftime(Sys.time(), r$started, units = "secs") > timeout
      if (r$p$is_alive() && !hung) next
      if (hung) r$p$kill()
      r$p$wait()
      status <- r$p$get_exit_status()
      lines <- if (file.exists(r$log)) readLines(r$log, warn = FALSE) else character()
      line <- grep("^FPCASE:", lines, value = TRUE)
      leftovers <- list.files(r$dir, pattern = "\\.tmp-", all.files = TRUE)
      results[[as.integer(k)]] <- list(
        hung = hung, status = status, line = if (length(line)) trimws(sub("^FPCASE: ", "", line[1])) else NA_character_,
        tail = paste(utils::tail(lines, 5), collapse = "\n"), leftovers = leftovers
      )
      running[[k]] <- NULL
    }
  }
  results
}

# The verdict on one case: "ok", or what went wrong.
verdict <- function(c, r) {
  if (r$hung) return("hung")
  if (is.na(r$line)) return(sprintf("crashed (exit status %s): %s", r$status, r$tail))
  if (length(r$leftovers)) return(paste("left behind:", paste(r$leftovers, collapse = ", ")))
  if (identical(c$expect, "value")) {
    return(if (identical(r$line, "value")) "ok" else paste("expected a value, got:", r$line))
  }
  m <- regmatches(r$line, regexec("^error fastpredict_error_([a-z_]+) ", r$line))[[1]]
  if (!length(m)) return(paste("unclassed or no error:", r$line))
  if (!(m[2] %in% kinds)) return(paste("undocumented class:", r$line))
  if (!(m[2] %in% c$expect)) return(sprintf("expected %s, got: %s", paste(c$expect, collapse = " or "), r$line))
  "ok"
}

results <- run_case_scripts(cases, paste(.libPaths(), collapse = ":"))
verdicts <- vapply(seq_along(cases), function(i) verdict(cases[[i]], results[[i]]), "")
message(sprintf("bad-input matrix: %d cases, %d ok, %d crashed, %d hung, %d other failures",
                length(cases), sum(verdicts == "ok"), sum(startsWith(verdicts, "crashed")),
                sum(verdicts == "hung"), sum(verdicts != "ok" & !startsWith(verdicts, "crashed") & verdicts != "hung")))

for (i in which(verdicts != "ok")) message(sprintf("  %s: %s", cases[[i]]$name, verdicts[[i]]))

for (i in seq_along(cases)) {
  local({
    v <- verdicts[[i]]
    test_that(paste("bad input:", cases[[i]]$name), {
      expect(identical(v, "ok"), v)
    })
  })
}
