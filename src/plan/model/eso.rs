//! `verify: - external_secrets: {...}`: the External Secrets Operator
//! cross-check (DESIGN.md "External secrets check").

use schemars::JsonSchema;
use serde::Deserialize;

use crate::plan::{LoadedPlan, PlanError};

/// Every key the ExternalSecrets of one Vault store expect must exist in Vault.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExternalSecretsCheck {
    /// A manifest file or a directory of them, relative to the plan file
    /// that declares it.
    pub manifests: Option<String>,
    /// List the ExternalSecrets through the Kubernetes API instead.
    #[serde(default)]
    pub cluster: bool,
    /// The SecretStore / ClusterSecretStore name the ExternalSecrets refer to.
    pub store: String,
    /// The store's KV mount (ESO's `spec.provider.vault.path`); overrides
    /// the SecretStore manifest's.
    pub mount: Option<String>,
    /// The store's KV version, 1 or 2 (ESO's `version: v1|v2`); overrides
    /// the SecretStore manifest's. Default 2, like ESO.
    pub kv_version: Option<u8>,
}

impl ExternalSecretsCheck {
    /// The mount without surrounding slashes, when the check sets one.
    pub fn mount(&self) -> Option<&str> {
        self.mount
            .as_deref()
            .map(|m| m.trim_matches('/'))
            .filter(|m| !m.is_empty())
    }
}

/// Checks of this check that need no network (validation).
pub(in crate::plan) fn validate_external_secrets(loaded: &LoadedPlan) -> Result<(), PlanError> {
    for (i, check) in loaded.plan.verify.iter().enumerate() {
        let super::Check::ExternalSecrets(c) = check else {
            continue;
        };
        let index = i.to_string();
        let invalid = |field: &str, message: &str| {
            let mut at = vec!["verify", index.as_str(), "external_secrets"];
            if !field.is_empty() {
                at.push(field);
            }
            PlanError::Field {
                loc: loaded.loc(&at).unwrap_or_else(|| loaded.root_loc()),
                path: at.join("."),
                message: message.to_owned(),
            }
        };
        if c.store.trim().is_empty() {
            return Err(invalid("store", "`store` names the SecretStore or ClusterSecretStore of the ExternalSecrets to check"));
        }
        match (&c.manifests, c.cluster) {
            (Some(_), true) | (None, false) => {
                return Err(invalid(
                    "",
                    "set one of `manifests: <file or directory>` and `cluster: true`",
                ))
            }
            (Some(path), false) if path.trim().is_empty() => {
                return Err(invalid("manifests", "`manifests` is empty"))
            }
            _ => {}
        }
        if c.kv_version.is_some_and(|v| v != 1 && v != 2) {
            return Err(invalid("kv_version", "`kv_version` is 1 or 2"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::plan::{load_with, validate::validate, LocalSources};

    fn check(verify: &str) -> Result<(), String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.yaml");
        std::fs::write(&path, format!("version: 1\nverify:\n{verify}")).unwrap();
        let loaded = load_with(&[path], LocalSources::MayBeAbsent).map_err(|e| e.to_string())?;
        validate(&loaded).map_err(|e| e.to_string())
    }

    #[test]
    fn the_check_needs_one_source_a_store_and_a_known_kv_version() {
        assert!(check("  - external_secrets: {manifests: gitops/, store: s}\n").is_ok());
        assert!(check(
            "  - external_secrets: {cluster: true, store: s, mount: kv, kv_version: 1}\n"
        )
        .is_ok());
        let both =
            check("  - external_secrets: {manifests: x, cluster: true, store: s}\n").unwrap_err();
        assert!(
            both.contains("p.yaml:3:") && both.contains("set one of"),
            "{both}"
        );
        let neither = check("  - external_secrets: {store: s}\n").unwrap_err();
        assert!(neither.contains("`cluster: true`"), "{neither}");
        let version =
            check("  - external_secrets: {manifests: x, store: s, kv_version: 3}\n").unwrap_err();
        assert!(version.contains("kv_version"), "{version}");
        let typo = check("  - external_secrets: {manifest: x, store: s}\n").unwrap_err();
        assert!(typo.contains("manifest"), "{typo}");
    }
}
