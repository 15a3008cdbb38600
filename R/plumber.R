#' Serve compiled models from a Plumber API
#'
#' Adds prediction routes for compiled models to a Plumber router, new or
#' with routes of its own: vetiver's routes, so that vetiver's clients keep
#' working, and the Open Inference Protocol's, the same as
#' fastpredict-server's. Each prediction is answered by [fp_predict_json()]:
#' the body is read, predicted and answered in Rust, so a request costs
#' little more than Plumber itself.
#'
#' @section Routes:
#' \tabular{ll}{
#'   `POST /predict` \tab the default model, vetiver's request and answer \cr
#'   `POST /models/{name}/predict` \tab the same, for each model \cr
#'   `POST /v2/models/{name}/infer` \tab an Open Inference Protocol request \cr
#'   `GET /ping` \tab `{"status": "online", "time": ...}`, as vetiver's \cr
#'   `GET /metadata`, `/models/{name}/metadata` \tab vetiver's fields, and the model under `fastpredict` \cr
#'   `GET /prototype`, `/models/{name}/prototype` \tab the inputs, as vetiver writes a prototype \cr
#'   `GET /v2/models/{name}` \tab the model's OIP metadata (which [fp_endpoint()] reads) \cr
#'   `GET /v2/health/ready`, `/v2/health/live`, `/v2/models/{name}/ready` \tab health \cr
#' }
#' Options go in a vetiver route's query string (`/predict?type=prob`) or
#' in an OIP request's `parameters`, unless `request_options = FALSE`.
#' Every error is a JSON object with `message` (which vetiver's client
#' shows), `error` (OIP's) and `kind`, with its status: 400 for a body
#' that is not JSON or not the protocol's shape, 422 (vetiver) or 400 (OIP)
#' for input that does not fit the model, 413 beyond `max_rows`, 401
#' without a valid key, 404 for an unknown model.
#'
#' The handlers read `req$bodyRaw` and declare no body parser, so Plumber
#' neither parses the body nor logs a line per request for the missing
#' parser. Plumber's own limit on bodies is the option
#' `plumber.maxRequestSize`.
#'
#' @param pr A Plumber router, such as `plumber::pr()`.
#' @param models An `fp_model`, served as `"model"`, or a named list of
#'   them (names of letters, digits, `.`, `_` and `-`). Fitted models are
#'   compiled.
#' @param type The prediction type: `NULL` (each model's default), one type
#'   for every model, or a named character vector with a type per model.
#' @param request_options Whether a request may choose the type and
#'   options (`type`, `n_trees`, `norm_votes`, `se_fit`, `interval`, ...).
#'   vetiver's API cannot; with `FALSE` a request that names one is refused
#'   (400) rather than answered with another type than it asked for.
#' @param api_key `NULL` (no key needed), or the accepted keys. Clients
#'   send `Authorization: Bearer <key>`, `Authorization: Key <key>` (Posit
#'   Connect's form) or `X-API-Key: <key>`; the health routes stay open.
#' @param max_rows Most rows per request (else 413).
#' @param default The model that `/predict`, `/metadata` and `/prototype`
#'   serve; the first by default.
#' @param threads Threads per prediction; default [fp_threads()].
#' @return `pr`, with the routes added (a Plumber router is changed in
#'   place).
#' @seealso [fp_predict_json()] for handlers of your own; [fp_endpoint()]
#'   to call the API from R; [fp_serve()] for the same routes without R.
#' @export
#' @examples
#' if (requireNamespace("plumber", quietly = TRUE)) {
#'   m <- fp_compile(lm(mpg ~ wt + factor(cyl), data = mtcars))
#'   pr <- fp_plumber(plumber::pr(), m)
#'   pr
#'   # pr_run(pr, port = 8000), then from another R session:
#'   # predict(fp_endpoint("http://127.0.0.1:8000"), mtcars[1:3, ])
#'
#'   # several models, a fixed type and a key
#'   forest <- fp_compile(rpart::rpart(Species ~ ., data = iris))
#'   pr <- fp_plumber(plumber::pr(), list(lm = m, tree = forest), type = c(tree = "class"),
#'                    request_options = FALSE, api_key = "secret")
#' }
fp_plumber <- function(pr, models, type = NULL, request_options = TRUE, api_key = NULL, max_rows = 100000L,
                       default = NULL, threads = NULL) {
  if (!requireNamespace("plumber", quietly = TRUE)) {
    fp_abort("unsupported", "fp_plumber() needs the plumber package (Debian: r-cran-plumber)")
  }
  if (!inherits(pr, "Plumber")) fp_abort("bad_argument", "pr must be a Plumber router, such as plumber::pr()")
  models <- fp_model_list(models)
  types <- fp_route_types(models, type)
  if (!isTRUE(request_options) && !isFALSE(request_options)) {
    fp_abort("bad_argument", "request_options must be TRUE or FALSE")
  }
  if (!is.null(api_key) && (!is.character(api_key) || !length(api_key) || anyNA(api_key) || !all(nzchar(api_key)))) {
    fp_abort("bad_argument", "api_key must be NULL or non-empty strings")
  }
  if (!is.numeric(max_rows) || length(max_rows) != 1 || is.na(max_rows) || max_rows < 1 || max_rows %% 1 != 0) {
    fp_abort("bad_argument", "max_rows must be a whole number of at least 1")
  }
  default <- default %||% names(models)[[1]]
  if (!is.character(default) || length(default) != 1 || !default %in% names(models)) {
    fp_abort("bad_argument", sprintf("default must name one of the models (%s)", paste(names(models), collapse = ", ")))
  }
  # what the GET routes answer, written once
  described <- lapply(stats::setNames(names(models), names(models)), function(name) {
    fp_check(rs_wire_meta(models[[name]]$ptr, name))
  })
  keys <- api_key
  json <- plumber::serializer_content_type("application/json")
  no_parser <- character()  # Plumber reads req$bodyRaw anyway; a parser would parse it, or log its absence

  refused <- function(req, res) {
    if (is.null(keys) || isTRUE(rs_key_matches(fp_presented_key(req), keys))) return(NULL)
    res$status <- 401L
    res$setHeader("WWW-Authenticate", "Bearer, Key")
    fp_error_json("unauthorized", if (is.null(fp_presented_key(req))) {
      "an API key is required: send `Authorization: Bearer <key>`, `Authorization: Key <key>` or `X-API-Key: <key>`"
    } else {
      "the API key is not valid"
    })
  }
  unknown <- function(res, name) {
    res$status <- 404L
    fp_error_json("not_found", sprintf("model '%s' is not served here (served: %s)", name, paste(names(models), collapse = ", ")))
  }
  model_name <- function(req) {
    name <- req$argsPath$name
    if (is.character(name) && length(name) == 1 && name %in% names(models)) name else NULL
  }
  predictor <- function(protocol, fixed = NULL) {
    force(protocol)
    force(fixed)
    function(req, res) {
      if (!is.null(keys) && !is.null(no <- refused(req, res))) return(no)
      name <- fixed %||% model_name(req)
      if (is.null(name)) return(unknown(res, req$argsPath$name))
      fp_predict_json(models[[name]], req$bodyRaw, type = types[[name]],
                      query = if (protocol == "vetiver") req$QUERY_STRING, protocol = protocol,
                      request_options = request_options, max_rows = max_rows, name = name, res = res,
                      threads = threads)
    }
  }
  described_as <- function(what, fixed = NULL) {
    force(what)
    force(fixed)
    function(req, res) {
      if (!is.null(keys) && !is.null(no <- refused(req, res))) return(no)
      name <- fixed %||% model_name(req)
      if (is.null(name)) return(unknown(res, req$argsPath$name))
      described[[name]][[what]]
    }
  }
  ping <- function() sprintf('{"status":"online","time":"%s"}', format(Sys.time(), "%Y-%m-%d %H:%M:%S", tz = "UTC"))
  ready <- function(req, res) {
    name <- model_name(req)
    if (is.null(name)) return(unknown(res, req$argsPath$name))
    sprintf('{"name":"%s","ready":true}', name)
  }
  post <- function(path, handler) plumber::pr_post(pr, path, handler, serializer = json, parsers = no_parser)
  get <- function(path, handler) plumber::pr_get(pr, path, handler, serializer = json)

  post("/predict", predictor("vetiver", default))
  post("/models/<name>/predict", predictor("vetiver"))
  post("/v2/models/<name>/infer", predictor("oip"))
  get("/ping", ping)
  get("/metadata", described_as("metadata", default))
  get("/prototype", described_as("prototype", default))
  get("/models/<name>/metadata", described_as("metadata"))
  get("/models/<name>/prototype", described_as("prototype"))
  get("/v2/models/<name>", described_as("oip"))
  get("/v2/models/<name>/ready", ready)
  get("/v2/health/ready", function() '{"ready":true}')
  get("/v2/health/live", function() '{"live":true}')
  pr
}

