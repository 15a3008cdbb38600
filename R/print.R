#' Print a compiled model
#'
#' Shows the model kind, its family and link (linear models) or its trees
#' and classes (tree models), the prediction types, the inputs it reads
#' (with their types and levels) and the format version.
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
  i <- x$info
  p <- i$producer
  src <- paste(p$source_class, collapse = "/")
  head <- sprintf("<fp_model> %s model from %s", i$kind, src)
  if (!is.null(i$family)) head <- sprintf("%s (%s, link %s)", head, i$family, i$link)
  types <- ifelse(i$types == i$default_type, sprintf("\"%s\" (default)", i$types), sprintf("\"%s\"", i$types))
  lines <- c(
    head,
    sprintf("  types:  %s", paste(types, collapse = ", ")),
    if (!is.null(i$n_coefficients)) {
      sprintf("  coefficients: %d%s", as.integer(i$n_coefficients),
              if (i$n_aliased > 0) sprintf(" (%d aliased, left out as predict() does)", as.integer(i$n_aliased)) else "")
    },
    if (!is.null(i$n_trees)) {
      sprintf("  trees: %s, %s nodes", format(i$n_trees, big.mark = ","), format(i$n_nodes, big.mark = ","))
    },
    if (!is.null(i$classes)) sprintf("  classes: %s", fp_shorten(i$classes)),
    sprintf("  inputs (%d):", length(i$inputs))
  )
  if (length(i$inputs)) {
    nm <- vapply(i$inputs, function(s) s$name, "")
    ty <- vapply(i$inputs, function(s) {
      lv <- s$levels
      if (length(lv) == 0) return(s$type)
      sprintf("%s [%s]", s$type, fp_shorten(lv))
    }, "")
    lines <- c(lines, sprintf("    %-*s %s", max(nchar(nm)), nm, ty))
  }
  c(lines, sprintf("  format: %s %s; written by %s %s from %s %s in R %s",
                   i$format, i$format_version, p$name, p$version,
                   p$source_package %||% "?", p$source_package_version %||% "?", p$r_version %||% "?"))
}

# Up to 8 values, then their count.
fp_shorten <- function(x) {
  shown <- if (length(x) > 8) c(utils::head(x, 8), sprintf("... (%d levels)", length(x))) else x
  paste(shown, collapse = ", ")
}
