//! Grants for managed tokens (`tokens:`): in Vault, minting (create,
//! create-orphan or create/<role>), lookup, renew and revoke-accessor, and
//! the registry that keeps the accessors; in Kubernetes, `get` and `update`
//! on exactly the Secrets that store them, and `create` on Secrets in their
//! namespaces (RBAC cannot scope `create` to a name: the name is not known
//! to the API server before the object exists).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::policy::{Grants, RW};
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
    g.add(format!("{mount}/data/{}", registry.instance), &RW);
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
pub(super) fn rbac_yaml(plan: &Plan, namespace: &str, service_account: &str, out: &mut String) {
    const NAME: &str = "vault-converge-token-secrets";
    for (ns, names) in stores(plan) {
        let names: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
        let _ = write!(
            out,
            "---\n\
             apiVersion: rbac.authorization.k8s.io/v1\n\
             kind: Role\n\
             metadata:\n  name: {NAME}\n  namespace: {ns}\n\
             rules:\n  - apiGroups: [\"\"]\n    resources: [\"secrets\"]\n    verbs: [\"get\", \"update\"]\n    resourceNames: [{}]\n  \
             # create cannot be limited to names; it only creates a missing token Secret\n  \
             - apiGroups: [\"\"]\n    resources: [\"secrets\"]\n    verbs: [\"create\"]\n\
             ---\n\
             apiVersion: rbac.authorization.k8s.io/v1\n\
             kind: RoleBinding\n\
             metadata:\n  name: {NAME}\n  namespace: {ns}\n\
             roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: {NAME}\n\
             subjects:\n  - kind: ServiceAccount\n    name: {service_account}\n    namespace: {namespace}\n",
            names.join(", ")
        );
    }
}
