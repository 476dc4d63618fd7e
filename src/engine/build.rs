//! Plan → ordered stages of resources (DESIGN.md "Order and dependencies"):
//! mounts and auth methods → policies and password policies → auth config,
//! roles, users and database connections → database roles → KV fixtures →
//! `writes`, one after another in plan order. Each object names the objects
//! it depends on, so a failure skips only what needs it.

use super::fields_gate::FieldSet;
use super::needs::{
    accessor_needs, declared_kv_version, fields_accessor_needs, generate_policy_needs,
    owning_mount, owning_mount_type,
};
use crate::plan::model::{split_sync, Fields, Plan, SyncPolicy};
use crate::plan::LoadedPlan;
use crate::resources::auth::role_collection;
use crate::resources::database::ConnectionResource;
use crate::resources::deps;
use crate::resources::fields::FieldsResource;
use crate::resources::kv::KvResource;
use crate::resources::mount::{MountResource, MountSpec, Table};
use crate::resources::policy::{PolicyResource, LIST_PATH, PASSWORD_LIST_PATH};
use crate::resources::write::WriteResource;
use crate::resources::{Kind, ObjectId, Resource};

pub struct Stage {
    pub name: &'static str,
    pub resources: Vec<Box<dyn Resource>>,
    /// Run one after another in plan order (`writes`: a later one may need an earlier one).
    pub sequential: bool,
}

impl Stage {
    fn new(name: &'static str, resources: Vec<Box<dyn Resource>>) -> Stage {
        Stage {
            name,
            resources,
            sequential: false,
        }
    }
}

