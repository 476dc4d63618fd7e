//! Helpers shared by the scenarios: run the binary against one server.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::bao::{http_request, Bao};
use crate::support::cli::{self, CliOutput};

/// Runs the binary with VAULT_ADDR/VAULT_TOKEN of `bao` plus `env`.
pub fn vc(bao: &Bao, args: &[&str], env: &[(&str, &str)]) -> CliOutput {
    let mut all: Vec<(&str, &str)> = vec![
        ("VAULT_ADDR", bao.addr.as_str()),
        ("VAULT_TOKEN", bao.root_token.as_str()),
        ("VAULT_CONVERGE_TERMINATION_LOG", "/dev/null"),
    ];
    all.extend_from_slice(env);
    cli::run(args, &all)
}

/// `apply --output json` and its parsed report.
pub fn apply_json(bao: &Bao, plan: &Path, env: &[(&str, &str)]) -> (CliOutput, Value) {
    let out = vc(
        bao,
        &["apply", "-f", plan.to_str().unwrap(), "--output", "json"],
        env,
    );
    let report = parse_report(&out);
    (out, report)
}

pub fn parse_report(out: &CliOutput) -> Value {
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not a JSON report ({e})\n{}", out.describe()))
}

pub fn plan_file(dir: &Path, name: &str, yaml: &str) -> PathBuf {
    cli::write_plan(dir, name, yaml)
}

/// The smallest plan that writes something: one policy `p`.
pub const ONE_POLICY: &str =
    "version: 1\npolicies: {p: 'path \"a\" { capabilities = [\"read\"] }'}\n";

/// A fresh dev server, and `plan.yaml` holding `yaml` in a temporary
/// directory (kept alive by the returned guard).
pub fn dev_with_plan(yaml: &str) -> (Bao, tempfile::TempDir, PathBuf) {
    let bao = Bao::start_dev();
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), "plan.yaml", yaml);
    (bao, dir, plan)
}

/// The object at Vault path `path` in a JSON report.
pub fn object_of<'a>(report: &'a Value, path: &str) -> &'a Value {
    report["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["path"] == path)
        .unwrap_or_else(|| panic!("no object {path} in report {report:#}"))
}

/// The `action` of the object at Vault path `path` in a JSON report.
pub fn action_of<'a>(report: &'a Value, path: &str) -> &'a str {
    object_of(report, path)["action"].as_str().unwrap()
}

/// The stand-in cluster's CA certificate as a YAML block scalar body, indented.
pub fn ca_block(indent: usize) -> String {
    crate::support::kube_api::CA_CERT_PEM
        .lines()
        .map(|line| format!("{:indent$}{line}\n", ""))
        .collect()
}

pub fn summary(report: &Value, field: &str) -> u64 {
    report["summary"][field].as_u64().unwrap()
}

/// KV v2 metadata `current_version` of `mount/path`.
pub fn kv_version(bao: &Bao, mount: &str, path: &str) -> u64 {
    bao.read(&format!("{mount}/metadata/{path}"))
        .unwrap_or_else(|| panic!("{mount}/{path} has no metadata"))["data"]["current_version"]
        .as_u64()
        .unwrap()
}

pub fn kv_data(bao: &Bao, mount: &str, path: &str) -> Value {
    bao.read(&format!("{mount}/data/{path}"))
        .unwrap_or_else(|| panic!("{mount}/{path} is absent"))["data"]["data"]
        .clone()
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A token carrying only policy `name` with the rules `hcl`.
pub fn token_with_policy(bao: &Bao, name: &str, hcl: &str) -> String {
    bao.write(
        &format!("sys/policies/acl/{name}"),
        &serde_json::json!({ "policy": hcl }),
    );
    let created = bao.write(
        "auth/token/create",
        &serde_json::json!({ "policies": [name] }),
    );
    created["auth"]["client_token"].as_str().unwrap().to_owned()
}

/// The benchmark's W(n) shape: a KV v2 mount, Kubernetes auth with its
/// config, and per service a policy, a role and a KV fixture (3n + 3 writes).
pub fn workload(n: usize) -> String {
    let mut plan = String::from(
        "version: 1\nmounts:\n  app: {type: kv, options: {version: \"2\"}}\nauth:\n  kubernetes:\n    type: kubernetes\n    config:\n      kubernetes_host: https://127.0.0.1:6443\n      disable_local_ca_jwt: true\n      kubernetes_ca_cert: |\n",
    );
    plan.push_str(&ca_block(8));
    plan.push_str("    roles:\n");
    for i in 0..n {
        plan.push_str(&format!(
            "      svc-{i}: {{bound_service_account_names: [svc-{i}], bound_service_account_namespaces: [prod], token_policies: [svc-{i}], token_ttl: 1h}}\n"
        ));
    }
    plan.push_str("policies:\n");
    for i in 0..n {
        plan.push_str(&format!(
            "  svc-{i}: 'path \"app/data/svc-{i}/*\" {{ capabilities = [\"read\"] }}'\n"
        ));
    }
    plan.push_str("kv:\n  app:\n");
    for i in 0..n {
        plan.push_str(&format!(
            "    svc-{i}/config: {{mode: overwrite, data: {{username: svc-{i}, api_key: key-{i}, endpoint: https://svc-{i}.internal}}}}\n"
        ));
    }
    plan
}

/// Runs the binary with `args` against `addr` in a thread; join it for the output.
pub fn run_in_background(
    args: &[&str],
    env: &[(&str, &str)],
) -> std::thread::JoinHandle<CliOutput> {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    std::thread::spawn(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        cli::run(&args, &env)
    })
}

/// Applies `plan` twice and asserts the rerun writes nothing and `plan
/// --detailed-exitcode` is clean afterwards.
pub fn assert_stable(bao: &Bao, plan: &Path, env: &[(&str, &str)]) -> Value {
    let (out, rerun) = apply_json(bao, plan, env);
    out.assert_success();
    assert_eq!(
        rerun["requests"]["writes"], 0,
        "a rerun must not write: {rerun:#}"
    );
    vc(
        bao,
        &["plan", "-f", plan.to_str().unwrap(), "--detailed-exitcode"],
        env,
    )
    .assert_code(0);
    rerun
}

/// `method path` in namespace `ns` with the root token.
pub fn in_namespace(
    bao: &Bao,
    ns: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let body = body.map(|b| serde_json::to_vec(b).unwrap());
    let headers = [
        ("X-Vault-Token", bao.root_token.as_str()),
        ("X-Vault-Namespace", ns),
    ];
    let (code, bytes) = http_request(
        &format!("127.0.0.1:{}", bao.port),
        method,
        &format!("/v1/{path}"),
        &headers,
        body.as_deref(),
    )
    .unwrap();
    (code, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}
