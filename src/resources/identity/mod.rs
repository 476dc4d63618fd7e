//! Identity entities, groups and their aliases (DESIGN.md "Additions"),
//! addressed by name: the tool looks up IDs and mount accessors itself, so a
//! plan never holds one. Entities and groups are read once per run through
//! [`Cache`]; their aliases and the groups naming them use that read.

pub mod alias;
pub mod entity;
pub mod group;
pub mod pairing;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use serde_json::Value as Json;

use super::compare::{render, FieldChange};
use super::context::table_entry;
use super::{Context, ObjectError};
use crate::vault::{Vault, VaultError};

/// The Vault paths of the identity kinds, in one place.
pub mod paths {
    pub fn entity(name: &str) -> String {
        format!("identity/entity/name/{name}")
    }
    pub fn entity_by_id(id: &str) -> String {
        format!("identity/entity/id/{id}")
    }
    pub fn group(name: &str) -> String {
        format!("identity/group/name/{name}")
    }
    pub fn group_by_id(id: &str) -> String {
        format!("identity/group/id/{id}")
    }
    /// POST here creates an entity alias.
    pub const ENTITY_ALIAS: &str = "identity/entity-alias";
    pub fn entity_alias(id: &str) -> String {
        format!("identity/entity-alias/id/{id}")
    }
    /// POST here creates a group alias.
    pub const GROUP_ALIAS: &str = "identity/group-alias";
    pub fn group_alias(id: &str) -> String {
        format!("identity/group-alias/id/{id}")
    }
}

/// Entities and groups read during the run, by read path. An object is
/// cached once it exists (its ID and aliases do not change under us); an
/// absent one is read again, because an earlier object of the run may
/// create it.
#[derive(Default)]
pub struct Cache {
    objects: Mutex<HashMap<String, Slot>>,
}

/// One object's read, `None` until it was found.
type Slot = Arc<tokio::sync::Mutex<Option<Arc<Json>>>>;

impl Cache {
    /// The `data` of the object at `path`, `None` when Vault has none.
    pub async fn read(&self, vault: &Vault, path: &str) -> Result<Option<Arc<Json>>, VaultError> {
        let slot = {
            let mut objects = self.objects.lock().unwrap_or_else(|e| e.into_inner());
            objects.entry(path.to_owned()).or_default().clone()
        };
        // One reader per path at a time: concurrent groups naming the same
        // member read it once.
        let mut slot = slot.lock().await;
        if let Some(data) = slot.as_ref() {
            return Ok(Some(data.clone()));
        }
        let data = vault
            .read(path)
            .await?
            .and_then(|body| body.get("data").cloned())
            .filter(Json::is_object)
            .map(Arc::new);
        slot.clone_from(&data);
        Ok(data)
    }

    /// `read` of an object this run created: an HA standby may answer from
    /// state a moment old, so an absent answer is read again a few times
    /// before it counts.
    pub async fn read_created(
        &self,
        vault: &Vault,
        path: &str,
    ) -> Result<Option<Arc<Json>>, VaultError> {
        for delay_ms in [50, 100, 200, 400] {
            if let Some(data) = self.read(vault, path).await? {
                return Ok(Some(data));
            }
            tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
        }
        self.read(vault, path).await
    }

    /// After a lost create race nothing read before is trusted.
    pub fn forget(&self) {
        self.objects
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

/// An object's `id`.
fn id_of(data: &Json) -> Option<&str> {
    data.get("id").and_then(Json::as_str)
}

/// The accessor of the auth method at `path`, from the auth table (read
/// again when this run enabled auth methods). `plan`: a method the run
/// would enable has none yet, and `None` stands for it.
async fn accessor(ctx: &Context, path: &str) -> Result<Option<String>, ObjectError> {
    let table = ctx.fresh_auth_table().await?;
    let path = path.trim_matches('/');
    match table_entry(&table, path)
        .and_then(|e| e.get("accessor"))
        .and_then(Json::as_str)
    {
        Some(accessor) => Ok(Some(accessor.to_owned())),
        None if ctx.planning => Ok(None),
        None => Err(ObjectError::Invalid(format!(
            "auth method `{path}` does not exist; enable it under `auth:` or fix the alias's `auth`"
        ))),
    }
}

/// The strings of a list Vault returned (`null` is empty).
fn strings(value: Option<&Json>) -> BTreeSet<String> {
    value
        .and_then(Json::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Compares an entity's or group's `policies`, `metadata` and `disabled`
/// with the planned ones: policies as a set of lower-case names, metadata
/// as a whole map (a write replaces it whole). Only planned fields count.
fn compare_common(planned: &Json, current: &Json) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    let Some(planned) = planned.as_object() else {
        return changes;
    };
    for (field, want) in planned {
        let have = current.get(field).unwrap_or(&Json::Null);
        let same = match field.as_str() {
            "policies" => policy_set(want) == policy_set(have),
            "metadata" => map_or_empty(want) == map_or_empty(have),
            _ => want == have,
        };
        if !same {
            changes.push(FieldChange {
                field: field.clone(),
                old: Some(render(have, false)),
                new: Some(render(want, false)),
            });
        }
    }
    changes
}

fn policy_set(value: &Json) -> BTreeSet<String> {
    strings(Some(value))
        .into_iter()
        .map(|p| p.to_lowercase())
        .collect()
}

fn map_or_empty(value: &Json) -> serde_json::Map<String, Json> {
    value.as_object().cloned().unwrap_or_default()
}

/// Every planned field as the report shows a new object.
fn created(planned: &Json) -> Vec<FieldChange> {
    planned
        .as_object()
        .map(|fields| {
            fields
                .iter()
                .map(|(field, value)| FieldChange {
                    field: field.clone(),
                    old: None,
                    new: Some(render(value, false)),
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn policies_are_a_set_of_lower_case_names_and_metadata_a_whole_map() {
        let planned = json!({"policies": ["Dev", "ops"], "metadata": {}});
        let current = json!({"policies": ["ops", "dev"], "metadata": null, "disabled": true});
        assert!(compare_common(&planned, &current).is_empty());
        let current = json!({"policies": ["ops"], "metadata": {"team": "x"}});
        let changed: Vec<String> = compare_common(&planned, &current)
            .into_iter()
            .map(|c| c.field)
            .collect();
        assert_eq!(changed, ["metadata", "policies"]);
    }
}
