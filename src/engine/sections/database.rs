//! Builds the database objects: connections (third stage) and dynamic and
//! static roles (fourth stage, after the connections they name).

use super::system::plugin_needs;
use super::{object_id, trim, Listed};
use crate::plan::model::SyncPolicy;
use crate::plan::LoadedPlan;
use crate::resources::checked_fields::PlannedMount;
use crate::resources::database::ConnectionResource;
use crate::resources::{deps, Kind, Resource};

/// The connections of the database secrets engines.
pub(in crate::engine) fn database_connections(loaded: &LoadedPlan) -> Vec<Box<dyn Resource>> {
    let plan = &loaded.plan;
    let mut connections: Vec<Box<dyn Resource>> = Vec::new();
    for (mount, db) in &plan.databases {
        let mount = trim(mount);
        for (name, conn) in &db.connections {
            let vault_path = format!("{mount}/config/{name}");
            let mut needs = vec![deps::mount(&mount)];
            needs.extend(plugin_needs(plan, "database", &conn.plugin_name));
            connections.push(Box::new(ConnectionResource {
                id: object_id(
                    loaded,
                    Kind::DatabaseConnection,
                    vault_path,
                    &["databases", &mount, "connections", name],
                    deps::connection(&mount, name),
                    needs,
                ),
                mount: mount.clone(),
                name: name.clone(),
                spec: conn.into(),
            }));
        }
    }
    connections
}

/// The dynamic and static roles of the database secrets engines.
pub(in crate::engine) fn database_roles(loaded: &LoadedPlan) -> Vec<Box<dyn Resource>> {
    let plan = &loaded.plan;
    let mut db_roles: Vec<Box<dyn Resource>> = Vec::new();
    for (mount, db) in &plan.databases {
        let mount = trim(mount);
        let planned = PlannedMount::new(mount.as_str(), "database");
        let collections = [
            ("roles", "roles", Kind::DatabaseRole, &db.roles),
            (
                "static-roles",
                "static_roles",
                Kind::DatabaseStaticRole,
                &db.static_roles,
            ),
        ];
        for (segment, key, kind, roles) in collections {
            let collection = format!("{mount}/{segment}");
            for (name, fields) in roles {
                let mut needs = vec![deps::mount(&mount)];
                if let Some(db_name) = fields.get("db_name").and_then(|v| v.as_str()) {
                    needs.push(deps::connection(&mount, db_name));
                }
                if let Some(policy) = fields.get("password_policy").and_then(|v| v.as_str()) {
                    needs.push(deps::password_policy(policy));
                }
                let listed = Listed {
                    kind,
                    collection: &collection,
                    name,
                    at: &["databases", &mount, key, name],
                    mount: planned.clone(),
                };
                db_roles.push(listed.resource(
                    loaded,
                    fields.clone(),
                    SyncPolicy::IfMissing,
                    needs,
                ));
            }
        }
    }
    db_roles
}
