//! Builds the auth part of the third stage: each auth method's config,
//! roles, users, groups, certs and other sub-paths.

use std::collections::BTreeMap;

use super::{fields_at, object_id, sync_of, take_sync, trim, Listed};
use crate::engine::needs::fields_accessor_needs;
use crate::paths::auth::role_collection;
use crate::plan::model::{AuthMethod, Fields};
use crate::plan::LoadedPlan;
use crate::resources::checked_fields::PlannedMount;
use crate::resources::fields::FieldsResource;
use crate::resources::{deps, Kind, Resource};

/// The objects under one auth method, moved out of the plan.
struct Objects {
    roles: BTreeMap<String, Fields>,
    users: BTreeMap<String, Fields>,
    groups: BTreeMap<String, Fields>,
    certs: BTreeMap<String, Fields>,
    paths: BTreeMap<String, Fields>,
}

impl Objects {
    fn take(a: &mut AuthMethod) -> Objects {
        use std::mem::take;
        Objects {
            roles: take(&mut a.roles),
            users: take(&mut a.users),
            groups: take(&mut a.groups),
            certs: take(&mut a.certs),
            paths: take(&mut a.paths),
        }
    }
}

/// The config and the objects under each auth method. The objects move
/// from the plan into their resources (a run reads them nowhere else): on a
/// plan of 10,000 services a second copy was 15–20 MB of a run's peak memory.
pub(in crate::engine) fn auth_config_roles_users(
    loaded: &mut LoadedPlan,
) -> Vec<Box<dyn Resource>> {
    let taken: Vec<Objects> = loaded.plan.auth.values_mut().map(Objects::take).collect();
    let loaded = &*loaded;
    let plan = &loaded.plan;
    let mut config: Vec<Box<dyn Resource>> = Vec::new();
    for ((path, a), objects) in plan.auth.iter().zip(taken) {
        let path = trim(path);
        if let Some(fields) = &a.config {
            let (sync, fields) = sync_of(fields);
            let vault_path = format!("auth/{path}/config");
            let mut needs = vec![deps::auth(&path)];
            needs.extend(fields_accessor_needs(&fields));
            config.push(Box::new(FieldsResource {
                id: object_id(
                    loaded,
                    Kind::AuthConfig,
                    vault_path.clone(),
                    &["auth", &path, "config"],
                    deps::object(&vault_path),
                    needs,
                ),
                listing: None,
                check: Some(fields_at(
                    &["auth", &path, "config"],
                    Some(PlannedMount::new(format!("auth/{path}"), a.kind.clone())),
                )),
                fields: fields.into(),
                sync,
            }));
        }
        let mount = PlannedMount::new(format!("auth/{path}"), a.kind.clone());
        let Objects {
            roles,
            users,
            groups,
            certs,
            paths,
        } = objects;
        let roles = role_collection(&a.kind).map(|segment| (segment, "roles", roles));
        let named = [("users", users), ("groups", groups), ("certs", certs)]
            .map(|(segment, entries)| (segment, segment, entries));
        for (segment, key, entries) in roles.into_iter().chain(named) {
            let collection = format!("auth/{path}/{segment}");
            for (name, fields) in entries {
                let (sync, fields) = take_sync(fields);
                let mut needs = vec![deps::auth(&path)];
                needs.extend(fields_accessor_needs(&fields));
                let listed = Listed {
                    kind: Kind::AuthRole,
                    collection: &collection,
                    name: &name,
                    at: &["auth", &path, key, &name],
                    mount: mount.clone(),
                };
                config.push(listed.resource(loaded, fields, sync, needs));
            }
        }
        for (sub_path, fields) in paths {
            let (sync, fields) = take_sync(fields);
            let vault_path = ["auth/", &path, "/", &trim(&sub_path)].concat();
            let at = ["auth", path.as_str(), "paths", sub_path.as_str()];
            let mut needs = vec![deps::auth(&path)];
            needs.extend(fields_accessor_needs(&fields));
            config.push(Box::new(FieldsResource {
                id: object_id(
                    loaded,
                    Kind::AuthPath,
                    vault_path.clone(),
                    &at,
                    deps::object(&vault_path),
                    needs,
                ),
                listing: None,
                check: Some(fields_at(&at, Some(mount.clone()))),
                fields: fields.into(),
                sync,
            }));
        }
    }
    config
}
