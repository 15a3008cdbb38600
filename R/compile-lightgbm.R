# LightGBM: the booster's own text dump (lgb.Booster$save_model_to_string())
# goes to the engine's importer, the one fp_import() uses. The R package
# lightgbm is not in Debian, so this method is not tested here; the
# importer is, against LightGBM's own predictions
# (tests/testthat/test-compile-lightgbm.R).

#' @rdname fp_compile
#' @section lightgbm: An `lgb.Booster` (R package lightgbm) is compiled from
#'   its text model, `model$save_model_to_string()` (what `lgb.save()`
#'   writes), exactly as [fp_import()] reads a saved model file; see there
#'   for what is reproduced, the prediction types and the arguments. This
#'   method is small and is not tested here (lightgbm is not packaged for
#'   Debian); the import it relies on is tested against LightGBM's own
#'   predictions.
#' @export
fp_compile.lgb.Booster <- function(model, ...) {
  text <- model$save_model_to_string()
  new_fp_model(fp_check(rs_model_import_bytes(text, "lightgbm")))
}

# fp_verify(): as for xgboost (R/compile-xgboost.R), LightGBM's R
# predict() cannot be tested here, so the check is refused rather than
# guessed.
#' @export
fp_native_predict.fp_model_lightgbm <- function(model, fit, data, type) {
  fp_abort("unsupported", paste(
    "fp_verify() cannot check a LightGBM model: calling LightGBM's R predict() is not supported",
    "(the package is not in Debian, so that call is untested); fastpredict's own tests compare",
    "imported LightGBM models with LightGBM's recorded predictions to 1e-12"))
}
