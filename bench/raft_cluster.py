"""A real 3-node OpenBao raft cluster (integrated storage on disk) on loopback, for the raft
section of the benchmark (bench/run_bench.py). The same recipe as tests/support/raft.rs:

- each node is `bao server -config=…` with its own data dir under a temp dir on disk, an API
  listener and a cluster listener on a free loopback port pair, `performance_multiplier = 1`;
- node0 is initialized (1 key share) and unsealed; autopilot's `server_stabilization_time` is
  lowered to 1 s so joiners become voters within seconds;
- node1 and node2 join node0 through `sys/storage/raft/join` and are unsealed;
- `start()` returns once all three are voters, node0 answers `sys/health` 200 (active) and the
  others 429 (standby).

Every node runs in its own session (pgid = pid); the driver's on_start(pid, pgid) callback
records it (BENCH_PIDFILE, for the shell's EXIT trap) and on_stop(pid, pgid) kills it. stop()
SIGKILLs all nodes at once and removes the temp dir. A start takes ~7 s, most of it waiting
for autopilot to promote the joiners (their first heartbeat comes ~3 s after the join).
Stdlib only; `python3 bench/raft_cluster.py [PORT]` is a smoke test.
"""
import json, os, shutil, signal, subprocess, tempfile, time, urllib.error, urllib.request

NODES = 3
READY_TIMEOUT = 15.0
START_ATTEMPTS = 5

# no proxies: every call goes to 127.0.0.1; redirects are not followed (a standby's 307 is seen)
class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def http(addr, method, path, token="", body=None, timeout=30.0):
    """(status, parsed JSON body or text or None); status None when unreachable."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{addr}/v1/{path.lstrip('/')}", data=data, method=method)
    if token:
        req.add_header("X-Vault-Token", token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with _OPENER.open(req, timeout=timeout) as r:
            code, raw, headers = r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        code, raw, headers = e.code, e.read(), e.headers
    except OSError:
        return None, None
    text = raw.decode(errors="replace").strip()
    try:
        val = json.loads(text) if text else None
    except ValueError:
        val = text
    if code in (301, 302, 307, 308):
        val = {"location": headers.get("Location")}
    return code, val


def _strip_env():
    e = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
    for k in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        e.pop(k, None)
    return e


def proc_cpu(pid):
    """CPU seconds (user + system) of a process so far, or None."""
    try:
        f = open(f"/proc/{pid}/stat").read().rsplit(") ", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def proc_write_bytes(pid):
    """Bytes the process caused to be written to storage so far (/proc/PID/io), or None."""
    try:
        for line in open(f"/proc/{pid}/io"):
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def disk_flushes(path):
    """Flush requests completed so far by the block device holding path (/proc/diskstats,
    kernel >= 5.5), or None when the device is not found there (tmpfs, overlay, ...). The whole
    device's count: flushes by other processes on the same disk are counted too."""
    dev = os.stat(path).st_dev
    major, minor = os.major(dev), os.minor(dev)
    try:
        for line in open("/proc/diskstats"):
            f = line.split()
            if int(f[0]) == major and int(f[1]) == minor and len(f) >= 20:
                return int(f[18])
    except (OSError, ValueError):
        pass
    return None


def fs_of(path):
    """(filesystem type, device) of the mount holding path, from /proc/mounts."""
    path = os.path.realpath(path)
    best = ("?", "?", "")
    try:
        for line in open("/proc/mounts"):
            dev, mnt, typ = line.split()[:3]
            if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best[2]):
                best = (typ, dev, mnt)
    except OSError:
        pass
    return best[0], best[1]


def fsync_rate(directories, seconds=1.0, size=4096):
    """Small fsync'd writes per second: one thread per directory appends `size` bytes to its own
    file and fsyncs, repeatedly, for `seconds` (what a raft log append costs at the least; one
    directory per node = the nodes flushing side by side). Returns (total rate, count)."""
    import threading
    buf = os.urandom(size)
    counts = [0] * len(directories)
    stop = time.monotonic() + seconds

    def writer(k, directory):
        path = os.path.join(directory, "fsync-probe")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            while time.monotonic() < stop:
                os.write(fd, buf)
                os.fsync(fd)
                counts[k] += 1
        finally:
            os.close(fd)
            os.remove(path)

    t0 = time.monotonic()
    threads = [threading.Thread(target=writer, args=(k, d)) for k, d in enumerate(directories)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - t0), sum(counts)


class ClusterError(RuntimeError):
    pass


class Node:
    def __init__(self, index, base):
        self.index = index
        self.node_id = f"node{index}"
        self.data_dir = os.path.join(base, self.node_id)
        self.config_path = os.path.join(base, f"{self.node_id}.hcl")
        self.base = base
        self.api_port = self.cluster_port = None
        self.addr = None
        self.log_path = None
        self.proc = None

    def health(self):
        return http(self.addr, "GET", "sys/health", timeout=0.5)[0] if self.proc else None

    def log_tail(self, lines=15):
        try:
            return "\n".join(open(self.log_path, errors="replace").read().splitlines()[-lines:])
        except (OSError, TypeError):
            return ""

    def cpu(self):
        return proc_cpu(self.proc.pid) if self.proc else None

    def write_bytes(self):
        return proc_write_bytes(self.proc.pid) if self.proc else None


