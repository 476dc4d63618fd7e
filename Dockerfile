# syntax=docker/dockerfile:1
# vault-converge image: one static (musl) binary on distroless/static, which
# has no shell and no libc but does ship a CA bundle and a nonroot user.
#
#   docker build -t vault-converge .
#   docker run --rm -v "$PWD/config/examples:/config:ro" \
#       -e VAULT_ADDR -e VAULT_TOKEN vault-converge validate -f /config/quickstart.yaml
#
# Without Docker, scripts/build-image.sh runs the same build and checks that
# the binary really is static.

# ---- builder ----------------------------------------------------------------
# Pinned toolchain; the crate's MSRV (Cargo.toml rust-version) is 1.89.
FROM rust:1.90-bookworm AS builder

ARG TARGET=x86_64-unknown-linux-musl

# musl-gcc: ring (rustls' crypto) compiles C and assembly for the target.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends musl-tools \
    && rm -rf /var/lib/apt/lists/*
# DL3008 (pin apt versions) is ignored on purpose: the base image tag already
# pins Debian bookworm, and pinning musl-tools=<version> would break the build
# as soon as a bookworm point release replaces that version in the archive.

RUN rustup target add "$TARGET"

WORKDIR /src

# Dependency layer: build every dependency against stub sources, so that this
# (slow) layer is reused until Cargo.toml or Cargo.lock change.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && cargo build --release --locked --target "$TARGET" \
    && rm -rf src

# The real build. COPY keeps the build context's mtimes, which may be older
# than the stub build above; touching the crate roots makes cargo rebuild it.
COPY src ./src
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked --target "$TARGET" \
    && cp "target/$TARGET/release/vault-converge" /vault-converge

# ---- runtime ----------------------------------------------------------------
# For production, pin the digest too: gcr.io/distroless/static-debian12:nonroot@sha256:...
FROM gcr.io/distroless/static-debian12:nonroot

LABEL org.opencontainers.image.title="vault-converge" \
      org.opencontainers.image.description="Converge a Vault or OpenBao server to a declarative YAML plan, then verify it works" \
      org.opencontainers.image.licenses="Apache-2.0"

COPY --from=builder /vault-converge /usr/local/bin/vault-converge

# distroless' nonroot user; the Kubernetes manifests run as the same uid/gid.
USER 65532:65532

# Absolute path: exec form does not depend on the image's PATH.
ENTRYPOINT ["/usr/local/bin/vault-converge"]
CMD ["apply", "-f", "/config/plan.yaml"]
