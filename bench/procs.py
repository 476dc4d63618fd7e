"""Servers and measured processes: fresh dev servers on free loopback ports, killing what a run
started, and measuring a command (wall time, CPU, peak RSS, the machine's CPU by kind)."""
import os, re, signal, socket, subprocess, sys, tempfile, time

from config import PIDFILE, SHARED, TOKEN
from raft_cluster import proc_cpu


started = []  # (pid, pgid)


def port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


_next_port = int(os.environ.get("BENCH_PORT_BASE", "28400"))


def next_port():
    """A loopback port whose successor (the dev server's cluster listener) is free too."""
    global _next_port
    for _ in range(500):
        p = _next_port
        _next_port += 2
        if port_free(p) and port_free(p + 1):
            return p
    raise RuntimeError("no free port pair found")


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def register(pid, pgid):
    """A server process this run started: killed by stop_all() and, failing that, by the shell's
    EXIT trap (BENCH_PIDFILE)."""
    started.append((pid, pgid))
    if PIDFILE:
        with open(PIDFILE, "a") as f:
            f.write(f"{pid} {pgid}\n")


class Server:
    token = TOKEN

    def __init__(self):
        self.port = next_port()
        self.addr = f"http://127.0.0.1:{self.port}"
        # own session: the server (started in the background by fresh_bao.sh) is in the process
        # group of fresh_bao.sh, so killpg(pgid) ends exactly what this call started
        r = subprocess.run(["bash", f"{SHARED}/fresh_bao.sh", str(self.port)], capture_output=True,
                           text=True, timeout=30, start_new_session=True)
        if r.returncode != 0 or not r.stdout.strip().isdigit():
            raise RuntimeError(f"fresh_bao.sh {self.port} failed: {r.stderr.strip()[-300:]}")
        self.pid = int(r.stdout.strip())
        self.pgid = os.getpgid(self.pid)
        register(self.pid, self.pgid)

    def env(self):
        e = dict(os.environ, VAULT_ADDR=self.addr, VAULT_TOKEN=TOKEN, BAO_ADDR=self.addr,
                 BAO_TOKEN=TOKEN, NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
        for k in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
            e.pop(k, None)
        return e

    def cpu(self):
        """CPU seconds (user + system) the server has used so far."""
        return proc_cpu(self.pid)

    def measure(self, cmd, timeout):
        return measure_on(self, cmd, timeout)

    def stop(self):
        stop_server(self.pid, self.pgid)
        for log in os.listdir(tempfile.gettempdir()):  # fresh_bao.sh's log: mktemp -t bao-PORT-XXXX.log
            if log.startswith(f"bao-{self.port}-") and log.endswith(".log"):
                try:
                    os.remove(os.path.join(tempfile.gettempdir(), log))
                except OSError:
                    pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def stop_server(pid, pgid):
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 2.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            pass
        t = time.monotonic()
        while alive(pid) and time.monotonic() - t < wait:
            time.sleep(0.05)
        if not alive(pid):
            break
    if (pid, pgid) in started:
        started.remove((pid, pgid))


def descendants(pid):
    """pid and every process below it (also those that left its process group, like
    Ansible's workers), from /proc."""
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ppid = int(open(f"/proc/{d}/stat").read().rsplit(") ", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def kill_tree(pid):
    """SIGKILL a measured tool: its process group and every descendant."""
    tree = descendants(pid)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for p in tree:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


running = []  # pids of the measured tools now running (each leads its own process group)


def stop_all(*_):
    for pid in list(running):
        kill_tree(pid)
    for pid, pgid in list(started):
        stop_server(pid, pgid)
    if _:  # called as a signal handler
        sys.exit(130)


def _delta(a, b):
    if isinstance(a, list):
        return [None if None in (x, y) else y - x for x, y in zip(a, b)] if a and b else None
    return None if None in (a, b) else b - a


def measure_on(target, cmd, timeout):
    """measure() with target's environment, plus the server's CPU seconds meanwhile (srv_cpu).
    A raft endpoint also gives per-node CPU (srv_cpu_nodes), bytes written per node (wbytes) and
    the flushes of the block device holding the data dirs (flushes)."""
    probes = {"srv_cpu": target.cpu}
    for key, attr in (("srv_cpu_nodes", "cpu_nodes"), ("wbytes", "write_bytes"), ("flushes", "flushes")):
        if hasattr(target, attr):
            probes[key] = getattr(target, attr)
    before = {k: f() for k, f in probes.items()}
    m = measure(cmd, target.env(), timeout)
    for k, f in probes.items():
        m[k] = _delta(before[k], f())
    return m


def machine_cpu():
    """The machine's CPU seconds so far, all cores, by kind (the "cpu" line of /proc/stat)."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) / os.sysconf("SC_CLK_TCK") for x in f.readline().split()[1:9]]
        return dict(zip(("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"), v))
    except (OSError, ValueError):
        return None


def measure(cmd, env, timeout):
    """Run cmd under /usr/bin/time -v; wall-clock seconds, rc, stdout, stderr, peak RSS (MB),
    and the machine's CPU seconds by kind meanwhile (machine: idle, softirq, steal, ...)."""
    fd, tfile = tempfile.mkstemp(suffix=".time")
    os.close(fd)
    before = machine_cpu()
    t0 = time.monotonic()
    p = subprocess.Popen(["/usr/bin/time", "-v", "-o", tfile] + cmd, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    running.append(p.pid)
    try:
        out, err = p.communicate(timeout=timeout)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        kill_tree(p.pid)  # the tool and everything it started
        out, err = p.communicate()
        rc, err = "timeout", f"timed out after {timeout} s\n" + (err or "")
    finally:
        if p.pid in running:
            running.remove(p.pid)
    secs = time.monotonic() - t0
    after = machine_cpu()
    machine = {k: after[k] - before[k] for k in after} if before and after else None
    rss = cpu = None
    try:
        tv = open(tfile).read()
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", tv)
        rss = int(m.group(1)) / 1024 if m else None
        u = re.search(r"User time \(seconds\): ([\d.]+)", tv)
        k = re.search(r"System time \(seconds\): ([\d.]+)", tv)
        cpu = float(u.group(1)) + float(k.group(1)) if u and k else None
    finally:
        os.remove(tfile)
    return {"s": secs, "rc": rc, "out": out, "err": err, "rss": rss, "cpu": cpu, "machine": machine}
