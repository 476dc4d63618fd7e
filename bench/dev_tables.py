"""The dev-server sections: one table per N with its target checks and what bounds the cold run
and the rerun, the --concurrency sweep, and the linearity table."""
import json, os, statistics, time
from types import SimpleNamespace

import floors

from config import (
    ONLY, PEERS, REPEAT, SWEEP, T_ANSIBLE, T_CEILING, T_CLI, T_CPU_MS, T_HVAC, T_LINEAR,
    T_OUTSIDE, T_READ_CEILING, T_RERUN, T_RSS_10K_MB, T_RSS_MB,
)
from report import check, fcpu, fratio, freq, fs, fstages, info, last_err, say, write_results
from runs import peer_measure, vc_measure, workload
from ceilings import mixed_read, read_rates, write_rates, wrk_ceiling


def table_for(n, tmp):
    """The table of one N: vault-converge and the peers on fresh servers, the wrk ceilings, and
    the targets that apply at this N with what bounds them."""
    st = SimpleNamespace(n=n, writes=3 * n + 3, plan=workload("plan", n, tmp), ops=workload("ops", n, tmp))
    say(f"### N = {n} ({st.writes} writes on a fresh server)")
    say()
    t0 = time.monotonic()
    load = " ".join(open("/proc/loadavg").read().split()[:3])
    measure_table(st)
    say_rows(st)
    say_cpu_and_stages(st)
    check_cold(st)
    check_peers(st)
    check_rerun(st)
    if n == 1000:
        rss = max([m["rss"] for m in (st.vcold, st.vre) if m and m.get("rss") is not None], default=None)
        check(n, f"peak RSS ≤ {T_RSS_MB} MB (N=1000)", rss is not None and rss <= T_RSS_MB,
              "error" if rss is None else f"{rss:.1f} MB")
    say(f"- (table measured in {time.monotonic() - t0:.0f} s; load average before it {load})")
    say()
    write_results()
    return {"ceil_min": st.ceil_min, "vc_cold": st.vcold}


def measure_table(st):
    """The wrk write ceiling (interleaved with the vault-converge repeats, median used), vault-converge
    (at N=1000 with the read ceilings on each rerun's own server), and the peers."""
    n, plan, ops = st.n, st.plan, st.ops
    # the ceiling is measured interleaved with the vault-converge repeats, median used
    ceilings = []
    # (at N=1000, where the ceiling is a target, before every repeat; elsewhere once)
    def ceiling_run():
        if n == 1000 or not ceilings:
            ceilings.append(wrk_ceiling())
    def read_ceilings_here(srv):
        # The read ceilings on the server the rerun just ran on, seconds later: the machine's
        # speed drifts between minutes, so each rerun is set against its own floor.
        cpu = {}
        try:
            return read_rates(srv, n, cpu), cpu, mixed_read(srv, n)
        except Exception:  # wrk missing or failing: "server read ceilings: error" below
            return {}, {}, (None, None)
    vcold, vre, vruns = vc_measure(plan, before_each=ceiling_run,
                                   after=read_ceilings_here if n == 1000 else None)
    rates = [c for c in ceilings if c[0]]
    ceiling = statistics.median(c[0] for c in rates) if rates else None
    ceil_cpu = statistics.median(c[1] for c in rates if c[1] is not None) if any(c[1] for c in rates) else None
    wrk_ms = statistics.median(c[2] for c in rates if c[2] is not None) if any(c[2] for c in rates) else None
    rows = {"vault-converge": (vcold, vre)}
    for name, mk, nmax, tmo in PEERS:
        if (nmax is not None and n > nmax) or name not in ONLY:
            continue
        rows[name] = peer_measure(mk(ops), tmo)
    st.vcold, st.vre, st.vruns, st.rows = vcold, vre, vruns, rows
    st.rates, st.ceiling, st.ceil_cpu, st.wrk_ms = rates, ceiling, ceil_cpu, wrk_ms
    st.vc_c = vcold["s"] if vcold.get("ok") else None
    st.vc_r = vre["s"] if vre and vre.get("ok") else None


