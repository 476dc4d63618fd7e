//! An identity group, `identity/group/name/<name>`: type, policies,
//! metadata and, for internal groups, members named by entity and group
//! name. The tool turns member names into IDs and compares them as sets. A
//! group's type never changes: a group of the other type is refused.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value as Json};

use super::{compare_common, created, id_of, paths, strings};
use crate::plan::model::{Group, GroupType};
use crate::plan::node::Loc;
use crate::resources::compare::FieldChange;
use crate::resources::owned::{Owned, PruneKind};
use crate::resources::{Action, Change, Context, Diff, ObjectError, ObjectId, Request, Resource};

/// A member named in the plan.
pub struct Member {
    pub name: String,
    /// Where the plan names it.
    pub loc: Option<Loc>,
    /// Whether the plan declares it too (then this run may create it).
    pub planned: bool,
}

#[derive(Clone, Copy)]
enum MemberKind {
    Entity,
    Group,
}

impl MemberKind {
    fn label(self) -> &'static str {
        match self {
            MemberKind::Entity => "entity",
            MemberKind::Group => "group",
        }
    }

    fn path(self, name: &str) -> String {
        match self {
            MemberKind::Entity => paths::entity(name),
            MemberKind::Group => paths::group(name),
        }
    }

    fn path_by_id(self, id: &str) -> String {
        match self {
            MemberKind::Entity => paths::entity_by_id(id),
            MemberKind::Group => paths::group_by_id(id),
        }
    }

    fn section(self) -> &'static str {
        match self {
            MemberKind::Entity => "identity.entities",
            MemberKind::Group => "identity.groups",
        }
    }
}

pub struct GroupResource {
    pub id: ObjectId,
    pub name: String,
    pub kind: GroupType,
    /// Planned `policies` and `metadata` only.
    pub fields: Json,
    pub member_entities: Option<Vec<Member>>,
    pub member_groups: Option<Vec<Member>>,
}

impl GroupResource {
    pub fn new(
        id: ObjectId,
        name: &str,
        group: &Group,
        members: [Option<Vec<Member>>; 2],
    ) -> GroupResource {
        let mut fields = Map::new();
        if let Some(policies) = &group.policies {
            fields.insert("policies".into(), Json::from(policies.clone()));
        }
        if let Some(metadata) = &group.metadata {
            let metadata = metadata
                .iter()
                .map(|(k, v)| (k.clone(), Json::from(v.clone())))
                .collect();
            fields.insert("metadata".into(), Json::Object(metadata));
        }
        let [member_entities, member_groups] = members;
        GroupResource {
            id,
            name: name.to_owned(),
            kind: group.kind,
            fields: Json::Object(fields),
            member_entities,
            member_groups,
        }
    }

    fn member_lists(&self) -> [(&'static str, &'static str, MemberKind, Option<&Vec<Member>>); 2] {
        [
            (
                "member_entities",
                "member_entity_ids",
                MemberKind::Entity,
                self.member_entities.as_ref(),
            ),
            (
                "member_groups",
                "member_group_ids",
                MemberKind::Group,
                self.member_groups.as_ref(),
            ),
        ]
    }
}

impl Resource for GroupResource {
    fn id(&self) -> &ObjectId {
        &self.id
    }

    /// Deleting a group deletes its alias too.
    fn ownership(&self) -> Option<Owned> {
        Some(Owned::new(
            PruneKind::IdentityGroups,
            paths::group(&self.name),
        ))
    }

