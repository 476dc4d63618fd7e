//! How the job obtains its token: given (VAULT_TOKEN / a token file), or by
//! logging in with Kubernetes service-account JWT or AppRole. A token from a
//! login belongs to this run only and is revoked when the run ends.

use std::path::{Path, PathBuf};

use serde_json::{json, Value as Json};

use super::client::Vault;
use super::endpoint::Method;
use super::error::VaultError;
use crate::secret::Secret;

#[derive(Debug, Clone)]
pub enum Login {
    /// Use the configured token as is (it is not ours to revoke).
    Token,
    Kubernetes {
        mount: String,
        role: String,
        jwt_path: PathBuf,
    },
    AppRole {
        mount: String,
        role_id: Credential,
        secret_id: Credential,
    },
}

/// A login credential given inline or as a file (a mounted secret).
#[derive(Debug, Clone)]
pub enum Credential {
    Value(Secret),
    File(PathBuf),
    Missing(&'static str),
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("cannot read {what} from {path}: {reason}")]
    Read {
        what: &'static str,
        path: String,
        reason: String,
    },
    #[error("approle login needs {0}: set VAULT_CONVERGE_{0} or VAULT_CONVERGE_{0}_FILE")]
    Missing(&'static str),
    #[error("login failed: {0}")]
    Vault(#[from] VaultError),
    #[error("login at {0} answered without a client token")]
    NoToken(String),
}

fn read_file(what: &'static str, path: &Path) -> Result<Secret, LoginError> {
    std::fs::read_to_string(path)
        .map(|text| Secret::new(text.trim()))
        .map_err(|e| LoginError::Read {
            what,
            path: path.display().to_string(),
            reason: e.to_string(),
        })
}

impl Credential {
    fn value(&self, what: &'static str) -> Result<Secret, LoginError> {
        match self {
            Credential::Value(secret) => Ok(secret.clone()),
            Credential::File(path) => read_file(what, path),
            Credential::Missing(name) => Err(LoginError::Missing(name)),
        }
    }
}

impl Login {
    /// Logs in with `vault` (which has no token yet) and returns the new token,
    /// or `None` for `Login::Token`.
    pub async fn token(&self, vault: &Vault) -> Result<Option<Secret>, LoginError> {
        let (path, body) = match self {
            Login::Token => return Ok(None),
            Login::Kubernetes {
                mount,
                role,
                jwt_path,
            } => {
                let jwt = read_file("the service-account token", jwt_path)?;
                (
                    format!("auth/{mount}/login"),
                    json!({ "role": role, "jwt": jwt.expose() }),
                )
            }
            Login::AppRole {
                mount,
                role_id,
                secret_id,
            } => (
                format!("auth/{mount}/login"),
                json!({
                    "role_id": role_id.value("ROLE_ID")?.expose(),
                    "secret_id": secret_id.value("SECRET_ID")?.expose(),
                }),
            ),
        };
        let answer = vault
            .request_uncounted(Method::Post, &path, Some(&body))
            .await?;
        let token = answer
            .body
            .pointer("/auth/client_token")
            .and_then(Json::as_str)
            .ok_or(LoginError::NoToken(path.clone()))?;
        tracing::info!(path = %path, "logged in");
        Ok(Some(Secret::new(token)))
    }
}
