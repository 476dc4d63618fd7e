#!/usr/bin/env bash
# Benchmark vault-converge against its peers (project issue 6).
#
#   scripts/bench.sh [N ...]        default: 50 200 1000
#
# For each N: one table, measured in this run on this machine, of cold apply time (fresh
# in-memory OpenBao dev server), rerun time (second run, same server), ratios to
# vault-converge, request counts and peak RSS; below it the wrk write ceiling and the
# issue's targets as PASS/FAIL, and what bounds the cold run and the rerun (the write ceiling of
# each kind of object in the workload, each run's CPU floor against its target; bench/floors.py).
# At N=1000 also a --concurrency sweep. All tables go to
# stdout and, as Markdown, to bench/results.md.
#
# The workload and the peers are used as they are from ../shared/bench (never copied):
# workload.py, fresh_bao.sh, cli_apply.sh (N <= 200), hvac_apply.py, raw_async.py,
# ansible_apply.py (N <= 50), wrk_ceiling.sh.
#
# Environment: BENCH_REPEAT (vault-converge runs per cell, median shown; default 3),
# BENCH_LINEARITY=1 (also N = 100, 1000, 5000, 10000 for vault-converge, cold and rerun; implied by N=10000),
# BENCH_WRK_SECONDS (default 3), BENCH_SWEEP ("1 8 16 32 64"), BENCH_SWEEP_N (1000),
# BENCH_PEERS ("cli_apply hvac raw_async ansible"; "" for vault-converge alone),
# BENCH_PORT_BASE (28400), BENCH_SHARED (default $ROOT/../shared/bench),
# BENCH_OUT (default bench/results.md), BENCH_NO_INSTALL=1 (skip the install steps),
# BENCH_HA (runs of the HA failover scenario, default 3; 0 to skip).
#
# Raft section (after the tables above): W(BENCH_RAFT_N) on real 3-node OpenBao raft clusters with
# integrated storage on disk (bench/raft_cluster.py, the recipe of tests/support/raft.rs; a fresh
# cluster per cold run), through the leader and through a standby: vault-converge (median of
# BENCH_REPEAT), raw_async and hvac; the wrk write and read ceilings on the leader, what limits the
# cold run (CPU, disk flushes vs an fsync probe), the standby's forwarding overhead, and a
# --concurrency sweep on the leader. BENCH_RAFT=0 skips it, BENCH_RAFT=only runs it alone (no
# dev-server tables, no HA runs unless BENCH_HA is set); BENCH_RAFT_N (default 1000);
# BENCH_RAFT_DIR (where the data dirs go; default the system temp dir, which must be on disk,
# not tmpfs); BENCH_RAFT_SWEEP_REPEAT (runs per sweep value, default 1).
# Servers listen on 127.0.0.1 only and are killed on exit, whatever happens.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

SHARED="${BENCH_SHARED:-$ROOT/../shared/bench}"
[ -d "$SHARED" ] || die "benchmark inputs not found at $SHARED (expected ../shared/bench beside the repo)"
SHARED="$(cd "$SHARED" && pwd -P)"
for f in workload.py fresh_bao.sh cli_apply.sh hvac_apply.py raw_async.py ansible_apply.py wrk_ceiling.sh; do
    [ -f "$SHARED/$f" ] || die "missing $SHARED/$f"
