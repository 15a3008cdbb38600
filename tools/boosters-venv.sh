#!/bin/sh
# tools/boosters-venv.sh NAME PACKAGE...: a Python virtual environment
# .venv-boosters/NAME with the packages pip-installed (nothing system-wide);
# prints the path of its python. Used by `make fixtures` and `make bench`.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/.venv-boosters/$1"
shift
if [ ! -x "$dir/bin/python" ]; then
  python3 -m venv "$dir" >&2
fi
"$dir/bin/python" -m pip install -q --disable-pip-version-check "$@" >&2
echo "$dir/bin/python"
