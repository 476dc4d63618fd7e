//! Grants for `external_secrets` checks: in Vault, `read` on the whole KV
//! mount of the store (the paths are only known once the manifests are
//! read); in Kubernetes, `list` on ExternalSecrets across namespaces when a
//! check reads them from the cluster.

use std::fmt::Write as _;

use super::policy::Grants;
use crate::plan::model::{Check, ExternalSecretsCheck, Plan};

fn checks(plan: &Plan) -> impl Iterator<Item = &ExternalSecretsCheck> {
    plan.verify.iter().filter_map(|c| match c {
        Check::ExternalSecrets(c) => Some(c),
        _ => None,
    })
}

/// `read` on `<mount>/data/*` (KV v1: `<mount>/*`) of each check that names
/// its mount; without `mount`, the store's path comes from the manifests,
/// which `policy` does not read.
pub(super) fn grants(plan: &Plan, g: &mut Grants) {
    for c in checks(plan) {
        match (c.mount(), c.kv_version) {
            (Some(mount), Some(1)) => g.add(format!("{mount}/*"), &["read"]),
            (Some(mount), _) => g.add(format!("{mount}/data/*"), &["read"]),
            (None, _) => {}
        }
    }
}

/// A ClusterRole and ClusterRoleBinding: `list` on ExternalSecrets.
pub(super) fn rbac_yaml(plan: &Plan, namespace: &str, service_account: &str, out: &mut String) {
    const NAME: &str = "vault-converge-list-externalsecrets";
    if !checks(plan).any(|c| c.cluster) {
        return;
    }
    let _ = write!(
        out,
        "---\n\
         apiVersion: rbac.authorization.k8s.io/v1\n\
         kind: ClusterRole\n\
         metadata:\n  name: {NAME}\n\
         rules:\n  - apiGroups: [\"external-secrets.io\"]\n    resources: [\"externalsecrets\"]\n    verbs: [\"list\"]\n\
         ---\n\
         apiVersion: rbac.authorization.k8s.io/v1\n\
         kind: ClusterRoleBinding\n\
         metadata:\n  name: {NAME}\n\
         roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: {NAME}\n\
         subjects:\n  - kind: ServiceAccount\n    name: {service_account}\n    namespace: {namespace}\n"
    );
}
