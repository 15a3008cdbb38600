#' A fastpredict service to predict from
#'
#' Points at a model served by [fp_plumber()], by fastpredict-server or by
#' [fp_serve()], for [predict()] to call over HTTP (with `httr`). The
#' prediction equals [predict_fast()] on the same model and data, bit for
#' bit and in the same R shape: the request is written in Rust with every
#' double in full (jsonlite's default keeps 4 digits, and Debian's jsonlite
#' 1.8.4 stops at 15 significant digits, too few to read a double back),
#' sent by the Open Inference Protocol, and the answer rebuilt with its
#' column names, factor levels and class.
#'
#' @param url The service's address (`"http://127.0.0.1:8000"`), or a
#'   model's route on it (`".../models/lm/predict"`,
#'   `".../v2/models/lm"`, or vetiver's `".../predict"`), or an
#'   `fp_server` from [fp_serve()].
#' @param api_key The API key, sent as `Authorization: Bearer <key>`;
#'   `NULL` sends none (an `fp_server`'s own key is used by default).
#' @param model The model's name; by default the one in `url`, else the
#'   service's default model (the one its `/predict` serves).
#' @param timeout Seconds to wait for an answer.
#' @return An `fp_endpoint`.
#' @seealso [predict.fp_endpoint()]
#' @export
#' @examples
#' ep <- fp_endpoint("http://127.0.0.1:8000/models/lm/predict", api_key = "secret")
#' ep
#' # predict(ep, mtcars[1:3, ])   # once the service is running
fp_endpoint <- function(url, api_key = NULL, model = NULL, timeout = 60) {
  if (inherits(url, "fp_server")) {
    if (missing(api_key)) api_key <- url$api_key
    url <- url$url
  }
  fp_check_string(url, "url")
  if (!grepl("^https?://", url)) fp_abort("bad_argument", sprintf("url must start with http:// or https://, not '%s'", url))
  if (!is.null(api_key)) fp_check_string(api_key, "api_key")
  if (!is.null(model)) fp_check_string(model, "model")
  if (!is.numeric(timeout) || length(timeout) != 1 || is.na(timeout) || timeout <= 0) {
    fp_abort("bad_argument", "timeout must be a positive number of seconds")
  }
  base <- sub("/+$", "", url)
  routes <- c("^(.*)/v2/models/([^/]+)(/infer|/ready)?$", "^(.*)/models/([^/]+)/(predict|metadata|prototype)$")
  for (r in routes) {
    if (grepl(r, base)) {
      model <- model %||% sub(r, "\\2", base)
      base <- sub(r, "\\1", base)
      break
    }
  }
  base <- sub("/(predict|metadata|prototype|ping)$", "", base)
  ep <- new.env(parent = emptyenv())
  ep$url <- base
  ep$model <- model
  ep$api_key <- api_key
  ep$timeout <- timeout
  ep$meta <- NULL  # the model's OIP metadata, read once
  class(ep) <- "fp_endpoint"
  ep
}

#' Predict from a fastpredict service
#'
#' @param object An `fp_endpoint`.
#' @param newdata A data.frame, or a named list of columns, as for
#'   [predict_fast()] (a matrix, or one row as a vector, for a model that
#'   predicts from a matrix); only the model's inputs are sent.
#' @param type,... The prediction type and further arguments by their names
#'   in the model's `predict()` (`n.trees`, `num.trees`, `norm.votes`,
#'   `se.fit`, `interval`, `level`, ...), as for [predict_fast()]; sent as
#'   the engine names them.
#' @return What [predict_fast()] returns for the model on the service: a
#'   numeric vector, a factor, a matrix or array with its column names,
#'   class and attributes, or `predict.lm()`'s list.
#' @section Errors: An error answer becomes the classed condition that
#'   [predict_fast()] raises for the same input
#'   (`fastpredict_error_missing_column`, `_unseen_level`, ...), with the
#'   HTTP `status`; the service's own refusals are
#'   `fastpredict_error_unauthorized` (401), `_not_found` (404),
#'   `_too_large` (413) and `_bad_request` (400). A service that cannot be
#'   reached gives `fastpredict_error_unavailable`.
#' @export
#' @examples
#' if (requireNamespace("httr", quietly = TRUE)) {
#'   ep <- fp_endpoint("http://127.0.0.1:9")   # nothing listens there
#'   tryCatch(predict(ep, mtcars[1:2, ]), fastpredict_error_unavailable = conditionMessage)
#' }
predict.fp_endpoint <- function(object, newdata, type = NULL, ...) {
  if (missing(newdata)) fp_abort("bad_argument", "newdata is missing: give a data.frame or a named list of columns")
  meta <- fp_endpoint_meta(object)
  extra <- if (...length()) list(...)
  # an input read by its level codes (ranger without its levels) is sent
  # as the codes, which predict_fast() reads from a factor
  coded <- meta$input_names[vapply(meta$inputs, function(i) identical(i$type, "coded"), NA)]
  if (is.list(newdata)) {
    for (n in intersect(coded, names(newdata))) {
      if (is.factor(newdata[[n]])) newdata[[n]] <- as.integer(newdata[[n]])
    }
  }
  body <- fp_check(rs_oip_request(newdata, meta$input_names, type, extra, meta$algorithm %||% "",
                                  meta$matrix_input$by_position, meta$facts$sparse_absent))
  r <- fp_http(object, "POST", sprintf("/v2/models/%s/infer", object$model), body)
  out <- fp_check(rs_oip_answer(r$content))
  # a model that reads no column cannot say over OIP how many rows it has
  if (length(meta$input_names) > 0) return(out)
  rows <- if (is.data.frame(newdata)) nrow(newdata) else NROW(newdata[[1]])
  got <- NROW(if (is.list(out) && !is.object(out)) out[[1]] else out)
  if (got != rows) {
    fp_abort("bad_answer", sprintf("the service answered %d rows for %d rows of newdata", got, rows))
  }
  out
}

