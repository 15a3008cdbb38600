# Runs the testthat suite against the installed package and prints one
# summary line counting tests (test_that() blocks).
Sys.setenv(NOT_CRAN = "true")  # run everything, as devtools::test() does
res <- testthat::test_dir("tests/testthat", package = "fastpredict", load_package = "installed",
                          reporter = testthat::ProgressReporter$new(show_praise = FALSE),
                          stop_on_failure = FALSE, stop_on_warning = FALSE)
df <- as.data.frame(res)
bad <- df$failed > 0 | df$error
cat(sprintf("\ntestthat: %d passed, %d failed, %d skipped\n",
            sum(!bad & !df$skipped), sum(bad), sum(!bad & df$skipped)))
