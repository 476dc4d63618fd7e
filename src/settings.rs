//! Run settings: defaults < VAULT_* < BAO_* < VAULT_CONVERGE_* < flags (figment).

use std::path::PathBuf;
use std::time::Duration;

use figment::providers::{Env, Serialized};
use figment::Figment;
use serde::{Deserialize, Deserializer, Serialize};

use crate::duration::duration_secs;
use crate::secret::Secret;

/// The standard client variables, read as VAULT_* and BAO_*.
const STANDARD: [&str; 5] = ["addr", "token", "cacert", "namespace", "skip_verify"];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    pub addr: String,
    #[serde(default)]
    pub token: Option<Secret>,
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    #[serde(default)]
    pub cacert: Option<String>,
    #[serde(default, deserialize_with = "flexible_bool")]
    pub skip_verify: bool,
    #[serde(default)]
    pub namespace: Option<String>,
    pub wait_timeout: String,
    pub request_timeout: String,
    pub concurrency: usize,
    pub retries: u32,
    pub log_level: String,
    pub output: String,
    #[serde(default)]
    pub termination_log: Option<PathBuf>,
    /// How the job gets its token: token (VAULT_TOKEN or token_file), kubernetes or approle.
    pub auth_method: String,
    /// Where that auth method is mounted (default: its type).
    #[serde(default)]
    pub auth_mount: Option<String>,
    /// The Vault role to log in as (kubernetes).
    #[serde(default)]
    pub auth_role: Option<String>,
    /// The service-account token presented at kubernetes login.
    pub jwt_path: PathBuf,
    #[serde(default)]
    pub role_id: Option<Secret>,
    #[serde(default)]
    pub role_id_file: Option<PathBuf>,
    #[serde(default)]
    pub secret_id: Option<Secret>,
    #[serde(default)]
    pub secret_id_file: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            addr: "http://127.0.0.1:8200".into(),
            token: None,
            token_file: None,
            cacert: None,
            skip_verify: false,
            namespace: None,
            wait_timeout: "60s".into(),
            request_timeout: "30s".into(),
            concurrency: 32,
            retries: 6,
            log_level: "info".into(),
            output: "text".into(),
            termination_log: None,
            auth_method: "token".into(),
            auth_mount: None,
            auth_role: None,
            jwt_path: PathBuf::from("/var/run/secrets/kubernetes.io/serviceaccount/token"),
            role_id: None,
            role_id_file: None,
            secret_id: None,
            secret_id_file: None,
        }
    }
}

/// Flag values; only the ones given override the environment.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_timeout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("invalid setting: {0}")]
    Invalid(String),
}

impl Settings {
    pub fn load(overrides: &Overrides) -> Result<Settings, SettingsError> {
        let figment = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Env::prefixed("VAULT_").only(&STANDARD))
            .merge(Env::prefixed("BAO_").only(&STANDARD))
            .merge(Env::prefixed("VAULT_CONVERGE_"))
            .merge(Serialized::defaults(overrides));
        let mut settings: Settings = figment
            .extract()
            .map_err(|e| SettingsError::Invalid(e.to_string()))?;
        // An exported-but-empty variable means "not set".
        for field in [&mut settings.cacert, &mut settings.namespace] {
            if field.as_deref().is_some_and(|v| v.trim().is_empty()) {
                *field = None;
            }
        }
        for field in [
            &mut settings.token,
            &mut settings.role_id,
            &mut settings.secret_id,
        ] {
            if field.as_ref().is_some_and(|v| v.expose().trim().is_empty()) {
                *field = None;
            }
        }
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), SettingsError> {
        self.wait_timeout()?;
        self.request_timeout()?;
        if self.concurrency == 0 {
            return Err(SettingsError::Invalid(
                "concurrency must be at least 1".into(),
            ));
        }
        if !["token", "kubernetes", "approle"].contains(&self.auth_method.as_str()) {
            return Err(SettingsError::Invalid(format!(
                "auth_method must be token, kubernetes or approle, not `{}`",
                self.auth_method
            )));
        }
        if self.auth_method == "kubernetes" && self.auth_role.is_none() {
            return Err(SettingsError::Invalid(
                "auth_method kubernetes needs a role: set VAULT_CONVERGE_AUTH_ROLE".into(),
            ));
        }
        if !["text", "json"].contains(&self.output.as_str()) {
            return Err(SettingsError::Invalid(format!(
                "output must be text or json, not `{}`",
                self.output
            )));
        }
        Ok(())
    }

    pub fn wait_timeout(&self) -> Result<Duration, SettingsError> {
        parse_duration("wait_timeout", &self.wait_timeout)
    }

    pub fn request_timeout(&self) -> Result<Duration, SettingsError> {
        parse_duration("request_timeout", &self.request_timeout)
    }
}

/// `VAULT_CONVERGE_*` variables that match no setting: most likely typos in
/// a manifest. Kubernetes service links (`VAULT_CONVERGE_SERVICE_HOST`,
/// `VAULT_CONVERGE_PORT_...`) are not settings and are not reported.
pub fn unknown_variables() -> Vec<String> {
    let known = serde_json::to_value(Settings::default()).expect("settings serialize");
    std::env::vars()
        .filter_map(|(name, _)| {
            let rest = name.strip_prefix("VAULT_CONVERGE_")?.to_ascii_lowercase();
            let service_link =
                rest.starts_with("service_") || rest == "port" || rest.starts_with("port_");
            (!service_link && known.get(&rest).is_none()).then_some(name)
        })
        .collect()
}

fn parse_duration(name: &str, text: &str) -> Result<Duration, SettingsError> {
    duration_secs(text).map(Duration::from_secs).ok_or_else(|| {
        SettingsError::Invalid(format!("{name}: `{text}` is not a duration like 60s or 5m"))
    })
}

/// Accepts true/false, 1/0 and their string forms, as the Vault CLI does.
fn flexible_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flex {
        Bool(bool),
        Int(i64),
        Str(String),
    }
    Ok(match Flex::deserialize(d)? {
        Flex::Bool(b) => b,
        Flex::Int(i) => i != 0,
        Flex::Str(s) => matches!(s.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "t"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_serialized_settings_never_show_credentials() {
        let settings = Settings {
            token: Some(Secret::new("hvs.settings-test-token")),
            secret_id: Some(Secret::new("settings-test-secret-id")),
            ..Settings::default()
        };
        let debug = format!("{settings:?}");
        let json = serde_json::to_string(&settings).unwrap();
        for text in [debug, json] {
            assert!(!text.contains("settings-test"), "{text}");
        }
    }
}
