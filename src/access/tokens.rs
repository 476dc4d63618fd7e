//! Grants for managed tokens (`tokens:`): in Vault, minting (create,
//! create-orphan or create/<role>), lookup, renew and revoke-accessor, and
//! the registry that keeps the accessors; in Kubernetes, `get` and `update`
//! on exactly the Secrets that store them, and `create` on Secrets in their
//! namespaces (RBAC cannot scope `create` to a name: the name is not known
//! to the API server before the object exists).

use std::collections::{BTreeMap, BTreeSet};

use super::policy::{Grants, RW};
use super::rbac::{quoted, role_and_binding, Subject};
use crate::paths;
use crate::plan::model::Plan;

pub(super) fn grants(plan: &Plan, g: &mut Grants) {
    if plan.tokens.is_empty() {
        return;
    }
    for token in plan.tokens.values() {
        let create = match (&token.role, token.orphan) {
            (Some(role), _) => format!("auth/token/create/{role}"),
            (None, true) => "auth/token/create-orphan".into(),
            (None, false) => "auth/token/create".into(),
        };
        // Vault: "root or sudo privileges required to create periodic token"
        // unless a token role sets the period.
        if token.period.is_some() && token.role.is_none() {
            g.add(create, &["update", "sudo"]);
        } else {
            g.add(create, &["update"]);
        }
    }
    for path in [
        "auth/token/lookup",
        "auth/token/renew",
        "auth/token/revoke-accessor",
    ] {
        g.add(path, &["update"]);
    }
    // The accessors of the minted tokens live in the registry.
    let registry = &plan.vault.registry;
    let mount = registry.mount.trim_matches('/');
    g.add(format!("sys/mounts/{mount}"), &RW);
    g.add(paths::kv::data(mount, &registry.instance), &RW);
}

/// The Secrets that store tokens, by namespace.
fn stores(plan: &Plan) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for token in plan.tokens.values() {
        if let Some(r) = &token.store.secret_ref {
            out.entry(r.namespace.clone())
                .or_default()
                .insert(r.name.clone());
        }
    }
    out
}

/// A Role and RoleBinding per namespace: get/update on the token Secrets, create on Secrets.
pub(super) fn rbac_yaml(plan: &Plan, subject: &Subject, out: &mut String) {
    for (ns, names) in stores(plan) {
        let rules = format!(
            "  - apiGroups: [\"\"]\n    resources: [\"secrets\"]\n    verbs: [\"get\", \"update\"]\n    resourceNames: [{}]\n  \
             # create cannot be limited to names; it only creates a missing token Secret\n  \
             - apiGroups: [\"\"]\n    resources: [\"secrets\"]\n    verbs: [\"create\"]\n",
            quoted(&names)
        );
        role_and_binding(out, "vault-converge-token-secrets", &ns, &rules, subject);
    }
}
