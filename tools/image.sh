#!/bin/sh
# `make image`: builds the Dockerfile's runtime stage with podman, without
# any registry. The builder stage (a Rust image) cannot be pulled here, so the
# same static build runs on the host (tools/build-static.sh) and the final
# stage is taken from the Dockerfile as it is, its COPY --from=builder
# pointed at that binary: the image is the one users build, layer for layer.
# Usage: tools/image.sh [TAG]   (default fastpredict-server:latest, also tagged with the crate's version)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
tag=${1:-fastpredict-server:latest}
"$root/tools/deps-image.sh"

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
"$root/tools/build-static.sh" "$ctx/fastpredict-server"

copy='COPY --from=builder /out/fastpredict-server '
awk -v copy="$copy" '
  /^FROM / { n = 0; delete stage }
  { stage[++n] = $0 }
  END {
    for (i = 1; i <= n; i++) {
      line = stage[i]
      if (index(line, copy) == 1) { sub(/--from=builder \/out\//, "", line); found = 1 }
      print line
    }
    if (!found) exit 1
  }' "$root/Dockerfile" > "$ctx/Containerfile" || {
  echo "image.sh: the Dockerfile's last stage has no line starting \"$copy\"" >&2
  exit 1
}

version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/server/Cargo.toml" | head -n1)
# Docker's format keeps the HEALTHCHECK (OCI image configs have no field for it).
podman build --format docker --file "$ctx/Containerfile" \
  --label "org.opencontainers.image.version=$version" \
  --tag "$tag" --tag "${tag%:*}:$version" "$ctx"
podman image inspect --format 'image {{.Id}}: {{.Size}} bytes, user {{.Config.User}}, entrypoint {{.Config.Entrypoint}}' "$tag"
