//! Grants for plugins, namespaces, audit devices and audit request headers,
//! which live in the token's own namespace; with `vault.namespace`, every
//! other grant moves into that namespace (`team-a/<path>`), as the policy
//! of the token's namespace names a child's paths.

use super::policy::{Grants, RW};
use crate::plan::model::Plan;
use crate::resources::{audit, audit_header, namespace, plugin};

/// Called after every other section's grants.
pub(super) fn grants(plan: &Plan, g: &mut Grants) {
    if let Some(ns) = &plan.vault.namespace {
        g.move_under(ns.trim_matches('/'));
        // The run checks that the plan's namespace exists.
        g.add(namespace::LIST_PATH, &["list"]);
    }
    // The catalog, audit devices and headers need sudo.
    const SUDO_RW: [&str; 4] = ["read", "create", "update", "sudo"];
    for key in plan.plugins.keys() {
        g.add(
            format!("{}/{}", plugin::CATALOG, key.trim_matches('/')),
            &SUDO_RW,
        );
    }
    if !plan.namespaces.is_empty() {
        g.add(namespace::LIST_PATH, &["list"]);
    }
    for name in &plan.namespaces {
        g.add(
            format!("{}/{}", namespace::LIST_PATH, name.trim_matches('/')),
            &RW,
        );
    }
    if !plan.audit.is_empty() {
        g.add(audit::TABLE, &["read", "sudo"]);
        // Whether the server accepts audit devices through its API.
        g.add(audit::SANITIZED_CONFIG, &["read"]);
    }
    for path in plan.audit.keys() {
        g.add(
            format!("{}/{}", audit::TABLE, path.trim_matches('/')),
            &["create", "update", "sudo"],
        );
    }
    if !plan.audit_request_headers.is_empty() {
        g.add(audit_header::TABLE, &["read", "sudo"]);
    }
    for name in plan.audit_request_headers.keys() {
        g.add(format!("{}/{name}", audit_header::TABLE), &SUDO_RW);
    }
}