#' @rdname fp_endpoint
#' @param x An `fp_endpoint`.
#' @param ... Not used.
#' @export
print.fp_endpoint <- function(x, ...) {
  cat(sprintf("<fp_endpoint> %s, model %s%s\n", x$url,
              if (is.null(x$model)) "(the service's default)" else sprintf("'%s'", x$model),
              if (is.null(x$api_key)) "" else ", with an API key"))
  if (!is.null(x$meta)) {
    cat(sprintf("  inputs: %s\n", fp_shorten(x$meta$input_names)))
  }
  invisible(x)
}

# The model's description (the engine's ModelInfo, from vetiver's metadata
# route: inputs, algorithm, matrix input), read once; the default model's
# when none was named.
fp_endpoint_meta <- function(ep) {
  if (!is.null(ep$meta)) return(ep$meta)
  path <- if (is.null(ep$model)) "/metadata" else sprintf("/models/%s/metadata", ep$model)
  about <- fp_http(ep, "GET", path)$json$fastpredict
  info <- about$model
  if (!is.list(info) || !is.list(info$inputs) || !is.character(about$name)) {
    fp_abort("bad_answer", sprintf("%s%s does not describe a fastpredict model", ep$url, path))
  }
  ep$model <- about$name
  info$input_names <- vapply(info$inputs, function(i) as.character(i$name), "")
  ep$meta <- info
  info
}

# One HTTP exchange: list(status, content (raw), json (parsed, or NULL)).
# An error status becomes the classed condition its body names.
fp_http <- function(ep, method, path, body = NULL) {
  if (!requireNamespace("httr", quietly = TRUE)) {
    fp_abort("unsupported", "fp_endpoint() needs the httr package (Debian: r-cran-httr)")
  }
  url <- paste0(ep$url, path)
  config <- c(httr::timeout(ep$timeout), httr::accept_json())  # c() merges httr's settings
  if (!is.null(ep$api_key)) config <- c(config, httr::add_headers(Authorization = paste("Bearer", ep$api_key)))
  if (!is.null(body)) config <- c(config, httr::content_type_json())
  r <- tryCatch(
    if (method == "POST") httr::POST(url, config = config, body = body) else httr::GET(url, config = config),
    error = function(e) fp_abort("unavailable", sprintf("cannot reach %s: %s", url, conditionMessage(e)))
  )
  status <- httr::status_code(r)
  content <- httr::content(r, "raw")
  if (status < 300) {
    json <- if (method == "GET") rs_json_parse(content)
    return(list(status = status, content = content, json = json))
  }
  err <- rs_json_parse(content)
  message <- if (is.list(err)) err$message %||% err$error
  kind <- if (is.list(err) && is.character(err$kind)) err$kind else fp_status_kind(status)
  if (!is.character(message) || length(message) != 1) {
    message <- sprintf("%s %s answered %d: %s", method, url, status, rawToChar(utils::head(content[content != 0], 500)))
  }
  fp_abort(kind, message, status = status)
}

# The kind of an error answer that names none.
fp_status_kind <- function(status) {
  switch(as.character(status), `400` = "bad_request", `401` = "unauthorized", `404` = "not_found",
         `413` = "too_large", `422` = "bad_request", if (status >= 500) "unavailable" else "bad_request")
}