def say_rows(st):
    """One row per tool, and why a tool failed."""
    vre, rows, vc_c, vc_r = st.vre, st.rows, st.vc_c, st.vc_r
    say("| tool | cold s | rerun s | cold ratio | rerun ratio | requests r/w/l (cold; rerun) | peak RSS MB |")
    say("|---|---:|---:|---:|---:|---|---:|")
    notes = []
    for name, (c, r) in rows.items():
        cs = c["s"] if c.get("ok") else None
        rs = r["s"] if r and r.get("ok") else None
        rss = max([m["rss"] for m in (c, r) if m and m.get("rss") is not None], default=None)
        req = ""
        if name == "vault-converge":
            req = f"{freq(c.get('req'))}; {freq(r.get('req') if r else None)}"
            if r and r.get("req") and r["req"]["writes"] != 0:
                req += " **FAIL: rerun wrote**"
        row = (f"| {name} | {fs(cs)} | {fs(rs)} | {fratio(cs, vc_c)} | {fratio(rs, vc_r)} | {req} | "
               f"{'error' if rss is None else f'{rss:.1f}'} |")
        say(row)
        if not c.get("ok"):
            notes.append(f"{name} cold failed: {last_err(c)}")
        elif r is not None and not r.get("ok"):
            notes.append(f"{name} rerun failed: {last_err(r)}")
        if name == "ansible":
            for label, m in (("cold", c), ("rerun", r)):
                if m and m.get("ok"):
                    try:
                        a = json.loads(m["out"].strip().splitlines()[-1])
                        notes.append(f"ansible {label}: items changed {a['items']['changed']} of {a['items']['ok']}")
                    except (ValueError, KeyError, IndexError):
                        pass
    if vre and vre.get("req") and vre["req"]["writes"] != 0:
        say(f"| **FAIL** | vault-converge rerun made {vre['req']['writes']} writes (expected 0) | | | | | |")
    say()
    for nt in notes:
        say(f"- note: {nt}")


def say_cpu_and_stages(st):
    """CPU seconds of client and server, all vault-converge runs, and its stages."""
    writes, vcold, vre, rows = st.writes, st.vcold, st.vre, st.rows
    cpus = []
    for name, (c, r) in rows.items():
        if c.get("ok") and c.get("cpu") is not None and c.get("srv_cpu") is not None:
            cpus.append(f"{name} {c['cpu']:.2f} / {c['srv_cpu']:.2f} ({1000 * c['srv_cpu'] / writes:.2f} ms per write)")
    if vre and vre.get("ok") and vre.get("cpu") is not None and vre.get("srv_cpu") is not None:
        cpus.append(f"vault-converge rerun {vre['cpu']:.2f} / {vre['srv_cpu']:.2f} ({1000 * vre['srv_cpu'] / writes:.2f} ms per read)")
    if cpus:
        say(f"- CPU seconds in the cold run, client / server: {'; '.join(cpus)}")
    if vcold.get("ok"):
        wall, tot = vcold["s"], vcold["timings"]["total_ms"] / 1000
        say(f"- vault-converge cold, all {len(vcold['all_s'])} runs: "
            f"{', '.join(f'{x:.3f}' for x in vcold['all_s'])} s (median shown); rerun: "
            f"{', '.join(f'{x:.3f}' for x in (vre or {}).get('all_s', []))} s")
        say(f"- vault-converge cold stages: {fstages(vcold['timings'])}; total_ms {vcold['timings']['total_ms']}; "
            f"wall − total_ms = {1000 * (wall - tot):.0f} ms (process start, plan load, readiness wait)")
        if vre and vre.get("ok"):
            say(f"- vault-converge rerun stages: {fstages(vre['timings'])}; total_ms {vre['timings']['total_ms']}")


