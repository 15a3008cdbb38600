#!/bin/sh
# `make test`: builds fastpredict-server, runs the testthat suite against
# the installed package (its server test uses that binary), then the
# engine's cargo tests (unit, property and schema tests; the schema test
# also validates the models the R tests saved), the fuzz crate's (a bounded
# run and the regression inputs), the server's (unit and loopback HTTP
# tests, the replica-kill check) and the manifest checks of deploy/
# (against the Kubernetes and KServe schemas, in .venv). Ends with one line
# "N passed, M failed" over all of them; exits non-zero on any failure.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
lib=${R_LIB:-$root/.lib}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
PATH="$PATH:$HOME/.cargo/bin"

passed=0
failed=0

# Adds the counts of cargo's "test result:" lines in log $1 (named $2);
# a build that failed or ran nothing counts as one failure.
count_cargo() {
  results=$(grep '^test result:' "$1")
  if [ -n "$results" ]; then
    counts=$(echo "$results" | awk '{ for (i = 2; i <= NF; i++) { if ($i == "passed;") p += $(i-1); if ($i == "failed;") f += $(i-1) } } END { print p + 0, f + 0 }')
    passed=$((passed + ${counts% *}))
    failed=$((failed + ${counts#* }))
  fi
  if grep -q '^error\(\[E[0-9]*\]\)\?:' "$1" || [ -z "$results" ]; then
    echo "$2 did not build or run"
    failed=$((failed + 1))
  fi
}

echo "== fastpredict-server (cargo build --release) =="
if (cd server && cargo build --release 2>&1); then
  server_bin="$root/server/target/release/fastpredict-server"
else
  echo "fastpredict-server did not build"
  failed=$((failed + 1))
  server_bin=""
fi

echo "== R tests (testthat) =="
FASTPREDICT_SERVER_BIN="$server_bin" FASTPREDICT_SCHEMA_OUT="$work/saved-models" R_LIBS="$lib" Rscript tools/testthat.R 2>&1 | tee "$work/r.log"
line=$(grep '^testthat: ' "$work/r.log" | tail -n1)
if [ -n "$line" ]; then
  passed=$((passed + $(echo "$line" | sed 's/testthat: \([0-9]*\) passed.*/\1/')))
  failed=$((failed + $(echo "$line" | sed 's/.* \([0-9]*\) failed.*/\1/')))
else
  echo "the R test run did not finish"
  failed=$((failed + 1))
fi

echo "== Rust engine and fuzz tests (cargo test) =="
# the fuzz crate's tests: a bounded fuzz run seeded also with the models the
# R tests saved, and the replay of every regression input
(cd src/rust && FASTPREDICT_SCHEMA_OUT="$work/saved-models" cargo test -p fastpredict-engine -p fastpredict-fuzz 2>&1) | tee "$work/cargo.log"
count_cargo "$work/cargo.log" "cargo test (engine, fuzz)"

echo "== fastpredict-server tests (cargo test --release) =="
(cd server && cargo test --release 2>&1) | tee "$work/server.log"
count_cargo "$work/server.log" "cargo test (server)"

# Adds the counts of the closing line "$2: N passed, M failed" of log $1 (named $3).
count_line() {
  line=$(grep "^$2: [0-9]* passed, [0-9]* failed" "$1" | tail -n1)
  if [ -n "$line" ]; then
    passed=$((passed + $(echo "$line" | sed 's/.*: \([0-9]*\) passed.*/\1/')))
    failed=$((failed + $(echo "$line" | sed 's/.* \([0-9]*\) failed.*/\1/')))
  else
    echo "$3 did not finish"
    failed=$((failed + 1))
  fi
}

echo "== Kubernetes and KServe manifests (tools/manifests-check.py, and its own tests) =="
server_flag=""
[ -n "$server_bin" ] && server_flag="--server $server_bin"
"$root/.venv/bin/python" tools/manifests-check.py $server_flag 2>&1 | tee "$work/manifests.log"
count_line "$work/manifests.log" manifests "the manifest check"
"$root/.venv/bin/python" tools/manifests-check-test.py $server_flag 2>&1 | tee "$work/manifests-test.log"
count_line "$work/manifests-test.log" "manifests-check tests" "the manifest check's tests"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
