//! How the run reaches Vault and with which token: the connection settings,
//! a login (Kubernetes, AppRole) or the configured token.

use std::path::PathBuf;

use super::RunError;
use crate::secret::Secret;
use crate::settings::Settings;
use crate::vault::login::{Credential, Login};
use crate::vault::{Connection, RetryPolicy};

pub fn login_of(settings: &Settings) -> Login {
    let mount = |default: &str| {
        settings
            .auth_mount
            .clone()
            .unwrap_or_else(|| default.to_owned())
    };
    let credential =
        |value: &Option<Secret>, file: &Option<PathBuf>, name: &'static str| match (value, file) {
            (Some(v), _) => Credential::Value(Secret::new(v.expose().trim())),
            (None, Some(path)) => Credential::File(path.clone()),
            (None, None) => Credential::Missing(name),
        };
    match settings.auth_method.as_str() {
        "kubernetes" => Login::Kubernetes {
            mount: mount("kubernetes"),
            role: settings.auth_role.clone().unwrap_or_default(),
            jwt_path: settings.jwt_path.clone(),
        },
        "approle" => Login::AppRole {
            mount: mount("approle"),
            role_id: credential(&settings.role_id, &settings.role_id_file, "ROLE_ID"),
            secret_id: credential(&settings.secret_id, &settings.secret_id_file, "SECRET_ID"),
        },
        _ => Login::Token,
    }
}

/// VAULT_TOKEN, or the token file.
pub fn configured_token(settings: &Settings) -> Result<Secret, RunError> {
    match (&settings.token, &settings.token_file) {
        (Some(token), _) => Ok(Secret::new(token.expose().trim())),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path).map_err(|e| RunError::TokenFile {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            Ok(Secret::new(text.trim()))
        }
        (None, None) => Err(RunError::NoToken),
    }
}

/// How to reach Vault, without a token yet.
pub fn connection(settings: &Settings) -> Result<Connection, RunError> {
    Ok(Connection {
        addr: settings.addr.clone(),
        token: None,
        ca_cert: settings.cacert.clone(),
        skip_verify: settings.skip_verify,
        namespace: settings.namespace.clone(),
        request_timeout: settings.request_timeout()?,
        retry: RetryPolicy {
            budget: settings.wait_timeout()?,
            ..RetryPolicy::default()
        },
        client_cert: settings
            .client_cert
            .clone()
            .zip(settings.client_key.clone()),
        tls_server_name: settings.tls_server_name.clone(),
        follow_redirects: settings.follow_redirects,
    })
}
