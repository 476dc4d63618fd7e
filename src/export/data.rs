//! Database connections and roles, and KV fixtures (keys only: every value
//! becomes a placeholder, never read into the export).

use serde_json::{json, Map, Value as Json};

use super::clean::clean;
use super::Exporter;
use crate::paths;
use crate::vault::VaultError;

/// Connection fields a read returns that are not settings of the plan's connection.
const CONNECTION_TOP: &[&str] = &["plugin_name", "allowed_roles", "verify_connection"];

pub(super) async fn databases(ex: &mut Exporter<'_>) -> Result<Map<String, Json>, VaultError> {
    let mut out = Map::new();
    for mount in ex.mounts_of_type("database") {
        if !ex.wants_under(&mount) {
            continue;
        }
        let mut db = Map::new();
        let mut connections = Map::new();
        for name in ex.list(&format!("{mount}/config")).await? {
            let path = format!("{mount}/config/{name}");
            if !ex.wants(&path) {
                continue;
            }
            if let Some(read) = ex.read(&path).await? {
                connections.insert(name.clone(), connection(ex, &mount, &name, &read));
            }
        }
        for (key, segment) in [("roles", "roles"), ("static_roles", "static-roles")] {
            let mut roles = Map::new();
            for name in ex.list(&format!("{mount}/{segment}")).await? {
                let path = format!("{mount}/{segment}/{name}");
                if !ex.wants(&path) {
                    continue;
                }
                if let Some(read) = ex.read(&path).await? {
                    let mut fields = read.as_object().map(clean).unwrap_or_default();
                    // A static role's remaining TTL is state, not a setting.
                    if segment == "static-roles" {
                        fields.remove("ttl");
                    }
                    roles.insert(name, Json::Object(fields));
                }
            }
            if !roles.is_empty() {
                db.insert(key.into(), Json::Object(roles));
            }
        }
        if !connections.is_empty() {
            db.insert("connections".into(), Json::Object(connections));
        }
        if !db.is_empty() {
            out.insert(mount, Json::Object(db));
        }
    }
    Ok(out)
}

/// A connection: its plugin, allowed roles, and the connection details
/// with the password (never returned by Vault) as a placeholder.
fn connection(ex: &mut Exporter<'_>, mount: &str, name: &str, read: &Json) -> Json {
    let mut out = Map::new();
    for key in CONNECTION_TOP {
        if let Some(value) = read.get(*key) {
            out.insert((*key).into(), value.clone());
        }
    }
    if out.get("verify_connection") == Some(&Json::Bool(true)) {
        out.remove("verify_connection");
    }
    let mut config = read
        .get("connection_details")
        .and_then(Json::as_object)
        .map(clean)
        .unwrap_or_default();
    for (key, value) in read.as_object().into_iter().flatten() {
        let setting = matches!(
            key.as_str(),
            "password_policy" | "root_credentials_rotate_statements"
        );
        let empty = value.is_null()
            || value.as_str() == Some("")
            || value.as_array().is_some_and(Vec::is_empty);
        if setting && !empty {
            let key = match key.as_str() {
                "root_credentials_rotate_statements" => "root_rotation_statements",
                other => other,
            };
            config.insert(key.into(), value.clone());
        }
    }
    if config.contains_key("username") {
        let what = format!("{mount}/config/{name} password");
        let value = ex.placeholder("databases", &[mount, name, "password"], what);
        config.insert("password".into(), value);
    }
    if !config.is_empty() {
        out.insert("config".into(), Json::Object(config));
    }
    Json::Object(out)
}

pub(super) async fn kv(ex: &mut Exporter<'_>) -> Result<Map<String, Json>, VaultError> {
    let mut out = Map::new();
    for mount in ex
        .mounts_of_type("kv")
        .into_iter()
        .chain(ex.mounts_of_type("generic"))
    {
        if !ex.wants_under(&mount) {
            continue;
        }
        let v2 = ex
            .mounts
            .get(&mount)
            .and_then(|e| e.pointer("/options/version"))
            .and_then(Json::as_str)
            == Some("2");
        let list_root = if v2 {
            format!("{mount}/metadata")
        } else {
            mount.clone()
        };
        let mut fixtures = Map::new();
        // Folder by folder (`dir/`), one LIST each.
        let mut folders = vec![String::new()];
        while let Some(folder) = folders.pop() {
            let listed = format!("{list_root}/{folder}");
            for key in ex.list(listed.trim_end_matches('/')).await? {
                let path = format!("{folder}{key}");
                if key.ends_with('/') {
                    folders.push(path);
                    continue;
                }
                if !ex.wants(&format!("{mount}/{path}")) {
                    continue;
                }
                let read_path = if v2 {
                    paths::kv::data(&mount, &path)
                } else {
                    format!("{mount}/{path}")
                };
                let Some(read) = ex.read(&read_path).await? else {
                    continue;
                };
                let data = if v2 {
                    read.get("data").cloned()
                } else {
                    Some(read)
                };
                let Some(Json::Object(data)) = data else {
                    continue; // latest version deleted
                };
                let mut keys = Map::new();
                for field in data.keys() {
                    let what = format!("{mount}/{path} key {field}");
                    let value = ex.placeholder("kv", &[&mount, &path, field], what);
                    keys.insert(field.clone(), value);
                }
                fixtures.insert(path, json!({ "data": keys }));
            }
        }
        if !fixtures.is_empty() {
            out.insert(mount, Json::Object(fixtures));
        }
    }
    Ok(out)
}
