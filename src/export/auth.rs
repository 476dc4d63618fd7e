//! Auth methods: their entry and tune, config, and the named objects under
//! them (roles, users, groups, certs), with write-only fields as placeholders.

use serde_json::{Map, Value as Json};

use super::clean::clean;
use super::Exporter;
use crate::paths::auth::{role_collection, TOKEN_METHOD};
use crate::vault::VaultError;

pub(super) async fn methods(ex: &mut Exporter<'_>) -> Result<Map<String, Json>, VaultError> {
    let mut out = Map::new();
    let methods: Vec<(String, Json)> = ex.auth.clone().into_iter().collect();
    for (path, entry) in methods {
        if !ex.wants_under(&format!("auth/{path}")) {
            continue;
        }
        let kind = entry
            .get("type")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_owned();
        let mut method = if kind == TOKEN_METHOD {
            // Builtin, never enabled: only its roles belong in a plan.
            Map::new()
        } else {
            let mut method = super::sys::auth_entry(&entry);
            if let Some(config) = config(ex, &path, &kind).await? {
                method.insert("config".into(), Json::Object(config));
            }
            method
        };
        let mut collections: Vec<(&str, &str)> = Vec::new();
        match (kind.as_str(), role_collection(&kind)) {
            ("userpass", _) => collections.push(("users", "users")),
            ("cert", _) => collections.push(("certs", "certs")),
            (_, Some(segment)) => collections.push(("roles", segment)),
            ("ldap" | "okta", None) => {
                collections.extend([("users", "users"), ("groups", "groups")])
            }
            _ => {}
        }
        for (key, segment) in collections {
            let objects = named(ex, &path, &kind, segment).await?;
            if !objects.is_empty() {
                method.insert(key.into(), Json::Object(objects));
            }
        }
        if !method.is_empty() {
            out.insert(path, Json::Object(method));
        }
    }
    Ok(out)
}

/// `auth/<path>/config`; a field the server reports only as `<field>_set`
/// (a JWT, a client secret) becomes a placeholder.
async fn config(
    ex: &mut Exporter<'_>,
    path: &str,
    kind: &str,
) -> Result<Option<Map<String, Json>>, VaultError> {
    if matches!(kind, "userpass" | "approle" | "cert" | "token") {
        return Ok(None);
    }
    let Some(read) = ex.read(&format!("auth/{path}/config")).await? else {
        return Ok(None);
    };
    let Some(fields) = read.as_object() else {
        return Ok(None);
    };
    let mut config = clean(fields);
    let set: Vec<String> = fields
        .iter()
        .filter(|(_, v)| **v == Json::Bool(true))
        .filter_map(|(k, _)| k.strip_suffix("_set").map(str::to_owned))
        .collect();
    config.retain(|k, _| !k.ends_with("_set"));
    for field in set {
        let what = format!("auth/{path}/config {field}");
        let value = ex.placeholder("auth", &[path, &field], what);
        config.insert(field, value);
    }
    Ok((!config.is_empty()).then_some(config))
}

/// The objects of one collection (`role/`, `users/`, ...), cleaned.
async fn named(
    ex: &mut Exporter<'_>,
    path: &str,
    kind: &str,
    segment: &str,
) -> Result<Map<String, Json>, VaultError> {
    let mut out = Map::new();
    for name in ex.list(&format!("auth/{path}/{segment}")).await? {
        let object_path = format!("auth/{path}/{segment}/{name}");
        if !ex.wants(&object_path) {
            continue;
        }
        let Some(read) = ex.read(&object_path).await? else {
            continue;
        };
        let mut fields = read.as_object().map(clean).unwrap_or_default();
        if kind == TOKEN_METHOD {
            fields.remove("name");
        }
        // A user's password is write-only: it must come from somewhere.
        if kind == "userpass" {
            let what = format!("{object_path} password");
            let value = ex.placeholder("auth", &[path, &name, "password"], what);
            fields.insert("password".into(), value);
        }
        out.insert(name, Json::Object(fields));
    }
    Ok(out)
}
