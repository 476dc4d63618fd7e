//! Identity entities and groups, by name; alias mounts by auth path,
//! members by name (the plan never holds IDs or accessors).

use std::collections::BTreeMap;

use serde_json::{json, Map, Value as Json};

use super::Exporter;
use crate::vault::VaultError;

pub(super) async fn entities_and_groups(
    ex: &mut Exporter<'_>,
) -> Result<Map<String, Json>, VaultError> {
    let mut out = Map::new();
    if !ex.wants("identity/") {
        return Ok(out);
    }
    let mut names_by_id: BTreeMap<String, String> = BTreeMap::new();
    let mut entities = Map::new();
    for name in ex.list("identity/entity/name").await? {
        let Some(read) = ex.read(&format!("identity/entity/name/{name}")).await? else {
            continue;
        };
        if let Some(id) = read.get("id").and_then(Json::as_str) {
            names_by_id.insert(id.to_owned(), name.clone());
        }
        let mut entity = common(&read);
        if read.get("disabled") == Some(&Json::Bool(true)) {
            entity.insert("disabled".into(), Json::Bool(true));
        }
        let aliases: Vec<Json> = read
            .get("aliases")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .filter_map(|a| alias(ex, a))
            .collect();
        if !aliases.is_empty() {
            entity.insert("aliases".into(), Json::Array(aliases));
        }
        entities.insert(name, Json::Object(entity));
    }
    let mut groups = Map::new();
    let mut group_reads = Vec::new();
    for name in ex.list("identity/group/name").await? {
        if let Some(read) = ex.read(&format!("identity/group/name/{name}")).await? {
            if let Some(id) = read.get("id").and_then(Json::as_str) {
                names_by_id.insert(id.to_owned(), name.clone());
            }
            group_reads.push((name, read));
        }
    }
    for (name, read) in group_reads {
        let mut group = common(&read);
        let kind = read
            .get("type")
            .and_then(Json::as_str)
            .unwrap_or("internal");
        if kind == "external" {
            group.insert("type".into(), json!("external"));
            if let Some(a) = read.get("alias").and_then(|a| alias(ex, a)) {
                group.insert("alias".into(), a);
            }
        }
        for (field, key) in [
            ("member_entity_ids", "member_entities"),
            ("member_group_ids", "member_groups"),
        ] {
            let members: Vec<Json> = read
                .get(field)
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .filter_map(Json::as_str)
                .filter_map(|id| names_by_id.get(id).cloned().map(Json::String))
                .collect();
            if !members.is_empty() {
                group.insert(key.into(), Json::Array(members));
            }
        }
        groups.insert(name, Json::Object(group));
    }
    if !entities.is_empty() {
        out.insert("entities".into(), Json::Object(entities));
    }
    if !groups.is_empty() {
        out.insert("groups".into(), Json::Object(groups));
    }
    Ok(out)
}

/// Policies and metadata, when set.
fn common(read: &Json) -> Map<String, Json> {
    let mut out = Map::new();
    for key in ["policies", "metadata"] {
        let value = read.get(key).cloned().unwrap_or(Json::Null);
        let empty = value.is_null()
            || value.as_array().is_some_and(Vec::is_empty)
            || value.as_object().is_some_and(Map::is_empty);
        if !empty {
            out.insert(key.into(), value);
        }
    }
    out
}

/// `{auth, name}` of an alias whose mount is a known auth method.
fn alias(ex: &Exporter<'_>, alias: &Json) -> Option<Json> {
    let accessor = alias.get("mount_accessor").and_then(Json::as_str)?;
    let name = alias.get("name").and_then(Json::as_str)?;
    Some(json!({ "auth": ex.auth_path_of(accessor)?, "name": name }))
}
