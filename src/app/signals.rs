//! A token obtained by login is revoked when the run ends, also when
//! SIGTERM/SIGINT cut it short (DESIGN.md "Signals"): the main loop drops the
//! run, so the token is kept here, where the signal path can reach it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::vault::{Method, Vault};

static LOGIN_TOKEN: Mutex<Option<Arc<Vault>>> = Mutex::new(None);

/// Remembers the client holding the token from our login.
pub fn keep_login_token(vault: Vault) {
    *LOGIN_TOKEN.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(vault));
}

/// Revokes the login token, if there is one, within 2 seconds.
pub async fn revoke_login_token() {
    let Some(vault) = LOGIN_TOKEN.lock().unwrap_or_else(|e| e.into_inner()).take() else {
        return;
    };
    let revoke = vault.request_uncounted(Method::Post, "auth/token/revoke-self", None);
    match tokio::time::timeout(Duration::from_secs(2), revoke).await {
        Ok(Ok(_)) => tracing::info!("revoked the login token"),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "could not revoke the login token; it expires with its TTL")
        }
        Err(_) => tracing::warn!("revoking the login token took over 2s; it expires with its TTL"),
    }
}
