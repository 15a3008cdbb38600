#!/bin/sh
# `make test`: the testthat suite against the installed package, then the
# engine's cargo tests (unit, property and schema tests; the schema test
# also validates the models the R tests saved) and the fuzz crate's. Ends with one line
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

echo "== R tests (testthat) =="
FASTPREDICT_SCHEMA_OUT="$work/saved-models" R_LIBS="$lib" Rscript tools/testthat.R 2>&1 | tee "$work/r.log"
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
results=$(grep '^test result:' "$work/cargo.log")
if [ -n "$results" ]; then
  counts=$(echo "$results" | awk '{ for (i = 2; i <= NF; i++) { if ($i == "passed;") p += $(i-1); if ($i == "failed;") f += $(i-1) } } END { print p + 0, f + 0 }')
  passed=$((passed + ${counts% *}))
  failed=$((failed + ${counts#* }))
fi
if grep -q '^error\(\[E[0-9]*\]\)\?:' "$work/cargo.log" || [ -z "$results" ]; then
  echo "cargo test did not build or run"
  failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
