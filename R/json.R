#' Answer a JSON prediction request
#'
#' Reads a request body as fastpredict-server does, predicts and writes the
#' answer, all in Rust: R never parses the body (no `jsonlite`, no
#' `data.frame`), so a Plumber handler that calls it costs little more than
#' Plumber itself. [fp_plumber()] builds whole APIs on it; call it directly
#' from a handler of your own.
#'
#' @section Requests and answers:
#' - **vetiver**: a JSON array of records (`[{"wt": 2.6, "cyl": 6}]`), as
#'   vetiver's R and Python clients send them: jsonlite's `"NA"`, `"NaN"`,
#'   `"Inf"` and `"-Inf"` strings are read as those values, keys that are
#'   not model inputs (such as `"_row"`) are ignored. An object of columns
#'   (`{"wt": [2.6, 3.1]}`) works too. The answer is `{".pred": [...]}`, or
#'   one `.pred_<column>` per column of a matrix.
#' - **Open Inference Protocol** (KServe V2 `infer`):
#'   `{"inputs": [{"name": "wt", "datatype": "FP64", "shape": [2], "data": [2.6, 3.1]}]}`,
#'   with options in `parameters` (`type` and the engine's option names:
#'   `n_trees`, `norm_votes`, `se_fit`, `interval`, `level`, ...); the
#'   answer has one output per part of the prediction, with its column
#'   names, a factor's levels, the R class and attributes in the output's
#'   `parameters`.
#'
#' Numbers are read correctly rounded and written in the shortest form that
#' reads back to the same double, so an answer parsed back equals
#' [predict_fast()] bit for bit.
#'
#' @param model An `fp_model`.
#' @param body The request body: a raw vector (Plumber's `req$bodyRaw`) or
#'   a single string.
#' @param type,... The prediction type and further arguments by their
#'   names in the model's `predict()`, as in [predict_fast()]. With
#'   `request_options = TRUE` they are defaults that the request may
#'   override.
#' @param query A URL query string that sets options on a vetiver request,
#'   as fastpredict-server's `/predict` takes them
#'   (`"type=prob&n_trees=100"`, `"se_fit=true&interval=confidence"`);
#'   Plumber's `req$QUERY_STRING`.
#' @param protocol `"auto"` (the default: an object with an `"inputs"`
#'   key is an OIP request, unless the model has an input of that name),
#'   `"vetiver"` or `"oip"`.
#' @param request_options Whether the request may choose the type and
#'   options (through `query`, or an OIP request's `parameters`). When
#'   `FALSE`, a request that names one is refused with status 400.
#' @param max_rows Most rows a request may hold (else status 413).
#' @param name The model's name in an OIP answer.
#' @param res Plumber's response object, or `NULL`. When given, a bad
#'   request sets `res$status` and the JSON error is returned instead of
#'   raised, so a handler can return the result either way.
#' @param threads Number of threads; default [fp_threads()].
#' @return The answer's JSON text (a string).
#' @section Errors: A request that cannot be answered raises a classed
#'   condition, as [predict_fast()] does (`fastpredict_error_missing_column`,
#'   `_wrong_type`, `_unseen_level`, ...; `_bad_request` for a body that is
#'   not what the protocol describes; `_too_large` beyond `max_rows`), with
#'   two more fields: `status`, the HTTP status to answer with (400, 413,
#'   422; 503 when interrupted; 500 for a bug), and `body`, the JSON error
#'   (`{"error": ..., "message": ..., "kind": ...}`, which vetiver's and
#'   OIP clients show).
#' @seealso [fp_plumber()] for ready-made routes, [fp_endpoint()] for the
#'   client.
#' @export
#' @examples
#' m <- fp_compile(lm(mpg ~ wt + factor(cyl), data = mtcars))
#' fp_predict_json(m, '[{"wt": 2.62, "cyl": 6, "_row": "Mazda RX4"}, {"wt": "NA", "cyl": 4}]')
#' fp_predict_json(m, '{"wt": [2.62, 3.1], "cyl": [6, 8]}')
#' fp_predict_json(m, '{"id": "1", "inputs": [
#'   {"name": "wt", "datatype": "FP64", "shape": [1], "data": [2.62]},
#'   {"name": "cyl", "datatype": "FP64", "shape": [1], "data": [6]}]}')
#'
#' # a bad request: a classed error with the status to answer with
#' e <- tryCatch(fp_predict_json(m, '[{"wt": 2.62}]'), error = identity)
#' class(e)
#' e$status
#' e$body
#'
#' # In a Plumber file, a handler of your own:
#' #* @post /score
#' #* @parser octet
#' #* @serializer contentType list(type = "application/json")
#' # function(req, res) fp_predict_json(m, req$bodyRaw, res = res)
fp_predict_json <- function(model, body, type = NULL, ..., query = NULL, protocol = "auto", request_options = TRUE,
                            max_rows = 100000L, name = "model", res = NULL, threads = NULL) {
  if (!inherits(model, "fp_model")) fp_abort("bad_argument", "model must be an fp_model (from fp_compile() or fp_load())")
  args <- if (...length()) fp_json_args(model, list(...))
  out <- .Call(wrap__rs_predict_json, model$ptr, body, protocol, type, args, query, request_options, max_rows, name,
               threads)
  if (is.character(out)) return(out)
  if (!is.null(res)) {
    res$status <- out$status
    return(out$body)
  }
  fp_check(out)
}

# The extra arguments of a call on a JSON body: a formula would refer to
# newdata's columns, which only the body holds.
fp_json_args <- function(model, args) {
  formulas <- names(args)[vapply(args, inherits, NA, "formula")]
  if (length(formulas)) {
    fp_abort("bad_argument", sprintf("'%s' is a formula over newdata's columns, which a JSON body holds: give its values",
                                     formulas[[1]]))
  }
  fp_predict_args(model, args, NULL)
}

# A JSON error body as the wire codec writes them: {"error", "message", "kind"}.
fp_error_json <- function(kind, message) fp_check(rs_error_json(kind, message))
