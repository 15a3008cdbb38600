#' @rdname fp_compile
#' @export
fp_compile.lm <- function(model, ...) {
  if (!identical(class(model), "lm")) {
    fp_unsupported(sprintf("a model of class '%s'", paste(class(model), collapse = "/")))
  }
  lin <- fp_linear_body(model, family = "gaussian", link = "identity",
                        types = "response", default_type = "response")
  fp_from_spec(fp_document(model, "stats", "linear", lin$inputs, lin$body))
}
