"""The Markdown report: lines said as they are measured, target checks, and cell formatting."""
from config import OUT


md = []          # Markdown written to OUT
all_checks = []  # (N, label, ok, detail) for the summary


def say(line=""):
    print(line, flush=True)
    md.append(line)


def write_results():
    with open(OUT, "w") as f:
        f.write("\n".join(md) + "\n")


def last_err(m):
    if not m:
        return ""
    lines = [l for l in (m.get("err") or "").strip().splitlines() if l.strip() and "Command exited" not in l]
    return lines[-1][:200] if lines else f"exit {m.get('rc')}"


# ---------------------------------------------------------------- formatting

def fs(x):
    return "error" if x is None else f"{x:.3f}"


def fratio(a, b):
    return "error" if a is None or b in (None, 0) else f"{a / b:.1f}×"


def freq(r):
    return "error" if not r else f"{r['reads']}/{r['writes']}/{r['lists']}"


def fcpu(m):
    return " / ".join("?" if m.get(k) is None else f"{m[k]:.2f}" for k in ("cpu", "srv_cpu"))


def fstages(t):
    return ", ".join(f"{s['stage']} {s['ms']} ms ({s['objects']})" for s in t.get("stages", []))


def check(n, label, ok, detail):
    mark = "PASS" if ok else "FAIL"
    say(f"- **{mark}** {label}: {detail}")
    all_checks.append((n, label, ok, detail))


def info(label, detail):
    say(f"- info: {label}: {detail}")
