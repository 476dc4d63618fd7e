//! Builds the identity objects: entities and groups (one stage, groups
//! after the entities and groups they name as members), then their aliases
//! (the next stage), each needing its entity or group and its auth method.

use super::{object_id, trim};
use crate::plan::model::Alias;
use crate::plan::LoadedPlan;
use crate::resources::identity::alias::{EntityAliasResource, GroupAliasResource};
use crate::resources::identity::entity::EntityResource;
use crate::resources::identity::group::{GroupResource, Member};
use crate::resources::identity::paths;
use crate::resources::{deps, Kind, Resource};

pub(in crate::engine) fn identity_entities_and_groups(
    loaded: &LoadedPlan,
) -> Vec<Box<dyn Resource>> {
    let identity = &loaded.plan.identity;
    let mut objects: Vec<Box<dyn Resource>> = Vec::new();
    for (name, entity) in &identity.entities {
        let id = object_id(
            loaded,
            Kind::IdentityEntity,
            paths::entity(name),
            &["identity", "entities", name],
            deps::entity(name),
            Vec::new(),
        );
        objects.push(Box::new(EntityResource::new(id, name, entity)));
    }
    for (name, group) in &identity.groups {
        let members = |field: &str, names: &Option<Vec<String>>, planned: &dyn Fn(&str) -> bool| {
            names.as_ref().map(|names| {
                names
                    .iter()
                    .enumerate()
                    .map(|(i, member)| Member {
                        name: member.clone(),
                        loc: loaded.loc(&["identity", "groups", name, field, &i.to_string()]),
                        planned: planned(member),
                    })
                    .collect::<Vec<_>>()
            })
        };
        let entities = members("member_entities", &group.member_entities, &|n| {
            identity.entities.contains_key(n)
        });
        let groups = members("member_groups", &group.member_groups, &|n| {
            identity.groups.contains_key(n)
        });
        // Planned members come first (same stage, earlier objects); a failed
        // one skips this group.
        let mut needs: Vec<String> = Vec::new();
        needs.extend(planned_names(&entities).map(deps::entity));
        needs.extend(planned_names(&groups).map(deps::group));
        needs.extend(group.alias.iter().map(|a| deps::auth(&a.auth)));
        let id = object_id(
            loaded,
            Kind::IdentityGroup,
            paths::group(name),
            &["identity", "groups", name],
            deps::group(name),
            needs,
        );
        objects.push(Box::new(GroupResource::new(
            id,
            name,
            group,
            [entities, groups],
        )));
    }
    objects
}

fn planned_names(members: &Option<Vec<Member>>) -> impl Iterator<Item = &str> {
    members
        .iter()
        .flatten()
        .filter(|m| m.planned)
        .map(|m| m.name.as_str())
}

pub(in crate::engine) fn identity_aliases(loaded: &LoadedPlan) -> Vec<Box<dyn Resource>> {
    let identity = &loaded.plan.identity;
    let mut objects: Vec<Box<dyn Resource>> = Vec::new();
    for (name, entity) in &identity.entities {
        for (i, alias) in entity.aliases.iter().enumerate() {
            let path = alias_path(&paths::entity(name), alias);
            let id = object_id(
                loaded,
                Kind::IdentityAlias,
                path.clone(),
                &["identity", "entities", name, "aliases", &i.to_string()],
                deps::object(&path),
                vec![deps::entity(name), deps::auth(&alias.auth)],
            );
            objects.push(Box::new(EntityAliasResource {
                id,
                entity: name.clone(),
                aliases: entity.aliases.clone(),
                index: i,
            }));
        }
    }
    for (name, group) in &identity.groups {
        let Some(alias) = &group.alias else { continue };
        let path = alias_path(&paths::group(name), alias);
        let id = object_id(
            loaded,
            Kind::IdentityAlias,
            path.clone(),
            &["identity", "groups", name, "alias"],
            deps::object(&path),
            vec![deps::group(name), deps::auth(&alias.auth)],
        );
        objects.push(Box::new(GroupAliasResource {
            id,
            group: name.clone(),
            alias: alias.clone(),
        }));
    }
    objects
}

/// How the report names an alias: its owner's path and its auth method
/// (an owner has at most one alias per method).
fn alias_path(owner: &str, alias: &Alias) -> String {
    format!("{owner}/alias/{}", trim(&alias.auth))
}