def check_cold(st):
    """The wrk ceiling, the cold target against it with what bounds the cold run, and the client's
    CPU per request."""
    n, writes, ops, vcold, vre, rates, ceiling, ceil_cpu, wrk_ms, vc_c = (
        st.n, st.writes, st.ops, st.vcold, st.vre, st.rates, st.ceiling, st.ceil_cpu, st.wrk_ms, st.vc_c)
    ceil_min = writes / ceiling if ceiling else None
    say(f"- wrk ceiling: {ceiling:.0f} writes/s ({'median of ' if len(rates) > 1 else ''}{', '.join(f'{c[0]:.0f}' for c in rates)}) → minimum time for {writes} writes = {ceil_min:.3f} s"
        + (f" (server CPU {1000 * ceil_cpu:.2f} ms per policy write at the ceiling" if ceil_cpu else "")
        + (f"; wrk's own CPU {1000 * wrk_ms:.3f} ms per write)" if ceil_cpu and wrk_ms else ")" if ceil_cpu else "")
        if ceiling else "- wrk ceiling: error")
    # target checks
    if vc_c is not None and ceil_min:
        d = f"cold {vc_c:.3f} s vs {T_CEILING} × {ceil_min:.3f} = {T_CEILING * ceil_min:.3f} s ({vc_c / ceil_min:.2f}× the ceiling minimum)"
        check(n, f"cold ≤ {T_CEILING} × wrk-ceiling minimum", vc_c <= T_CEILING * ceil_min, d) if n == 1000 else info("cold vs wrk-ceiling minimum (target at N=1000)", d)
    elif n == 1000:
        check(n, f"cold ≤ {T_CEILING} × wrk-ceiling minimum", False, "not measured (error)")
    if n == 1000 and ceil_min:
        explain_cold(n, ops, vcold, writes, ceil_min, wrk_ms)
    if n == 1000:
        for label, m in (("cold", vcold), ("rerun", vre)):
            reqs = sum(m["req"].values()) if m and m.get("req") else 0
            if m and m.get("cpu") is not None and reqs:
                per = 1000 * m["cpu"] / reqs
                check(n, f"client CPU ≤ {T_CPU_MS} ms per request ({label})", per <= T_CPU_MS,
                      f"{m['cpu']:.2f} CPU-s for {reqs} requests = {per:.3f} ms")
    st.ceil_min = ceil_min


def check_peers(st):
    """vault-converge against the peers."""
    n, rows, vc_c, vc_r = st.n, st.rows, st.vc_c, st.vc_r
    def vs(peer, which, factor, label):
        c, r = rows.get(peer, (None, None))
        if c is None:
            return
        t = (c if which == "cold" else r)
        ts = t["s"] if t and t.get("ok") else None
        vt = vc_c if which == "cold" else vc_r
        if ts is None or vt is None:
            check(n, label, False, f"{peer} or vault-converge {which} errored")
        else:
            check(n, label, ts / vt >= factor,
                  f"{peer} {which} {ts:.3f} s / vault-converge {vt:.3f} s = {ts / vt:.1f}× (need ≥ {factor}×)")

    if n == 200:
        vs("cli_apply", "cold", T_CLI, f"≥ {T_CLI}× faster than cli_apply (cold, N=200)")
    vs("hvac", "cold", T_HVAC, f"≥ {T_HVAC}× faster than hvac (cold)")
    vs("raw_async", "cold", 1, "faster than raw_async (cold)")
    if n == 50:
        vs("ansible", "rerun", T_ANSIBLE, f"≥ {T_ANSIBLE}× faster than ansible on the no-op rerun (N=50)")


