#!/usr/bin/env bash
# Static (musl) release build of vault-converge WITHOUT Docker: the same build
# the Dockerfile's builder stage runs, then proof that the result is a static
# executable (no ELF interpreter, no shared libraries), which is what lets it
# run on gcr.io/distroless/static-debian12 (no libc in that image).
#
#   scripts/build-image.sh                      # build with the active toolchain
#   RUSTUP_TOOLCHAIN=1.90 scripts/build-image.sh  # with the Dockerfile's pinned one
#                                               # (rustup toolchain install 1.90 --profile minimal)
#
# Environment:
#   CARGO_TARGET_DIR   where cargo builds (default: target/); the binary ends up
#                      in $CARGO_TARGET_DIR/x86_64-unknown-linux-musl/release/
#   RUSTUP_TOOLCHAIN   toolchain to build with (rustup's own variable)
#
# Needs: rustup (to add the musl target: it downloads rust-std from the Rust
# distribution server), and musl-gcc from Debian's musl-tools (ring compiles C
# and assembly for the target). Both are installed here when missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

TARGET=x86_64-unknown-linux-musl

section "Rust target $TARGET"
command -v cargo >/dev/null 2>&1 || die "cargo not found; install Rust (rustup) first"
command -v rustup >/dev/null 2>&1 ||
    die "rustup not found: the musl target can only be added through rustup (rustup target add $TARGET)"
info "$(rustc --version)"
if rustup target list --installed | grep -qx "$TARGET"; then
    info "already installed"
else
    info "rustup target add $TARGET"
    if ! rustup target add "$TARGET"; then
        die "could not add the Rust target $TARGET. rustup downloads it (rust-std) from the Rust distribution server, which this machine apparently cannot reach. Either run this where that server is reachable, or build the container image (docker build -t vault-converge .), whose builder stage adds the target itself."
    fi
fi

section "musl C toolchain"
if ! command -v musl-gcc >/dev/null 2>&1; then
    apt_install musl-tools
fi
info "musl-gcc: $(command -v musl-gcc)"

section "cargo build --release --locked --target $TARGET"
start="$EPOCHREALTIME"
cargo build --release --locked --target "$TARGET"
end="$EPOCHREALTIME"
info "$(awk -v s="$start" -v e="$end" 'BEGIN { printf "took %.0f s", e - s }')"

BIN="${CARGO_TARGET_DIR:-$ROOT/target}/$TARGET/release/vault-converge"
[ -x "$BIN" ] || die "built binary not found at $BIN"

section "Is it static?"
command -v file >/dev/null 2>&1 || apt_install file
description="$(file -b "$BIN")"
info "file: $description"
case "$description" in
*"statically linked"* | *"static-pie linked"*) ;;
*) die "$BIN is not a static executable (file says: $description)" ;;
esac
# glibc's ldd prints "not a dynamic executable" (exit 1) for a plain static
# binary and "statically linked" for a static-pie one; anything else lists
# shared libraries that distroless/static does not have.
ldd_out="$(ldd "$BIN" 2>&1 || true)"
info "ldd: $ldd_out"
case "$ldd_out" in
*"not a dynamic executable"* | *"statically linked"*) ;;
*) die "ldd lists shared libraries for $BIN: $ldd_out" ;;
esac
if command -v readelf >/dev/null 2>&1; then
    if readelf -lW "$BIN" | grep -q 'INTERP'; then
        die "$BIN has an ELF interpreter (PT_INTERP); it would not start on distroless/static"
    fi
    if readelf -dW "$BIN" 2>/dev/null | grep -q '(NEEDED)'; then
        die "$BIN needs shared libraries: $(readelf -dW "$BIN" | grep '(NEEDED)' | tr -s ' ')"
    fi
    info "readelf: no PT_INTERP, no DT_NEEDED"
fi
"$BIN" --version >/dev/null || die "$BIN --version failed"
info "runs: $("$BIN" --version)"

section "Done"
size="$(stat -c %s "$BIN")"
info "$BIN"
info "$(awk -v s="$size" 'BEGIN { printf "%d bytes (%.1f MiB)", s, s / 1048576 }')"
info "Container image (where a Docker engine runs): docker build -t vault-converge ."
