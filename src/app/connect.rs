//! How the run reaches Vault and with which token: the connection settings,
//! a login (Kubernetes, AppRole) or the configured token, the session that
//! waits for the server, and the API description read while the plan loads.

use std::path::PathBuf;

use super::drift_guard::check_token_known;
use super::{signals, Command, RunError};
use crate::secret::Secret;
use crate::settings::Settings;
use crate::vault::login::{Credential, Login};
use crate::vault::schema_prefetch::PrefetchedSchema;
use crate::vault::{health, Connection, RetryPolicy, Vault};

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

/// Starts reading the server's API description while the plan loads, when
/// the command checks planned fields and the token needs no login.
pub fn prefetch_schema(command: Command, settings: &Settings) -> Option<PrefetchedSchema> {
    let checks_fields = matches!(command, Command::Plan | Command::Apply { .. });
    if !checks_fields || !matches!(login_of(settings), Login::Token) {
        return None;
    }
    let token = configured_token(settings).ok()?;
    let conn = connection(settings).ok()?;
    PrefetchedSchema::start(Connection {
        token: Some(token),
        ..conn
    })
}

/// Waits for the server, logs in (or takes the configured token), and
/// checks that Vault knows the token: the client every command uses, and
/// the token's lookup-self answer.
pub(crate) async fn session(
    settings: &Settings,
) -> Result<(Vault, Option<serde_json::Value>), RunError> {
    if settings.skip_verify {
        tracing::warn!("TLS certificate verification is off (VAULT_SKIP_VERIFY): use VAULT_CACERT instead outside of tests");
    }
    let conn = connection(settings)?;
    // sys/health only answers in the root namespace.
    let root_namespace = Vault::connect(&Connection {
        namespace: None,
        ..conn.clone()
    })?;
    health::wait_ready(&root_namespace, settings.wait_timeout()?).await?;
    let unauthenticated = Vault::connect(&conn)?;
    // The token is read only now: a mounted token file may appear while we wait.
    let (token, owned_token) = match login_of(settings).token(&unauthenticated).await? {
        Some(token) => (token, true),
        None => (configured_token(settings)?, false),
    };
    let vault = unauthenticated.with_token(token.clone())?;
    if owned_token {
        signals::keep_login_token(vault.with_token(token)?);
    }
    let lookup = check_token_known(&vault).await?;
    Ok((vault, lookup))
}
