//! Entity aliases and external groups' aliases. The plan names an auth path
//! and an alias name; the tool adds the mount accessor and the canonical ID.
//!
//! An alias whose auth path or name the plan changes is updated in place,
//! never duplicated: the entity's read lists its aliases, and a planned
//! alias takes over, in this order, the alias with the same accessor and
//! name (unchanged), the alias on the same auth method (renamed: Vault
//! allows one per method and entity), or an alias this tool created (marked
//! in its `custom_metadata`) that no planned alias matches any more (moved to
//! the new auth method). Aliases someone else created are left alone.

use std::sync::Arc;

use serde_json::{json, Value as Json};

use super::pairing::{pair, Existing, Pairing, MANAGED_BY};
use super::{accessor, id_of, paths};
use crate::plan::model::Alias;
use crate::resources::compare::FieldChange;
use crate::resources::context::table_entry;
use crate::resources::{Action, Change, Context, Diff, ObjectError, ObjectId, Request, Resource};

/// One planned alias of an entity.
pub struct EntityAliasResource {
    pub id: ObjectId,
    pub entity: String,
    /// All of the entity's planned aliases: pairing looks at all of them.
    pub aliases: Vec<Alias>,
    pub index: usize,
}

impl Resource for EntityAliasResource {
    fn id(&self) -> &ObjectId {
        &self.id
    }

    fn diff<'a>(&'a self, ctx: &'a Context) -> Diff<'a> {
        Box::pin(async move {
            let Some(alias) = self.aliases.get(self.index) else {
                return Ok(Change::unchanged());
            };
            let own = accessor(ctx, &alias.auth).await?;
            let entity = owner(ctx, &paths::entity(&self.entity)).await?;
            let Some(entity) = entity else {
                return absent_owner(ctx, "entity", &self.entity, alias);
            };
            let canonical = id_of(&entity).unwrap_or_default();
            let existing: Vec<Existing> = entity
                .get("aliases")
                .and_then(Json::as_array)
                .map(|a| a.iter().filter_map(Existing::parse).collect())
                .unwrap_or_default();
            // The other aliases' accessors, without failing this one for theirs.
            let table = ctx.fresh_auth_table().await?;
            let accessors: Vec<Option<String>> = self
                .aliases
                .iter()
                .map(|a| {
                    table_entry(&table, a.auth.trim_matches('/'))
                        .and_then(|e| e.get("accessor"))
                        .and_then(Json::as_str)
                        .map(str::to_owned)
                })
                .collect();
            let planned: Vec<(Option<&str>, &str)> = self
                .aliases
                .iter()
                .zip(&accessors)
                .map(|(a, acc)| (acc.as_deref(), a.name.as_str()))
                .collect();
            let accessor = own.unwrap_or_else(|| placeholder(alias));
            let mut body = json!({
                "name": alias.name,
                "mount_accessor": accessor,
                "canonical_id": canonical,
            });
            match pair(&planned, &existing)[self.index] {
                Pairing::Same(_) => Ok(Change::unchanged()),
                Pairing::Replaces(e) => {
                    let old = &existing[e];
                    let mut metadata = old.custom_metadata.clone();
                    metadata.insert(MANAGED_BY.0.into(), MANAGED_BY.1.into());
                    body["custom_metadata"] = Json::Object(metadata);
                    Ok(Change::new(
                        Action::Update,
                        changed_fields(old, alias),
                        vec![Request::post(paths::entity_alias(&old.id), body)],
                    ))
                }
                Pairing::New => {
                    body["custom_metadata"] = json!({ MANAGED_BY.0: MANAGED_BY.1 });
                    Ok(Change::new(
                        Action::Create,
                        created_fields(alias),
                        vec![Request::post(paths::ENTITY_ALIAS, body)],
                    ))
                }
            }
        })
    }
}

/// The alias of an external group.
pub struct GroupAliasResource {
    pub id: ObjectId,
    pub group: String,
    pub alias: Alias,
}

impl Resource for GroupAliasResource {
    fn id(&self) -> &ObjectId {
        &self.id
    }

    fn diff<'a>(&'a self, ctx: &'a Context) -> Diff<'a> {
        Box::pin(async move {
            let alias = &self.alias;
            let own = accessor(ctx, &alias.auth).await?;
            let group = owner(ctx, &paths::group(&self.group)).await?;
            let Some(group) = group else {
                return absent_owner(ctx, "group", &self.group, alias);
            };
            let accessor = own.unwrap_or_else(|| placeholder(alias));
            let body = json!({
                "name": alias.name,
                "mount_accessor": accessor,
                "canonical_id": id_of(&group).unwrap_or_default(),
            });
            let existing = group.get("alias").and_then(Existing::parse);
            match existing {
                Some(old) if old.accessor == accessor && old.name == alias.name => {
                    Ok(Change::unchanged())
                }
                Some(old) => Ok(Change::new(
                    Action::Update,
                    changed_fields(&old, alias),
                    vec![Request::post(paths::group_alias(&old.id), body)],
                )),
                None => Ok(Change::new(
                    Action::Create,
                    created_fields(alias),
                    vec![Request::post(paths::GROUP_ALIAS, body)],
                )),
            }
        })
    }
}

/// The entity or group an alias belongs to: planned, so `apply` created it
/// in the stage before if it was missing.
async fn owner(ctx: &Context, path: &str) -> Result<Option<Arc<Json>>, ObjectError> {
    Ok(if ctx.planning {
        ctx.identity.read(&ctx.vault, path).await?
    } else {
        ctx.identity.read_created(&ctx.vault, path).await?
    })
}

/// An alias whose entity or group (or auth method) does not exist yet:
/// `plan` shows it as a create, `apply` cannot write it.
fn absent_owner(
    ctx: &Context,
    kind: &str,
    owner: &str,
    alias: &Alias,
) -> Result<Change, ObjectError> {
    if ctx.planning {
        return Ok(Change::new(
            Action::Create,
            created_fields(alias),
            Vec::new(),
        ));
    }
    Err(ObjectError::Invalid(format!(
        "{kind} `{owner}` does not exist, so its alias cannot be written; declare it under `identity:`"
    )))
}

/// `plan` only: the accessor of a method this run enables.
fn placeholder(alias: &Alias) -> String {
    format!(
        "<accessor of auth/{}, known after apply>",
        alias.auth.trim_matches('/')
    )
}

fn created_fields(alias: &Alias) -> Vec<FieldChange> {
    vec![
        FieldChange {
            field: "auth".into(),
            old: None,
            new: Some(alias.auth.trim_matches('/').to_owned()),
        },
        FieldChange {
            field: "name".into(),
            old: None,
            new: Some(alias.name.clone()),
        },
    ]
}

fn changed_fields(old: &Existing, alias: &Alias) -> Vec<FieldChange> {
    let auth = alias.auth.trim_matches('/');
    let mut changes = Vec::new();
    if old.auth != auth {
        changes.push(FieldChange {
            field: "auth".into(),
            old: Some(old.auth.clone()),
            new: Some(auth.to_owned()),
        });
    }
    if old.name != alias.name {
        changes.push(FieldChange {
            field: "name".into(),
            old: Some(old.name.clone()),
            new: Some(alias.name.clone()),
        });
    }
    changes
}
