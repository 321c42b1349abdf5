# syntax=docker/dockerfile:1
# genesys-exporter: the release binary on distroless/cc, run as 65532:65532 on a read-only root.
#
#   docker build -t genesys-exporter:0.1.0 .
#   docker run --read-only --user 65532:65532 -p 9856:9856 \
#     -v "$PWD/exporter.yaml:/etc/genesys-exporter/config.yaml:ro" \
#     -v genesys-exporter-state:/var/lib/genesys-exporter genesys-exporter:0.1.0
#
# tests/it/deploy.rs lints this file with hadolint and runs the binary under the same constraints
# (uid, read-only root, only the state directory writable) with bubblewrap.

# The toolchain the test suite runs with; at least Cargo.toml's rust-version (tests/it/deploy.rs
# checks). Bookworm, as the runtime: the binary links the same glibc (2.36) it runs on.
ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-slim-bookworm AS builder
WORKDIR /build
# Only what the build reads (.dockerignore allows nothing else into the context).
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
# The context has no .git: build.rs takes the revision and branch that `--version` and
# genesys_exporter_build_info report from these (a release build passes them).
ARG REVISION=""
ARG BRANCH=""
# --locked: exactly the dependency versions of Cargo.lock, or the build fails. The cache mounts
# keep the registry and compiled dependencies between builds; the binary is copied out of them.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/build/target \
    GENESYS_EXPORTER_REVISION="${REVISION}" GENESYS_EXPORTER_BRANCH="${BRANCH}" \
    cargo build --release --locked --bin genesys-exporter \
    && mkdir -p /out/state \
    && cp target/release/genesys-exporter /out/genesys-exporter

# distroless/cc: glibc, libgcc, CA certificates (rustls reads the system roots), a nonroot user
# (65532) and nothing else: no shell, no package manager. The binary needs no OpenSSL.
FROM gcr.io/distroless/cc-debian12:nonroot

# Cargo.toml's version (tests/it/deploy.rs checks); pass --build-arg VERSION=... for other builds.
ARG VERSION=0.1.0
# Set by a release build: --build-arg SOURCE=<repository URL> --build-arg REVISION=<commit>.
ARG SOURCE=""
ARG REVISION=""
LABEL org.opencontainers.image.title="genesys-exporter" \
      org.opencontainers.image.description="Prometheus exporter for Genesys Cloud queues: live observations as gauges, conversation aggregates as counters" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"

# Root-owned and not writable by the runtime user.
COPY --from=builder /out/genesys-exporter /usr/local/bin/genesys-exporter
# The only directory the exporter writes: the counter state (`state_dir`). Owned by 65532, so a
# fresh named or anonymous volume mounted here is writable too (Docker copies the ownership).
COPY --from=builder --chown=65532:65532 /out/state /var/lib/genesys-exporter
VOLUME ["/var/lib/genesys-exporter"]

# Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 65532:65532
EXPOSE 9856

# NB: no HEALTHCHECK: distroless has no shell or HTTP client to run one, and the exporter has no
# self-probe command. Orchestrators probe over HTTP instead: /healthz (liveness) and /readyz
# (readiness), as deploy/kubernetes/base/deployment.yaml does.
ENTRYPOINT ["/usr/local/bin/genesys-exporter"]
# Mount the config here (a Kubernetes ConfigMap, or -v ...:ro); GENESYS_EXPORTER_* variables
# override it. `demo --listen 0.0.0.0:9856` runs the embedded simulator instead, no config needed.
CMD ["run", "--config", "/etc/genesys-exporter/config.yaml"]
