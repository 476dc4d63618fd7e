//! `identity:` — entities, groups and their aliases (DESIGN.md "Additions").

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::plan::{LoadedPlan, PlanError};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    #[serde(default)]
    pub entities: BTreeMap<String, Entity>,
    #[serde(default)]
    pub groups: BTreeMap<String, Group>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entity {
    #[serde(default)]
    pub policies: Vec<String>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    pub disabled: Option<bool>,
    #[serde(default)]
    pub aliases: Vec<Alias>,
}

/// An alias names an auth path; the tool resolves its accessor itself.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alias {
    pub auth: String,
    pub name: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupType {
    #[default]
    Internal,
    External,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    #[serde(rename = "type", default)]
    pub kind: GroupType,
    #[serde(default)]
    pub policies: Vec<String>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// Internal groups: members by entity name.
    #[serde(default)]
    pub member_entities: Vec<String>,
    /// Internal groups: members by group name.
    #[serde(default)]
    pub member_groups: Vec<String>,
    /// External groups: the one alias that maps the auth method's group.
    pub alias: Option<Alias>,
}

/// Checks of this section that need no network (validation).
pub(in crate::plan) fn validate_identity(_loaded: &LoadedPlan) -> Result<(), PlanError> {
    Ok(())
}
