//! The Kubernetes RBAC to read exactly the secrets the plan's
//! `secretKeyRef`s name, and to store managed tokens (`vault-converge rbac`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::Value as Json;

use crate::plan::model::{Check, Plan};
use crate::sources::{source_of, SecretKeyRef, Source};

/// Every Kubernetes secret the plan reads, by namespace.
pub fn secret_refs(plan: &Plan) -> BTreeMap<String, BTreeSet<String>> {
    let mut values: Vec<&Json> = Vec::new();
    for method in plan.auth.values() {
        values.extend(method.config.iter().flat_map(|c| c.values()));
        values.extend(method.roles.values().flat_map(|r| r.values()));
    }
    for db in plan.databases.values() {
        values.extend(db.connections.values().flat_map(|c| c.config.values()));
        values.extend(
            db.roles
                .values()
                .chain(db.static_roles.values())
                .flat_map(|r| r.values()),
        );
    }
    values.extend(
        plan.kv
            .values()
            .flat_map(|f| f.values())
            .flat_map(|f| f.data.values()),
    );
    values.extend(plan.writes.iter().flat_map(|w| w.data.values()));
    for check in &plan.verify {
        if let Check::Login(c) = check {
            values.extend(
                [&c.jwt, &c.role_id, &c.secret_id, &c.password]
                    .into_iter()
                    .flatten(),
            );
        }
    }
    let mut refs: Vec<SecretKeyRef> = Vec::new();
    for value in values {
        collect(value, &mut refs);
    }
    let mut by_namespace: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in refs {
        by_namespace.entry(r.namespace).or_default().insert(r.name);
    }
    by_namespace
}

fn collect(value: &Json, out: &mut Vec<SecretKeyRef>) {
    if let Ok(Some(Source::SecretKeyRef(r))) = source_of(value) {
        out.push(r);
        return;
    }
    match value {
        Json::Array(items) => items.iter().for_each(|i| collect(i, out)),
        Json::Object(map) => map.values().for_each(|v| collect(v, out)),
        _ => {}
    }
}

/// A Role and RoleBinding per namespace granting `get` on exactly the named secrets.
pub fn rbac_yaml(plan: &Plan, namespace: &str, service_account: &str) -> String {
    let mut out = String::new();
    let subject = Subject {
        namespace,
        service_account,
    };
    for (ns, names) in secret_refs(plan) {
        let rules = format!(
            "  - apiGroups: [\"\"]\n    resources: [\"secrets\"]\n    verbs: [\"get\"]\n    resourceNames: [{}]\n",
            quoted(&names)
        );
        role_and_binding(
            &mut out,
            "vault-converge-read-secrets",
            &ns,
            &rules,
            &subject,
        );
    }
    super::tokens::rbac_yaml(plan, &subject, &mut out);
    super::eso::rbac_yaml(plan, namespace, service_account, &mut out);
    if out.is_empty() {
        out.push_str("# The plan reads and writes no Kubernetes secrets: no RBAC is needed.\n");
    }
    out
}

/// The job's service account, which every binding names.
pub(super) struct Subject<'a> {
    pub namespace: &'a str,
    pub service_account: &'a str,
}

/// `"a", "b"` for a YAML flow list.
pub(super) fn quoted<'a>(names: impl IntoIterator<Item = &'a String>) -> String {
    names
        .into_iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A Role named `name` in `ns` with `rules` (YAML list items), bound to the job's service account.
pub(super) fn role_and_binding(
    out: &mut String,
    name: &str,
    ns: &str,
    rules: &str,
    subject: &Subject,
) {
    let _ = write!(
        out,
        "---\n\
         apiVersion: rbac.authorization.k8s.io/v1\n\
         kind: Role\n\
         metadata:\n  name: {name}\n  namespace: {ns}\n\
         rules:\n{rules}\
         ---\n\
         apiVersion: rbac.authorization.k8s.io/v1\n\
         kind: RoleBinding\n\
         metadata:\n  name: {name}\n  namespace: {ns}\n\
         roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: {name}\n\
         subjects:\n  - kind: ServiceAccount\n    name: {}\n    namespace: {}\n",
        subject.service_account, subject.namespace
    );
}
