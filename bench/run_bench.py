#!/usr/bin/env python3
"""Benchmark driver for scripts/bench.sh (project issue 6). Run it through scripts/bench.sh,
which installs the peers, builds the release binary and kills leftover servers on exit.

usage: run_bench.py N [N ...]

Environment (all set by scripts/bench.sh; defaults in brackets):
  BENCH_SHARED       directory with workload.py, fresh_bao.sh and the peers  [$ROOT/../shared/bench]
  BENCH_BIN          the vault-converge binary                               [$ROOT/target/release/vault-converge]
  BENCH_OUT          Markdown results file                                   [$ROOT/bench/results.md]
  BENCH_PIDFILE      file that gets one "pid pgid" line per started server (for the shell's EXIT trap)
  BENCH_REPEAT       vault-converge measurements per cell; the median is shown           [3]
  BENCH_WRK_SECONDS  duration of each wrk ceiling run (interleaved with the vault-converge repeats) [3]
  BENCH_LINEARITY    1: also time vault-converge cold and rerun at N = 100, 1000, 5000, 10000 (implied when 10000 is given)
  BENCH_SWEEP_N      N of the --concurrency sweep (runs when this N is among the given N) [1000]
  BENCH_SWEEP        the --concurrency values to sweep                                    [1 8 16 32 64]
  BENCH_PEERS        peers to run, e.g. "hvac raw_async"           [cli_apply hvac raw_async ansible]
  BENCH_PORT_BASE    first port to try for servers (ports go up by 2, busy ones are skipped) [28400]
  BENCH_RAFT         "0": skip the raft section; "only": the raft section alone                 [1]
  BENCH_RAFT_N       N of the raft section                                                     [1000]
  BENCH_RAFT_DIR     where the raft clusters' data dirs go (on disk, not tmpfs)   [system temp dir]
  BENCH_RAFT_SWEEP_REPEAT  runs per --concurrency value in the raft sweep                        [1]

Every measurement starts a fresh in-memory OpenBao dev server on 127.0.0.1 with the shared
fresh_bao.sh, runs the tool twice (cold, then rerun on the same server) under /usr/bin/time -v
with a timeout, and kills the server. A tool that fails or times out gets `error` in its cells.
The raft section (raft_section, cluster in raft_cluster.py) does the same on fresh 3-node raft
clusters with integrated storage on disk, through the leader and through a standby.

At N=1000, below the targets, what bounds the cold run and the rerun (floors.py): the server's
write ceiling for each kind of object the workload writes, with the workload's own bodies, and
each run's CPU floor: server, client and interrupt/softirq CPU seconds (from /proc) against what
the target leaves the client, compared with wrk's own CPU per request.

Modules: config.py (knobs, peers, targets), report.py (the Markdown report), procs.py (servers and
measured processes), runs.py (tool runs on fresh dev servers), ceilings.py (wrk ceilings),
dev_tables.py (the dev-server sections), raft_runs.py and raft_section.py (the raft section),
floors.py and raft_cluster.py as above.
"""
import os, platform, signal, subprocess, sys, tempfile, time
from datetime import datetime, timezone

from config import BIN, OUT, RAFT, RAFT_N, REPEAT, ROOT, SWEEP_N
from report import all_checks, say, write_results
from procs import stop_all
from dev_tables import linearity, sweep, table_for
from raft_runs import raft_infos
from raft_section import raft_section


def header(ns):
    def cmd(c):
        try:
            return subprocess.run(c, capture_output=True, text=True, timeout=30).stdout.strip()
        except Exception:
            return "?"
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    mem = next((l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")), "0")
    from importlib import metadata
    def ver(pkg):
        try:
            return f"{pkg} {metadata.version(pkg)}"
        except metadata.PackageNotFoundError:
            return f"{pkg} missing"
    pyv = ", ".join(ver(p) for p in ("hvac", "aiohttp", "ansible-core", "ansible-modules-hashivault"))
    say("## Benchmark results")
    say()
    env = "".join(f"{k}={os.environ[k]} " for k in ("BENCH_RAFT", "BENCH_RAFT_N", "BENCH_REPEAT", "BENCH_PEERS")
                  if k in os.environ)
    say(f"- date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; command: "
        f"`{env}scripts/bench.sh {' '.join(map(str, ns))}`")
    say(f"- machine: {os.cpu_count()} CPUs ({cpu}), {int(mem) // 1024 // 1024} GiB RAM, {platform.system()} {platform.release()}; "
        f"load average at start {' '.join(open('/proc/loadavg').read().split()[:3])}")
    kinds = [k for k, on in (("dev mode, in-memory, 127.0.0.1", RAFT != "only"),
                             ("raft section: 3 nodes, integrated storage on disk, 127.0.0.1", RAFT != "0")) if on]
    say(f"- server: {cmd(['bao', 'version'])} ({'; '.join(kinds)})")
    git = os.environ.get("BENCH_GIT") or cmd(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    say(f"- vault-converge: {cmd([BIN, '--version'])}, git {git} at build time, release build "
        f"(a private copy of target/release/vault-converge is measured)"
        f"{' — STALE: cargo build failed, previous binary' if os.environ.get('BENCH_STALE') else ''}")
    say(f"- peers: {pyv}, {(cmd(['wrk', '-v']) or 'wrk ?').split(' [')[0]}")
    say(f"- vault-converge cells: median of {REPEAT} fresh-server runs; peers: one run each; "
        "times are wall-clock seconds including process start; ratios are tool ÷ vault-converge "
        "(above 1× = vault-converge is faster); requests = reads/writes/lists from the JSON report")
    say()


def main():
    ns = [] if RAFT == "only" else [int(a) for a in sys.argv[1:]] or [50, 200, 1000]
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, stop_all)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="vc-bench-") as tmp:
        try:
            header(ns)
            write_results()
            known, ceil = {}, {}
            for n in ns:
                res = table_for(n, tmp)
                ceil[n] = res["ceil_min"]
                if res["vc_cold"].get("ok"):
                    known[n] = res["vc_cold"]
                if n == SWEEP_N:
                    sweep(n, tmp, res["ceil_min"])
            if ns and (os.environ.get("BENCH_LINEARITY") == "1" or 10000 in ns):
                linearity(tmp, known)
            if RAFT != "0":
                raft_section(tmp)
            say("### Target summary")
            say()
            for n, label, ok, detail in all_checks:
                say(f"- **{'PASS' if ok else 'FAIL'}** (N={n}) {label}: {detail}")
            for label, detail in raft_infos:
                say(f"- info (N={RAFT_N}) {label}: {detail}")
            say()
            say(f"(total benchmark time {time.monotonic() - t0:.0f} s)")
            write_results()
        finally:
            stop_all()
    print(f"\nwrote {OUT}", flush=True)


if __name__ == "__main__":
    main()
