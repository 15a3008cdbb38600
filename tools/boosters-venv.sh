#!/bin/sh
# tools/boosters-venv.sh NAME PACKAGE...: a Python virtual environment
# .venv-boosters/NAME with the packages pip-installed (nothing system-wide);
# prints the path of its python. Used by `make fixtures` and `make bench`.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/.venv-boosters/$1"
shift
if [ ! -x "$dir/bin/python" ]; then
  if ! python3 -m venv "$dir" >&2; then
    # Debian keeps venv (and its pip) in python3-venv
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      rm -rf "$dir"
      apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >&2
      python3 -m venv "$dir" >&2
    else
      echo "Python's venv is missing: apt-get install python3-venv" >&2
      exit 1
    fi
  fi
fi
"$dir/bin/python" -m pip install -q --disable-pip-version-check "$@" >&2
echo "$dir/bin/python"
