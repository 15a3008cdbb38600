#!/bin/sh
# The project's Python environment, .venv, with the packages of
# tools/requirements.txt from PyPI (kubernetes-validate and its schemas for
# the manifest checks). Does nothing when it is already up to date; installs
# Debian's python3 and python3-venv first when they are missing and this
# runs as root.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${VENV:-$root/.venv}
req=$root/tools/requirements.txt
[ -x "$venv/bin/python" ] && cmp -s "$req" "$venv/requirements.txt" && exit 0

if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian packages: python3 python3-venv"
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3 python3-venv || exit 1
  else
    echo "The manifest checks need Python 3 with venv. Install it as root with:"
    echo "  apt-get update && apt-get install -y --no-install-recommends python3 python3-venv"
    exit 1
  fi
fi
rm -rf "$venv"
python3 -m venv "$venv" || exit 1
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req" || exit 1
cp "$req" "$venv/requirements.txt"
echo "Python environment ready: $venv"