# The models to serve, by name: an fp_model alone is "model"; fitted models
# are compiled.
fp_model_list <- function(models) {
  if (inherits(models, "fp_model") || (is.object(models) && !is.null(models))) models <- list(model = models)
  if (!is.list(models) || !length(models)) fp_abort("bad_argument", "models must be an fp_model or a named list of them")
  nm <- names(models)
  if (is.null(nm) || anyNA(nm) || !all(grepl("^[A-Za-z0-9._-]+$", nm)) || anyDuplicated(nm)) {
    fp_abort("bad_argument", "models must have distinct names of letters, digits, '.', '_' and '-' (they are URL paths)")
  }
  lapply(models, function(m) if (inherits(m, "fp_model")) m else fp_compile(m))
}

# Each model's fixed prediction type (NULL: its default), checked against
# the types it has.
fp_route_types <- function(models, type) {
  if (is.null(type)) return(stats::setNames(vector("list", length(models)), names(models)))
  if (!is.character(type) || anyNA(type)) fp_abort("bad_argument", "type must be NULL or strings")
  if (is.null(names(type))) {
    if (length(type) != 1) fp_abort("bad_argument", "give one type for every model, or name a type per model")
    type <- stats::setNames(rep(type, length(models)), names(models))
  }
  unknown <- setdiff(names(type), names(models))
  if (length(unknown)) fp_abort("bad_argument", sprintf("type names models that are not served: %s", paste(unknown, collapse = ", ")))
  out <- stats::setNames(vector("list", length(models)), names(models))
  for (name in names(type)) {
    has <- unlist(models[[name]]$info$types)
    if (!type[[name]] %in% has) {
      fp_abort("bad_argument", sprintf("model '%s' has no type '%s' (its types: %s)", name, type[[name]],
                                       paste(has, collapse = ", ")))
    }
    out[name] <- list(type[[name]])
  }
  out
}

# The API key a request presents: X-API-Key, or Authorization with the
# Bearer or Key scheme (as fastpredict-server reads them).
fp_presented_key <- function(req) {
  k <- req$HTTP_X_API_KEY
  if (!is.null(k)) return(k)
  a <- req$HTTP_AUTHORIZATION
  if (is.null(a)) return(NULL)
  m <- regmatches(a, regexec("^(?i:bearer|key) +(.*)$", a, perl = TRUE))[[1]]
  if (length(m) == 2) trimws(m[[2]]) else NULL
}
