# The demo's models for fastpredict-server: `Rscript demo/models.R DIR`
# writes them into DIR (make serve, bench/server.R and demo/serving.R use
# it), each file named as the server will serve it:
#   lm.json          the README's lm on mtcars
#   glm.json         a binomial glm on mtcars
#   rpart.json       a classification tree on iris (probabilities)
#   forest.json.gz   a 500-tree randomForest on the demo's generated data
#   gbm.json         a 500-tree gbm on the same data
# Sourced, it defines demo_models() (the fitted models and data to predict)
# without writing anything.

# The demo's generated data (as in demo/fastpredict.R).
demo_data <- function(n) {
  d <- as.data.frame(matrix(rnorm(n * 10), n, 10, dimnames = list(NULL, paste0("x", 1:10))))
  d$f <- factor(sample(c("a", "b", "c", "d", "e"), n, TRUE))
  d$y <- d$x1 + 2 * sin(d$x2) + d$x3 * d$x4 + c(a = 0, b = 1, c = -1, d = 0.5, e = 2)[as.character(d$f)] + rnorm(n)
  d
}

# name -> list(fit, data, file, predict = function(fit, newdata) as predict() is called)
demo_models <- function(trees = 500) {
  set.seed(7)
  train <- demo_data(5000)
  test <- demo_data(2000)
  gbm_fit <- suppressWarnings(gbm::gbm(y ~ ., data = train, distribution = "gaussian", n.trees = trees,
                                       interaction.depth = 3, shrinkage = 0.05))
  list(
    lm = list(fit = lm(mpg ~ wt * factor(cyl) + poly(hp, 2) + log(disp), data = mtcars), data = mtcars,
              file = "lm.json", predict = function(fit, newdata) predict(fit, newdata)),
    glm = list(fit = glm(vs ~ scale(mpg) + factor(am), family = binomial, data = mtcars), data = mtcars,
               file = "glm.json", predict = function(fit, newdata) predict(fit, newdata, type = "response")),
    rpart = list(fit = rpart::rpart(Species ~ ., data = iris), data = iris, file = "rpart.json",
                 predict = function(fit, newdata) predict(fit, newdata)),
    forest = list(fit = randomForest::randomForest(y ~ ., data = train, ntree = trees), data = test,
                  file = "forest.json.gz", predict = function(fit, newdata) predict(fit, newdata)),
    gbm = list(fit = gbm_fit, data = test, file = "gbm.json",
               predict = function(fit, newdata) predict(fit, newdata, n.trees = fit$n.trees))
  )
}

write_demo_models <- function(dir, models = demo_models()) {
  dir.create(dir, showWarnings = FALSE, recursive = TRUE)
  for (name in names(models)) {
    fastpredict::fp_save(fastpredict::fp_compile(models[[name]]$fit), file.path(dir, models[[name]]$file))
  }
  invisible(models)
}

if (!interactive() && sys.nframe() == 0L) {
  args <- commandArgs(TRUE)
  dir <- if (length(args)) args[[1]] else "models"
  write_demo_models(dir)
  cat("wrote", paste(list.files(dir), collapse = ", "), "into", dir, "\n")
}
