"""The raft section: the ceiling cluster (standby behaviour, fsync rate, wrk write ceiling), the
runs through the leader and a standby, and what limits the cold run there."""
import os, statistics, tempfile, time
from types import SimpleNamespace

import raft_cluster

from config import (
    ONLY, PEERS, RAFT_DIR, RAFT_N, RAFT_PEERS, REPEAT, SWEEP, T_RAFT_COLD, T_RAFT_RERUN,
    VC_TIMEOUT, WRK_SECONDS,
)
from report import fratio, freq, fs, info, last_err, say, write_results
from runs import vc_cmd, vc_measure, workload
from ceilings import read_rates, wrk_write
from raft_runs import (
    fnodes, new_cluster, raft_endpoint, raft_failed, raft_infos, raft_once, raft_starts,
    raft_sweep,
)


def ok_s(m):
    """A measurement's seconds, or None when it failed."""
    return m["s"] if m and m.get("ok") else None


def raft_section(tmp):
    n = RAFT_N
    st = SimpleNamespace(n=n, writes=3 * n + 3, plan=workload("plan", n, tmp), ops=workload("ops", n, tmp),
                         t0=time.monotonic(), load=" ".join(open("/proc/loadavg").read().split()[:3]))
    say_intro(st)
    ceiling_cluster(st)
    measure_runs(st)
    say_table(st)
    say_ceilings(st)
    say_cold_limits(st)
    say_standby_and_disk(st)
    say_targets(st)
    say("- why info and not pass/fail: wrk_ceiling.sh measures ACL policy writes over 16 connections; on "
        "raft those are applied one commit at a time, while KV writes share commits, so W(N) can finish "
        "under the \"minimum\" (ratio below 1×) and the write ratio is not a distance to a ceiling; and "
        f"the three nodes, the client and wrk share this machine's {os.cpu_count()} CPUs and one disk, "
        "unlike a real cluster. The ratios show where a run stands against the dev-server targets, "
        "not targets a raft cluster can be held to.")
    say(f"- (raft section measured in {time.monotonic() - st.t0:.0f} s; load average before it {st.load})")
    say()
    write_results()
    if SWEEP:  # through the leader
        raft_sweep(st.plan, n, st.ceil_min, st.vcold)


def say_intro(st):
    """The section's heading and how its clusters are made."""
    n, writes = st.n, st.writes
    parent = RAFT_DIR or tempfile.gettempdir()
    fstype, dev = raft_cluster.fs_of(parent)
    say("### Raft (3 nodes, integrated storage on disk)")
    say()
    say(f"W({n}) = {writes} writes. Every cold run gets a fresh 3-node OpenBao cluster on loopback "
        f"(the recipe of tests/support/raft.rs: node0 initialized with 1 key share and unsealed, "
        f"node1 and node2 joined through sys/storage/raft/join, all three voters, "
        f"performance_multiplier = 1), data dirs under {parent} ({fstype} on {dev}), every node on "
        f"this machine's {os.cpu_count()} CPUs and one disk. Through the leader's address and "
        f"through a standby's. vault-converge: median of {REPEAT} clusters; peers: one run each.")
    say()
    if fstype in ("tmpfs", "ramfs", "overlay"):
        say(f"- **warning**: {parent} is {fstype}: fsync costs nothing there, so these numbers are not "
            "disk-bound as on a real server (set BENCH_RAFT_DIR to a directory on disk)")
    st.fstype, st.dev = fstype, dev


def ceiling_cluster(st):
    """The ceiling cluster: how a standby answers a write, the disk's fsync rate, the wrk write ceiling."""
    probe, fsync = {}, None
    ceiling = ceil_cpu = ceil_m = None
    try:
        with new_cluster() as c:
            raft_starts.append(c.start_s)
            ep = raft_endpoint(c, "leader")
            sb = raft_endpoint(c, "standby")
            pol = {"policy": 'path "app/data/probe/*" { capabilities = ["read"] }'}
            code, body = c.api(sb.index, "PUT", "sys/policies/acl/bench-standby-probe", pol)
            probe = {"node": sb.index, "write": code,
                     "location": body.get("location") if isinstance(body, dict) else None}
            t = time.monotonic()
            probe["read"] = c.api(sb.index, "GET", "sys/policies/acl/bench-standby-probe")[0]
            seen = probe["read"]
            while seen != 200 and time.monotonic() - t < 5:
                time.sleep(0.002)
                seen = c.api(sb.index, "GET", "sys/policies/acl/bench-standby-probe")[0]
            probe["visible_ms"] = 1000 * (time.monotonic() - t) if seen == 200 else None
            if code in (200, 204):
                c.api(ep.index, "DELETE", "sys/policies/acl/bench-standby-probe")
            fsync = {}
            for key, dirs in (("one", [c.nodes[ep.index].data_dir]), ("all", [x.data_dir for x in c.nodes])):
                f0 = raft_cluster.disk_flushes(dirs[0])
                rate, count = raft_cluster.fsync_rate(dirs, 1.0)
                f1 = raft_cluster.disk_flushes(dirs[0])
                fsync[key] = rate
                fsync[key + "_per"] = (f1 - f0) / count if None not in (f0, f1) and count else None
            ceiling, ceil_cpu, ceil_m = wrk_write(ep)
    except Exception as e:
        raft_failed(e)
    st.probe, st.fsync, st.ceiling, st.ceil_cpu, st.ceil_m = probe, fsync, ceiling, ceil_cpu, ceil_m
    st.ceil_min = st.writes / ceiling if ceiling else None


