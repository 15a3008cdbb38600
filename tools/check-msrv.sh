#!/bin/sh
# The minimum Rust version is written once, as Config/fastpredict/MSRV in
# DESCRIPTION; configure and tools/deps.sh read it from there. Cargo.toml's
# rust-version must be a literal, so check that it agrees, and that no other
# file names a different one.
set -u
cd "$(dirname "$0")/.."
msrv=$(sed -n 's/^Config\/fastpredict\/MSRV: *//p' DESCRIPTION)
status=0
cargo=$(sed -n 's/^rust-version *= *"\(.*\)"/\1/p' src/rust/Cargo.toml)
if [ "$cargo" != "$msrv" ]; then
  echo "src/rust/Cargo.toml has rust-version $cargo, DESCRIPTION says $msrv"
  status=1
fi
if ! grep -q "rustc (>= $msrv)" DESCRIPTION; then
  echo "DESCRIPTION's SystemRequirements does not say rustc (>= $msrv)"
  status=1
fi
if ! grep -q "Rust ≥ $msrv" README.md; then
  echo "README.md does not say Rust ≥ $msrv"
  status=1
fi
[ "$status" -eq 0 ] && echo "MSRV $msrv is consistent"
exit "$status"
