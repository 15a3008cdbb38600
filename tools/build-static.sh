#!/bin/sh
# Builds fastpredict-server as one statically linked executable, for an
# image FROM scratch: glibc's static C runtime (`-C target-feature=+crt-static`
# on the host's own gnu target), so no musl target or toolchain is needed.
# The Dockerfile's builder stage and `make image` both build with this script.
# Usage: tools/build-static.sh OUT   (writes the executable to OUT)
set -eu
out=$1
root=$(cd "$(dirname "$0")/.." && pwd)
PATH="$PATH:$HOME/.cargo/bin"
target=$(rustc -vV | sed -n 's/^host: //p')
case "$target" in
  *-linux-gnu) ;;
  *) echo "build-static.sh: needs a *-linux-gnu host to link glibc statically; this one is $target" >&2; exit 1 ;;
esac
cd "$root/server"
# With --target, RUSTFLAGS reach the server's code but not build scripts or proc macros, which stay dynamic.
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" cargo build --release --locked --target "$target"
bin="target/$target/release/fastpredict-server"
# A dynamic executable would start here and fail in a scratch image with "no such file or directory".
if readelf -lW "$bin" | grep -q 'program interpreter'; then
  echo "build-static.sh: $bin is dynamically linked; an image FROM scratch could not run it" >&2
  exit 1
fi
mkdir -p "$(dirname "$out")"
cp "$bin" "$out"
echo "static binary: $out ($(du -k "$out" | cut -f1) KiB)"
