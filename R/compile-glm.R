fp_glm_families <- c("gaussian", "binomial", "poisson", "Gamma", "inverse.gaussian",
                     "quasi", "quasibinomial", "quasipoisson")
fp_glm_links <- c("logit", "probit", "cauchit", "cloglog", "log", "identity",
                  "inverse", "1/mu^2", "sqrt")

#' @rdname fp_compile
#' @export
fp_compile.glm <- function(model, ...) {
  # MASS::glm.nb() fits (class negbin) predict through predict.glm() too
  fp_require_class(model, c("glm", "lm"), c("negbin", "glm", "lm"))
  fam <- stats::family(model)
  if (!fam$family %in% fp_glm_families && !fp_is_negative_binomial(fam)) {
    fp_unsupported(sprintf("the glm family '%s'", fam$family))
  }
  if (!fam$link %in% fp_glm_links) fp_unsupported(sprintf("the glm link '%s'", fam$link))
  # The engine implements R's own inverse links; a family object carrying a
  # different linkinv under a standard name would predict differently.
  if (!identical(deparse(body(fam$linkinv)), deparse(body(stats::make.link(fam$link)$linkinv)))) {
    fp_unsupported(sprintf("a custom inverse link under the name '%s'", fam$link))
  }
  lin <- fp_linear_section(model, family = fam$family, link = fam$link,
                           types = c("link", "response"), default_type = "link")
  lin$section$inference <- fp_linear_inference(model, "glm")
  fp_from_spec(fp_document(model, if (inherits(model, "negbin")) "MASS" else "stats", "linear",
                           lin$inputs, lin$section))
}

# MASS's negative.binomial(theta) family (glm.nb() uses it too): its name
# carries theta, "Negative Binomial(1.234)"; predict() only reads its link.
fp_is_negative_binomial <- function(fam) {
  startsWith(fam$family, "Negative Binomial(") && fam$link %in% c("log", "sqrt", "identity")
}
