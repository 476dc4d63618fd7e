//! Readiness: wait until Vault answers, is initialized and unsealed.

use std::time::{Duration, Instant};

use super::client::Vault;
use super::endpoint::Method;
use super::error::VaultError;

/// Every state answers 200 with its JSON body, on Vault and OpenBao alike,
/// so the reason for waiting can be read instead of guessed from a status code.
const HEALTH_QUERY: &str = "standbyok=true&perfstandbyok=true&sealedcode=200&uninitcode=200&drsecondarycode=200&performancestandbycode=200";

/// Polls `sys/health` until the server can serve requests or `timeout` passes.
pub async fn wait_ready(vault: &Vault, timeout: Duration) -> Result<(), VaultError> {
    let started = Instant::now();
    let mut delay = Duration::from_millis(100);
    let mut last_reason = String::new();
    loop {
        // A server that accepts and never answers must not stretch the wait
        // past its budget: each probe gets at most what is left of it.
        let left = timeout
            .saturating_sub(started.elapsed())
            .max(Duration::from_millis(200));
        let reason = match vault
            .send_once(
                Method::Get,
                "sys/health",
                Some(HEALTH_QUERY),
                None,
                Some(left),
            )
            .await
        {
            Ok(answer) => not_ready_reason(&answer.body),
            Err(VaultError::Transport { reason, .. }) => Some(format!("not reachable ({reason})")),
            Err(e @ VaultError::Status { .. }) => Some(format!("unhealthy ({e})")),
            Err(e) => return Err(e),
        };
        let Some(reason) = reason else {
            return Ok(());
        };
        if reason != last_reason {
            tracing::info!(addr = vault.addr(), %reason, "waiting for Vault");
            last_reason = reason;
        }
        if started.elapsed() >= timeout {
            return Err(VaultError::NotReady {
                addr: vault.addr().to_owned(),
                waited_s: timeout.as_secs(),
                reason: last_reason,
            });
        }
        let remaining = timeout.saturating_sub(started.elapsed());
        tokio::time::sleep(jittered(delay).min(remaining)).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

/// What `sys/health` says about initialization and sealing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Health {
    pub initialized: bool,
    pub sealed: bool,
}

/// One unretried health read.
pub async fn status(vault: &Vault) -> Result<Health, VaultError> {
    let answer = vault
        .send_once(Method::Get, "sys/health", Some(HEALTH_QUERY), None, None)
        .await?;
    let flag = |name: &str| answer.body.get(name).and_then(serde_json::Value::as_bool);
    Ok(Health {
        initialized: flag("initialized").unwrap_or(false),
        sealed: flag("sealed").unwrap_or(true),
    })
}

fn not_ready_reason(health: &serde_json::Value) -> Option<String> {
    let flag = |name: &str| health.get(name).and_then(serde_json::Value::as_bool);
    if flag("initialized") == Some(false) {
        return Some("not initialized".into());
    }
    if flag("sealed") == Some(true) {
        return Some("sealed".into());
    }
    None
}

fn jittered(delay: Duration) -> Duration {
    use rand::Rng;
    let millis = delay.as_millis().max(2) as u64;
    Duration::from_millis(rand::rng().random_range(millis / 2..=millis))
}
