#' Model cards
#'
#' A model card records what a deployment pipeline needs to know about a
#' model: its name, version and description, a summary of its training data,
#' the evaluation metrics you computed, and the content hash of the compiled
#' model (a hash of what it predicts, so that a model file edited after its
#' card was written is detected). The card travels inside the model file
#' (format 1.3), is shown by `print()` and by fastpredict-server's metadata
#' routes, and never changes a prediction.
#'
#' `fp_card()` makes a card; `fp_compile(fit, card = fp_card(...))` or
#' `fp_card(m) <- fp_card(...)` attaches one (filling in the content hash);
#' `m$info$card` reads it back; `fp_content_hash(m)` gives the model's
#' current hash.
#'
#' @param name,version,description Strings.
#' @param training A list with any of `rows` (a number), `time` (a
#'   date-time or string) and `hash` (a string), or a data.frame, summarised
#'   as its row count, the current time and a hash of its contents.
#' @param metrics A named list or vector of numbers.
#' @param model An `fp_model`.
#' @param value A card from `fp_card()`.
#' @return `fp_card()` a card (class `fp_card`); `fp_card<-` the model with
#'   the card; `fp_content_hash()` a string `"sha256:..."`.
#' @export
#' @examples
#' fit <- lm(mpg ~ wt + hp, data = mtcars)
#' m <- fp_compile(fit, card = fp_card("mpg", "1.0.0", "Fuel use from weight and power",
#'                                   training = mtcars, metrics = c(r2 = summary(fit)$r.squared)))
#' m$info$card$metrics
#' identical(m$info$card$content_hash, fp_content_hash(m))
fp_card <- function(name = NULL, version = NULL, description = NULL, training = NULL, metrics = NULL) {
  for (s in list(name = name, version = version, description = description)) {
    if (!is.null(s)) fp_check_string(s, "name, version and description")
  }
  if (is.data.frame(training)) {
    training <- list(rows = nrow(training), time = format(Sys.time(), "%Y-%m-%dT%H:%M:%S%z"),
                     hash = fp_data_hash(training))
  }
  if (!is.null(training)) {
    if (!is.list(training) || !all(names(training) %in% c("rows", "time", "hash"))) {
      fp_abort("bad_argument", "training must be a data.frame or a list of rows, time and hash")
    }
    if (inherits(training$time, "POSIXt")) training$time <- format(training$time, "%Y-%m-%dT%H:%M:%S%z")
  }
  if (!is.null(metrics)) {
    metrics <- as.list(metrics)
    ok <- length(metrics) == 0L || (!is.null(names(metrics)) && all(nzchar(names(metrics))) &&
      all(vapply(metrics, function(v) is.numeric(v) && length(v) == 1L && is.finite(v), NA)))
    if (!ok) fp_abort("bad_argument", "metrics must be named finite numbers")
    metrics <- lapply(metrics, as.double)
  }
  card <- list(name = name, version = version, description = description, training = training,
               metrics = metrics)
  structure(card[!vapply(card, is.null, NA)], class = "fp_card")
}

#' @rdname fp_card
#' @export
`fp_card<-` <- function(model, value) {
  fp_assert_model(model)
  if (!inherits(value, "fp_card")) fp_abort("bad_argument", "the card must come from fp_card()")
  new_fp_model(fp_check(rs_model_with_card(.subset2(model, "ptr"), unclass(value))))
}

#' @rdname fp_card
#' @export
fp_content_hash <- function(model) {
  fp_assert_model(model)
  fp_check(rs_model_content_hash(.subset2(model, "ptr")))
}

# A hash of a data.frame's contents, from its serialization.
fp_data_hash <- function(data) {
  path <- tempfile()
  on.exit(unlink(path))
  saveRDS(data, path, compress = FALSE)
  paste0("md5:", unname(tools::md5sum(path)))
}
