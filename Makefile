# fastpredict: `make demo` runs the main job, `make test` the tests.
# Both install what is missing (Debian packages when run as root) and
# build the package into a library inside this folder (R_LIB).

R_LIB ?= $(CURDIR)/.lib
RSCRIPT = R_LIBS="$(R_LIB)" Rscript
# R packages needed by the tests, demo and benchmarks (Debian: r-cran-<name>)
R_DEPS = testthat jsonlite bench rpart randomForest ranger gbm survival Matrix httr processx plumber httpuv

# fastpredict-server, the standalone HTTP server (its own crate in server/)
SERVER = server/target/release/fastpredict-server
CARGO = PATH="$(PATH):$(HOME)/.cargo/bin" cargo
# where `make serve` writes the demo's models, and its port
SERVE_MODELS ?= $(CURDIR)/.serve-models
PORT ?= 8080

.PHONY: all deps install test demo bench check docs lint pipeline clean server serve

all: install

deps:
	@tools/deps.sh $(R_DEPS)

install: deps
	@mkdir -p "$(R_LIB)"
	R CMD INSTALL --no-multiarch --library="$(R_LIB)" .

test: install
	@tools/run-tests.sh

demo: install server
	$(RSCRIPT) demo/fastpredict.R
	FASTPREDICT_SERVER_BIN="$(CURDIR)/$(SERVER)" $(RSCRIPT) demo/serving.R

bench: install server
	$(RSCRIPT) bench/linear.R
	$(RSCRIPT) bench/trees.R
	$(RSCRIPT) bench/server.R
	$(RSCRIPT) bench/plumber.R

server:
	cd server && $(CARGO) build --release
	@echo "built $(SERVER)"

# The server in the foreground on the demo's models (Ctrl-C stops it).
serve: install server
	@[ -f "$(SERVE_MODELS)/forest.json.gz" ] || $(RSCRIPT) demo/models.R "$(SERVE_MODELS)"
	$(SERVER) --models "$(SERVE_MODELS)" --default-model lm --port $(PORT)

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

# Rust style and lints on every crate (the package's and the server's), and
# the MSRV written once (in DESCRIPTION; the server has its own, in its Cargo.toml).
lint:
	cd src/rust && cargo fmt --all --check && cargo clippy --all-targets -- -D warnings
	cd server && $(CARGO) fmt --check && $(CARGO) clippy --release --all-targets -- -D warnings
	@tools/check-msrv.sh

# Regenerate NAMESPACE and man/ from the roxygen comments (needs r-cran-roxygen2).
docs: install
	R_LIBS="$(R_LIB)" Rscript -e 'roxygen2::roxygenise(load_code = "installed")'

clean:
	rm -rf check src/rust/target src/*.o src/*.so server/target .serve-models
