//! System sections: plugin catalog entries and audit devices.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::plan::{LoadedPlan, PlanError};

/// The plugin types of the catalog (`<type>/<name>` keys).
pub const PLUGIN_TYPES: [&str; 3] = ["auth", "secret", "database"];

use super::Fields;
use crate::plan::schema::VaultFields;

/// A plugin catalog entry (`sys/plugins/catalog/<type>/<name>`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Plugin {
    /// The SHA-256 of the plugin binary (`sha256sum BINARY`), 64 hex digits.
    pub sha256: String,
    /// The binary's name in the server's plugin_directory.
    pub command: String,
    /// The plugin's version, as it reports it.
    pub version: Option<String>,
    /// Arguments the server runs the binary with.
    #[serde(default)]
    pub args: Vec<String>,
    /// Environment (`NAME=value`) the server runs the binary with.
    #[serde(default)]
    pub env: Vec<String>,
}

/// An audit device (`sys/audit/<path>`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditDevice {
    /// `file`, `socket`, `syslog` or `http`.
    #[serde(rename = "type")]
    pub kind: String,
    pub description: Option<String>,
    /// The device's options (`file_path`, `log_raw`, ...).
    #[serde(default)]
    #[schemars(with = "VaultFields")]
    pub options: Fields,
    /// Not replicated to performance secondaries.
    #[serde(default)]
    pub local: bool,
}

/// Checks of this section that need no network (validation).
pub(in crate::plan) fn validate_system(loaded: &LoadedPlan) -> Result<(), PlanError> {
    let plan = &loaded.plan;
    let invalid = |at: &[&str], message: String| PlanError::Field {
        loc: loaded.loc(at).unwrap_or_else(|| loaded.root_loc()),
        path: at.join("."),
        message,
    };
    for (key, plugin) in &plan.plugins {
        let at = ["plugins", key.as_str()];
        match key.trim_matches('/').split_once('/') {
            Some((kind, name)) if PLUGIN_TYPES.contains(&kind) && !name.is_empty() && !name.contains('/') => {}
            _ => {
                return Err(invalid(&at, format!(
                    "a plugin is keyed `<type>/<name>` with type one of {}, e.g. `secret/my-plugin`; not `{key}`",
                    PLUGIN_TYPES.join(", ")
                )))
            }
        }
        let sha = plugin.sha256.trim();
        if sha.len() != 64 || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(invalid(
                &["plugins", key, "sha256"],
                "sha256 must be the 64 hex digits of the plugin binary's SHA-256 (`sha256sum BINARY`)".into(),
            ));
        }
        if plugin.command.trim().is_empty() {
            return Err(invalid(
                &["plugins", key, "command"],
                "command is empty: name the binary in the server's plugin_directory".into(),
            ));
        }
    }
    let mut seen = std::collections::HashSet::new();
    for (i, name) in plan.namespaces.iter().enumerate() {
        let index = i.to_string();
        let name = name.trim_matches('/');
        let message = if name.is_empty() || name.chars().any(char::is_whitespace) {
            Some(format!("`{name}` is not a namespace name"))
        } else if name.contains('/') {
            Some(format!(
                "`{name}`: only namespaces directly under the token's namespace are created; create \
                 nested ones from their parent (VAULT_NAMESPACE=<parent>)"
            ))
        } else if !seen.insert(name) {
            Some(format!("namespace `{name}` is listed twice"))
        } else {
            None
        };
        if let Some(message) = message {
            return Err(invalid(&["namespaces", &index], message));
        }
    }
    if let Some(ns) = &plan.vault.namespace {
        if ns.trim_matches('/').is_empty() || ns.chars().any(char::is_whitespace) {
            return Err(invalid(
                &["vault", "namespace"],
                format!("`{ns}` is not a namespace name"),
            ));
        }
    }
    for (path, device) in &plan.audit {
        if path.trim_matches('/').is_empty() {
            return Err(invalid(
                &["audit", path],
                "an audit device path is empty".into(),
            ));
        }
        if device.kind.trim().is_empty() {
            return Err(invalid(
                &["audit", path, "type"],
                "audit device type is empty (file, socket, syslog, http)".into(),
            ));
        }
    }
    for name in plan.audit_request_headers.keys() {
        if name.trim().is_empty() || name.contains('/') {
            return Err(invalid(
                &["audit_request_headers", name],
                format!("`{name}` is not a header name"),
            ));
        }
    }
    Ok(())
}
