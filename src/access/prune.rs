//! Grants for ownership and prune, only when the plan prunes: the registry
//! (this instance's records, the other instances' to read) and DELETE on
//! the collections of the pruned kinds under the planned mounts and auth
//! methods, with READ where it reveals no secret (a dropped object that a
//! killed run was about to create is read to see whether it exists).

use super::policy::{Grants, RW};
use crate::paths;
use crate::paths::auth::role_collection;
use crate::plan::model::Plan;
use crate::resources::owned::PruneKind;

/// Read to see whether it exists, delete to prune it.
const RD: [&str; 2] = ["read", "delete"];

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
    g.add(paths::kv::data(mount, &registry.instance), &RW);
    g.add(format!("{mount}/metadata"), &["list"]);
    g.add(format!("{mount}/data/*"), &["read"]);
    let trim = |p: &str| p.trim_matches('/').to_owned();
    for kind in kinds {
        match kind {
            PruneKind::Policies => g.add("sys/policies/acl/*", &RD),
            PruneKind::PasswordPolicies => g.add("sys/policies/password/*", &RD),
            PruneKind::Mounts => g.add("sys/mounts/*", &RD),
            PruneKind::AuthMethods => g.add("sys/auth/*", &["delete", "sudo"]),
            PruneKind::AuthRoles => {
                for (path, method) in &plan.auth {
                    let path = trim(path);
                    let segments = role_collection(&method.kind)
                        .into_iter()
                        .chain(["users", "groups", "certs"]);
                    for segment in segments {
                        g.add(format!("auth/{path}/{segment}/*"), &RD);
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
                    g.add(format!("{}/config/*", trim(mount)), &RD);
                }
            }
            PruneKind::DatabaseRoles => {
                for mount in plan.databases.keys() {
                    g.add(format!("{}/roles/*", trim(mount)), &RD);
                }
            }
            PruneKind::DatabaseStaticRoles => {
                for mount in plan.databases.keys() {
                    g.add(format!("{}/static-roles/*", trim(mount)), &RD);
                }
            }
            PruneKind::PkiRoles => {
                for mount in plan.pki.keys() {
                    g.add(format!("{}/roles/*", trim(mount)), &RD);
                }
            }
            PruneKind::Kv => {
                for mount in plan.kv.keys() {
                    // v2: the metadata path removes every version; v1: the secret itself.
                    g.add(format!("{}/metadata/*", trim(mount)), &RD);
                    g.add(format!("{}/*", trim(mount)), &["delete"]);
                }
            }
            PruneKind::IdentityEntities => {
                g.add("identity/entity/name/*", &RD);
            }
            PruneKind::IdentityGroups => {
                g.add("identity/group/name/*", &RD);
            }
            PruneKind::AuditDevices => g.add("sys/audit/*", &["delete", "sudo"]),
            PruneKind::Tokens => g.add("auth/token/revoke-accessor", &["update"]),
            // Aliases go with their entity or group.
            _ => {}
        }
    }
}