def measure_runs(st):
    """vault-converge and the peers through the leader (the read ceilings on vault-converge's last
    cluster), then through a standby: forwarded as probed, or redirected (then vault-converge with
    --follow-redirects, and no peers)."""
    n, plan, ops = st.n, st.plan, st.ops
    reads = {}

    def read_hook(ep):
        reads.update(read_rates(ep, n))

    vc_once_leader = lambda p, conc, rerun, last: raft_once(vc_cmd(p, conc), VC_TIMEOUT, "leader", True, rerun,
                                                            read_hook if last else None)
    rows = []  # (via, tool, cold, rerun)
    vcold, vre, _ = vc_measure(plan, once=vc_once_leader)
    rows.append(("leader", "vault-converge", vcold, vre))
    peers = [(name, mk, tmo) for name, mk, nmax, tmo in PEERS if name in RAFT_PEERS and name in ONLY]
    for name, mk, tmo in peers:
        rows.append(("leader", name, *raft_once(mk(ops), tmo, "leader", False)))
    read_min = sum(n / r for r in reads.values()) if reads and all(reads.values()) else None

    redirects = st.probe.get("write") in (301, 302, 307, 308)
    extra = ("--follow-redirects",) if redirects else ()
    vc_once_sb = lambda p, conc, rerun, last: raft_once(vc_cmd(p, conc, extra), VC_TIMEOUT, "standby", True, rerun)
    scold, sre, _ = vc_measure(plan, once=vc_once_sb)
    rows.append(("standby", "vault-converge" + (" --follow-redirects" if redirects else ""), scold, sre))
    if not redirects:
        for name, mk, tmo in peers:
            rows.append(("standby", name, *raft_once(mk(ops), tmo, "standby", False)))
    st.reads, st.rows, st.read_min, st.redirects = reads, rows, read_min, redirects
    st.vcold = vcold
    st.vc = {"leader": (vcold, vre), "standby": (scold, sre)}


def say_table(st):
    """One row per tool and way in."""
    writes, vc = st.writes, st.vc
    say("| via | tool | cold s | rerun s | cold ratio | rerun ratio | cold ÷ write-ceiling min | "
        "rerun ÷ read-ceiling min | requests r/w/l (cold; rerun) | CPU s cold: client / leader / followers | "
        "disk flushes per write (cold) | peak RSS MB |")
    say("|---|---|---:|---:|---:|---:|---:|---:|---|---|---:|---:|")
    notes = []
    for via, name, c, r in st.rows:
        cs, rs = ok_s(c), ok_s(r)
        vcs, vrs = ok_s(vc[via][0]), ok_s(vc[via][1])
        rss = max([m["rss"] for m in (c, r) if m and m.get("rss") is not None], default=None)
        req = ""
        if name.startswith("vault-converge"):
            req = f"{freq(c.get('req'))}; {freq(r.get('req') if r else None)}"
            if r and r.get("req") and r["req"]["writes"] != 0:
                req += f" **rerun wrote {r['req']['writes']}**"
        fl = f"{c['flushes'] / writes:.1f}" if cs is not None and c.get("flushes") is not None else ""
        say(f"| {via} | {name} | {fs(cs)} | {fs(rs)} | {fratio(cs, vcs)} | {fratio(rs, vrs)} | "
            f"{fratio(cs, st.ceil_min)} | {fratio(rs, st.read_min)} | {req} | {fnodes(c) if cs is not None else ''} | "
            f"{fl} | {'error' if rss is None else f'{rss:.1f}'} |")
        if not c.get("ok"):
            notes.append(f"{name} through the {via}, cold, failed: {last_err(c)}")
        elif r is not None and not r.get("ok"):
            notes.append(f"{name} through the {via}, rerun, failed: {last_err(r)}")
    say()
    for nt in notes:
        say(f"- note: {nt}")


