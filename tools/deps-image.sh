#!/bin/sh
# Checks for what `make image` and `make image-test` need (podman, and runc:
# crun cannot run containers in sandboxes that mount cgroup v1 controllers)
# and installs Debian's packages when run as root.
set -u
missing=""
command -v podman >/dev/null 2>&1 || missing="$missing podman"
command -v runc >/dev/null 2>&1 || missing="$missing runc"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian packages:$missing"
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing || exit 1
else
  echo "Building the image needs these Debian packages. Install them as root with:"
  echo "  apt-get update && apt-get install -y --no-install-recommends$missing"
  exit 1
fi
