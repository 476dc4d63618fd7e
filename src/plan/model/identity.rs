//! `identity:` — entities, groups and their aliases (DESIGN.md "Additions").
//! Everything is named: the tool resolves IDs and mount accessors itself.
//! Unset fields (`None`) are neither compared nor written.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::Deserialize;

use crate::plan::{LoadedPlan, PlanError};

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    /// Entities (`identity/entity/name/<name>`), by name.
    #[serde(default)]
    pub entities: BTreeMap<String, Entity>,
    /// Groups (`identity/group/name/<name>`), by name.
    #[serde(default)]
    pub groups: BTreeMap<String, Group>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Entity {
    /// Policies of the entity's tokens, beyond their own.
    pub policies: Option<Vec<String>>,
    pub metadata: Option<BTreeMap<String, String>>,
    /// A disabled entity's tokens are refused.
    pub disabled: Option<bool>,
    /// At most one per auth method.
    #[serde(default)]
    pub aliases: Vec<Alias>,
}

/// An alias names an auth path; the tool resolves its accessor itself.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Alias {
    /// The auth method's path.
    pub auth: String,
    /// The name the method reports (a user name, a service account's UID, a group).
    pub name: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum GroupType {
    /// Members are listed here.
    #[default]
    Internal,
    /// Members come from the auth method, through the group's alias.
    External,
}

impl GroupType {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupType::Internal => "internal",
            GroupType::External => "external",
        }
    }
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// Vault's default, `internal`, when unset; a group's type never changes.
    #[serde(rename = "type", default)]
    pub kind: GroupType,
    /// Policies of the members' tokens.
    pub policies: Option<Vec<String>>,
    pub metadata: Option<BTreeMap<String, String>>,
    /// Internal groups: members by entity name.
    pub member_entities: Option<Vec<String>>,
    /// Internal groups: members by group name.
    pub member_groups: Option<Vec<String>>,
    /// External groups: the one alias that maps the auth method's group.
    pub alias: Option<Alias>,
}

/// Checks of this section that need no network (validation).
pub(in crate::plan) fn validate_identity(loaded: &LoadedPlan) -> Result<(), PlanError> {
    let identity = &loaded.plan.identity;
    let invalid = |at: &[&str], message: String| {
        let loc = loaded.loc(at).unwrap_or_else(|| loaded.root_loc());
        PlanError::Field {
            loc,
            path: at.join("."),
            message,
        }
    };
    for (name, entity) in &identity.entities {
        let mut seen = BTreeSet::new();
        for (i, alias) in entity.aliases.iter().enumerate() {
            let index = i.to_string();
            let at = ["identity", "entities", name, "aliases", &index];
            check_alias(alias).map_err(|m| invalid(&at, m))?;
            if !seen.insert(alias.auth.trim_matches('/')) {
                return Err(invalid(
                    &at,
                    format!(
                        "entity `{name}` has two aliases on auth/{}; Vault allows one alias per auth method and entity",
                        alias.auth.trim_matches('/')
                    ),
                ));
            }
        }
    }
    for (name, group) in &identity.groups {
        let at = |field: &'static str| ["identity", "groups", name.as_str(), field];
        match group.kind {
            GroupType::Internal => {
                if group.alias.is_some() {
                    return Err(invalid(
                        &at("alias"),
                        format!("group `{name}` is internal: only an external group (type: external) has an alias; set the type or drop the alias"),
                    ));
                }
            }
            GroupType::External => {
                let members = [
                    ("member_entities", &group.member_entities),
                    ("member_groups", &group.member_groups),
                ];
                for (field, set) in members {
                    if set.is_some() {
                        return Err(invalid(
                            &at(field),
                            format!("group `{name}` is external: its members come from the auth method through its alias, so it cannot list {field}; drop it or make the group internal"),
                        ));
                    }
                }
            }
        }
        if let Some(alias) = &group.alias {
            check_alias(alias).map_err(|m| invalid(&at("alias"), m))?;
        }
    }
    if let Some((name, member)) = member_group_cycle(identity) {
        return Err(invalid(
            &["identity", "groups", &name, "member_groups"],
            format!("groups `{name}` and `{member}` are members of each other (directly or through other groups); Vault refuses cyclic group membership"),
        ));
    }
    Ok(())
}

fn check_alias(alias: &Alias) -> Result<(), String> {
    if alias.auth.trim_matches('/').is_empty() {
        return Err("the alias's `auth` (the auth method's path) is empty".into());
    }
    if alias.name.trim().is_empty() {
        return Err("the alias's `name` is empty".into());
    }
    Ok(())
}

/// A planned group that is, through `member_groups`, a member of itself:
/// the group and its direct member through which the cycle runs.
fn member_group_cycle(identity: &Identity) -> Option<(String, String)> {
    identity.groups.keys().find_map(|group| {
        member_groups(identity, group)
            .iter()
            .find(|member| reaches(identity, member, group))
            .map(|member| (group.clone(), (*member).clone()))
    })
}

fn member_groups<'a>(identity: &'a Identity, name: &str) -> Vec<&'a String> {
    identity
        .groups
        .get(name)
        .and_then(|g| g.member_groups.as_ref())
        .map(|m| m.iter().collect())
        .unwrap_or_default()
}

/// Whether `target` is `from` or one of its members, at any depth.
fn reaches(identity: &Identity, from: &str, target: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from];
    while let Some(name) = stack.pop() {
        if name == target {
            return true;
        }
        if seen.insert(name) {
            stack.extend(
                member_groups(identity, name)
                    .into_iter()
                    .map(String::as_str),
            );
        }
    }
    false
}
