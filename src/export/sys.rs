//! Mounts, audit devices, policies and password policies.

use serde_json::{json, Map, Value as Json};

use super::clean::clean;
use super::Exporter;
use crate::vault::VaultError;

/// Mounts the server makes itself; never part of a plan.
const BUILTIN_TYPES: &[&str] = &[
    "system",
    "identity",
    "cubbyhole",
    "token",
    "ns_system",
    "ns_identity",
    "ns_cubbyhole",
    "ns_token",
];

/// The mount table as returned (`path/` → entry), or empty.
async fn table(ex: &mut Exporter<'_>, path: &str) -> Result<Map<String, Json>, VaultError> {
    Ok(ex
        .read(path)
        .await?
        .and_then(|d| d.as_object().cloned())
        .unwrap_or_default())
}

/// A mount or auth method: type, description, options, tuned settings.
fn method_entry(entry: &Json, tune_key: &str) -> Map<String, Json> {
    let mut out = Map::new();
    if let Some(kind) = entry.get("type") {
        out.insert("type".into(), kind.clone());
    }
    if let Some(d) = entry
        .get("description")
        .filter(|d| d.as_str().is_some_and(|s| !s.is_empty()))
    {
        out.insert("description".into(), d.clone());
    }
    let options = entry
        .get("options")
        .and_then(Json::as_object)
        .map(clean)
        .unwrap_or_default();
    if !options.is_empty() {
        out.insert("options".into(), Json::Object(options));
    }
    let config = entry
        .get("config")
        .and_then(Json::as_object)
        .map(clean)
        .unwrap_or_default();
    if !config.is_empty() {
        out.insert(tune_key.into(), Json::Object(config));
    }
    out
}

pub(super) async fn mounts(ex: &mut Exporter<'_>) -> Result<Map<String, Json>, VaultError> {
    let registry = ex.options.registry_mount.trim_matches('/').to_owned();
    let mut out = Map::new();
    for (path, entry) in table(ex, "sys/mounts").await? {
        let path = path.trim_end_matches('/').to_owned();
        let kind = entry.get("type").and_then(Json::as_str).unwrap_or_default();
        if BUILTIN_TYPES.contains(&kind) || path == registry {
            continue;
        }
        ex.mounts.insert(path.clone(), entry.clone());
        if ex.wants_under(&path) {
            out.insert(path, Json::Object(method_entry(&entry, "config")));
        }
    }
    // Auth methods are read here too: later sections need their accessors.
    for (path, entry) in table(ex, "sys/auth").await? {
        ex.auth.insert(path.trim_end_matches('/').to_owned(), entry);
    }
    Ok(out)
}

/// Auth methods' own entries (type, description, tune), for `auth.rs`.
pub(super) fn auth_entry(entry: &Json) -> Map<String, Json> {
    method_entry(entry, "tune")
}

pub(super) async fn audit(ex: &mut Exporter<'_>) -> Result<Map<String, Json>, VaultError> {
    let mut out = Map::new();
    if !ex.wants("sys/audit/") {
        return Ok(out);
    }
    for (path, entry) in table(ex, "sys/audit").await? {
        // Type, description and options, like a mount (a device has no tuning).
        let mut device = method_entry(&entry, "config");
        if entry.get("local") == Some(&Json::Bool(true)) {
            device.insert("local".into(), Json::Bool(true));
        }
        out.insert(path.trim_end_matches('/').to_owned(), Json::Object(device));
    }
    Ok(out)
}

pub(super) async fn policies(ex: &mut Exporter<'_>) -> Result<Map<String, Json>, VaultError> {
    let mut out = Map::new();
    for name in ex.list("sys/policies/acl").await? {
        // Built in: `root` cannot be written, `default` exists on every server.
        if name == "root" || name == "default" || !ex.wants(&format!("sys/policies/acl/{name}")) {
            continue;
        }
        let body = ex.read(&format!("sys/policies/acl/{name}")).await?;
        if let Some(policy) = body
            .as_ref()
            .and_then(|b| b.get("policy"))
            .and_then(Json::as_str)
        {
            out.insert(name, Json::String(policy.trim_end().to_owned() + "\n"));
        }
    }
    Ok(out)
}

pub(super) async fn password_policies(
    ex: &mut Exporter<'_>,
) -> Result<Map<String, Json>, VaultError> {
    let mut out = Map::new();
    for name in ex.list("sys/policies/password").await? {
        if !ex.wants(&format!("sys/policies/password/{name}")) {
            continue;
        }
        let body = ex.read(&format!("sys/policies/password/{name}")).await?;
        if let Some(policy) = body
            .as_ref()
            .and_then(|b| b.get("policy"))
            .and_then(Json::as_str)
        {
            out.insert(
                name,
                json!({ "policy": policy.trim_end().to_owned() + "\n" }),
            );
        }
    }
    Ok(out)
}

pub(super) async fn audit_request_headers(
    ex: &mut Exporter<'_>,
) -> Result<Map<String, Json>, VaultError> {
    let mut out = Map::new();
    if !ex.wants("sys/config/auditing/") {
        return Ok(out);
    }
    let read = ex.read("sys/config/auditing/request-headers").await?;
    let headers = read
        .as_ref()
        .and_then(|r| r.get("headers"))
        .and_then(Json::as_object);
    for (name, settings) in headers.into_iter().flatten() {
        out.insert(name.clone(), settings.clone());
    }
    Ok(out)
}