class RaftCluster:
    """start() brings up the cluster; stop() kills every node and removes the temp dir.
    next_port() must return a free loopback port p whose successor p+1 is free too."""

    def __init__(self, next_port, on_start, on_stop, parent=None, bao="bao"):
        self.next_port, self.on_start, self.on_stop, self.bao = next_port, on_start, on_stop, bao
        self.dir = tempfile.mkdtemp(prefix="bao-raft-", dir=parent)
        self.nodes = [Node(i, self.dir) for i in range(NODES)]
        self.token = ""
        self.unseal_key = ""
        self.start_s = None

    # -- lifecycle

    def start(self):
        t0 = time.monotonic()
        try:
            for n in self.nodes:
                os.makedirs(n.data_dir, exist_ok=True)
                self._spawn(n, 1)
            for n in self.nodes:
                self._wait_started(n)
            self._init_leader()
            self._join_followers()
        except BaseException:
            self.stop()
            raise
        self.start_s = time.monotonic() - t0
        return self

    def stop(self):
        # SIGKILL at once, all nodes together: the data is thrown away, and a graceful shutdown
        # takes 0.7-1.3 s per node (the last one waits for a quorum that is gone)
        for n in self.nodes:
            if n.proc:
                try:
                    os.killpg(n.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for n in self.nodes:
            self._kill(n)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _kill(self, n):
        if n.proc:
            self.on_stop(n.proc.pid, n.proc.pid)
            n.proc.wait()
            n.proc = None

    def _spawn(self, n, attempt):
        port = self.next_port()
        n.api_port, n.cluster_port = port, port + 1
        n.addr = f"http://127.0.0.1:{port}"
        n.log_path = os.path.join(self.dir, f"{n.node_id}-{attempt}.log")
        with open(n.config_path, "w") as f:
            f.write(f'''storage "raft" {{
  path    = "{n.data_dir}"
  node_id = "{n.node_id}"
  # Elections in ~2 s instead of ~10 s (production default 5).
  performance_multiplier = 1
  # Promote joined nodes to voters quickly (with server_stabilization_time).
  autopilot_reconcile_interval = "1s"
  autopilot_update_interval    = "500ms"
}}

listener "tcp" {{
  address         = "127.0.0.1:{n.api_port}"
  cluster_address = "127.0.0.1:{n.cluster_port}"
  tls_disable     = true
}}

api_addr     = "http://127.0.0.1:{n.api_port}"
cluster_addr = "http://127.0.0.1:{n.cluster_port}"
ui           = false
''')
        env = dict(_strip_env(), HOME=self.dir)
        with open(n.log_path, "ab") as log:
            n.proc = subprocess.Popen([self.bao, "server", f"-config={n.config_path}"], cwd=self.dir,
                                      env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                      start_new_session=True)
        self.on_start(n.proc.pid, n.proc.pid)

    def _wait_started(self, n):
        """Up and uninitialized (501) with the startup banner logged; a node whose process exits
        early (lost a port race) is restarted on new ports."""
        attempt = 1
        deadline = time.monotonic() + READY_TIMEOUT
        last = None
        while True:
            if n.proc.poll() is not None:
                if attempt >= START_ATTEMPTS:
                    self.fail(f"{n.node_id} exited {START_ATTEMPTS} times before answering sys/health")
                self._kill(n)
                attempt += 1
                self._spawn(n, attempt)
                deadline = time.monotonic() + READY_TIMEOUT
                continue
            last = http(n.addr, "GET", "sys/health", timeout=0.5)[0]
            if last == 501 and "server started!" in open(n.log_path, errors="replace").read():
                return
            if time.monotonic() > deadline:
                self.fail(f"{n.node_id} did not answer sys/health 501 within {READY_TIMEOUT} s (last {last})")
            time.sleep(0.05)

    def _init_leader(self):
        leader = self.nodes[0]
        code, body = http(leader.addr, "PUT", "sys/init", body={"secret_shares": 1, "secret_threshold": 1})
        if code != 200 or not isinstance(body, dict):
            self.fail(f"sys/init on node0: HTTP {code}: {body}")
        self.token, self.unseal_key = body.get("root_token", ""), (body.get("keys_base64") or [""])[0]
        if not self.token or not self.unseal_key:
            self.fail(f"sys/init on node0 answered without keys: {body}")
        self._unseal(leader)
        self._wait_health(leader, 200)
        code, body = self.api(0, "POST", "sys/storage/raft/autopilot/configuration",
                              {"server_stabilization_time": "1s"})
        if code not in (200, 204):
            self.fail(f"autopilot configuration on node0: HTTP {code}: {body}")

    def _unseal(self, n):
        code, body = http(n.addr, "PUT", "sys/unseal", body={"key": self.unseal_key})
        if code != 200:
            self.fail(f"sys/unseal on {n.node_id}: HTTP {code}: {body}")

    def _join_followers(self):
        leader = self.nodes[0].addr
        for n in self.nodes[1:]:
            for tries in range(1, 6):
                code, body = http(n.addr, "PUT", "sys/storage/raft/join", body={"leader_api_addr": leader})
                if code == 200 and isinstance(body, dict) and body.get("joined") is True:
                    break
                if tries == 5:
                    self.fail(f"sys/storage/raft/join on {n.node_id}: HTTP {code}: {body}")
                time.sleep(0.2)
            self._unseal(n)
        for n in self.nodes[1:]:
            self._wait_standby(n)
        deadline = time.monotonic() + 30
        while True:
            servers = self.raft_servers()
            if len(servers) == NODES and all(v for _, v in servers):
                break
            if time.monotonic() > deadline:
                self.fail(f"raft configuration did not list {NODES} voters within 30 s: {servers}")
            time.sleep(0.1)
        for n in self.nodes[1:]:
            self._wait_health(n, 429)

    def _wait_standby(self, n):
        """429, sending the unseal key again when the node stays sealed (the join completes in the
        background)."""
        deadline = time.monotonic() + 20
        last_unseal = time.monotonic()
        while True:
            status = n.health()
            if status == 429:
                return
            if time.monotonic() > deadline:
                self.fail(f"{n.node_id} did not become a standby (health 429) after joining; last {status}")
            if status == 503 and time.monotonic() - last_unseal > 3:
                self._unseal(n)
                last_unseal = time.monotonic()
            time.sleep(0.05)

    def _wait_health(self, n, want, timeout=READY_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            last = n.health()
            if last == want:
                return
            if time.monotonic() > deadline:
                self.fail(f"{n.node_id} did not answer sys/health {want} within {timeout} s; last {last}")
            time.sleep(0.05)

    # -- queries

    def api(self, i, method, path, body=None, timeout=30.0):
        return http(self.nodes[i].addr, method, path, self.token, body, timeout)

    def raft_servers(self):
        code, body = self.api(0, "GET", "sys/storage/raft/configuration")
        if code != 200 or not isinstance(body, dict):
            return []
        return [(s.get("node_id"), s.get("voter") is True)
                for s in (body.get("data") or {}).get("config", {}).get("servers", [])]

    def leader_index(self):
        return next((n.index for n in self.nodes if n.health() == 200), None)

    def standby_index(self):
        return next((n.index for n in self.nodes if n.health() == 429), None)

    def cpu(self):
        """Per-node CPU seconds so far (list, None for a node not running)."""
        return [n.cpu() for n in self.nodes]

    def write_bytes(self):
        return [n.write_bytes() for n in self.nodes]

    def fail(self, msg):
        tails = "\n".join(f"--- {n.node_id} ({n.addr}) log:\n{n.log_tail()}" for n in self.nodes)
        raise ClusterError(f"raft cluster ({self.dir}): {msg}\n{tails}")


class Endpoint:
    """One node of a running cluster as a measurement target (duck-types run_bench.Server):
    addr, token, env(), cpu() = the whole cluster's CPU seconds, cpu_nodes(), write_bytes()."""

    def __init__(self, cluster, index):
        self.cluster, self.index = cluster, index
        self.addr = cluster.nodes[index].addr
        self.token = cluster.token

    def env(self):
        e = dict(_strip_env(), VAULT_ADDR=self.addr, VAULT_TOKEN=self.token, BAO_ADDR=self.addr,
                 BAO_TOKEN=self.token, NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
        return e

    def cpu_nodes(self):
        return self.cluster.cpu()

    def cpu(self):
        c = self.cpu_nodes()
        return None if None in c else sum(c)

    def write_bytes(self):
        return self.cluster.write_bytes()

    def flushes(self):
        return disk_flushes(self.cluster.dir)


if __name__ == "__main__":  # smoke test: start a cluster, probe a standby write, stop
    import socket, sys
    port = [int(sys.argv[1]) if len(sys.argv) > 1 else 29400]

    def free(p):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
                return True
            except OSError:
                return False

    def nxt():
        while True:
            p = port[0]
            port[0] += 2
            if free(p) and free(p + 1):
                return p

    def kill(pid, pgid):
        try:
            os.killpg(pgid, 9)
        except ProcessLookupError:
            pass

    with RaftCluster(nxt, lambda *a: None, kill) as c:
        print(f"started in {c.start_s:.1f} s: {[n.addr for n in c.nodes]} leader {c.leader_index()}")
        sb = c.standby_index()
        print("standby", sb, "write:", c.api(sb, "PUT", "sys/policies/acl/probe", {"policy": 'path "x" {capabilities=["read"]}'}))
        print("standby read:", c.api(sb, "GET", "sys/policies/acl/probe")[0])
        print("fsync/s:", fsync_rate([c.dir]), fsync_rate([n.data_dir for n in c.nodes]), fs_of(c.dir))
