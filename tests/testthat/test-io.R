# Save/load, JSON text, the format version rules and the fixtures.

train <- gen_train(200, seed = 51)
fit <- glm(I(y > 0) ~ x1 * f + splines::bs(x2, 4) + o + offset(off), family = binomial, data = train)
m <- fp_compile(fit)
nd <- gen_new(train, 100, seed = 52)

test_that("save and load give bit-identical predictions, plain and gzip", {
  for (ext in c(".json", ".json.gz")) {
    path <- tempfile(fileext = ext)
    expect_identical(fp_save(m, path), path)
    m2 <- fp_load(path)
    expect_identical(predict_fast(m2, nd, type = "response"), predict_fast(m, nd, type = "response"))
    expect_identical(fp_to_json(m2), fp_to_json(m))
  }
  gz <- tempfile(fileext = ".json.gz")
  fp_save(m, gz)
  expect_identical(readBin(gz, "raw", 2), as.raw(c(0x1f, 0x8b)))
  # compression is recognised by content, whatever the name
  odd <- tempfile(fileext = ".model")
  fp_save(m, odd, compress = TRUE)
  expect_identical(predict_fast(fp_load(odd), nd), predict_fast(m, nd))
})

test_that("JSON text round trip", {
  txt <- fp_to_json(m)
  expect_type(txt, "character")
  m3 <- fp_from_json(txt)
  expect_identical(predict_fast(m3, nd), predict_fast(m, nd))
  expect_identical(fp_to_json(m3), txt)
  pretty <- fp_to_json(m, pretty = TRUE)
  expect_identical(predict_fast(fp_from_json(pretty), nd), predict_fast(m, nd))
  doc <- jsonlite::fromJSON(txt, simplifyVector = FALSE)
  expect_identical(doc$format, "fastpredict-model")
  expect_identical(doc$format_version, "1.6")
  expect_identical(doc$producer$source_class, list("glm", "lm"))
})

test_that("saving is atomic: no temporary file is left behind", {
  dir <- tempfile()
  dir.create(dir)
  path <- file.path(dir, "model.json")
  fp_save(m, path)
  fp_save(m, path)
  expect_identical(list.files(dir, all.files = TRUE, no.. = TRUE), "model.json")
  # a failed save leaves no file at all
  expect_error(fp_save(m, file.path(dir, "missing-dir", "m.json")), class = "fastpredict_error_io")
  expect_identical(list.files(dir, all.files = TRUE, no.. = TRUE, recursive = TRUE), "model.json")
})

test_that("corrupt, truncated, empty and foreign files are refused, naming the file", {
  good <- tempfile(fileext = ".json")
  fp_save(m, good)
  txt <- readChar(good, file.size(good))
  cases <- list(
    truncated = substr(txt, 1, nchar(txt) %/% 2),
    empty = "",
    blank = "  \n",
    not_json = "this is not json",
    other_format = sub("fastpredict-model", "something-else", txt, fixed = TRUE),
    no_version = sub("\"format_version\":\"1\\.[0-9]+\",", "", txt),
    broken_model = sub("\"coefficients\":[", "\"coefficients\":[1,", txt, fixed = TRUE)
  )
  for (nm in names(cases)) {
    path <- tempfile(pattern = nm, fileext = ".json")
    writeBin(charToRaw(cases[[nm]]), path)
    expect_error(fp_load(path), class = "fastpredict_error_corrupt_file", regexp = basename(path))
  }
  gz <- tempfile(fileext = ".json.gz")
  fp_save(m, gz)
  bytes <- readBin(gz, "raw", file.size(gz))
  writeBin(bytes[seq_len(length(bytes) %/% 2)], gz)
  expect_error(fp_load(gz), class = "fastpredict_error_corrupt_file", regexp = basename(gz))
  expect_error(fp_load(tempfile()), class = "fastpredict_error_io")
  expect_error(fp_from_json("{}"), class = "fastpredict_error_corrupt_file")
})

test_that("a newer major format version is refused, a newer minor one read", {
  txt <- fp_to_json(m)
  newer <- tempfile(fileext = ".json")
  writeBin(charToRaw(sub("\"format_version\":\"1\\.[0-9]+\"", "\"format_version\":\"2.0\"", txt)), newer)
  expect_error(fp_load(newer), class = "fastpredict_error_newer_format", regexp = "2\\.0")
  # even when the rest no longer parses
  writeBin(charToRaw("{\"format\":\"fastpredict-model\",\"format_version\":\"3.1\",\"trees\":1}"), newer)
  expect_error(fp_load(newer), class = "fastpredict_error_newer_format", regexp = basename(newer))
  minor <- sub("\"format_version\":\"1\\.[0-9]+\"", "\"format_version\":\"1.99\"", txt)
  expect_match(minor, "1.99", fixed = TRUE)
  minor <- sub("{", "{\"a_future_field\":[1,2,3],", minor, fixed = TRUE)
  expect_identical(predict_fast(fp_from_json(minor), nd), predict_fast(m, nd))
})

test_that("the format fixtures of every version still load and match predict()", {
  source(test_path("fixtures", "fixture-models.R"), local = TRUE)
  versions <- list.files(test_path("fixtures"), pattern = "^format-")
  expect_true(length(versions) >= 1)
  for (v in versions) {
    files <- list.files(test_path("fixtures", v))
    expect_true(all(sub("\\.json(\\.gz)?$", "", files) %in% names(fixture_models)))
    for (f in files) {
      entry <- fixture_models[[sub("\\.json(\\.gz)?$", "", f)]]
      fitted <- suppressWarnings(entry$fit())
      data <- fixture_data(entry)
      fm <- fp_load(test_path("fixtures", v, f))
      ref <- suppressWarnings(fixture_native(entry, fitted, data))
      got <- predict_fast(fm, data, type = entry$type)
      if (is.factor(ref)) {
        expect_identical(got, unname(ref), label = f)
      } else {
        expect_equal(unname(got), unname(ref), tolerance = 1e-12, label = f)
        if (is.matrix(ref)) expect_identical(colnames(got), colnames(ref), label = f)
      }
    }
  }
})

test_that("saved models follow the JSON Schema", {
  # Writes models of every kind where `make test` validates them against
  # inst/schema with a real JSON Schema validator (engine test `schema`).
  out <- Sys.getenv("FASTPREDICT_SCHEMA_OUT")
  skip_if(out == "", "FASTPREDICT_SCHEMA_OUT is not set (make test sets it)")
  dir.create(out, showWarnings = FALSE, recursive = TRUE)
  source(test_path("fixtures", "fixture-models.R"), local = TRUE)
  for (name in names(fixture_models)) {
    entry <- fixture_models[[name]]
    # (as make-fixtures.R: ranger's warning about levels it does not record)
    fp_save(suppressWarnings(fixture_compile(entry, entry$fit())), file.path(out, paste0(name, ".json")))
  }
  fp_save(m, file.path(out, "glm-generated.json.gz"))
  expect_true(length(list.files(out)) >= 4)
})
