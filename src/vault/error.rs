use super::endpoint::Method;

/// A request that failed after its retries. Messages are scrubbed of known
/// secrets when built, because Vault sometimes echoes input in errors.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("{method} {path}: Vault answered {code}: {message}")]
    Status {
        method: &'static str,
        path: String,
        code: u16,
        message: String,
    },
    #[error("{method} {path}: cannot reach Vault at {addr}: {reason}")]
    Transport {
        method: &'static str,
        path: String,
        addr: String,
        reason: String,
    },
    #[error("{method} {path}: unreadable response from Vault: {reason}")]
    Response {
        method: &'static str,
        path: String,
        reason: String,
    },
    #[error("{method} {path}: Vault answered {code} redirecting to {location}, which is not followed: point VAULT_ADDR at the active node (or a load balancer in front of it), or pass --follow-redirects for standbys without request forwarding")]
    Redirect {
        method: &'static str,
        path: String,
        code: u16,
        location: String,
    },
    #[error("TLS with Vault at {addr} failed: {reason}; set VAULT_CACERT to the CA that signed the server's certificate, or VAULT_TLS_SERVER_NAME to the name it carries")]
    Tls { addr: String, reason: String },
    #[error("Vault at {addr} was unreachable or unavailable for {waited_s}s, the --wait-timeout budget (last error: {reason}); check that it is running and reachable, then rerun")]
    Unavailable {
        addr: String,
        waited_s: u64,
        reason: String,
    },
    #[error("cannot set up the Vault client: {0}")]
    Client(String),
    #[error("Vault at {addr} was not ready within {waited_s}s: {reason}; check that it is running, initialized and unsealed, or raise --wait-timeout")]
    NotReady {
        addr: String,
        waited_s: u64,
        reason: String,
    },
}

impl VaultError {
    /// A 2xx answer to `method path` whose body is not what it should be.
    pub fn unreadable(method: Method, path: &str, e: &serde_json::Error) -> VaultError {
        VaultError::Response {
            method: method.as_str(),
            path: path.trim_matches('/').to_owned(),
            reason: e.to_string(),
        }
    }

    pub fn status(method: Method, path: &str, code: u16, errors: &[String]) -> VaultError {
        let message = if errors.is_empty() {
            default_reason(code).to_owned()
        } else {
            // Vault nests multi-line "1 error occurred:\n\t* ..." texts: one line reads better.
            let joined = errors.join("; ");
            crate::secret::scrub_fragments(&joined.split_whitespace().collect::<Vec<_>>().join(" "))
        };
        VaultError::Status {
            method: method.as_str(),
            path: path.to_owned(),
            code,
            message,
        }
    }

    /// The server itself is unreachable, overloaded, failing over or briefly
    /// without a leader: retried within the run's one outage budget.
    pub fn is_outage(&self) -> bool {
        match self {
            VaultError::Transport { .. } => true,
            // A standby points at the leader; right after a failover that is
            // the dead one, until a new leader takes over (seconds). When it
            // persists, the final error names the target and what to do.
            VaultError::Redirect {
                code: 307 | 308, ..
            } => true,
            VaultError::Status { code, message, .. } => {
                matches!(code, 412 | 429 | 502 | 503 | 504)
                    || (*code == 500
                        && ["node not active", "no active", "sealed", "leadership"]
                            .iter()
                            .any(|m| message.contains(m)))
            }
            _ => false,
        }
    }

    /// Any other server error: one endpoint failing (a database plugin that
    /// cannot connect), worth a few more attempts but no outage.
    pub fn is_retryable(&self) -> bool {
        self.is_outage()
            || matches!(
                self,
                VaultError::Status {
                    code: 500..=599,
                    ..
                }
            )
    }

    /// A KV mount still upgrading to v2 right after it was enabled ("Waiting
    /// for the primary to upgrade…" on a standby, "Upgrading from
    /// non-versioned…" on the active node): ready in a moment.
    /// A write to a mount enabled a moment ago, through a standby that has
    /// not seen the mount yet ("no handler for route"), is the same: how
    /// many 100 ms waits each deserves (`None`: not settling).
    pub fn settling_waits(&self) -> Option<u32> {
        match self {
            VaultError::Status {
                code: 400, message, ..
            } if message.contains("Waiting for the primary to upgrade")
                || message.contains("Upgrading from non-versioned to versioned data") =>
            {
                Some(100)
            }
            // Only writes: a read of a path under a missing mount is an
            // absent object, and a missing mount must not cost more than 2 s.
            VaultError::Status {
                code: 404,
                method,
                message,
                ..
            } if *method != "GET"
                && *method != "LIST"
                && message.contains("no handler for route") =>
            {
                Some(20)
            }
            _ => None,
        }
    }

    pub fn is_settling(&self) -> bool {
        self.settling_waits().is_some()
    }

    /// A problem of the settings, not of the moment: a retry cannot fix it.
    pub fn is_permanent(&self) -> bool {
        matches!(self, VaultError::Tls { .. } | VaultError::Client(_))
    }

    /// The HTTP status Vault answered with, if it answered.
    pub fn code(&self) -> Option<u16> {
        match self {
            VaultError::Status { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// What the user can do about it, appended to failure messages.
    pub fn hint(&self) -> &'static str {
        match self.code() {
            Some(403) => "the token lacks a capability on this path: `vault-converge policy -f PLAN` prints the policy the job needs",
            Some(400) => "Vault rejected the request: check the field values in the plan",
            Some(404) => "the path does not exist: is the mount or auth method enabled?",
            Some(_) => "check Vault's logs; rerun once Vault is healthy",
            None => "check VAULT_ADDR and the network path to Vault; rerun once it is reachable",
        }
    }
}

fn default_reason(code: u16) -> &'static str {
    match code {
        400 => "bad request",
        403 => "permission denied",
        404 => "not found",
        429 => "too many requests",
        500 => "internal server error",
        503 => "unavailable (sealed or standby)",
        _ => "no error message",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kv_mount_still_upgrading_is_settling_not_an_error() {
        let status = |message: &str| VaultError::Status {
            method: "GET",
            path: "app/data/x".into(),
            code: 400,
            message: message.into(),
        };
        assert!(status("Waiting for the primary to upgrade from non-versioned to versioned data. This backend will be unavailable for a brief period and will resume service when the primary is finished.").is_settling());
        assert!(status("Upgrading from non-versioned to versioned data. This backend will be unavailable for a brief period and will resume service shortly.").is_settling());
        assert!(!status("invalid field").is_settling());
        let route = |method: &'static str| VaultError::Status {
            method,
            path: "app/data/x".into(),
            code: 404,
            message: "no handler for route \"app/data/x\". route entry not found.".into(),
        };
        assert_eq!(route("POST").settling_waits(), Some(20));
        assert!(
            !route("GET").is_settling(),
            "a read of a missing mount is an absent object"
        );
    }
}
