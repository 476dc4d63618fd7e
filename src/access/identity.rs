//! Grants for identity entities, groups and aliases: by name where the plan
//! names the object, `+` only where the tool learns an ID from Vault (an
//! alias to update, a member's name for the report).

use super::policy::{Grants, RW};
use crate::plan::model::Plan;
use crate::resources::identity::paths;

const WRITE: [&str; 2] = ["create", "update"];

pub(super) fn grants(plan: &Plan, g: &mut Grants) {
    let identity = &plan.identity;
    for name in identity.entities.keys() {
        g.add(paths::entity(name), &RW);
    }
    for name in identity.groups.keys() {
        g.add(paths::group(name), &RW);
    }
    let entity_aliases = identity.entities.values().any(|e| !e.aliases.is_empty());
    let group_aliases = identity.groups.values().any(|g| g.alias.is_some());
    if entity_aliases || group_aliases {
        // The auth methods' accessors.
        g.add("sys/auth", &["read"]);
    }
    if entity_aliases {
        g.add(paths::ENTITY_ALIAS, &WRITE);
        g.add(paths::entity_alias("+"), &["update"]);
    }
    if group_aliases {
        g.add(paths::GROUP_ALIAS, &WRITE);
        g.add(paths::group_alias("+"), &["update"]);
    }
    for group in identity.groups.values() {
        // Members the plan does not declare are looked up by name; members
        // Vault lists but the plan does not are named by ID in the report.
        for name in group.member_entities.iter().flatten() {
            g.add(paths::entity(name), &["read"]);
            g.add(paths::entity_by_id("+"), &["read"]);
        }
        for name in group.member_groups.iter().flatten() {
            g.add(paths::group(name), &["read"]);
            g.add(paths::group_by_id("+"), &["read"]);
        }
    }
}
