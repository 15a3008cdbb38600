#' Print a compiled model
#'
#' Shows the model kind and source, the facts the engine reports for its
#' family (family and link, coefficients, trees, classes, ...), the
#' prediction types, the inputs it reads (with their types and levels; the
#' first 30 of a model with more) and the format version.
#'
#' @param x An `fp_model`.
#' @param ... Unused.
#' @return `x`, invisibly.
#' @export
#' @examples
#' fp_compile(glm(am ~ wt + factor(cyl), family = binomial, data = mtcars))
print.fp_model <- function(x, ...) {
  cat(format(x, ...), sep = "\n")
  invisible(x)
}

#' @rdname print.fp_model
#' @export
format.fp_model <- function(x, ...) {
  i <- fp_info(x)
  p <- i$producer
  head <- sprintf("<fp_model> %s model from %s", i$kind, paste(p$source_class, collapse = "/"))
  if (!is.null(i$headline)) head <- sprintf("%s (%s)", head, i$headline)
  types <- unlist(i$types)
  types <- ifelse(types == i$default_type, sprintf("\"%s\" (default)", types), sprintf("\"%s\"", types))
  lines <- c(
    head,
    sprintf("  types:  %s", paste(types, collapse = ", ")),
    if (length(i$summary)) paste0("  ", unlist(i$summary)),
    if (!is.null(i$card)) fp_card_line(i$card),
    sprintf("  inputs (%d):", length(i$inputs))
  )
  if (length(i$inputs)) {
    # a model of thousands of columns (glmnet) shows the first ones
    shown <- utils::head(i$inputs, fp_print_inputs)
    nm <- vapply(shown, function(s) s$name, "")
    ty <- vapply(shown, function(s) {
      lv <- s$levels
      if (length(lv) == 0) return(s$type)
      sprintf("%s [%s]", s$type, fp_shorten(lv))
    }, "")
    lines <- c(lines, sprintf("    %-*s %s", max(nchar(nm)), nm, ty))
    if (length(i$inputs) > length(shown)) {
      lines <- c(lines, sprintf("    ... and %d more", length(i$inputs) - length(shown)))
    }
  }
  # an imported model file (xgboost, LightGBM) was not fitted in R
  source <- paste(c(p$source_package %||% "?", p$source_package_version), collapse = " ")
  host <- if (is.null(p$r_version)) "" else sprintf(" in R %s", p$r_version)
  c(lines, sprintf("  format: %s %s; written by %s %s from %s%s",
                   i$format, i$format_version, p$name, p$version, source, host))
}

# Inputs print() lists.
fp_print_inputs <- 30L

# Up to 8 values, then their count.
fp_shorten <- function(x) {
  shown <- if (length(x) > 8) c(utils::head(x, 8), sprintf("... (%d levels)", length(x))) else x
  paste(shown, collapse = ", ")
}

fp_card_line <- function(card) {
  what <- paste(c(card$name, card$version), collapse = " ")
  metrics <- if (length(card$metrics)) {
    paste0("; ", paste(sprintf("%s = %.4g", names(card$metrics), unlist(card$metrics)), collapse = ", "))
  }
  sprintf("  card: %s%s", if (nzchar(what)) what else "(unnamed)", metrics %||% "")
}

#' @export
print.fp_card <- function(x, ...) {
  cat(fp_card_line(x), "\n", sep = "")
  invisible(x)
}
