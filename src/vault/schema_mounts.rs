//! What the fields check knows of mounts: their types, from the mount
//! tables, and what a path's own help describes: the fields a path takes,
//! and a new mount's whole API (`GET {mount}?help=1`), so
//! that the fields under a mount this run created are checked without
//! reading the whole server's description again (on a dev server with two
//! mounts that read costs the server about 13 ms of CPU, a mount's help 1 ms).

use std::collections::{HashMap, HashSet};

use serde_json::Value as Json;

use super::schema::ApiSchema;
use super::schema_doc::{Doc, Help};
use super::{Method, Vault, VaultError};

/// Asks a path for its help.
const HELP_QUERY: &str = "help=1";

impl ApiSchema {
    /// Adds what `mount` ("auth/approle") describes in its help. `false` when
    /// the help holds no description: the caller reads the whole one instead.
    pub async fn add_mount_help(&mut self, vault: &Vault, mount: &str) -> Result<bool, VaultError> {
        let mount = mount.trim_matches('/');
        let doc = vault
            .request_raw_uncounted(Method::Get, mount, Some(HELP_QUERY), |raw| {
                parse_help(mount, &raw)
            })
            .await?;
        match doc {
            Some(doc) if !doc.paths.is_empty() => {
                self.add(doc, mount);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

/// Mount path → type from the answers of `sys/mounts` and `sys/auth` (auth
/// paths get their "auth/" prefix). KV version 2 mounts have type "kv-v2",
/// version 1 "kv", since their paths differ.
pub fn mount_types(sys_mounts: &Json, sys_auth: &Json) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for (answer, prefix) in [(sys_mounts, ""), (sys_auth, "auth/")] {
        let data = answer.get("data").unwrap_or(answer);
        let Some(entries) = data.as_object() else {
            continue;
        };
        for (path, mount) in entries {
            let Some(kind) = mount.get("type").and_then(Json::as_str) else {
                continue;
            };
            let v2 = mount.pointer("/options/version").and_then(Json::as_str) == Some("2");
            let kind = if kind == "kv" && v2 { "kv-v2" } else { kind };
            out.insert(
                format!("{prefix}{}", path.trim_matches('/')),
                kind.to_owned(),
            );
        }
    }
    out
}

/// Every field the help of `path` describes (`GET path?help=1`: that path's
/// own OpenAPI); `None` when it cannot be asked.
pub async fn path_help_fields(vault: &Vault, path: &str) -> Option<HashSet<String>> {
    let answer = vault
        .send_once(Method::Get, path, Some(HELP_QUERY), None, None)
        .await
        .ok()?;
    let doc = answer.body.get("openapi")?;
    let mut fields = HashSet::new();
    let schemas = doc.pointer("/components/schemas").and_then(Json::as_object);
    for schema in schemas.into_iter().flat_map(|m| m.values()) {
        if let Some(properties) = schema.get("properties").and_then(Json::as_object) {
            fields.extend(properties.keys().cloned());
        }
    }
    let items = doc.get("paths").and_then(Json::as_object);
    for item in items.into_iter().flat_map(|m| m.values()) {
        let parameters = item.get("parameters").and_then(Json::as_array);
        for parameter in parameters.into_iter().flatten() {
            if let Some(name) = parameter.get("name").and_then(Json::as_str) {
                fields.insert(name.to_owned());
            }
        }
    }
    Some(fields)
}

/// The description in a help answer; `None` for JSON of another shape.
fn parse_help(mount: &str, raw: &[u8]) -> Result<Option<Doc>, VaultError> {
    match serde_json::from_slice::<Help>(raw) {
        Ok(help) => Ok(help.openapi),
        Err(e) if e.classify() == serde_json::error::Category::Data => Ok(None),
        Err(e) => Err(VaultError::unreadable(
            Method::Get,
            &format!("{mount}?{HELP_QUERY}"),
            &e,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::schema::FieldCheck;

    const HELP: &str = r###"{"help": "## DESCRIPTION", "openapi": {"paths": {
        "/role/{role_name}": {"post": {"requestBody": {"content": {"application/json":
            {"schema": {"$ref": "#/components/schemas/AppRoleWriteRoleRequest"}}}}}}},
        "components": {"schemas": {"AppRoleWriteRoleRequest":
            {"properties": {"token_ttl": {}, "secret_id_ttl": {}}}}}}}"###;

    #[test]
    fn a_mounts_help_describes_its_paths_under_the_mount() {
        let mut schema = ApiSchema::from_bytes(b"{\"paths\": {}}").unwrap();
        assert!(!schema.covers("auth/approle"));
        let doc = parse_help("auth/approle", HELP.as_bytes())
            .unwrap()
            .unwrap();
        schema.add(doc, "/auth/approle/");
        assert!(schema.covers("auth/approle"));
        assert_eq!(
            schema.check("auth/approle/role/ci", &["token_ttl", "role_name"]),
            FieldCheck::Known
        );
        assert_eq!(
            schema.check("auth/approle/role/ci", &["secret_id_tll"]),
            FieldCheck::Unknown(vec!["secret_id_tll".into()])
        );
    }

    #[test]
    fn a_help_without_a_description_gives_none_and_non_json_an_error() {
        assert!(parse_help("app", br#"{"help": "text only"}"#)
            .unwrap()
            .is_none());
        assert!(parse_help("app", br#"["not", "a", "help"]"#)
            .unwrap()
            .is_none());
        let err = parse_help("app", b"<html>").err().unwrap();
        assert!(err.to_string().contains("app?help=1"), "{err}");
    }
}
