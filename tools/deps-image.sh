#!/bin/sh
# Checks for what `make image` and `make image-test` need and installs
# Debian's packages when run as root: podman, and runc (crun cannot run
# containers in sandboxes that mount cgroup v1 controllers); gcc and glibc's
# static libraries (libc6-dev) to link the static binary; and Rust at the
# server's MSRV, which Debian's own rustc is older than, so that comes from rustup.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
missing=""
command -v podman >/dev/null 2>&1 || missing="$missing podman"
command -v runc >/dev/null 2>&1 || missing="$missing runc"
if ! command -v gcc >/dev/null 2>&1; then
  missing="$missing gcc libc6-dev"
elif [ "$(gcc -print-file-name=libc.a)" = libc.a ]; then
  # gcc names the bare file when it finds no libc.a: without it, +crt-static cannot link.
  missing="$missing libc6-dev"
fi
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian packages:$missing"
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing || exit 1
  else
    echo "Building the image needs these Debian packages. Install them as root with:"
    echo "  apt-get update && apt-get install -y --no-install-recommends$missing"
    exit 1
  fi
fi

PATH="$PATH:$HOME/.cargo/bin"
msrv=$(sed -n 's/^rust-version *= *"\(.*\)"/\1/p' "$root/server/Cargo.toml")
have=$(rustc --version 2>/dev/null | cut -d' ' -f2)
if ! command -v cargo >/dev/null 2>&1 || [ -z "$have" ]; then
  echo "Building fastpredict-server needs Rust (cargo and rustc >= $msrv). Install it from https://rustup.rs"
  exit 1
fi
if [ "$(printf '%s\n%s\n' "$msrv" "$have" | sort -V | head -n1)" != "$msrv" ]; then
  echo "Building fastpredict-server needs rustc >= $msrv; this one is $have (rustup update, or https://rustup.rs)"
  exit 1
fi
exit 0
