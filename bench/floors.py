"""What bounds a run on this machine: the server's write ceiling for each kind of object the
workload writes, and the CPU floor of a run whose client and server share the machine's cores.

Used by run_bench.py at N=1000, where the cold and rerun targets apply. Pure helpers: the
measurements themselves (fresh servers, wrk runs) are run_bench.py's.

The floor: client and server run on the same cores, so a run that keeps every core busy takes
(server CPU + client CPU) / cores seconds, and no run takes less. With the server's CPU for the
workload measured, the target leaves cores × target − server CPU seconds for the client; if that
is less than wrk needs for the same number of requests, no HTTP client could meet the target on
this machine in this run.
"""
import json

# The kinds of object W(N) writes (after its mount, auth method and auth config), by the path
# prefix of its ops, and the fresh path a ceiling run writes each one to (%s: a unique suffix).
WRITE_KINDS = {
    "policy": ("sys/policies/acl/", "/v1/sys/policies/acl/ceiling-%s"),
    "role": ("auth/kubernetes/role/", "/v1/auth/kubernetes/role/ceiling-%s"),
    "kv": ("app/data/", "/v1/app/data/ceiling-%s/config"),
}


def setup_ops(ops):
    """The ops that must exist before the per-kind writes: W(N)'s mount, auth method and config."""
    return [op for op in ops if not any(op["path"].startswith(p) for p, _ in WRITE_KINDS.values())]


def bodies(ops):
    """{kind: JSON body of the first op of that kind} from W(N)'s ops list."""
    out = {}
    for kind, (prefix, _) in WRITE_KINDS.items():
        op = next((o for o in ops if o["op"] == "write" and o["path"].startswith(prefix)), None)
        if op is None:
            raise ValueError(f"the workload has no {kind} write (path {prefix}…)")
        out[kind] = json.dumps(op["data"])
    return out


def write_lua(kind, body, token):
    """A wrk script that writes `body` to a new path of `kind` on every request."""
    path = WRITE_KINDS[kind][1]
    if "]==]" in body:
        raise ValueError("body would end the Lua string")
    return ("local n = 0\n"
            "local run = math.random(1, 1e9)\n"
            "request = function()\n"
            "  n = n + 1\n"
            f'  local p = string.format("{path}", run .. "-" .. n)\n'
            f'  return wrk.format("POST", p, {{["X-Vault-Token"] = "{token}", '
            '["Content-Type"] = "application/json"}, [==[' + body + "]==])\n"
            "end\n")


def wrk_result(out):
    """(requests per second, None) from wrk's output, or (None, why) when wrk saw errors."""
    bad = [l for l in out.splitlines() if l.strip().startswith(("Non-2xx", "Socket errors"))]
    if bad:
        return None, bad[0].strip()
    line = [l for l in out.splitlines() if l.startswith("Requests/sec")]
    if not line:
        return None, "no Requests/sec line"
    try:
        return float(line[0].split()[1]), None
    except (IndexError, ValueError):
        return None, line[0]


def cpu_floor(label, wall, target, server_cpu, client_cpu, requests, wrk_ms, cores, machine=None):
    """One Markdown line: the run's CPU floor against its target and what it leaves the client.
    machine: the machine's CPU seconds by kind during the run (/proc/stat), when known. Interrupt
    and softirq time (on loopback, the network path of both sides) is counted to neither process
    but needs a core all the same, whichever client runs: it joins the server's share."""
    net = (machine["irq"] + machine["softirq"]) if machine else 0.0
    floor = (server_cpu + client_cpu + net) / cores
    budget = cores * target - server_cpu - net  # CPU-s a client may use and still meet the target
    per = 1000 * budget / requests
    ours = 1000 * client_cpu / requests
    line = (f"- CPU floor, {label}: the server used {server_cpu:.2f} CPU-s, the client {client_cpu:.2f}"
            + (f", interrupts and softirq (the loopback network path) {net:.2f}" if machine else "")
            + f": {floor:.3f} s on {cores} cores with every core busy (measured {wall:.3f} s"
            + (f"; idle {machine['idle'] + machine['iowait']:.2f} CPU-s, taken by the hypervisor"
               f" {machine['steal']:.2f}" if machine else "")
            + f"). The target {target:.3f} s leaves the client {cores} × {target:.3f} − {server_cpu:.2f}"
            + (f" − {net:.2f}" if machine else "")
            + f" = {budget:.2f} CPU-s = {per:.3f} ms per request (it used {ours:.3f});")
    if wrk_ms is None:
        return line + " wrk's own CPU per request was not measured"
    line += f" wrk alone needs {wrk_ms:.3f} ms per request"
    if per < wrk_ms:
        return line + ": no HTTP client that needs as much CPU as wrk could meet this target on this run's server"
    if per < ours:
        return line + f": reachable only by a client within {per / wrk_ms:.2f}× wrk's CPU per request"
    return line