done
for n in "$@"; do
    [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer, got '$n'"
done

# Every server the driver starts is recorded here as "pid pgid"; the trap kills what is left.
PIDFILE="$(mktemp -t vc-bench-pids-XXXX)"
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
    local pid pgid
    if [ -n "${DRIVER_PID:-}" ] && kill -0 "$DRIVER_PID" 2>/dev/null; then
        kill -TERM "$DRIVER_PID" 2>/dev/null || true
        wait "$DRIVER_PID" 2>/dev/null || true
    fi
    while read -r pid pgid; do
        if [ -n "$pgid" ] && kill -0 "$pid" 2>/dev/null; then
            kill -TERM -- "-$pgid" 2>/dev/null || true
            sleep 0.5
            kill -KILL -- "-$pgid" 2>/dev/null || true
        fi
    done <"$PIDFILE"
    rm -f "$PIDFILE"
    if [ -n "${SNAPDIR:-}" ]; then rm -rf "$SNAPDIR"; fi
    if [ -n "${RAFTDIR:-}" ]; then rm -rf "$RAFTDIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

PY="$(command -v python3)" || die "python3 not found"

pip_install() { # pip_install PACKAGE: 0 when installed, message and 1 when not
    if PIP_ROOT_USER_ACTION=ignore "$PY" -m pip install --quiet --disable-pip-version-check "$1" >/dev/null 2>&1 ||
        PIP_ROOT_USER_ACTION=ignore "$PY" -m pip install --quiet --disable-pip-version-check \
            --user --break-system-packages "$1" >/dev/null 2>&1; then
        command -v pyenv >/dev/null 2>&1 && pyenv rehash >/dev/null 2>&1
        hash -r
        return 0
    fi
    printf '\033[33mwarning:\033[0m pip install %s failed; its peer will show "error"\n' "$1" >&2
    return 1
}

apt_get() { # apt_get PACKAGE...: install, running apt-get update only when the first try fails
    info "apt-get install $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1 ||
        { as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 &&
            as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1; } ||
        printf '\033[33mwarning:\033[0m apt-get install %s failed\n' "$*" >&2
}

if [ "${BENCH_NO_INSTALL:-0}" != 1 ]; then
    section "Prerequisites"
    ensure_bao
    "$PY" -c 'import hvac' 2>/dev/null || pip_install hvac || true
    "$PY" -c 'import aiohttp' 2>/dev/null || pip_install aiohttp || true
    command -v ansible-playbook >/dev/null 2>&1 || pip_install ansible-core || true
    "$PY" -c 'import ansible.modules.hashivault' 2>/dev/null || pip_install ansible-modules-hashivault || true
    command -v wrk >/dev/null 2>&1 || apt_get wrk
    [ -x /usr/bin/time ] || apt_get time
    command -v curl >/dev/null 2>&1 || apt_get curl
fi
[ -x /usr/bin/time ] || die "/usr/bin/time is needed for peak RSS (apt-get install time)"
command -v wrk >/dev/null 2>&1 || info "wrk missing: the ceiling will show error"

section "cargo build --release"
BIN="$ROOT/target/release/vault-converge"
if ! cargo build --release --quiet; then
    [ -x "$BIN" ] || die "cargo build --release failed and there is no $BIN"
    printf '\033[31mwarning:\033[0m cargo build --release failed: benchmarking the previous binary\n' >&2
    export BENCH_STALE=1
fi

# Benchmark a private copy: target/release may be rebuilt by someone else while this runs.
SNAPDIR="$(mktemp -d -t vc-bench-bin-XXXX)"
cp "$BIN" "$SNAPDIR/vault-converge"
BENCH_GIT="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
if [ -n "$(git -C "$ROOT" status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null)" ]; then
    BENCH_GIT="$BENCH_GIT (dirty tree)"
fi
export BENCH_GIT

if [ "${BENCH_RAFT:-1}" = only ]; then
    section "Benchmark: raft section only (N=${BENCH_RAFT_N:-1000})"
else
    section "Benchmark ${*:-50 200 1000}${BENCH_RAFT:+ (BENCH_RAFT=$BENCH_RAFT)}"
fi
# The raft clusters' data dirs go in here (on disk: BENCH_RAFT_DIR or the temp dir), removed on exit.
RAFTDIR="$(mktemp -d -p "${BENCH_RAFT_DIR:-${TMPDIR:-/tmp}}" vc-bench-raft-XXXX)"
export BENCH_SHARED="$SHARED" BENCH_BIN="$SNAPDIR/vault-converge" BENCH_PIDFILE="$PIDFILE" BENCH_RAFT_DIR="$RAFTDIR"
export BENCH_OUT="${BENCH_OUT:-$ROOT/bench/results.md}"
mkdir -p "$(dirname "$BENCH_OUT")"
"$PY" "$ROOT/bench/run_bench.py" "$@" &
DRIVER_PID=$!
rc=0
wait "$DRIVER_PID" || rc=$?
DRIVER_PID=

# HA: the leader of a real 3-node raft cluster is killed during W(1000),
# through a proxy that routes new connections to the active node (what a
# Kubernetes Service in front of the active pod does). The scenario lives in
# tests/e2e/ha.rs (cluster and proxy in tests/support); it prints its timings.
HA_RUNS="${BENCH_HA:-3}"
[ "${BENCH_RAFT:-1}" = only ] && HA_RUNS="${BENCH_HA:-0}"
if [ "$HA_RUNS" -gt 0 ]; then
    section "HA failover: leader killed during W(1000) through the active-node proxy, $HA_RUNS runs"
    for i in $(seq 1 "$HA_RUNS"); do
        cargo test --quiet --test e2e -- --exact \
            ha::leader_kill_during_apply_through_the_active_proxy_is_survived --nocapture 2>&1 |
            grep -E '^ha/|test result' || rc=1
    done
fi
exit "$rc"
