"""Runs on fresh 3-node raft clusters (raft_cluster.py) through the leader or a standby, and the
--concurrency sweep through the leader."""
import re, subprocess, sys

import raft_cluster

from config import BIN, RAFT_DIR, RAFT_SWEEP_REPEAT, SWEEP, VC_TIMEOUT
from report import fratio, freq, last_err, say, write_results
from procs import measure_on, next_port, register, stop_server
from runs import vc_cmd, vc_measure, vc_parse


raft_infos = []      # (label, detail) for the summary
raft_starts = []     # seconds each cluster took to start


def new_cluster():
    return raft_cluster.RaftCluster(next_port, register, stop_server, parent=RAFT_DIR)


def raft_endpoint(c, where):
    """The leader, or a standby, of a running cluster as a measurement target."""
    li = c.leader_index()
    if li is None:
        raise RuntimeError("no active node")
    i = li if where == "leader" else next((j for j in range(len(c.nodes)) if j != li and c.nodes[j].health() == 429), None)
    if i is None:
        raise RuntimeError("no standby")
    ep = raft_cluster.Endpoint(c, i)
    ep.leader = li
    return ep


def raft_failed(e):
    msg = str(e)
    print(msg, file=sys.stderr, flush=True)  # with the nodes' log tails
    return {"ok": False, "err": msg.splitlines()[0] if msg else type(e).__name__, "s": None, "rss": None, "req": None}


def raft_once(cmd, timeout, where, is_vc, rerun=True, after=None):
    """A fresh cluster: cmd cold, then (optionally) again, through the leader or a standby;
    after(endpoint) runs before the cluster is stopped."""
    def one(ep):
        m = measure_on(ep, cmd, timeout)
        m["leader"], m["node"] = ep.leader, ep.index
        if is_vc:
            return vc_parse(m)
        m["ok"] = m["rc"] == 0
        return m
    try:
        with new_cluster() as c:
            raft_starts.append(c.start_s)
            ep = raft_endpoint(c, where)
            cold = one(ep)
            again = one(ep) if rerun and cold["ok"] else None
            if after and cold["ok"]:
                after(ep)
        return cold, again
    except Exception as e:
        return raft_failed(e), None


def default_concurrency():
    try:
        h = subprocess.run([BIN, "apply", "--help"], capture_output=True, text=True, timeout=30).stdout
        m = re.search(r"--concurrency\b[^\n]*\[default: (\d+)\]", h)
        return int(m.group(1)) if m else None
    except Exception:
        return None


def fnodes(m):
    """client / leader / followers CPU seconds of a measurement."""
    nodes, li = m.get("srv_cpu_nodes"), m.get("leader")
    if m.get("cpu") is None or not nodes or None in nodes or li is None:
        return "?"
    fol = [x for j, x in enumerate(nodes) if j != li]
    return f"{m['cpu']:.2f} / {nodes[li]:.2f} / {' + '.join(f'{x:.2f}' for x in fol)}"


def raft_sweep(plan, n, ceil_min, vcold):
    default = default_concurrency()
    say(f"### Raft: --concurrency sweep through the leader, N = {n}, cold "
        f"({'median of ' + str(RAFT_SWEEP_REPEAT) if RAFT_SWEEP_REPEAT > 1 else 'one run'} per value, fresh cluster each)")
    say()
    say("| --concurrency | cold s | all runs s | vs wrk minimum | requests r/w/l | stages (ms) | "
        "CPU s client / leader / followers | disk flushes per write | peak RSS MB |")
    say("|---:|---:|---|---:|---|---|---|---:|---:|")
    writes = 3 * n + 3
    best = None
    for c in SWEEP:
        if c == default and vcold.get("ok"):
            cold, src = vcold, " (default: the table above)"
        else:
            once = lambda p, conc, rerun, last: raft_once(vc_cmd(p, conc), VC_TIMEOUT, "leader", True, rerun)
            cold, _, _ = vc_measure(plan, conc=c, rerun=False, repeat=RAFT_SWEEP_REPEAT, once=once)
            src = ""
        if cold.get("ok"):
            s = cold["s"]
            if best is None or s < best[1]:
                best = (c, s)
            st = ", ".join(f"{x['stage']} {x['ms']}" for x in cold["timings"]["stages"])
            fl = f"{cold['flushes'] / writes:.1f}" if cold.get("flushes") is not None else "?"
            say(f"| {c}{src} | {s:.3f} | {' '.join(f'{x:.3f}' for x in cold.get('all_s', [s]))} | "
                f"{fratio(s, ceil_min)} | {freq(cold['req'])} | {st} | {fnodes(cold)} | {fl} | {cold['rss']:.1f} |")
        else:
            say(f"| {c} | error | | | | {last_err(cold)} | | | |")
    say()
    if best:
        say(f"- fastest: --concurrency {best[0]} ({best[1]:.3f} s)")
    say()
    write_results()
