"""The server's ceilings measured with wrk: policy writes (wrk_ceiling.sh), the write ceiling of
each kind of object W(N) writes, and the read ceiling of each kind a rerun reads."""
import json, os, tempfile, time
import urllib.request

import floors

from config import SHARED, TOKEN, WRK_SECONDS
from report import last_err
from procs import Server, measure_on


def wrk_cpu_per_request(m, rate):
    """wrk's own CPU seconds per request in measurement m (wrk ran WRK_SECONDS at `rate`)."""
    return m["cpu"] / (rate * WRK_SECONDS) if rate and m.get("cpu") is not None else None


def wrk_write(target):
    """wrk_ceiling.sh against target: (writes/s, server CPU s per write, the measurement)."""
    m = measure_on(target, ["bash", f"{SHARED}/wrk_ceiling.sh", str(WRK_SECONDS)], WRK_SECONDS + 60)
    try:
        rate = float(m["out"].strip().splitlines()[-1]) if m["rc"] == 0 else None
    except (ValueError, IndexError):
        rate = None
    # server CPU per write at the ceiling (wrk ran for WRK_SECONDS at `rate`)
    per = m["srv_cpu"] / (rate * WRK_SECONDS) if rate and m.get("srv_cpu") is not None else None
    return rate, per, m


def wrk_ceiling():
    """(writes/s, server CPU s per write, wrk's CPU s per write) on a fresh server."""
    try:
        with Server() as srv:
            rate, per, m = wrk_write(srv)
            return rate, per, wrk_cpu_per_request(m, rate)
    except Exception:
        return None, None, None


def http_post(addr, path, body):
    """POST body (a dict) to the server; raises on an error status."""
    req = urllib.request.Request(f"{addr}/v1/{path}", data=json.dumps(body).encode(), method="POST",
                                 headers={"X-Vault-Token": TOKEN, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        r.read()


def write_rates(ops):
    """The server's write ceiling for each kind of object W(N) writes, with W(N)'s own bodies
    (wrk POST to new paths, 16 connections, a fresh server per kind, its mount and auth method
    made first). {kind: (writes/s, server CPU s per write, wrk CPU s per write) or (None, why)}."""
    out = {}
    for kind, body in floors.bodies(ops).items():
        try:
            with Server() as srv:
                for op in floors.setup_ops(ops):
                    path = {"mount": "sys/mounts/", "auth": "sys/auth/"}.get(op["op"], "") + op["path"]
                    http_post(srv.addr, path, op["data"])
                # a new KV v2 mount answers writes only once its setup is done
                deadline = time.monotonic() + 10
                while True:
                    try:
                        http_post(srv.addr, "app/data/ceiling-probe/config", {"data": {"k": "v"}})
                        break
                    except Exception:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.05)
                with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
                    lua.write(floors.write_lua(kind, body, TOKEN))
                try:
                    m = srv.measure(["wrk", "-t2", "-c16", f"-d{WRK_SECONDS}s", "-s", lua.name, srv.addr],
                                    WRK_SECONDS + 60)
                finally:
                    os.remove(lua.name)
                rate, why = floors.wrk_result(m["out"]) if m["rc"] == 0 else (None, last_err(m))
                if rate is None:
                    out[kind] = (None, why)
                    continue
                srv_per = m["srv_cpu"] / (rate * WRK_SECONDS) if m.get("srv_cpu") is not None else None
                out[kind] = (rate, srv_per, wrk_cpu_per_request(m, rate))
        except Exception as e:
            out[kind] = (None, str(e)[:200])
    return out


READ_PATHS = {  # what a no-op rerun reads per service, as wrk GET targets
    "policy": "/v1/sys/policies/acl/svc-%04d",
    "role": "/v1/auth/kubernetes/role/svc-%04d",
    "kv": "/v1/app/data/svc-%04d/config",
}


def read_rates(target, n, wrk_cpu=None):
    """target's read rate (GET/s, wrk, 16 connections) for each kind of object a rerun reads;
    target must hold W(n). Returns {kind: rate} (None where wrk failed). wrk_cpu, a dict, gets
    {kind: wrk's CPU s per read}."""
    rates = {}
    for kind, path in READ_PATHS.items():
        rates[kind], m = wrk_get(target, f'"{path}"', n)
        if wrk_cpu is not None:
            wrk_cpu[kind] = wrk_cpu_per_request(m, rates[kind])
    return rates


def mixed_read(target, n):
    """wrk reading the objects a rerun reads, every kind in random order (GET, 16 connections),
    on target holding W(n): (reads/s, server CPU s per read), None where wrk failed."""
    paths = ", ".join(f'"{p}"' for p in READ_PATHS.values())
    rate, m = wrk_get(target, "paths[math.random(1, #paths)]", n, f"local paths = {{{paths}}}\n")
    per = m["srv_cpu"] / (rate * WRK_SECONDS) if rate and m.get("srv_cpu") is not None else None
    return rate, per


def wrk_get(target, path, n, setup=""):
    """wrk GET of `path` (a Lua expression: a format with one %04d, filled with a random index
    below n) on target for WRK_SECONDS, 16 connections: (reads/s or None, the measurement).
    An answer other than 2xx (a missing object) makes no rate."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(f'{setup}request = function()\n'
                  f'  local p = string.format({path}, math.random(0, {n - 1}))\n'
                  f'  return wrk.format("GET", p, {{["X-Vault-Token"] = "{target.token}"}})\n'
                  'end\n')
    try:
        m = measure_on(target, ["wrk", "-t2", "-c16", f"-d{WRK_SECONDS}s", "-s", lua.name, target.addr],
                       WRK_SECONDS + 60)
    finally:
        os.remove(lua.name)
    return (floors.wrk_result(m["out"])[0] if m["rc"] == 0 else None), m
