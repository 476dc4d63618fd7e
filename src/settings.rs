//! Run settings: defaults < VAULT_* < BAO_* < VAULT_CONVERGE_* < flags (figment).

use std::path::PathBuf;
use std::time::Duration;

use figment::providers::{Env, Serialized};
use figment::Figment;
use serde::{Deserialize, Deserializer, Serialize};

use crate::duration::duration_secs;
use crate::secret::Secret;
use crate::sources::DEFAULT_MAX_FILE_BYTES;

/// The standard client variables, read as VAULT_* and BAO_*.
const STANDARD: [&str; 8] = [
    "addr",
    "token",
    "cacert",
    "client_cert",
    "client_key",
    "tls_server_name",
    "namespace",
    "skip_verify",
];

/// Every field has a default (`Settings::default()`); figment fills them in first.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// A number (VAULT_ADDR=8200) is kept as text so validation can explain it.
    #[serde(deserialize_with = "flexible_string")]
    pub addr: String,
    pub token: Option<Secret>,
    pub token_file: Option<PathBuf>,
    pub cacert: Option<String>,
    #[serde(deserialize_with = "flexible_bool")]
    pub skip_verify: bool,
    pub namespace: Option<String>,
    pub wait_timeout: String,
    pub request_timeout: String,
    pub concurrency: usize,
    /// Follow a 307/308 to another host (a standby without request
    /// forwarding); never from https to http.
    #[serde(default, deserialize_with = "flexible_bool")]
    pub follow_redirects: bool,
    /// mTLS: `VAULT_CLIENT_CERT` and `VAULT_CLIENT_KEY` (PEM files).
    #[serde(default)]
    pub client_cert: Option<PathBuf>,
    #[serde(default)]
    pub client_key: Option<PathBuf>,
    /// The name the server's certificate carries, when it is not the host of the address.
    #[serde(default)]
    pub tls_server_name: Option<String>,
    pub log_level: String,
    pub output: String,
    pub termination_log: Option<PathBuf>,
    /// How the job gets its token: token (VAULT_TOKEN or token_file), kubernetes or approle.
    pub auth_method: String,
    /// Where that auth method is mounted (default: its type).
    pub auth_mount: Option<String>,
    /// The Vault role to log in as (kubernetes).
    pub auth_role: Option<String>,
    /// The service-account token presented at kubernetes login.
    pub jwt_path: PathBuf,
    pub role_id: Option<Secret>,
    pub role_id_file: Option<PathBuf>,
    pub secret_id: Option<Secret>,
    pub secret_id_file: Option<PathBuf>,
    /// The largest `file:` source (and policy file), in bytes.
    pub max_source_bytes: u64,
    /// `--prune`: delete what this instance created and the plan no longer
    /// lists (the plan's `prune.kinds`, else `all`).
    #[serde(default, deserialize_with = "flexible_bool")]
    pub prune: bool,
    /// `--max-deletes N|N%`: overrides the plan's `prune.max_deletes`.
    #[serde(default, deserialize_with = "flexible_opt_string")]
    pub max_deletes: Option<String>,
    /// `--adopt`: record planned objects that exist already as this instance's.
    #[serde(default, deserialize_with = "flexible_bool")]
    pub adopt: bool,
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
            follow_redirects: false,
            client_cert: None,
            client_key: None,
            tls_server_name: None,
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
            max_source_bytes: DEFAULT_MAX_FILE_BYTES,
            prune: false,
            max_deletes: None,
            adopt: false,
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
    pub request_timeout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow_redirects: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prune: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_deletes: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adopt: Option<bool>,
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
        for field in [
            &mut settings.cacert,
            &mut settings.namespace,
            &mut settings.tls_server_name,
        ] {
            if field.as_deref().is_some_and(|v| v.trim().is_empty()) {
                *field = None;
            }
        }
        for field in [&mut settings.client_cert, &mut settings.client_key] {
            if field.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
                *field = None;
            }
        }
        if settings.client_cert.is_some() != settings.client_key.is_some() {
            return Err(SettingsError::Invalid(
                "VAULT_CLIENT_CERT and VAULT_CLIENT_KEY go together: set both (PEM files) or neither"
                    .into(),
            ));
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
        validate_addr(&self.addr)?;
        self.wait_timeout()?;
        if self.request_timeout()?.is_zero() {
            return Err(SettingsError::Invalid(
                "request_timeout must be more than 0s".into(),
            ));
        }
        if self.concurrency == 0 {
            return Err(SettingsError::Invalid(
                "concurrency must be at least 1".into(),
            ));
        }
        if let Some(max) = &self.max_deletes {
            if crate::resources::owned::MaxDeletes::parse(max).is_none() {
                return Err(SettingsError::Invalid(format!(
                    "max_deletes: `{max}` is not a count (10) or a percentage (25%)"
                )));
            }
        }
        if self.max_source_bytes == 0 {
            return Err(SettingsError::Invalid(
                "max_source_bytes must be at least 1".into(),
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
        if self.auth_method == "approle" {
            for (name, value, file) in [
                ("ROLE_ID", self.role_id.is_some(), &self.role_id_file),
                ("SECRET_ID", self.secret_id.is_some(), &self.secret_id_file),
            ] {
                if !value && file.is_none() {
                    return Err(SettingsError::Invalid(format!(
                        "auth_method approle needs its {name}: set VAULT_CONVERGE_{name} or VAULT_CONVERGE_{name}_FILE"
                    )));
                }
            }
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

/// Checked before any request: vaultrs panics on an address it cannot parse,
/// and one without a scheme or host would fail later with a vaguer error.
fn validate_addr(addr: &str) -> Result<(), SettingsError> {
    let trimmed = addr.trim();
    let problem = match url::Url::parse(trimmed) {
        _ if trimmed.is_empty() => "is empty".to_owned(),
        _ if !trimmed.contains("://") => "has no scheme (http:// or https://)".to_owned(),
        Ok(url) if !matches!(url.scheme(), "http" | "https") => {
            format!("has scheme `{}`, not http or https", url.scheme())
        }
        Ok(url) if url.host_str().is_none_or(str::is_empty) => "names no host".to_owned(),
        Ok(_) => return Ok(()),
        Err(e) => format!("is not a URL ({e})"),
    };
    let quoted = match trimmed {
        "" => String::new(),
        _ => format!(" `{addr}`"),
    };
    Err(SettingsError::Invalid(format!(
        "the Vault address{quoted} (VAULT_ADDR, BAO_ADDR, VAULT_CONVERGE_ADDR or --addr) {problem}: \
         write it with a scheme and a host, like http://127.0.0.1:8200 or https://vault.example:8200"
    )))
}

/// `VAULT_CONVERGE_*` variables that match no setting: most likely typos in
/// a manifest. Kubernetes service links (`VAULT_CONVERGE_SERVICE_HOST`,
/// `VAULT_CONVERGE_PORT_...`) are not settings and are not reported.
pub fn unknown_variables() -> Vec<String> {
    let known = serde_json::to_value(Settings::default()).unwrap_or_default();
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

/// A string, or a number or bool written where a string belongs.
fn flexible_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    })
}

/// Accepts true/false, 1/0 and their string forms, as the Vault CLI does.
/// An optional string, or a number written where a string belongs.
fn flexible_opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s),
        Some(other) => Some(other.to_string()),
    })
}

fn flexible_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let text = flexible_string(d)?.to_ascii_lowercase();
    Ok(matches!(text.as_str(), "true" | "yes" | "t") || text.parse::<i64>().is_ok_and(|i| i != 0))
}

#[cfg(test)]
#[path = "settings_tests.rs"]
mod tests;
