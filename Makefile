# fastpredict: `make demo` runs the main job, `make test` the tests.
# Both install what is missing (Debian packages when run as root) and
# build the package into a library inside this folder (R_LIB).

R_LIB ?= $(CURDIR)/.lib
RSCRIPT = R_LIBS="$(R_LIB)" Rscript
# R packages needed by the tests, demo and benchmarks (Debian: r-cran-<name>)
R_DEPS = testthat jsonlite bench rpart randomForest ranger gbm survival Matrix glmnet

.PHONY: all deps install test demo bench check docs lint pipeline fixtures clean

all: install

deps:
	@tools/deps.sh $(R_DEPS)

install: deps
	@mkdir -p "$(R_LIB)"
	R CMD INSTALL --no-multiarch --library="$(R_LIB)" .

test: install
	@tools/run-tests.sh

demo: install
	$(RSCRIPT) demo/fastpredict.R

# bench/boosters.R times Python's xgboost, LightGBM, treelite and lleaves
# (installed with pip into .venv-boosters/bench) beside fastpredict.
bench: install
	@tools/boosters-venv.sh bench 'xgboost==3.2.0' 'lightgbm==4.7.0' 'treelite==4.8.1' \
	  'lleaves==1.3.0' 'llvmlite<0.44' 'numpy' >/dev/null
	$(RSCRIPT) bench/linear.R
	$(RSCRIPT) bench/trees.R
	$(RSCRIPT) bench/glmnet.R
	$(RSCRIPT) bench/boosters.R

# Regenerate the xgboost / LightGBM fixtures with the libraries themselves
# (installed with pip into .venv-boosters/; see tools/boosters-fixtures.sh).
fixtures:
	@tools/boosters-fixtures.sh

# R CMD check on the built tarball: no ERROR and no WARNING allowed.
check: deps
	rm -rf check && mkdir -p check
	cd check && R CMD build .. && \
	  _R_CHECK_FORCE_SUGGESTS_=false R CMD check --no-manual fastpredict_*.tar.gz; \
	  status=$$?; \
	  if grep -q "^Status:.*\(ERROR\|WARNING\)" fastpredict.Rcheck/00check.log; then status=1; fi; \
	  exit $$status

# The model pipeline short of deploying: train, then the gate (see
# inst/pipeline/ and .github/workflows/model.yml).
pipeline: install
	$(RSCRIPT) inst/pipeline/train.R --out pipeline-out
	$(RSCRIPT) inst/pipeline/gate.R --candidate pipeline-out --max-rmse 1

# Rust style and lints on every crate, and the MSRV written once (in DESCRIPTION).
lint:
	cd src/rust && cargo fmt --all --check && cargo clippy --all-targets -- -D warnings
	@tools/check-msrv.sh

# Regenerate NAMESPACE and man/ from the roxygen comments (needs r-cran-roxygen2).
docs: install
	R_LIBS="$(R_LIB)" Rscript -e 'roxygen2::roxygenise(load_code = "installed")'

clean:
	rm -rf check src/rust/target src/*.o src/*.so .venv-boosters
