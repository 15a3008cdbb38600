# fastpredict: `make demo` runs the main job, `make test` the tests.
# Both install what is missing (Debian packages when run as root) and
# build the package into a library inside this folder (R_LIB).

R_LIB ?= $(CURDIR)/.lib
RSCRIPT = R_LIBS="$(R_LIB)" Rscript
# R packages needed by the tests, demo and benchmarks (Debian: r-cran-<name>)
R_DEPS = testthat jsonlite bench rpart randomForest ranger gbm survival Matrix glmnet MASS httr processx plumber httpuv

# fastpredict-server, the standalone HTTP server (its own crate in server/)
SERVER = server/target/release/fastpredict-server
CARGO = PATH="$(PATH):$(HOME)/.cargo/bin" cargo
# Load generators and compilers the benchmarks run (command, or command:Debian package)
BENCH_TOOLS = wrk gcc h2load:nghttp2-client
# where `make serve` writes the demo's models, and its port
SERVE_MODELS ?= $(CURDIR)/.serve-models
PORT ?= 8080
# the container image `make image` builds (with podman) and `make image-test` runs
IMAGE ?= fastpredict-server:latest
# the project's Python environment (tools/venv.sh): kubernetes-validate for the manifest checks
VENV = $(CURDIR)/.venv

.PHONY: all deps venv install test demo bench check docs lint fuzz pipeline clean server serve image image-test manifests-check fixtures

all: install

deps:
	@tools/deps.sh $(R_DEPS)

venv:
	@tools/venv.sh

install: deps
	@mkdir -p "$(R_LIB)"
	R CMD INSTALL --no-multiarch --library="$(R_LIB)" .

test: install venv
	@tools/run-tests.sh

demo: install server
	$(RSCRIPT) demo/fastpredict.R
	FASTPREDICT_SERVER_BIN="$(CURDIR)/$(SERVER)" $(RSCRIPT) demo/serving.R

# bench/server.R loads both servers with wrk and compiles a shim with gcc;
# bench/grpc.R loads fastpredict-server with h2load (REST and gRPC);
# bench/boosters.R times Python's xgboost, LightGBM, treelite and lleaves
# (installed with pip into .venv-boosters/bench) beside fastpredict.
bench: install server
	@TOOLS="$(BENCH_TOOLS)" tools/deps.sh $(R_DEPS)
	@tools/boosters-venv.sh bench 'xgboost==3.2.0' 'lightgbm==4.7.0' 'treelite==4.8.1' \
	  'lleaves==1.3.0' 'llvmlite<0.44' 'numpy' >/dev/null
	cd server && $(CARGO) build --release --example grpc_frame
	$(RSCRIPT) bench/linear.R
	$(RSCRIPT) bench/trees.R
	$(RSCRIPT) bench/zoo.R
	$(RSCRIPT) bench/glmnet.R
	$(RSCRIPT) bench/server.R
	$(RSCRIPT) bench/grpc.R
	$(RSCRIPT) bench/boosters.R
	$(RSCRIPT) bench/plumber.R

server:
	cd server && $(CARGO) build --release
	@echo "built $(SERVER)"

# The server in the foreground on the demo's models (Ctrl-C stops it).
serve: install server
	@[ -f "$(SERVE_MODELS)/forest.json.gz" ] || $(RSCRIPT) demo/models.R "$(SERVE_MODELS)"
	$(SERVER) --models "$(SERVE_MODELS)" --default-model lm --port $(PORT)

# Mutation fuzzing of the engine's loader and predictor (src/rust/fuzz):
# `make fuzz N=1000000 SEED=1`, failing inputs in FUZZ_OUT. CHECKED=1
# builds with overflow checks and debug assertions on (profile
# fuzz-checked). Extra seed directories: FUZZ_SEEDS="dir ...".
N ?= 100000
SEED ?= 1
FUZZ_MEM_MB ?= 4096
FUZZ_BUDGET_MS ?= 2000
FUZZ_OUT ?= $(CURDIR)/src/rust/target/fuzz-findings
FUZZ_PROFILE = $(if $(CHECKED),fuzz-checked,release)
fuzz:
	cd src/rust && PATH="$$PATH:$$HOME/.cargo/bin" cargo build -j 2 --profile $(FUZZ_PROFILE) -p fastpredict-fuzz
	src/rust/target/$(FUZZ_PROFILE)/fastpredict-fuzz --inputs $(N) --seed $(SEED) --mem-mb $(FUZZ_MEM_MB) \
	  --budget-ms $(FUZZ_BUDGET_MS) --out "$(FUZZ_OUT)" --progress 100000 $(FUZZ_SEEDS)

# The container image (Dockerfile's runtime stage around a static binary built
# here; podman and runc from Debian), and its smoke test (not part of `make test`:
# it needs a container runtime, and skips saying why where there is none).
image:
	@tools/image.sh $(IMAGE)

image-test: image venv
	@$(VENV)/bin/python tools/image-test.py $(IMAGE)

# Every manifest in deploy/ against the Kubernetes and KServe schemas, offline
# (also run by `make test`); with the server built, its flags too.
manifests-check: venv
	@$(VENV)/bin/python tools/manifests-check.py $(if $(wildcard $(SERVER)),--server $(SERVER))

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
	rm -rf check src/rust/target src/*.o src/*.so server/target .serve-models .venv .venv-boosters
