//! Grants for ownership and prune, only when the plan prunes: the registry
//! (this instance's records, the other instances' to read) and DELETE on
//! the collections of the pruned kinds under the planned mounts and auth methods.

use super::policy::{Grants, RW};
use crate::paths::auth::role_collection;
use crate::plan::model::Plan;
use crate::resources::owned::PruneKind;

pub(super) fn grants(plan: &Plan, g: &mut Grants) {
    let Some(prune) = &plan.prune else {
        return;
    };
    let Ok(kinds) = prune.kinds.resolve() else {
        return;
    };
    let registry = &plan.vault.registry;
    let mount = registry.mount.trim_matches('/');
    // Enabled on first use; the other instances are listed and read, never written.
    g.add(format!("sys/mounts/{mount}"), &RW);
    g.add(format!("{mount}/data/{}", registry.instance), &RW);
    g.add(format!("{mount}/metadata"), &["list"]);
    g.add(format!("{mount}/data/*"), &["read"]);
    let trim = |p: &str| p.trim_matches('/').to_owned();
    for kind in kinds {
        match kind {
            PruneKind::Policies => g.add("sys/policies/acl/*", &["delete"]),
            PruneKind::PasswordPolicies => g.add("sys/policies/password/*", &["delete"]),
            PruneKind::Mounts => g.add("sys/mounts/*", &["delete"]),
            PruneKind::AuthMethods => g.add("sys/auth/*", &["delete", "sudo"]),
            PruneKind::AuthRoles => {
                for (path, method) in &plan.auth {
                    let path = trim(path);
                    let segments = role_collection(&method.kind)
                        .into_iter()
                        .chain(["users", "groups", "certs"]);
                    for segment in segments {
                        g.add(format!("auth/{path}/{segment}/*"), &["delete"]);
                    }
                }
            }
            PruneKind::AuthPaths => {
                for path in plan.auth.keys() {
                    g.add(format!("auth/{}/*", trim(path)), &["delete"]);
                }
            }
            PruneKind::DatabaseConnections => {
                for mount in plan.databases.keys() {
                    g.add(format!("{}/config/*", trim(mount)), &["delete"]);
                }
            }
            PruneKind::DatabaseRoles => {
                for mount in plan.databases.keys() {
                    g.add(format!("{}/roles/*", trim(mount)), &["delete"]);
                }
            }
            PruneKind::DatabaseStaticRoles => {
                for mount in plan.databases.keys() {
                    g.add(format!("{}/static-roles/*", trim(mount)), &["delete"]);
                }
            }
            PruneKind::PkiRoles => {
                for mount in plan.pki.keys() {
                    g.add(format!("{}/roles/*", trim(mount)), &["delete"]);
                }
            }
            PruneKind::Kv => {
                for mount in plan.kv.keys() {
                    // v2: the metadata path removes every version; v1: the secret itself.
                    g.add(format!("{}/metadata/*", trim(mount)), &["delete"]);
                    g.add(format!("{}/*", trim(mount)), &["delete"]);
                }
            }
            PruneKind::IdentityEntities => {
                g.add("identity/entity/name/*", &["delete"]);
            }
            PruneKind::IdentityGroups => {
                g.add("identity/group/name/*", &["delete"]);
            }
            // Aliases go with their entity or group; audit devices are never pruned.
            _ => {}
        }
    }
}