    fn diff<'a>(&'a self, ctx: &'a Context) -> Diff<'a> {
        Box::pin(async move {
            let path = paths::group(&self.name);
            let current = ctx.identity.read(&ctx.vault, &path).await?;
            if let Some(current) = &current {
                let have = current
                    .get("type")
                    .and_then(Json::as_str)
                    .unwrap_or("internal");
                if have != self.kind.as_str() {
                    return Err(ObjectError::Conflict(format!(
                        "group `{}` is {have} in Vault but {} in the plan; Vault cannot change a group's type: delete the group by hand or correct the plan's `type`",
                        self.name,
                        self.kind.as_str()
                    )));
                }
            }
            let mut body = self.fields.clone();
            body["type"] = Json::from(self.kind.as_str());
            let mut changes = match &current {
                Some(current) => compare_common(&self.fields, current),
                None => created(&body),
            };
            for (field, ids_field, kind, members) in self.member_lists() {
                let Some(members) = members else { continue };
                let resolved = resolve(ctx, kind, members).await?;
                let ids: BTreeSet<String> = resolved.values().flatten().cloned().collect();
                body[ids_field] = Json::from(ids.iter().cloned().collect::<Vec<_>>());
                let planned_names = || {
                    let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
                    format!("[{}]", names.join(", "))
                };
                let Some(current) = &current else {
                    changes.push(FieldChange {
                        field: field.into(),
                        old: None,
                        new: Some(planned_names()),
                    });
                    continue;
                };
                let have = strings(current.get(ids_field));
                let unknown = resolved.values().any(Option::is_none);
                if have != ids || unknown {
                    let old = names_of(ctx, kind, &have, &resolved).await?;
                    changes.push(FieldChange {
                        field: field.into(),
                        old: Some(format!("[{}]", old.join(", "))),
                        new: Some(planned_names()),
                    });
                }
            }
            let action = match (&current, changes.is_empty()) {
                (None, _) => Action::Create,
                (Some(_), true) => return Ok(Change::unchanged()),
                (Some(_), false) => Action::Update,
            };
            Ok(Change::new(
                action,
                changes,
                vec![Request::post(path, body)],
            ))
        })
    }
}

/// Member names → IDs. `None`: a planned member `plan` would create.
async fn resolve(
    ctx: &Context,
    kind: MemberKind,
    members: &[Member],
) -> Result<BTreeMap<String, Option<String>>, ObjectError> {
    let mut ids = BTreeMap::new();
    for member in members {
        let path = kind.path(&member.name);
        let found = if member.planned && !ctx.planning {
            ctx.identity.read_created(&ctx.vault, &path).await?
        } else {
            ctx.identity.read(&ctx.vault, &path).await?
        };
        let id = match found.as_deref().and_then(id_of) {
            Some(id) => Some(id.to_owned()),
            None if member.planned && ctx.planning => None,
            None => {
                let at = member
                    .loc
                    .as_ref()
                    .map(|l| format!("{}:{}: ", l.file, l.line))
                    .unwrap_or_default();
                let problem = if member.planned {
                    "is in the plan but not in Vault (it should have been created earlier in this run); rerun".to_owned()
                } else {
                    format!(
                        "exists neither in the plan nor in Vault; add it under `{}` or fix the name",
                        kind.section()
                    )
                };
                return Err(ObjectError::Invalid(format!(
                    "{at}member {} `{}` {problem}",
                    kind.label(),
                    member.name,
                )));
            }
        };
        ids.insert(member.name.clone(), id);
    }
    Ok(ids)
}

/// The names of the members Vault lists, for the report: planned ones from
/// what was resolved, others read by ID (only when the members differ).
async fn names_of(
    ctx: &Context,
    kind: MemberKind,
    ids: &BTreeSet<String>,
    resolved: &BTreeMap<String, Option<String>>,
) -> Result<Vec<String>, ObjectError> {
    let mut names = Vec::new();
    for id in ids {
        let planned = resolved
            .iter()
            .find(|(_, resolved)| resolved.as_deref() == Some(id.as_str()))
            .map(|(name, _)| name.clone());
        let name = match planned {
            Some(name) => name,
            None => ctx
                .vault
                .read(&kind.path_by_id(id))
                .await?
                .and_then(|body| {
                    body.pointer("/data/name")
                        .and_then(Json::as_str)
                        .map(str::to_owned)
                })
                .unwrap_or_else(|| id.clone()),
        };
        names.push(name);
    }
    // IDs are random: sorted names make the report the same on every run.
    names.sort();
    Ok(names)
}
