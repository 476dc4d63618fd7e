//! `pki:` — CAs generated once, URLs, CRL settings and roles per pki mount,
//! and the `pki_issue` verify check.
//!
//! `root` and `intermediate` are field maps passed to Vault's generate
//! endpoints, plus two keys of ours: `signed_by` (intermediate: the pki mount
//! whose CA signs it) and `export_key_to` (generate an exportable key and
//! keep the private key at this KV path, the only copy outside the mount).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::plan::{LoadedPlan, PlanError};

use super::Fields;
use crate::plan::schema::VaultFields;

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PkiMount {
    /// Generated once (`<mount>/root/generate/<type>`); `export_key_to: {mount, path}`
    /// keeps the private key in KV.
    #[schemars(with = "Option<VaultFields>")]
    pub root: Option<Fields>,
    /// Generated once: CSR here, signed by the mount `signed_by`, set here;
    /// `export_key_to: {mount, path}` keeps the private key in KV.
    #[schemars(with = "Option<VaultFields>")]
    pub intermediate: Option<Fields>,
    /// `<mount>/config/urls`.
    #[schemars(with = "Option<VaultFields>")]
    pub urls: Option<Fields>,
    /// `<mount>/config/crl`.
    #[schemars(with = "Option<VaultFields>")]
    pub crl: Option<Fields>,
    /// `<mount>/roles/<name>`.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, VaultFields>")]
    pub roles: BTreeMap<String, Fields>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PkiIssueCheck {
    /// The pki mount.
    pub mount: String,
    /// The role that issues (`<mount>/issue/<role>`).
    pub role: String,
    pub common_name: String,
}

/// Our key in `intermediate`: the pki mount whose CA signs it.
pub const SIGNED_BY: &str = "signed_by";
/// Our key in `root` / `intermediate`: where the exported private key is kept.
pub const EXPORT_KEY_TO: &str = "export_key_to";

/// A KV secret that receives a generated CA's private key.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyExport {
    pub mount: String,
    pub path: String,
}

/// A CA's fields for Vault, with our own keys split off.
#[derive(Debug, Clone)]
pub struct CaSpec {
    pub fields: Fields,
    pub signed_by: Option<String>,
    pub export_key_to: Option<KeyExport>,
}

impl CaSpec {
    /// Splits `signed_by` and `export_key_to` off a `root`/`intermediate` map;
    /// the error names the key and what is wrong with it.
    pub fn split(fields: &Fields) -> Result<CaSpec, (&'static str, String)> {
        let mut rest = fields.clone();
        let signed_by = match rest.remove(SIGNED_BY) {
            None => None,
            Some(serde_json::Value::String(s)) if !s.trim_matches('/').is_empty() => {
                Some(s.trim_matches('/').to_owned())
            }
            Some(other) => {
                return Err((SIGNED_BY, format!("must name a pki mount, not {other}")));
            }
        };
        let export_key_to = match rest.remove(EXPORT_KEY_TO) {
            None => None,
            Some(value) => {
                let export: KeyExport = serde_json::from_value(value).map_err(|e| {
                    (
                        EXPORT_KEY_TO,
                        format!("must be {{ mount: <kv mount>, path: <secret path> }} ({e})"),
                    )
                })?;
                let (mount, path) = (
                    export.mount.trim_matches('/'),
                    export.path.trim_matches('/'),
                );
                if mount.is_empty() || path.is_empty() {
                    return Err((EXPORT_KEY_TO, "needs a non-empty mount and path".into()));
                }
                Some(KeyExport {
                    mount: mount.to_owned(),
                    path: path.to_owned(),
                })
            }
        };
        Ok(CaSpec {
            fields: rest,
            signed_by,
            export_key_to,
        })
    }
}

impl PkiMount {
    /// The planned CA and whether it is the root: `None` without one (or
    /// with an invalid one, which validation refuses).
    pub fn ca(&self) -> Option<(CaSpec, bool)> {
        match (&self.root, &self.intermediate) {
            (Some(root), None) => CaSpec::split(root).ok().map(|s| (s, true)),
            (None, Some(int)) => CaSpec::split(int).ok().map(|s| (s, false)),
            _ => None,
        }
    }
}

/// The mount of the root CA at the top of `mount`'s planned hierarchy
/// (following `signed_by`); `None` when the plan has none or it loops.
pub fn planned_root<'a>(pki: &'a BTreeMap<String, PkiMount>, mount: &str) -> Option<&'a str> {
    let mut at = mount.trim_matches('/');
    for _ in 0..=pki.len() {
        let (key, planned) = pki.get_key_value(at)?;
        if planned.root.is_some() {
            return Some(key.as_str());
        }
        at = planned
            .intermediate
            .as_ref()?
            .get(SIGNED_BY)?
            .as_str()?
            .trim_matches('/');
    }
    None
}

