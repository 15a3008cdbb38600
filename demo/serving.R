# The serving step of `make demo`: the demo's models saved into a
# directory, fastpredict-server started on them, a few requests (one row, a
# batch, a bad request and its error) with the answers beside predict(), a
# short load test beside Plumber, and the server stopped.
# Run from the source tree: FASTPREDICT_SERVER_BIN=... Rscript demo/serving.R
suppressPackageStartupMessages(library(fastpredict))

main <- function() {
  bin <- Sys.getenv("FASTPREDICT_SERVER_BIN", "server/target/release/fastpredict-server")
  if (!file.exists(bin)) {
    cat("\nfastpredict-server is not built (make server): no serving demo.\n")
    return(invisible())
  }
  source("bench/server-helpers.R", local = FALSE)
  source("demo/models.R", local = FALSE)
  work <- start_run("fastpredict-demo-serving-")

  cat("\n== Serving the models with fastpredict-server (no R at serving time) ==\n\n")
  models <- demo_models()
  model_dir <- file.path(work, "models")
  write_demo_models(model_dir, models)
  cat("models written:", paste(list.files(model_dir), collapse = ", "), "\n")
  srv <- start_fastpredict(work, bin, model_dir, c("--default-model", "lm"))
  cat("server listening at", srv$base, "\n\n")

  post <- function(path, body) {
    r <- httr::POST(paste0(srv$base, path), body = body)
    list(status = httr::status_code(r), text = httr::content(r, "text", encoding = "UTF-8"))
  }
  one <- mtcars[1, c("wt", "cyl", "hp", "disp")]
  body <- sprintf('[{"wt":%.17g,"cyl":%d,"hp":%d,"disp":%d}]', one$wt, as.integer(one$cyl), as.integer(one$hp), as.integer(one$disp))
  r <- post("predict", body)
  cat("POST /predict", body, "\n  ->", r$text, "\n")
  cat(sprintf("  predict(): %.17g\n\n", predict(models$lm$fit, one)))
  r <- post("predict?interval=prediction&level=0.9", body)
  cat("POST /predict?interval=prediction&level=0.9 (predict()'s options, by their engine names)\n  ->", r$text, "\n")
  cat("  predict(interval = \"prediction\", level = 0.9):",
      sprintf("%.17g", predict(models$lm$fit, one, interval = "prediction", level = 0.9)), "\n\n")

  batch <- models$forest$data[1:5, ]
  cols <- vapply(names(batch)[names(batch) != "y"], function(n) {
    x <- batch[[n]]
    vals <- if (is.factor(x)) paste0('"', as.character(x), '"') else sprintf("%.17g", x)
    sprintf('"%s":[%s]', n, paste(vals, collapse = ","))
  }, "")
  r <- post("models/forest/predict", paste0("{", paste(cols, collapse = ","), "}"))
  got <- jsonlite::fromJSON(r$text)$.pred
  cat("POST /models/forest/predict (5 rows as columns, full precision)\n")
  print(data.frame(server = sprintf("%.15g", got), `predict()` = sprintf("%.15g", predict(models$forest$fit, batch)),
                   identical = got == unname(predict(models$forest$fit, batch)), check.names = FALSE), row.names = FALSE)

  r <- post("predict", '[{"wt": 2.6, "cyl": 6, "hp": "fast", "disp": 160}]')
  cat("\nA bad request: POST /predict [{\"wt\": 2.6, \"cyl\": 6, \"hp\": \"fast\", \"disp\": 160}]\n  ->", r$status, r$text, "\n")

  if (nzchar(Sys.which("wrk")) && nzchar(Sys.which("gcc")) && requireNamespace("plumber", quietly = TRUE)) {
    cat("\n== A short load test: single-row lm, 8 connections, 2 s each (bench/server.R has the full table) ==\n")
    set.seed(1)
    bodies <- write_bodies(work, models["lm"], sizes = 1)
    pl <- start_plumber(work, write_plumber_api(work, models["lm"]), build_nodelay_shim(work))
    a <- load_test(pl, bodies, "lm", 1, 8, 2)
    b <- load_test(srv, bodies, "lm", 1, 8, 2)
    cat(sprintf("Plumber (vetiver-style handler, TCP_NODELAY set): %6.0f req/s, p50 %s, p99 %s\n", a$rps, fmt_time(a$p50), fmt_time(a$p99)))
    cat(sprintf("fastpredict-server:                               %6.0f req/s, p50 %s, p99 %s  (%.0fx)\n",
                b$rps, fmt_time(b$p50), fmt_time(b$p99), b$rps / a$rps))
  } else {
    cat("\n(no load test: it needs wrk, gcc and the plumber package)\n")
  }
  cat("\nstopping the server\n")
}

main()