pub fn stages(loaded: &LoadedPlan) -> Vec<Stage> {
    let plan: &Plan = &loaded.plan;
    let id =
        |kind: Kind, path: String, at: &[&str], provides: String, needs: Vec<String>| ObjectId {
            kind,
            path,
            loc: loaded.loc(at),
            provides: Some(provides),
            needs,
        };
    let trim = |p: &str| p.trim_matches('/').to_owned();
    // The fields an object writes and where the plan sets each one.
    let field_set = |path: &str, fields: &Fields, at: &[&str], mount: Option<(String, String)>| {
        let fields = fields
            .keys()
            .map(|name| {
                let mut at = at.to_vec();
                at.push(name);
                (name.clone(), loaded.loc(&at))
            })
            .collect();
        Some(FieldSet {
            path: path.to_owned(),
            fields,
            mount,
        })
    };
    let sync_of =
        |fields: &Fields| split_sync(fields).unwrap_or((SyncPolicy::default(), fields.clone()));

    let mut mounts: Vec<Box<dyn Resource>> = Vec::new();
    for (path, m) in &plan.mounts {
        let path = trim(path);
        let mut mount = MountResource::new(
            id(
                Kind::Mount,
                format!("sys/mounts/{path}"),
                &["mounts", &path],
                deps::mount(&path),
                Vec::new(),
            ),
            Table::SecretEngines,
            &path,
            MountSpec {
                kind: m.kind.clone(),
                description: m.description.clone(),
                options: m.options.clone(),
                config: m.config.clone(),
                upgrade: m.upgrade,
            },
        );
        mount.check = field_set(
            &format!("sys/mounts/{path}/tune"),
            &m.config,
            &["mounts", &path, "config"],
            None,
        );
        mounts.push(Box::new(mount));
    }
    for (path, a) in &plan.auth {
        let path = trim(path);
        mounts.push(Box::new(MountResource::new(
            id(
                Kind::AuthMethod,
                format!("sys/auth/{path}"),
                &["auth", &path],
                deps::auth(&path),
                Vec::new(),
            ),
            Table::AuthMethods,
            &path,
            MountSpec {
                kind: a.kind.clone(),
                description: a.description.clone(),
                options: Fields::new(),
                config: Fields::new(),
                upgrade: false,
            },
        )));
    }

    let mut policies: Vec<Box<dyn Resource>> = Vec::new();
    for (name, source) in &plan.policies {
        // Vault stores ACL policy names in lower case.
        let stored = name.to_lowercase();
        let needs = match source {
            crate::plan::PolicySource::Inline(text) => accessor_needs(text),
            crate::plan::PolicySource::File { .. } => Vec::new(),
        };
        policies.push(Box::new(PolicyResource {
            id: id(
                Kind::Policy,
                format!("{LIST_PATH}/{stored}"),
                &["policies", name],
                deps::policy(&stored),
                needs,
            ),
            collection: LIST_PATH,
            name: stored,
            source: source.clone(),
        }));
    }
    for (name, p) in &plan.password_policies {
        policies.push(Box::new(PolicyResource {
            id: id(
                Kind::PasswordPolicy,
                format!("{PASSWORD_LIST_PATH}/{name}"),
                &["password_policies", name],
                deps::password_policy(name),
                Vec::new(),
            ),
            collection: PASSWORD_LIST_PATH,
            name: name.clone(),
            source: p.policy.clone(),
        }));
    }

    let mut config: Vec<Box<dyn Resource>> = Vec::new();
    for (path, a) in &plan.auth {
        let path = trim(path);
        if let Some(fields) = &a.config {
            let (sync, fields) = sync_of(fields);
            let vault_path = format!("auth/{path}/config");
            let mut needs = vec![deps::auth(&path)];
            needs.extend(fields_accessor_needs(&fields));
            config.push(Box::new(FieldsResource {
                id: id(
                    Kind::AuthConfig,
                    vault_path.clone(),
                    &["auth", &path, "config"],
                    deps::object(&vault_path),
                    needs,
                ),
                listing: None,
                check: field_set(
                    &vault_path,
                    &fields,
                    &["auth", &path, "config"],
                    Some((format!("auth/{path}"), a.kind.clone())),
                ),
                fields,
                sync,
            }));
        }
        let collections = [
            (role_collection(&a.kind), "roles", &a.roles),
            ("users", "users", &a.users),
        ];
        for (segment, key, entries) in collections {
            let collection = format!("auth/{path}/{segment}");
            for (name, fields) in entries {
                let (sync, fields) = sync_of(fields);
                let vault_path = format!("{collection}/{name}");
                let mut needs = vec![deps::auth(&path)];
                needs.extend(fields_accessor_needs(&fields));
                config.push(Box::new(FieldsResource {
                    id: id(
                        Kind::AuthRole,
                        vault_path.clone(),
                        &["auth", &path, key, name],
                        deps::object(&vault_path),
                        needs,
                    ),
                    listing: Some((collection.clone(), name.clone())),
                    check: field_set(
                        &vault_path,
                        &fields,
                        &["auth", &path, key, name],
                        Some((format!("auth/{path}"), a.kind.clone())),
                    ),
                    fields,
                    sync,
                }));
            }
        }
    }
    let mut db_roles: Vec<Box<dyn Resource>> = Vec::new();
    for (mount, db) in &plan.databases {
        let mount = trim(mount);
        for (name, conn) in &db.connections {
            let vault_path = format!("{mount}/config/{name}");
            config.push(Box::new(ConnectionResource {
                id: id(
                    Kind::DatabaseConnection,
                    vault_path,
                    &["databases", &mount, "connections", name],
                    deps::connection(&mount, name),
                    vec![deps::mount(&mount)],
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
                let vault_path = format!("{collection}/{name}");
                let mut needs = vec![deps::mount(&mount)];
                if let Some(db_name) = fields.get("db_name").and_then(|v| v.as_str()) {
                    needs.push(deps::connection(&mount, db_name));
                }
                if let Some(policy) = fields.get("password_policy").and_then(|v| v.as_str()) {
                    needs.push(deps::password_policy(policy));
                }
                db_roles.push(Box::new(FieldsResource {
                    id: id(
                        kind,
                        vault_path.clone(),
                        &["databases", &mount, key, name],
                        deps::object(&vault_path),
                        needs,
                    ),
                    listing: Some((collection.clone(), name.clone())),
                    check: field_set(
                        &vault_path,
                        fields,
                        &["databases", &mount, key, name],
                        Some((mount.clone(), "database".to_owned())),
                    ),
                    fields: fields.clone(),
                    sync: SyncPolicy::IfMissing,
                }));
            }
        }
    }

    let mut fixtures: Vec<Box<dyn Resource>> = Vec::new();
    for (mount, entries) in &plan.kv {
        let mount = trim(mount);
        let declared_version = plan.mounts.get(&mount).map(declared_kv_version);
        for (path, fixture) in entries {
            let path = trim(path);
            let vault_path = match declared_version {
                Some(1) => format!("{mount}/{path}"),
                _ => format!("{mount}/data/{path}"),
            };
            let mut needs = vec![deps::mount(&mount)];
            needs.extend(generate_policy_needs(&fixture.data));
            fixtures.push(Box::new(KvResource {
                id: id(
                    Kind::KvSecret,
                    vault_path.clone(),
                    &["kv", &mount, &path],
                    deps::object(&vault_path),
                    needs,
                ),
                declared_version,
                mount: mount.clone(),
                path,
                mode: fixture.mode,
                data: fixture.data.clone(),
            }));
        }
    }

    let mut writes: Vec<Box<dyn Resource>> = Vec::new();
    for (i, w) in plan.writes.iter().enumerate() {
        let path = trim(&w.path);
        let mut needs: Vec<String> = owning_mount(plan, &path).into_iter().collect();
        needs.extend(fields_accessor_needs(&w.data));
        let index = i.to_string();
        writes.push(Box::new(WriteResource {
            check: field_set(
                &path,
                &w.data,
                &["writes", &index, "data"],
                owning_mount_type(plan, &path),
            ),
            id: id(
                Kind::Write,
                path.clone(),
                &["writes", &i.to_string()],
                deps::object(&path),
                needs,
            ),
            path,
            mode: w.mode,
            sync: w.sync.unwrap_or_default(),
            data: w.data.clone(),
        }));
    }

    vec![
        Stage::new("mounts and auth methods", mounts),
        Stage::new("policies and password policies", policies),
        Stage::new("auth config, roles, users and database connections", config),
        Stage::new("database roles", db_roles),
        Stage::new("kv fixtures", fixtures),
        Stage {
            sequential: true,
            ..Stage::new("writes", writes)
        },
    ]
}
