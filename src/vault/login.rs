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

/// Why the login failed. `Vault` alone is of the moment (unreachable,
/// 5xx); every other variant is a settings problem a retry cannot fix.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("cannot read {what} from {path}: {reason}")]
    Read {
        what: &'static str,
        path: String,
        reason: String,
    },
    #[error("{what} in {path} is empty; point the setting at the file that holds it")]
    Empty { what: &'static str, path: String },
    #[error("approle login needs {0}: set VAULT_CONVERGE_{0} or VAULT_CONVERGE_{0}_FILE")]
    Missing(&'static str),
    /// Vault answered, and said no: wrong credentials, role or mount.
    #[error("login failed, refused by Vault: {0}; check VAULT_CONVERGE_AUTH_MOUNT, the role and the credentials")]
    Rejected(VaultError),
    #[error("login failed: {0}")]
    Vault(VaultError),
    #[error("login at {0} answered without a client token; is an MFA requirement attached to it?")]
    NoToken(String),
}

impl From<VaultError> for LoginError {
    /// 400: bad credentials or role; 403: Vault's answer for both a wrong
    /// secret and a mount that does not exist; 404/405: no such login path.
    fn from(error: VaultError) -> Self {
        match error.code() {
            Some(400 | 403 | 404 | 405) => LoginError::Rejected(error),
            _ => LoginError::Vault(error),
        }
    }
}

fn read_file(what: &'static str, path: &Path) -> Result<Secret, LoginError> {
    let shown = || path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| LoginError::Read {
        what,
        path: shown(),
        reason: e.to_string(),
    })?;
    // An empty secret would reach Vault and come back as a vaguer error.
    match text.trim() {
        "" => Err(LoginError::Empty {
            what,
            path: shown(),
        }),
        value => Ok(Secret::new(value)),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_logins_are_told_apart_from_unavailable_servers() {
        let answer = |code| {
            LoginError::from(VaultError::status(
                Method::Post,
                "auth/approle/login",
                code,
                &[],
            ))
        };
        for code in [400, 403, 404, 405] {
            assert!(matches!(answer(code), LoginError::Rejected(_)), "{code}");
        }
        for code in [429, 500, 503] {
            assert!(matches!(answer(code), LoginError::Vault(_)), "{code}");
        }
    }

    #[test]
    fn an_empty_credential_file_is_an_error_before_any_request() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret-id");
        std::fs::write(&path, " \n").unwrap();
        let err = Credential::File(path).value("SECRET_ID").unwrap_err();
        assert!(matches!(err, LoginError::Empty { .. }), "{err}");
        let err = Credential::File(dir.path().join("nope"))
            .value("SECRET_ID")
            .unwrap_err();
        assert!(matches!(err, LoginError::Read { .. }), "{err}");
    }
}
