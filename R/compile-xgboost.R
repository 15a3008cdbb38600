# xgboost: the booster's own JSON dump (xgb.save.raw(raw_format = "json"),
# xgboost >= 1.6) goes to the engine's importer, the one fp_import() uses.
# The R package xgboost is not in Debian, so this method is not tested
# here; the importer is, against xgboost's own predictions
# (tests/testthat/test-compile-xgboost.R).

#' @rdname fp_compile
#' @section xgboost: An `xgb.Booster` (R package xgboost 1.6 or later) is
#'   compiled from its JSON dump, `xgb.save.raw(model, raw_format = "json")`,
#'   exactly as [fp_import()] reads a saved `model.json`; see there for what
#'   is reproduced, the prediction types and the arguments. This method is
#'   small and is not tested here (xgboost is not packaged for Debian); the
#'   import it relies on is tested against xgboost's own predictions.
#' @export
fp_compile.xgb.Booster <- function(model, ...) {
  if (!requireNamespace("xgboost", quietly = TRUE)) {
    fp_unsupported("an xgb.Booster without the xgboost package installed")
  }
  json <- xgboost::xgb.save.raw(model, raw_format = "json")
  new_fp_model(fp_check(rs_model_import_bytes(json, "xgboost")))
}

# fp_verify() would call xgboost's own R predict(), whose arguments and
# result shapes changed between its releases (1.x returns a flat vector for
# several classes, 3.x a matrix). Without the package in Debian that call
# cannot be tested here, so it is refused rather than guessed; the parity
# of these models is tested against predictions xgboost itself recorded.
#' @export
fp_native_predict.fp_model_xgboost <- function(model, fit, data, type) {
  fp_abort("unsupported", paste(
    "fp_verify() cannot check an xgboost model: calling xgboost's R predict() is not supported",
    "(the package is not in Debian, so that call is untested); fastpredict's own tests compare",
    "imported xgboost models with xgboost's recorded predictions bit for bit"))
}
