#!/bin/sh
# `make fixtures`: installs the libraries that made the booster fixtures
# (pip, into virtual environments under .venv-boosters/, nothing
# system-wide), regenerates tests/testthat/fixtures/boosters/ with
# tests/boosters/make-boosters.py, and checks the result with the reference
# evaluator (tests/boosters/check_semantics.py). The script is
# deterministic: unchanged libraries write byte-identical fixtures.
#
# Interpreters that already have the libraries can be named instead:
#   BOOSTERS_PYTHON  xgboost 3.2.0, lightgbm 4.7.0, pandas (the main run)
#   BOOSTERS_PY17    xgboost 1.7.6 and numpy < 2
#   BOOSTERS_PY21    xgboost 2.1.4 and numpy < 2
# After it, `make test` also regenerates the fixtures into a temporary
# directory and checks them there (test-import.R finds .venv-boosters/main).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv=tools/boosters-venv.sh

main=${BOOSTERS_PYTHON:-$($venv main 'xgboost==3.2.0' 'lightgbm==4.7.0' 'pandas' 'numpy')}
py17=${BOOSTERS_PY17:-$($venv xgb17 'xgboost==1.7.6' 'numpy<2')}
py21=${BOOSTERS_PY21:-$($venv xgb21 'xgboost==2.1.4' 'numpy<2')}

"$main" tests/boosters/make-boosters.py --out tests/testthat/fixtures/boosters \
  --old-python "$py17" --old-python "$py21"
"$main" tests/boosters/check_semantics.py | tail -n 1
