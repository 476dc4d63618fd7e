"""Runs of vault-converge and the peers on fresh dev servers: cold, then the rerun on the same server."""
import json, os, statistics, subprocess

from config import BIN, PY, REPEAT, SHARED, VC_TIMEOUT
from procs import Server
def workload(kind, n, tmp):
    path = os.path.join(tmp, f"{kind}-{n}.{'yaml' if kind == 'plan' else 'json'}")
    if not os.path.exists(path):
        with open(path, "w") as f:
            subprocess.run([PY, f"{SHARED}/workload.py", kind, str(n)], stdout=f, check=True, timeout=120)
    return path


def vc_cmd(plan, conc=None, extra=()):
    c = [BIN, "apply", "--no-verify", "--output", "json", "-f", plan, *extra]
    return c + (["--concurrency", str(conc)] if conc else [])


def vc_parse(m):
    """Add the JSON report's fields to a measurement; sets m['ok']."""
    m["ok"] = False
    try:
        rep = json.loads(m["out"])
        m["req"] = rep["requests"]
        m["timings"] = rep["timings"]
        m["summary"] = rep.get("summary", {})
        m["ok"] = m["rc"] == 0
    except (ValueError, KeyError, TypeError):
        m["req"] = None
    return m


def vc_once(plan, conc=None, rerun=True, after=None):
    """Fresh server: cold apply, then (optionally) rerun on the same server; after(srv), when
    given, runs on that server once the rerun succeeded and its result is the rerun's "after"."""
    try:
        with Server() as srv:
            cold = vc_parse(srv.measure(vc_cmd(plan, conc), VC_TIMEOUT))
            again = vc_parse(srv.measure(vc_cmd(plan, conc), VC_TIMEOUT)) if rerun and cold["ok"] else None
            if after and again and again["ok"]:
                again["after"] = after(srv)
        return cold, again
    except Exception as e:  # server did not start
        return {"ok": False, "err": str(e), "s": None, "rss": None, "req": None}, None


def vc_measure(plan, conc=None, rerun=True, repeat=REPEAT, before_each=None, once=None, after=None):
    """REPEAT fresh-server runs; the run with the median cold time is the one shown.
    before_each() runs before every repeat (used to interleave the wrk ceiling runs);
    once(plan, conc, rerun, last) replaces vc_once (the raft section's fresh clusters);
    after(srv) is vc_once's (the read ceilings, on each rerun's own server)."""
    runs = []
    for i in range(repeat):
        if before_each:
            before_each()
        runs.append(once(plan, conc, rerun, i == repeat - 1) if once else vc_once(plan, conc, rerun, after))
    good = [r for r in runs if r[0]["ok"] and (not rerun or (r[1] and r[1]["ok"]))]
    if not good:
        return runs[0][0], runs[0][1], runs
    good.sort(key=lambda r: r[0]["s"])
    cold, again = good[len(good) // 2]
    cold = dict(cold, all_s=[r[0]["s"] for r in good])
    if again:
        again = dict(again, own_s=again["s"], s=statistics.median(r[1]["s"] for r in good),
                     all_s=[r[1]["s"] for r in good])
    return cold, again, runs


def peer_measure(cmd, timeout):
    try:
        with Server() as srv:
            cold = srv.measure(cmd, timeout)
            cold["ok"] = cold["rc"] == 0
            again = None
            if cold["ok"]:
                again = srv.measure(cmd, timeout)
                again["ok"] = again["rc"] == 0
        return cold, again
    except Exception as e:
        return {"ok": False, "err": str(e), "s": None, "rss": None}, None
