#!/usr/bin/env bash
# Full check: install what the integration tests need (only when missing),
# then cargo fmt --check, clippy with warnings denied, and cargo test.
# Extra arguments go to `cargo test`, e.g. scripts/test.sh --test e2e -- bao
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

section "Prerequisites"
ensure_cargo_tools
ensure_bao
ensure_test_servers
ensure_schema_validator

section "Manifests and Dockerfile"
"$ROOT/scripts/check-manifests.sh"

section "cargo fmt --check"
cargo fmt --check

section "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets -- -D warnings

section "cargo test $*"
cargo test "$@"

section "All checks passed"
