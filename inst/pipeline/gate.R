#!/usr/bin/env Rscript
# Stage 2 of the model pipeline: decide whether a candidate model may be
# deployed. Exits 0 if it may, 1 (printing why) if not.
#
#   Rscript gate.R --candidate DIR [--max-rmse X] [--production FILE] [--margin M]
#
# DIR is what train.R wrote. The candidate is blocked when
#   - parity.json is missing or says predict_fast() differed from predict();
#   - the model file was changed after its card was written (its content
#     hash differs from the card's) or it no longer reproduces the fitted
#     model's own predictions of the holdout rows;
#   - its holdout RMSE is above --max-rmse;
#   - it is worse than the production model (--production, a model file)
#     on the same holdout rows by more than --margin (relative, default 0.02).
suppressPackageStartupMessages(library(fastpredict))

args <- commandArgs(TRUE)
opt <- function(name, default = NULL) {
  i <- match(paste0("--", name), args)
  if (is.na(i)) default else args[[i + 1L]]
}
dir <- opt("candidate", "pipeline-out")
max_rmse <- as.numeric(opt("max-rmse", "Inf"))
production <- opt("production")
margin <- as.numeric(opt("margin", "0.02"))

problems <- character()
block <- function(why) problems <<- c(problems, why)

parity_file <- file.path(dir, "parity.json")
if (!file.exists(parity_file)) {
  block("no parity report (parity.json)")
} else if (!grepl("\"passed\":true}$", paste(readLines(parity_file, warn = FALSE), collapse = ""))) {
  block("the parity report says predict_fast() differs from predict()")
}

model <- tryCatch(fp_load(file.path(dir, "model.json.gz")), fastpredict_error = function(e) {
  block(paste("the model file does not load:", conditionMessage(e)))
  NULL
})
holdout <- readRDS(file.path(dir, "holdout.rds"))
rmse_of <- function(m) {
  p <- predict_fast(m, holdout$data, type = holdout$type)
  sqrt(mean((holdout$data[[holdout$response]] - p)^2))
}
if (!is.null(model)) {
  card <- model$info$card
  if (is.null(card)) {
    block("the model has no card")
  } else if (!identical(card$content_hash, fp_content_hash(model))) {
    block("the model file was changed after its card was written (content hash differs)")
  }
  got <- predict_fast(model, holdout$data, type = holdout$type)
  drift <- max(abs(got - holdout$reference) / pmax(abs(holdout$reference), .Machine$double.xmin))
  if (!(drift <= 1e-9)) block(sprintf("the model no longer reproduces the fit's predictions (relative drift %.3g)", drift))
  rmse <- rmse_of(model)
  cat(sprintf("candidate RMSE %.4f\n", rmse))
  if (!(rmse <= max_rmse)) block(sprintf("holdout RMSE %.4f is above the limit %.4f", rmse, max_rmse))
  if (!is.null(production)) {
    prod_rmse <- rmse_of(fp_load(production))
    cat(sprintf("production RMSE %.4f\n", prod_rmse))
    if (rmse > prod_rmse * (1 + margin)) {
      block(sprintf("RMSE %.4f is worse than production's %.4f by more than %g%%", rmse, prod_rmse, 100 * margin))
    }
  }
}

if (length(problems)) {
  cat("BLOCKED:\n", paste0("  - ", problems, "\n"), sep = "")
  quit(status = 1)
}
cat("PASSED: the candidate may be deployed\n")
