#!/usr/bin/env Rscript
# Stage 1 of the model pipeline: fit, evaluate on a holdout, compile, check
# parity with the model's own predict(), and write the model with its card.
#
#   Rscript train.R --out DIR [--rows N] [--seed S]
#
# Writes into DIR: model.json.gz (the compiled model, its card holding the
# holdout RMSE), parity.json (fp_verify()'s report) and holdout.rds (the
# holdout rows and the fitted model's own predictions of them, which the
# gate checks the model file against). The example fits a gaussian glm on
# generated data; put your own model where it says so.
suppressPackageStartupMessages(library(fastpredict))

args <- commandArgs(TRUE)
opt <- function(name, default) {
  i <- match(paste0("--", name), args)
  if (is.na(i)) default else args[[i + 1L]]
}
out <- opt("out", "pipeline-out")
rows <- as.integer(opt("rows", "2000"))
seed <- as.integer(opt("seed", "1"))
dir.create(out, showWarnings = FALSE, recursive = TRUE)

# The data: replace with your own.
set.seed(seed)
d <- data.frame(x1 = rnorm(rows), x2 = runif(rows, 1, 5), g = factor(sample(c("a", "b", "c"), rows, TRUE)))
d$y <- 2 + d$x1 - 1.5 * log(d$x2) + c(a = 0, b = 0.5, c = -0.5)[as.character(d$g)] + rnorm(rows, sd = 0.5)
holdout <- sample(rows, rows %/% 5)
train <- d[-holdout, ]
test <- d[holdout, ]

# The model: replace with your own.
fit <- glm(y ~ x1 + log(x2) + g, family = gaussian, data = train)
reference <- unname(predict(fit, test, type = "response"))
rmse <- sqrt(mean((test$y - reference)^2))
cat(sprintf("holdout RMSE %.4f on %d rows\n", rmse, nrow(test)))

card <- fp_card("example-glm", format(Sys.Date(), "%Y.%m.%d"), "Gaussian glm of y on x1, log(x2) and g",
                training = train, metrics = c(rmse = rmse))
model <- fp_compile(fit, card = card)
fp_verify(fit, model, test, report = file.path(out, "parity.json"))
fp_save(model, file.path(out, "model.json.gz"))
saveRDS(list(data = test, response = "y", reference = reference, type = "response"), file.path(out, "holdout.rds"))
cat("wrote", file.path(out, "model.json.gz"), "\n")
