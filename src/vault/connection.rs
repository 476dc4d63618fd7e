//! How to reach Vault: address, token, TLS and namespace settings, and the
//! retry policy that bounds how long a run waits out an outage.

use std::path::PathBuf;
use std::time::Duration;

use crate::secret::Secret;

/// How to reach Vault; built from Settings in the app.
#[derive(Debug, Clone)]
pub struct Connection {
    pub addr: String,
    pub token: Option<Secret>,
    pub ca_cert: Option<String>,
    /// `VAULT_CLIENT_CERT` and `VAULT_CLIENT_KEY` (mTLS).
    pub client_cert: Option<(PathBuf, PathBuf)>,
    /// `VAULT_TLS_SERVER_NAME`: the name the server's certificate carries.
    pub tls_server_name: Option<String>,
    pub skip_verify: bool,
    pub namespace: Option<String>,
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
    /// Follow 307/308 to another host (never from https to http).
    pub follow_redirects: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// How long the server may stay unreachable or unavailable before the
    /// whole run gives up (`--wait-timeout`).
    pub budget: Duration,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            budget: Duration::from_secs(60),
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(3),
        }
    }
}
