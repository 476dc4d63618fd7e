"""What the benchmark measures and against what: paths, environment knobs, the peers and the targets."""
import os, sys


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.realpath(os.environ.get("BENCH_SHARED") or os.path.join(ROOT, "..", "shared", "bench"))
BIN = os.environ.get("BENCH_BIN") or os.path.join(ROOT, "target", "release", "vault-converge")
OUT = os.environ.get("BENCH_OUT") or os.path.join(ROOT, "bench", "results.md")
PIDFILE = os.environ.get("BENCH_PIDFILE")
REPEAT = max(1, int(os.environ.get("BENCH_REPEAT", "3")))
WRK_SECONDS = int(os.environ.get("BENCH_WRK_SECONDS", "3"))
SWEEP_N = int(os.environ.get("BENCH_SWEEP_N", "1000"))
SWEEP = [int(c) for c in os.environ.get("BENCH_SWEEP", "1 8 16 32 64").split()]
PY = sys.executable
TOKEN = "root"

# Peers: (name, command builder, max N or None, timeout per run in seconds).
PEERS = [
    ("cli_apply", lambda ops: ["bash", f"{SHARED}/cli_apply.sh", ops], 200, 600),
    ("hvac", lambda ops: [PY, f"{SHARED}/hvac_apply.py", ops], None, 600),
    ("raw_async", lambda ops: [PY, f"{SHARED}/raw_async.py", ops], None, 300),
    ("ansible", lambda ops: [PY, f"{SHARED}/ansible_apply.py", ops], 50, 900),
]
VC_TIMEOUT = 300
ONLY = os.environ.get("BENCH_PEERS", " ".join(p[0] for p in PEERS)).split()  # peers to run

# Targets (issues 6 and 15).
T_CEILING = 1.2      # vault-converge cold <= 1.2 x wrk write-ceiling minimum time, at N=1000
T_READ_CEILING = 1.3 # rerun <= 1.3 x the read-ceiling minimum (one read per object), at N=1000
T_CPU_MS = 0.08      # client CPU per request <= 0.08 ms at N=1000, cold and rerun
T_LINEAR = 1.2       # ms per request at N=10000 within 20% of N=1000's
T_RSS_10K_MB = 64    # peak RSS <= 64 MB at N=10000
T_OUTSIDE = 0.05     # time outside the stages <= 5% of the total at N=10000
T_CLI = 50           # >= 50x faster than cli_apply at N=200, cold
T_HVAC = 3           # >= 3x faster than hvac, cold
T_ANSIBLE = 500      # >= 500x faster than ansible on the no-op rerun at N=50
T_RERUN = 0.5        # rerun <= 0.5 x cold, and 0 writes
T_RSS_MB = 40        # peak RSS <= 40 MB at N=1000

RAFT = os.environ.get("BENCH_RAFT", "1")  # "0": skip the raft section; "only": nothing else
RAFT_N = int(os.environ.get("BENCH_RAFT_N", "1000"))
RAFT_DIR = os.environ.get("BENCH_RAFT_DIR") or None  # where the clusters' data dirs go [system temp dir]
RAFT_SWEEP_REPEAT = max(1, int(os.environ.get("BENCH_RAFT_SWEEP_REPEAT", "1")))
RAFT_PEERS = ("raw_async", "hvac")
# The dev-server targets, applied as info on raft (see the section's notes for why not pass/fail).
T_RAFT_COLD = 1.2    # cold <= 1.2 x wrk write-ceiling minimum
T_RAFT_RERUN = 1.3   # rerun <= 1.3 x read-ceiling minimum
