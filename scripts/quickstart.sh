#!/usr/bin/env bash
# Quickstart: a local OpenBao dev server, then `vault-converge apply` of
# config/examples/quickstart.yaml twice (the second run should change nothing).
#
# Environment:
#   QUICKSTART_PORT   port of the dev server (default 8200; it also uses +1)
#   QUICKSTART_DEBUG  1 to build and run the debug binary instead of release
#   QUICKSTART_PLAN   plan to apply (default config/examples/quickstart.yaml)
#
# The server keeps running afterwards; its pid is in .quickstart/bao.pid and
# its log in .quickstart/bao.log. DEV ONLY: in-memory storage, root token "root".
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

PORT="${QUICKSTART_PORT:-8200}"
ADDR="http://127.0.0.1:${PORT}"
TOKEN="root"
PLAN="${QUICKSTART_PLAN:-config/examples/quickstart.yaml}"
STATE_DIR="$ROOT/.quickstart"
PID_FILE="$STATE_DIR/bao.pid"
ADDR_FILE="$STATE_DIR/bao.addr"
LOG_FILE="$STATE_DIR/bao.log"

[ -f "$PLAN" ] || die "plan not found: $PLAN"
mkdir -p "$STATE_DIR"

section "Build"
# Before the server: a build that fails leaves nothing running.
info "the first build compiles ~300 crates: several minutes on a small machine"
info "(later runs take seconds); cargo shows its progress below"
if [ "${QUICKSTART_DEBUG:-0}" = "1" ]; then
    cargo build
    profile_dir=debug
else
    cargo build --release
    profile_dir=release
fi
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/$profile_dir/vault-converge"
[ -x "$BIN" ] || die "built binary not found at $BIN"
info "binary: $BIN"

section "OpenBao"
ensure_bao

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# The pid recorded by an earlier quickstart, if that process is still a
# running bao; empty otherwise.
our_running_pid() {
    [ -f "$PID_FILE" ] || return 0
    local pid
    pid="$(cat "$PID_FILE" 2>/dev/null || true)"
    case "$pid" in '' | *[!0-9]*) return 0 ;; esac
    if kill -0 "$pid" 2>/dev/null && [ "$(ps -o comm= -p "$pid" 2>/dev/null)" = "bao" ]; then
        echo "$pid"
    fi
}

# True when the server at $ADDR is unsealed and accepts the root token.
server_usable() {
    VAULT_ADDR="$ADDR" VAULT_TOKEN="$TOKEN" bao token lookup >/dev/null 2>&1
}

section "OpenBao dev server on $ADDR"
pid="$(our_running_pid)"
if [ -n "$pid" ]; then
    recorded_addr="$(cat "$ADDR_FILE" 2>/dev/null || true)"
    if [ "$recorded_addr" != "$ADDR" ]; then
        die "a quickstart server (pid $pid) is already running on ${recorded_addr:-an unknown address}; stop it with: kill \$(cat .quickstart/bao.pid)"
    fi
    server_usable || die "quickstart server pid $pid on $ADDR does not accept the root token; see $LOG_FILE, or restart it: kill $pid"
    info "reusing the dev server we started earlier (pid $pid)"
else
    rm -f "$PID_FILE" "$ADDR_FILE"
    if port_open "$PORT"; then
        die "something we did not start already listens on 127.0.0.1:$PORT; stop it or pick another port with QUICKSTART_PORT=..."
    fi
    if port_open "$((PORT + 1))"; then
        die "port $((PORT + 1)) (the dev server's cluster port) is taken; pick another with QUICKSTART_PORT=..."
    fi
    launcher=()
    command -v setsid >/dev/null 2>&1 && launcher=(setsid)
    # -dev-no-store-token: leave the user's ~/.vault-token alone.
    nohup "${launcher[@]}" bao server -dev \
        -dev-root-token-id="$TOKEN" \
        -dev-listen-address="127.0.0.1:$PORT" \
        -dev-no-store-token \
        >"$LOG_FILE" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$PID_FILE"
    echo "$ADDR" >"$ADDR_FILE"
    info "started bao server -dev (pid $pid), log: .quickstart/bao.log"
    for _ in $(seq 1 150); do
        server_usable && break
        if ! kill -0 "$pid" 2>/dev/null; then
            rm -f "$PID_FILE" "$ADDR_FILE"
            tail -n 30 "$LOG_FILE" >&2 || true
            die "the dev server exited; log above (full log: $LOG_FILE)"
        fi
        sleep 0.2
    done
    server_usable || die "the dev server did not become ready within 30 s; see $LOG_FILE"
    info "ready"
fi

export VAULT_ADDR="$ADDR" VAULT_TOKEN="$TOKEN"

# run_apply BANNER: one timed `apply -f $PLAN`; stops the script on failure.
run_apply() {
    section "$1"
    local start end code=0
    start="$EPOCHREALTIME"
    "$BIN" apply -f "$PLAN" || code=$?
    end="$EPOCHREALTIME"
    if [ "$code" -ne 0 ]; then
        die "vault-converge apply exited with $code (server log: .quickstart/bao.log)"
    fi
    info "$(awk -v s="$start" -v e="$end" 'BEGIN { printf "took %.2f s", e - s }')"
}

run_apply "first apply: changes expected"
run_apply "second apply: expect 0 changes"

section "Done"
cat <<EOF
The dev server keeps running (pid $(cat "$PID_FILE"), in-memory, DEV ONLY).
Talk to it:

    export VAULT_ADDR=$ADDR VAULT_TOKEN=$TOKEN
    bao secrets list
    bao kv list app/
    bao kv get app/shop/config                  # the fixture the plan wrote
    bao read auth/kubernetes/role/shop-api      # a role it created
    bao policy read shop-api

Apply again:  VAULT_ADDR=$ADDR VAULT_TOKEN=$TOKEN $BIN apply -f $PLAN
Stop it:      kill \$(cat .quickstart/bao.pid)
EOF
