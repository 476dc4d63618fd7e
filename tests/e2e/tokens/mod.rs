//! Managed tokens (DESIGN.md "Tokens"), against real OpenBao dev servers:
//! minted and stored, renewed on rerun, healed when the stored token is
//! missing, revoked, expired or someone else's — with the job's own
//! authority, never leaving a stray token behind.

mod file_store;
mod kube_store;

use std::path::Path;

use serde_json::{json, Value};

use crate::support::bao::Bao;

/// A plan with one managed token `ci-deployer` (policies [ci]) stored at `store`.
pub fn token_plan(store: &str, lifetime: &str, extra: &str) -> String {
    format!(
        "version: 1\npolicies:\n  ci: 'path \"secret/*\" {{ capabilities = [\"read\"] }}'\n  read-only: 'path \"sys/health\" {{ capabilities = [\"read\"] }}'\n\
         tokens:\n  ci-deployer:\n    policies: [ci]\n    {lifetime}\n    orphan: true\n    store: {store}\n{extra}"
    )
}

/// What Vault says about `token` (`None`: it does not know it).
pub fn lookup(bao: &Bao, token: &str) -> Option<Value> {
    let (code, body) = bao.api(
        "POST",
        "auth/token/lookup",
        Some(&json!({ "token": token })),
    );
    (code == 200).then(|| body["data"].clone())
}

/// How many tokens the server holds (root's accessor list).
pub fn accessor_count(bao: &Bao) -> usize {
    let (_, body) = bao.api("LIST", "auth/token/accessors", None);
    body.pointer("/data/keys")
        .and_then(Value::as_array)
        .map_or(0, Vec::len)
}

/// The accessors the registry keeps for `entry`.
pub fn recorded_accessors(bao: &Bao, entry: &str) -> Vec<String> {
    bao.read("vault-converge/data/default")
        .and_then(|b| b["data"]["data"]["tokens"].as_str().map(str::to_owned))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .filter(|(e, _)| *e == entry)
        .map(|(_, a)| a.to_owned())
        .collect()
}

/// A token someone else made: not minted by the tool.
pub fn foreign_token(bao: &Bao, display_name: &str, policies: &[&str], ttl: &str) -> String {
    let made = bao.write(
        "auth/token/create-orphan",
        &json!({ "policies": policies, "display_name": display_name, "ttl": ttl }),
    );
    made["auth"]["client_token"].as_str().unwrap().to_owned()
}

pub fn read_file(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap().trim().to_owned()
}
