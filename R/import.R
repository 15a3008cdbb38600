#' Import an xgboost or LightGBM model file
#'
#' `fp_import()` reads a model file that xgboost or LightGBM wrote, in R or
#' in Python, and returns an `fp_model` that predicts exactly as the library
#' does: xgboost bit for bit (it computes in float32), LightGBM to within
#' 1e-12 (it sums in double). The file is read by fastpredict's own engine;
#' neither library is needed. [fp_load()] and the server read these files
#' too, recognising them by their content; [fp_save()] writes the model in
#' the fastpredict format.
#'
#' The files:
#' * xgboost's JSON model, from `xgb.save(bst, "model.json")` in R or
#'   `bst.save_model("model.json")` in Python, versions 1.x to 3.x (a file
#'   name ending in `.json` makes xgboost write JSON; its binary and UBJSON
#'   formats are refused by name), gzip-compressed or not;
#' * LightGBM's text model, from `lgb.save()` in R or `save_model()` in
#'   Python, format v3 or v4.
#'
#' Inputs are the model's features, by the names it recorded (xgboost
#' without feature names: `f0`, `f1`, ...; LightGBM: its `Column_0`, ...
#' unless trained with names). `newdata` is a numeric matrix, read by column
#' name, or without column names by position (one column per feature, in the
#' model's order), a sparse `dgCMatrix`, a data.frame or a list of columns.
#' `NA` and `NaN` are missing values. A categorical feature takes its
#' category code as a number, as the libraries read it; where the model
#' recorded category names (xgboost 3.1+ and LightGBM trained from a pandas
#' data frame) it takes a factor or character column matched by name, and a
#' name it does not know is missing, as in Python.
#'
#' Where the R package `xgboost` or `lightgbm` is installed, [fp_compile()]
#' does the same for a booster in memory, through the library's own dump.
#' Neither package is in Debian, so that path is not tested with them; the
#' importer it uses is, against the libraries' own predictions.
#'
#' Prediction types are `"response"` (the default: the objective's
#' transform of the margin, as the libraries' `predict()` returns) and the
#' untransformed score, `"margin"` for xgboost (`outputmargin = TRUE`,
#' `predict_type = "margin"`) and `"raw"` for LightGBM (`rawscore = TRUE`,
#' `raw_score = True`). A model with several outputs (classes, targets,
#' quantiles) gives a matrix with one column per output; xgboost's
#' `multi:softmax` gives the class index.
#'
#' Arguments of `predict_fast()` for these models:
#' * xgboost: `iteration_range = c(begin, end)`, the boosting rounds
#'   `[begin, end)`, 0-based as in Python (`c(0, 0)`, the default, is all of
#'   them); `ntreelimit`, the older form (the first `ntreelimit /
#'   num_parallel_tree` rounds); `dmatrix = TRUE` to predict as
#'   `predict(DMatrix)` rather than `inplace_predict()` (the default; the
#'   two differ in the last bits for `dart` only, and R's `predict()` takes
#'   one or the other depending on the xgboost version and the input). All
#'   trees are used by default, as `Booster.predict()` does, even where the
#'   model recorded a best iteration (see `print()`).
#' * LightGBM: `start_iteration` and `num_iteration`, as in its
#'   `predict()`.
#'
#' What is reproduced. xgboost: boosters `gbtree`, `dart` (with its tree
#' weights) and `gblinear`; objectives `reg:squarederror`,
#' `reg:squaredlogerror`, `reg:pseudohubererror`, `reg:absoluteerror`,
#' `reg:quantileerror`, `reg:logistic`, `binary:logistic`,
#' `binary:logitraw`, `binary:hinge`, `count:poisson`, `reg:gamma`,
#' `reg:tweedie`, `survival:cox`, `survival:aft` (the response is the
#' predicted time), `multi:softprob`, `multi:softmax` and `rank:*`
#' (pairwise, ndcg, map); `num_parallel_tree` (random forests),
#' multi-target and multi-quantile models, scalar and vector `base_score`,
#' numeric splits in float32, missing values to the default child,
#' categorical splits. LightGBM: boosting `gbdt`, `dart`, `goss` and `rf`;
#' objectives `regression` (also with `reg_sqrt`), `regression_l1`,
#' `huber`, `fair`, `quantile`, `mape`, `poisson`, `gamma`, `tweedie`,
#' `binary`, `multiclass`, `multiclassova`, `cross_entropy`,
#' `cross_entropy_lambda`, `lambdarank` and `rank_xendcg`; a model trained
#' with a custom objective offers only `"raw"`. Missing types None, Zero
#' (`zero_as_missing`) and NaN, categorical splits.
#'
#' Refused by name (error class `fastpredict_error_unsupported`): xgboost
#' multi-output trees (`multi_strategy = "multi_output_tree"`), other
#' objectives and boosters, model versions other than 1 to 3; LightGBM
#' linear trees (`linear_tree`), other objectives, model versions other
#' than v3 and v4. A damaged file (truncated, or with a field that does not
#' fit the model's shape) is refused with an error of class
#' `fastpredict_error_corrupt_file` that names the field.
#'
#' @param path Path of the model file.
#' @param format `"auto"` (recognise the file by its content), `"xgboost"`
#'   or `"lightgbm"`.
#' @return An `fp_model` (class `fp_model_xgboost` or `fp_model_lightgbm`).
#' @seealso [fp_compile()] for an `xgb.Booster` or `lgb.Booster` in
#'   memory, [fp_save()].
#' @export
#' @examples
#' # Two small models that Python's xgboost 3.2.0 and LightGBM 4.7.0 wrote
#' # (tests/boosters/make-boosters.py, cases xgb_feature_names and
#' # lgb_pandas_categorical)
#' m <- fp_import(system.file("extdata", "xgboost-binary.json", package = "fastpredict"))
#' m
#' newx <- data.frame(age = c(-0.8, 2), income = c(0.7, -1.1), score = c(41.6, -31.1),
#'                    visits = c(0.2, NA), ratio = c(-2, 0.4), z_last = c(0.1, -1.6))
#' predict_fast(m, newx)
#' predict_fast(m, as.matrix(newx), type = "margin", iteration_range = c(0, 10))
#' path <- tempfile(fileext = ".fp.json")
#' fp_save(m, path)
#' identical(predict_fast(fp_load(path), newx), predict_fast(m, newx))
#'
#' # category names recorded by pandas: factor or character columns by name;
#' # a name the model does not know ("pink") is missing, as in Python
#' l <- fp_import(system.file("extdata", "lightgbm-categorical.txt", package = "fastpredict"))
#' predict_fast(l, data.frame(x0 = c(0.5, -1), colour = c("blue", "pink"), size = c("M", "S")))
fp_import <- function(path, format = c("auto", "xgboost", "lightgbm")) {
  fp_check_string(path, "path")
  format <- match.arg(format)
  new_fp_model(fp_check(rs_model_import(path.expand(path), format)))
}