/// Checks of this section that need no network (validation).
pub(in crate::plan) fn validate_pki(loaded: &LoadedPlan) -> Result<(), PlanError> {
    let plan = &loaded.plan;
    let invalid = |at: &[&str], message: String| PlanError::Field {
        loc: loaded.loc(at).unwrap_or_else(|| loaded.root_loc()),
        path: at.join("."),
        message,
    };
    for (mount, pki) in &plan.pki {
        if let Some(planned) = plan.mounts.get(mount) {
            if planned.kind != "pki" {
                return Err(invalid(
                    &["pki", mount],
                    format!(
                        "`pki:` needs a mount of type pki, but mounts.{mount} has type `{}`",
                        planned.kind
                    ),
                ));
            }
        }
        if pki.root.is_some() && pki.intermediate.is_some() {
            return Err(invalid(
                &["pki", mount],
                "a pki mount holds one CA: set `root` or `intermediate`, not both (use two mounts)"
                    .into(),
            ));
        }
        for (key, fields, root) in [
            ("root", &pki.root, true),
            ("intermediate", &pki.intermediate, false),
        ] {
            let Some(fields) = fields else { continue };
            let spec = CaSpec::split(fields)
                .map_err(|(field, message)| invalid(&["pki", mount, key, field], message))?;
            if !fields.contains_key("common_name") {
                return Err(invalid(
                    &["pki", mount, key],
                    "a CA needs `common_name` (its subject)".into(),
                ));
            }
            if let Some(export) = &spec.export_key_to {
                if let Some(kv) = plan.mounts.get(&export.mount).filter(|m| m.kind != "kv") {
                    return Err(invalid(
                        &["pki", mount, key, EXPORT_KEY_TO],
                        format!(
                            "names mount `{}` of type `{}`; the private key is kept in a kv mount",
                            export.mount, kv.kind
                        ),
                    ));
                }
            }
            match (root, &spec.signed_by) {
                (true, Some(_)) => {
                    return Err(invalid(
                        &["pki", mount, key, SIGNED_BY],
                        "a root signs itself; `signed_by` belongs to an intermediate".into(),
                    ))
                }
                (false, None) => {
                    return Err(invalid(
                        &["pki", mount, key],
                        "an intermediate needs `signed_by: <pki mount>` naming the mount whose CA signs it"
                            .into(),
                    ))
                }
                (false, Some(signer)) => {
                    let has_ca = plan
                        .pki
                        .get(signer)
                        .is_some_and(|s| s.root.is_some() || s.intermediate.is_some());
                    if !has_ca || signer == mount {
                        return Err(invalid(
                            &["pki", mount, key, SIGNED_BY],
                            format!("`{signer}` must be another mount under `pki:` with a root or intermediate"),
                        ));
                    }
                    if planned_root(&plan.pki, mount).is_none() {
                        return Err(invalid(
                            &["pki", mount, key, SIGNED_BY],
                            "the `signed_by` chain loops; it must end at a mount with a `root`".into(),
                        ));
                    }
                }
                (true, None) => {}
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::plan::{load_with, validate::validate, LocalSources};

    /// The validation error for `pki:` below one planned pki mount, with its line.
    fn refused(pki: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.yaml");
        let yaml = format!(
            "version: 1\nmounts: {{pki-root: {{type: pki}}, app: {{type: transit}}}}\npki:\n{pki}"
        );
        std::fs::write(&path, yaml).unwrap();
        let loaded = load_with(&[path], LocalSources::MayBeAbsent).unwrap();
        validate(&loaded)
            .expect_err("the plan must be refused")
            .to_string()
    }

    #[test]
    fn cas_that_cannot_be_generated_are_refused_with_their_line() {
        for (pki, line, says) in [
            ("  pki-root:\n    root: {key_type: ec}\n", 5, "common_name"),
            ("  pki-root:\n    root: {common_name: R, signed_by: x}\n", 5, "signed_by"),
            ("  pki-root:\n    intermediate: {common_name: I}\n", 5, "signed_by: <pki mount>"),
            (
                "  pki-root:\n    root: {common_name: R}\n    intermediate: {common_name: I, signed_by: x}\n",
                4,
                "not both",
            ),
            (
                "  pki-root:\n    root: {common_name: R, export_key_to: {mount: app, path: k}}\n",
                5,
                "kv mount",
            ),
            (
                "  pki-root:\n    root: {common_name: R, export_key_to: {mount: app}}\n",
                5,
                "export_key_to",
            ),
            ("  app:\n    root: {common_name: R}\n", 4, "type pki"),
            (
                "  a:\n    intermediate: {common_name: A, signed_by: b}\n  b:\n    intermediate: {common_name: B, signed_by: a}\n",
                5,
                "loops",
            ),
        ] {
            let text = refused(pki);
            assert!(text.contains(&format!("p.yaml:{line}:")), "{pki}: {text}");
            assert!(text.contains(says), "{pki}: {text}");
        }
    }
}