def say_ceilings(st):
    """The write ceiling and the read ceilings the ratios are taken against."""
    n, writes, ceiling, ceil_cpu, ceil_min, reads, read_min = (
        st.n, st.writes, st.ceiling, st.ceil_cpu, st.ceil_min, st.reads, st.read_min)
    if ceiling:
        fl = st.ceil_m.get("flushes")
        say(f"- wrk write ceiling on the leader (wrk_ceiling.sh, 16 connections, {WRK_SECONDS} s): "
            f"{ceiling:.0f} writes/s → minimum time for {writes} writes = {ceil_min:.3f} s"
            + (f"; server CPU {1000 * ceil_cpu:.2f} ms per write (3 nodes)" if ceil_cpu else "")
            + (f"; {fl / (ceiling * WRK_SECONDS):.1f} disk flushes per write" if fl is not None else ""))
    else:
        say("- wrk write ceiling: error")
    if read_min:
        say("- read ceilings on the leader (wrk GET, 16 connections, on the last vault-converge cluster, "
            "holding W(n)): " + ", ".join(f"{k} {r:.0f}/s" for k, r in reads.items())
            + f" → minimum time for the rerun's {3 * n} reads = {read_min:.3f} s (used for the standby rows "
            "too; a standby answers reads itself, its own read rate is not measured)")
    else:
        say("- read ceilings: error")


def say_cold_limits(st):
    """What limits the cold run through the leader: CPU, disk flushes, bytes written, per-stage rates."""
    writes, ceiling, fsync, vcold = st.writes, st.ceiling, st.fsync, st.vcold
    cs = ok_s(vcold)
    if cs is not None:
        nodes, li = vcold.get("srv_cpu_nodes") or [], vcold.get("leader")
        tot = sum(x for x in nodes if x is not None) + (vcold.get("cpu") or 0)
        parts = [f"vault-converge's median cold run through the leader: {writes} writes in {cs:.3f} s = "
                 f"{writes / cs:.0f} writes/s"]
        if nodes and None not in nodes and li is not None:
            parts.append(f"CPU: client {vcold['cpu']:.2f} s, leader {nodes[li]:.2f} s, followers "
                         f"{' + '.join(f'{x:.2f}' for j, x in enumerate(nodes) if j != li)} s = {tot:.2f} CPU s "
                         f"in {cs:.2f} s wall = {100 * tot / (cs * os.cpu_count()):.0f}% of the machine's "
                         f"{os.cpu_count()} CPUs")
        fl = vcold.get("flushes")
        if fl is not None and fsync:
            per_write = fl / writes
            cap = fsync["all"] * (fsync["all_per"] or 1)  # device flushes/s with the 3 data dirs fsyncing
            parts.append(f"disk: {fl} device flushes = {fl / cs:.0f}/s, {per_write:.1f} per write (3 nodes: "
                         f"raft log append and state apply on each); the fsync probe (4 KiB append + fsync in a "
                         f"loop, one writer per node data dir, 1 s) got {fsync['all']:.0f} fsyncs/s = {cap:.0f} "
                         f"device flushes/s, so flushes alone allow ≈ {cap / per_write:.0f} writes/s: the run "
                         f"used {100 * fl / cs / cap:.0f}% of that flush rate")
        wb = vcold.get("wbytes")
        if wb and None not in wb:
            parts.append(f"the nodes wrote {sum(wb) / 1e6:.1f} MB to storage ({sum(wb) / writes / 1e3:.1f} kB per write)")
        say("- what limits the cold run: " + "; ".join(parts))
        stages = [x for x in vcold["timings"].get("stages", []) if x["objects"] >= 20 and x["ms"] > 0]
        if stages:
            say("- per stage (same run): " + "; ".join(
                f"{x['stage']}: {x['objects']} in {x['ms']} ms = {1000 * x['objects'] / x['ms']:.0f}/s" for x in stages)
                + (f"; wrk_ceiling.sh's policy writes: {ceiling:.0f}/s" if ceiling else "")
                + ". A stage whose rate stays near the wrk rate however many writes are in flight is applied "
                "one write per raft commit by the server (ACL policy writes take the policy store's lock "
                "around the storage write); a stage well above it gets many writes into each commit")


