//! Helpers shared by the scenarios: run the binary against one server.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::bao::Bao;
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
