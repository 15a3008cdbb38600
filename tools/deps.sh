#!/bin/sh
# Checks what fastpredict needs to build and test, and installs missing
# Debian packages when run as root (otherwise says exactly what to run).
# Usage: [TOOLS="wrk gcc"] tools/deps.sh R-package...
# TOOLS: commands needed too, each from the Debian package of its name.
set -u

debs=""
add_deb() { case " $debs " in *" $1 "*) ;; *) debs="$debs $1" ;; esac; }

for t in ${TOOLS:-}; do command -v "$t" >/dev/null 2>&1 || add_deb "$t"; done

if ! command -v Rscript >/dev/null 2>&1 || ! command -v R >/dev/null 2>&1; then
  add_deb r-base-dev
  for p in "$@"; do add_deb "r-cran-$(echo "$p" | tr '[:upper:]' '[:lower:]')"; done
else
  # R headers and compilers come with r-base-dev
  [ -f "$(R RHOME)/include/R.h" ] || [ -f /usr/share/R/include/R.h ] || add_deb r-base-dev
  missing=$(Rscript --vanilla -e 'p <- commandArgs(TRUE); cat(p[!vapply(p, requireNamespace, NA, quietly = TRUE)])' "$@" 2>/dev/null)
  for p in $missing; do add_deb "r-cran-$(echo "$p" | tr '[:upper:]' '[:lower:]')"; done
fi

if [ -n "$debs" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian packages:$debs"
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $debs || exit 1
  else
    echo "fastpredict needs these Debian packages. Install them as root with:"
    echo "  apt-get update && apt-get install -y --no-install-recommends$debs"
    exit 1
  fi
fi

if ! Rscript --vanilla -e 'quit(status = getRversion() < "4.2")' >/dev/null 2>&1; then
  echo "fastpredict needs R >= 4.2; found $(R --version | head -n1)"
  exit 1
fi

PATH="$PATH:$HOME/.cargo/bin"
MSRV=$(sed -n 's/^Config\/fastpredict\/MSRV: *//p' "$(dirname "$0")/../DESCRIPTION")
if ! command -v cargo >/dev/null 2>&1; then
  echo "fastpredict needs Rust (cargo and rustc >= $MSRV). Install it from https://rustup.rs"
  exit 1
fi
exit 0