def say_standby_and_disk(st):
    """What going through a standby costs, how a standby answered, the disk, cluster start."""
    fstype, dev, probe, fsync, rows, redirects = st.fstype, st.dev, st.probe, st.fsync, st.rows, st.redirects
    (vcold, _), (scold, sre) = st.vc["leader"], st.vc["standby"]
    cs = ok_s(vcold)
    if ok_s(scold) is not None and cs is not None:
        over = [f"vault-converge {scold['s'] / cs:.2f}×"]
        for via, name, c, r in rows:
            lc = next((x[2] for x in rows if x[0] == "leader" and x[1] == name), None)
            if via == "standby" and name != "vault-converge" and ok_s(c) and ok_s(lc):
                over.append(f"{name} {c['s'] / lc['s']:.2f}×")
        sn, ln = scold.get("srv_cpu_nodes"), vcold.get("srv_cpu_nodes")
        extra_cpu = ""
        if sn and ln and None not in sn + ln:
            follower = statistics.mean(x for j, x in enumerate(ln) if j != vcold["leader"])
            extra_cpu = (f"; CPU seconds of the standby taking the requests {sn[scold['node']]:.2f} against "
                         f"{follower:.2f} for a follower in the run through the leader (forwarding costs "
                         f"{sn[scold['node']] - follower:.2f} s), leader {sn[scold['leader']]:.2f} against {ln[vcold['leader']]:.2f}")
        say(f"- forwarding overhead (cold through the standby ÷ through the leader): {', '.join(over)}{extra_cpu}")
    if sre and sre.get("ok") and sre.get("srv_cpu_nodes") and None not in sre["srv_cpu_nodes"]:
        sn = sre["srv_cpu_nodes"]
        say(f"- rerun through the standby: CPU of the standby {sn[sre['node']]:.2f} s, leader "
            f"{sn[sre['leader']]:.2f} s ({'reads answered by the standby itself' if sn[sre['node']] > 2 * sn[sre['leader']] else 'reads forwarded to the leader'})")
    if probe:
        w = probe["write"]
        how = (f"answered {w} redirecting to {probe.get('location')}: vault-converge measured with "
               "--follow-redirects, the peers not measured through the standby" if redirects else
               f"answered {w}: forwarded to the active node over the cluster port" if w in (200, 204) else
               f"answered {w}")
        vis = (f"visible there after {probe['visible_ms']:.0f} ms" if probe.get("visible_ms") is not None
               else "not visible there within 5 s")
        stale = probe["read"] != 200 and not redirects
        say(f"- standby behaviour (probed on the ceiling cluster): a policy write through node{probe['node']} "
            f"(a standby) {how}; a read of it on the standby right after answered {probe['read']}, {vis}"
            + (": a standby answers reads from its own copy of the raft log, so a client reading its own "
               "writes through a standby can see them missing for a moment" if stale else ""))
    if fsync:
        fper = lambda k: f" ({fsync[k + '_per']:.2f} device flushes per fsync)" if fsync[k + "_per"] is not None else ""
        say(f"- disk ({fstype} on {dev}): {fsync['one']:.0f} fsyncs/s with one writer in the leader's data dir"
            f"{fper('one')}, {fsync['all']:.0f}/s with one writer in each node's{fper('all')}")
    if raft_starts:
        say(f"- cluster start (3 nodes up, initialized, unsealed, joined, all voters): median "
            f"{statistics.median(raft_starts):.1f} s over {len(raft_starts)} clusters (not in any time above)")


def say_targets(st):
    """The dev-server targets, as info."""
    ceil_min, read_min = st.ceil_min, st.read_min

    def rinfo(label, detail):
        info(label, detail)
        raft_infos.append((label, detail))
    for via, (c, r) in st.vc.items():
        cs_, rs_ = ok_s(c), ok_s(r)
        if cs_ is not None and ceil_min:
            rinfo(f"raft, {via}: cold ≤ {T_RAFT_COLD} × wrk write-ceiling minimum",
                  f"{'met' if cs_ <= T_RAFT_COLD * ceil_min else 'not met'}: cold {cs_:.3f} s vs {T_RAFT_COLD} × "
                  f"{ceil_min:.3f} = {T_RAFT_COLD * ceil_min:.3f} s ({cs_ / ceil_min:.2f}×)")
        if rs_ is not None and read_min:
            rinfo(f"raft, {via}: rerun ≤ {T_RAFT_RERUN} × read-ceiling minimum",
                  f"{'met' if rs_ <= T_RAFT_RERUN * read_min else 'not met'}: rerun {rs_:.3f} s vs {T_RAFT_RERUN} × "
                  f"{read_min:.3f} = {T_RAFT_RERUN * read_min:.3f} s ({rs_ / read_min:.2f}×)"
                  + (f"; {r['req']['writes']} writes" if r.get("req") else ""))