def check_rerun(st):
    """The rerun: no writes, against the cold run, and against the read ceilings."""
    n, vre, vruns, vc_c, vc_r, ceil_min = st.n, st.vre, st.vruns, st.vc_c, st.vc_r, st.ceil_min
    if vc_c is not None and vc_r is not None:
        w = vre["req"]["writes"]
        check(n, "rerun: 0 writes and ≤ 0.5 × cold", w == 0 and vc_r <= T_RERUN * vc_c,
              f"{w} writes; rerun {vc_r:.3f} s = {vc_r / vc_c:.2f}× cold {vc_c:.3f} s")
    else:
        check(n, "rerun: 0 writes and ≤ 0.5 × cold", False, "vault-converge errored")
    if n == 1000 and ceil_min:
        # Why the rerun target is out of reach: even at the server's own read and write
        # ceilings, one read per object takes more than half as long as one write per object.
        # (rerun s, read minimum s, rates, wrk CPU) of every repeat whose ceilings were measured
        per_run = []
        for _, again in vruns:
            rates, cpu, mixed = (again or {}).get("after") or ({}, {}, (None, None))
            if rates and all(rates.values()):
                per_run.append((again["s"], sum(n / r for r in rates.values()), rates, cpu, mixed))
        if per_run:
            per_run.sort(key=lambda x: x[0] / x[1])
            own_s, floor, rates, wrk_read, mixed = per_run[len(per_run) // 2]
            ratio = own_s / floor
            say("- server read ceilings (wrk GET, 16 connections), measured on each rerun's own server"
                " right after it; the repeat with the median ratio: "
                + ", ".join(f"{k} {r:.0f}/s" for k, r in rates.items())
                + f" → minimum time for the rerun's {3 * n} reads = {floor:.3f} s"
                + (f"; vs the write minimum {ceil_min:.3f} s that is {floor / ceil_min:.2f}×:"
                   f" the best ratio any client with one read per object can reach on this server"
                   f" (measured {vc_r / vc_c:.2f}×)" if vc_c and vc_r else ""))
            check(n, f"rerun ≤ {T_READ_CEILING} × read-ceiling minimum", ratio <= T_READ_CEILING,
                  f"median of {len(per_run)} repeats, each rerun against the read minimum of its own server: "
                  + ", ".join(f"{s:.3f}/{f:.3f} s = {s / f:.2f}×" for s, f, *_ in per_run)
                  + f" → {ratio:.2f}× (need ≤ {T_READ_CEILING}×)")
            median_run = next((a for _, a in vruns if a and a.get("s") == own_s), None)
            explain_rerun(median_run, T_READ_CEILING * floor, wrk_read)
            rerun_beyond_the_floor(median_run, floor, mixed, n)
        else:
            say("- server read ceilings: error")


def rerun_beyond_the_floor(run, floor, mixed, n):
    """What the rerun costs beyond its read minimum: the server's CPU per read against wrk's
    over the same objects, and the time outside the stages."""
    if not run or not run.get("ok"):
        return
    reads = run["req"]["reads"]
    rate, wrk_per = mixed
    if run.get("srv_cpu") is not None and reads:
        say(f"- the server's CPU per read in that rerun: {1000 * run['srv_cpu'] / reads:.3f} ms "
            f"({run['srv_cpu']:.2f} CPU-s for {reads} reads)"
            + (f"; wrk reading the same {3 * n} objects, every kind in random order, right after on the "
               f"same server (16 connections, {rate:.0f} reads/s): {1000 * wrk_per:.3f} ms" if wrk_per else ""))
    stages = sum(s["ms"] for s in run["timings"]["stages"]) / 1000
    outside = run["s"] - stages
    say(f"- outside the stages in that rerun: {1000 * outside:.0f} ms (process start, plan load and "
        f"session before the first read; the report and exit after the last) = "
        f"{100 * outside / floor:.0f}% of the read minimum")


def explain_cold(n, ops, vcold, writes, ceil_min, wrk_ms):
    """Why the cold target is met or not: the ceiling of each kind of write in the workload and
    the cold run's CPU floor (floors.py)."""
    kinds = write_rates(json.load(open(ops)))
    if not all(k[0] for k in kinds.values()):
        say("- write ceilings per kind: error (" + "; ".join(f"{k}: {v[1]}" for k, v in kinds.items() if not v[0]) + ")")
        return
    mix = sum(n / r for r, _, _ in kinds.values())
    srv = sum(n * c for _, c, _ in kinds.values() if c is not None)
    say("- write ceilings per kind, with the workload's own bodies (wrk POST, 16 connections, a fresh server each): "
        + ", ".join(f"{k} {r:.0f}/s (server CPU {1000 * c:.2f} ms per write)" if c else f"{k} {r:.0f}/s"
                    for k, (r, c, _) in kinds.items())
        + f" → the workload's {3 * n} writes at their own ceilings take {mix:.3f} s = {mix / ceil_min:.2f}× the"
        f" policy-write minimum; the server's CPU for them {srv:.2f} CPU-s"
        + (f" (the cold run's server used {vcold['srv_cpu']:.2f})" if vcold.get("srv_cpu") is not None else ""))
    if vcold.get("ok") and None not in (vcold.get("srv_cpu"), vcold.get("cpu")):
        say(floors.cpu_floor("cold", vcold["s"], T_CEILING * ceil_min, vcold["srv_cpu"], vcold["cpu"],
                             sum(vcold["req"].values()), 1000 * wrk_ms if wrk_ms else None, os.cpu_count(),
                             vcold.get("machine")))


def explain_rerun(vre, target, wrk_read):
    """The rerun's CPU floor against its target (floors.py)."""
    per = [v for v in wrk_read.values() if v is not None]
    if vre and vre.get("ok") and None not in (vre.get("srv_cpu"), vre.get("cpu")):
        say(floors.cpu_floor("rerun", vre.get("own_s", vre["s"]), target, vre["srv_cpu"], vre["cpu"], sum(vre["req"].values()),
                             1000 * statistics.mean(per) if per else None, os.cpu_count(), vre.get("machine")))


def sweep(n, tmp, ceil_min):
    plan = workload("plan", n, tmp)
    say(f"### --concurrency sweep, N = {n}, cold (median of {REPEAT}, fresh server each)")
    say()
    say("| --concurrency | cold s | all runs s | vs wrk minimum | requests r/w/l | stages (ms) | CPU s client / server | peak RSS MB |")
    say("|---:|---:|---|---:|---|---|---|---:|")
    best = None
    for c in SWEEP:
        cold, _, _ = vc_measure(plan, conc=c, rerun=False)
        if cold.get("ok"):
            s = cold["s"]
            if best is None or s < best[1]:
                best = (c, s)
            st = ", ".join(f"{x['stage']} {x['ms']}" for x in cold["timings"]["stages"])
            say(f"| {c} | {s:.3f} | {' '.join(f'{x:.3f}' for x in cold['all_s'])} | "
                f"{fratio(s, ceil_min)} | {freq(cold['req'])} | {st} | {fcpu(cold)} | {cold['rss']:.1f} |")
        else:
            say(f"| {c} | error | | | | {last_err(cold)} | | |")
    say()
    if best:
        say(f"- fastest: --concurrency {best[0]} ({best[1]:.3f} s)")
    say()
    write_results()


def linearity(tmp, known):
    say("### Linearity: vault-converge time per request, cold and rerun")
    say()
    say("| N | requests | cold s | ms per request | rerun s | ms per request | outside stages (cold) | peak RSS MB |")
    say("|---:|---:|---:|---:|---:|---:|---:|---:|")
    per, rows = {}, {}
    for n in (100, 1000, 5000, 10000):
        cold, again, _ = vc_measure(workload("plan", n, tmp), rerun=True, repeat=1 if n >= 5000 else REPEAT)
        w = 3 * n + 3
        if cold.get("ok") and again and again.get("ok"):
            per[n] = (cold["s"] / w, again["s"] / w)
            tot = cold["timings"]["total_ms"] / 1000
            stages = sum(s["ms"] for s in cold["timings"]["stages"]) / 1000
            outside = 1 - stages / cold["s"]
            rss = max(cold.get("rss") or 0, again.get("rss") or 0)
            rows[n] = (outside, rss)
            say(f"| {n} | {w} | {cold['s']:.3f} | {1000 * per[n][0]:.3f} | {again['s']:.3f} | {1000 * per[n][1]:.3f} "
                f"| {100 * outside:.1f}% ({cold['s'] - stages:.3f} s; total_ms {tot:.3f}) | {rss:.1f} |")
        else:
            say(f"| {n} | {w} | error | | | | | |")
    say()
    if 1000 in per and 10000 in per:
        for i, label in ((0, "cold"), (1, "rerun")):
            r = per[10000][i] / per[1000][i]
            check(10000, f"linear ({label}): ms per request at N=10000 within {round(100 * (T_LINEAR - 1))}% of N=1000's",
                  r <= T_LINEAR, f"{1000 * per[10000][i]:.3f} vs {1000 * per[1000][i]:.3f} ms ({r:.2f}×)")
    if 10000 in rows:
        outside, rss = rows[10000]
        check(10000, f"peak RSS ≤ {T_RSS_10K_MB} MB", rss <= T_RSS_10K_MB, f"{rss:.1f} MB")
        check(10000, f"time outside the stages ≤ {round(100 * T_OUTSIDE)}% of the total", outside <= T_OUTSIDE,
              f"{100 * outside:.1f}%")
    say()
    write_results()
