//! `tokens:` — Vault tokens the platform hands out (a CI deployer, ESO's
//! token auth), kept alive and re-minted into where they are stored.

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::duration::{duration_secs, duration_text};
use crate::plan::schema::DurationText;
use crate::plan::{LoadedPlan, PlanError};

/// One managed token.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ManagedToken {
    /// The token's policies (`default` is added by Vault).
    #[serde(default)]
    pub policies: Vec<String>,
    /// Periodic and renewable: every renewal extends it by this long.
    #[serde(default, deserialize_with = "duration_text")]
    #[schemars(with = "Option<DurationText>")]
    pub period: Option<String>,
    /// A fixed lifetime instead of a period.
    #[serde(default, deserialize_with = "duration_text")]
    #[schemars(with = "Option<DurationText>")]
    pub ttl: Option<String>,
    /// Defaults to the entry's name; Vault shows it as `token-<name>`.
    pub display_name: Option<String>,
    /// Without a parent: it outlives the job's token.
    #[serde(default)]
    pub orphan: bool,
    pub renewable: Option<bool>,
    /// How many requests the token may make (0 or unset: unlimited).
    pub num_uses: Option<u64>,
    /// Created against `auth/token/create/<role>`.
    pub role: Option<String>,
    /// Where the token is kept for its users.
    pub store: TokenStore,
}

/// Where the token is kept for its users.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenStore {
    /// A key of a Kubernetes Secret (created or updated).
    #[serde(rename = "secretRef")]
    pub secret_ref: Option<StoreSecretRef>,
    /// A file (CI runners), written atomically with mode 0600.
    pub path: Option<String>,
}

/// A Kubernetes Secret key.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreSecretRef {
    pub namespace: String,
    pub name: String,
    pub key: String,
}

impl ManagedToken {
    /// The display name Vault reports for tokens minted for `entry`.
    pub fn display_name_of(&self, entry: &str) -> String {
        format!("token-{}", self.display_name.as_deref().unwrap_or(entry))
    }

    /// The planned policies, without `default` (Vault adds it).
    pub fn policy_set(&self) -> BTreeSet<String> {
        self.policies
            .iter()
            .filter(|p| p.as_str() != "default")
            .cloned()
            .collect()
    }

    /// The period in seconds (a periodic token), else `None`.
    pub fn period_secs(&self) -> Option<u64> {
        self.period.as_deref().and_then(duration_secs)
    }

    pub fn ttl_secs(&self) -> Option<u64> {
        self.ttl.as_deref().and_then(duration_secs)
    }
}

/// `verify: - token: {name}`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenCheck {
    /// The entry under `tokens:`.
    pub name: String,
}

/// Checks of this section that need no network (validation).
pub(in crate::plan) fn validate_tokens(loaded: &LoadedPlan) -> Result<(), PlanError> {
    let invalid = |at: &[&str], message: String| PlanError::Field {
        loc: loaded.loc(at).unwrap_or_else(|| loaded.root_loc()),
        path: at.join("."),
        message,
    };
    for (i, check) in loaded.plan.verify.iter().enumerate() {
        if let super::Check::Token(c) = check {
            if !loaded.plan.tokens.contains_key(&c.name) {
                return Err(invalid(
                    &["verify", &i.to_string(), "token", "name"],
                    format!(
                        "no `tokens.{}` entry to check: add it under `tokens:` or fix the name",
                        c.name
                    ),
                ));
            }
        }
    }
    for (name, token) in &loaded.plan.tokens {
        let at = |field: &'static str| ["tokens", name.as_str(), field];
        if name.is_empty() || name.contains('/') || name.contains(char::is_whitespace) {
            return Err(invalid(
                &["tokens", name],
                format!("`{name}` cannot name a token entry: use letters, digits, `-` or `_`"),
            ));
        }
        match (&token.period, &token.ttl) {
            (Some(_), Some(_)) => return Err(invalid(
                &at("ttl"),
                "set `period` (periodic, renewed every run) or `ttl` (fixed lifetime), not both"
                    .into(),
            )),
            (None, None) if token.role.is_none() => {
                return Err(invalid(
                    &["tokens", name],
                    "a managed token needs `period` (periodic, renewed every run) or `ttl`".into(),
                ))
            }
            _ => {}
        }
        for (field, value) in [("period", &token.period), ("ttl", &token.ttl)] {
            if let Some(text) = value {
                if duration_secs(text).is_none_or(|s| s == 0) {
                    return Err(invalid(
                        &at(field),
                        format!("`{text}` is not a duration (e.g. 768h, 30m, 3600)"),
                    ));
                }
            }
        }
        if token.period.is_some() && token.renewable == Some(false) {
            return Err(invalid(
                &at("renewable"),
                "a periodic token is renewable by definition: drop `renewable: false` or use `ttl`"
                    .into(),
            ));
        }
        let store = &token.store;
        match (&store.secret_ref, &store.path) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(invalid(
                    &at("store"),
                    "`store` takes one of `secretRef: {namespace, name, key}` or `path: /file`"
                        .into(),
                ))
            }
            (Some(r), None) if [&r.namespace, &r.name, &r.key].iter().any(|s| s.is_empty()) => {
                return Err(invalid(
                    &at("store"),
                    "`secretRef` needs a namespace, a name and a key".into(),
                ))
            }
            (None, Some(path)) if !path.starts_with('/') => {
                return Err(invalid(
                    &at("store"),
                    format!("`path: {path}` must be absolute"),
                ))
            }
            _ => {}
        }
    }
    Ok(())
}
