# fastpredict-server as a container image: a static binary in an otherwise
# empty image (no shell, no libc, no package manager), run as a non-root user.
#
#   docker build -t fastpredict-server .
#   docker run --rm -p 8080:8080 -v "$PWD/models:/mnt/models:ro" fastpredict-server
#
# Every NAME.json or NAME.json.gz in /mnt/models is served as NAME; flags go
# after the image name (`fastpredict-server --help` lists them with their
# FASTPREDICT_* variables). Where no base image can be pulled, `make image`
# builds this file's last stage around a static binary built on the host.

ARG RUST_IMAGE=docker.io/library/rust:1-bookworm

FROM ${RUST_IMAGE} AS builder
WORKDIR /src
# The server takes the engine by path, and the engine its package keys from src/rust's workspace.
COPY src/rust src/rust
COPY server server
COPY tools/build-static.sh tools/build-static.sh
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/server/target \
    tools/build-static.sh /out/fastpredict-server

FROM scratch
COPY --from=builder /out/fastpredict-server /usr/local/bin/fastpredict-server
# Numeric, so that Kubernetes' runAsNonRoot can check it without an /etc/passwd (distroless' "nonroot").
USER 65532:65532
VOLUME ["/mnt/models"]
EXPOSE 8080
# SIGTERM stops accepting, finishes the requests in flight and exits 0 (--shutdown-timeout bounds it).
STOPSIGNAL SIGTERM
# The binary probes its own /v2/health/ready: the image has no shell or curl.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["/usr/local/bin/fastpredict-server", "health"]
LABEL org.opencontainers.image.title="fastpredict-server" \
      org.opencontainers.image.description="Serves fastpredict model files over HTTP (Open Inference Protocol and vetiver), with no R" \
      org.opencontainers.image.licenses="MIT"
ENTRYPOINT ["/usr/local/bin/fastpredict-server"]
