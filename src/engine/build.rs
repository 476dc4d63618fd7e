//! Plan → ordered stages of resources (DESIGN.md "Order"):
//! mounts and auth methods → policies → auth config/roles and database
//! connections → database roles → KV fixtures and writes.

use crate::plan::model::Plan;
use crate::plan::LoadedPlan;
use crate::resources::auth::role_collection;
use crate::resources::database::ConnectionResource;
use crate::resources::fields::FieldsResource;
use crate::resources::kv::KvResource;
use crate::resources::mount::{MountResource, Table};
use crate::resources::policy::PolicyResource;
use crate::resources::write::WriteResource;
use crate::resources::{Kind, ObjectId, Resource};

pub struct Stage {
    pub name: &'static str,
    pub resources: Vec<Box<dyn Resource>>,
}

pub fn stages(loaded: &LoadedPlan) -> Vec<Stage> {
    let plan: &Plan = &loaded.plan;
    let id = |kind: Kind, path: String, at: &[&str]| ObjectId {
        kind,
        path,
        loc: loaded.loc(at),
    };
    let trim = |p: &str| p.trim_matches('/').to_owned();

    let mut mounts: Vec<Box<dyn Resource>> = Vec::new();
    for (path, m) in &plan.mounts {
        let path = trim(path);
        mounts.push(Box::new(MountResource::new(
            id(
                Kind::Mount,
                format!("sys/mounts/{path}"),
                &["mounts", &path],
            ),
            Table::SecretEngines,
            &path,
            &m.kind,
            m.description.clone(),
            m.options.clone(),
            m.config.clone(),
        )));
    }
    for (path, a) in &plan.auth {
        let path = trim(path);
        mounts.push(Box::new(MountResource::new(
            id(
                Kind::AuthMethod,
                format!("sys/auth/{path}"),
                &["auth", &path],
            ),
            Table::AuthMethods,
            &path,
            &a.kind,
            a.description.clone(),
            Default::default(),
            Default::default(),
        )));
    }

    let mut policies: Vec<Box<dyn Resource>> = Vec::new();
    for (name, source) in &plan.policies {
        policies.push(Box::new(PolicyResource {
            id: id(
                Kind::Policy,
                format!("sys/policies/acl/{name}"),
                &["policies", name],
            ),
            name: name.clone(),
            source: source.clone(),
        }));
    }

    let mut config: Vec<Box<dyn Resource>> = Vec::new();
    for (path, a) in &plan.auth {
        let path = trim(path);
        if let Some(fields) = &a.config {
            config.push(Box::new(FieldsResource {
                id: id(
                    Kind::AuthConfig,
                    format!("auth/{path}/config"),
                    &["auth", &path, "config"],
                ),
                listing: None,
                fields: fields.clone(),
            }));
        }
        let collection = format!("auth/{path}/{}", role_collection(&a.kind));
        for (name, fields) in &a.roles {
            config.push(Box::new(FieldsResource {
                id: id(
                    Kind::AuthRole,
                    format!("{collection}/{name}"),
                    &["auth", &path, "roles", name],
                ),
                listing: Some((collection.clone(), name.clone())),
                fields: fields.clone(),
            }));
        }
    }
    let mut db_roles: Vec<Box<dyn Resource>> = Vec::new();
    for (mount, db) in &plan.databases {
        let mount = trim(mount);
        for (name, conn) in &db.connections {
            config.push(Box::new(ConnectionResource {
                id: id(
                    Kind::DatabaseConnection,
                    format!("{mount}/config/{name}"),
                    &["databases", &mount, "connections", name],
                ),
                mount: mount.clone(),
                name: name.clone(),
                spec: conn.into(),
            }));
        }
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
                db_roles.push(Box::new(FieldsResource {
                    id: id(
                        kind,
                        format!("{collection}/{name}"),
                        &["databases", &mount, key, name],
                    ),
                    listing: Some((collection.clone(), name.clone())),
                    fields: fields.clone(),
                }));
            }
        }
    }

    let mut data: Vec<Box<dyn Resource>> = Vec::new();
    for (mount, fixtures) in &plan.kv {
        let mount = trim(mount);
        for (path, fixture) in fixtures {
            let path = trim(path);
            data.push(Box::new(KvResource {
                id: id(
                    Kind::KvSecret,
                    format!("{mount}/data/{path}"),
                    &["kv", &mount, &path],
                ),
                mount_in_plan: plan.mounts.contains_key(&mount),
                mount: mount.clone(),
                path,
                mode: fixture.mode,
                data: fixture.data.clone(),
            }));
        }
    }
    for (i, w) in plan.writes.iter().enumerate() {
        let path = trim(&w.path);
        data.push(Box::new(WriteResource {
            id: id(Kind::Write, path.clone(), &["writes", &i.to_string()]),
            path,
            mode: w.mode,
            data: w.data.clone(),
        }));
    }

    vec![
        Stage {
            name: "mounts and auth methods",
            resources: mounts,
        },
        Stage {
            name: "policies",
            resources: policies,
        },
        Stage {
            name: "auth config, roles and database connections",
            resources: config,
        },
        Stage {
            name: "database roles",
            resources: db_roles,
        },
        Stage {
            name: "kv fixtures and writes",
            resources: data,
        },
    ]
}
