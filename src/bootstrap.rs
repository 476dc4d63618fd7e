//! `bootstrap --dev`: initialize and unseal a fresh server and keep its
//! unseal key and root token in a Kubernetes secret. Convenient for dev and
//! CI clusters only — a secret readable in the cluster is no place for real
//! unseal keys — hence the mandatory `--dev`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Secret as KubeSecret;
use kube::api::{Api, PostParams};
use serde_json::{json, Value as Json};

use crate::secret::{self, Secret};
use crate::sources::kubernetes::KubeError;
use crate::sources::SecretKeyRef;
use crate::vault::health::{self, Health};
use crate::vault::{Method, Vault, VaultError};

const UNSEAL_KEY: &str = "unseal-key";
const ROOT_TOKEN: &str = "root-token";

#[derive(Debug, Clone)]
pub struct Options {
    pub dev: bool,
    pub namespace: String,
    pub name: String,
    pub wait_timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Initialized,
    Unsealed,
    AlreadyReady,
}

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("bootstrap keeps unseal keys and the root token in a Kubernetes secret, which is only acceptable on dev and CI clusters: pass --dev to confirm")]
    NotDev,
    #[error("the server is already initialized and Kubernetes secret {namespace}/{name} does not hold its keys: refusing to touch it; unseal it by hand")]
    KeysNotHeld { namespace: String, name: String },
    #[error("the server is not initialized but Kubernetes secret {namespace}/{name} already exists (from another server?): delete it, then rerun")]
    StaleSecret { namespace: String, name: String },
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Kube(#[from] KubeError),
    #[error("cannot write Kubernetes secret {namespace}/{name}: {reason}; the server is initialized and its keys are lost: reset it, grant `create` on secrets and rerun")]
    Store {
        namespace: String,
        name: String,
        reason: String,
    },
    #[error("{0}")]
    Unexpected(String),
}

pub async fn bootstrap(vault: &Vault, options: &Options) -> Result<Outcome, BootstrapError> {
    if !options.dev {
        return Err(BootstrapError::NotDev);
    }
    let health = reachable(vault, options.wait_timeout).await?;
    let secrets = crate::sources::kubernetes::KubeSecrets::default();
    let stored = stored_keys(&secrets, options).await?;
    let key = match (health.initialized, stored) {
        (false, Some(_)) => {
            return Err(BootstrapError::StaleSecret {
                namespace: options.namespace.clone(),
                name: options.name.clone(),
            })
        }
        (true, None) => {
            return Err(BootstrapError::KeysNotHeld {
                namespace: options.namespace.clone(),
                name: options.name.clone(),
            })
        }
        (true, Some(_)) if !health.sealed => return Ok(Outcome::AlreadyReady),
        (true, Some(key)) => key,
        (false, None) => initialize(vault, &secrets, options).await?,
    };
    unseal(vault, &key).await?;
    Ok(if health.initialized {
        Outcome::Unsealed
    } else {
        Outcome::Initialized
    })
}

async fn reachable(vault: &Vault, timeout: Duration) -> Result<Health, VaultError> {
    let started = Instant::now();
    loop {
        match health::status(vault).await {
            Ok(h) => return Ok(h),
            Err(e) if started.elapsed() >= timeout => return Err(e),
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

async fn stored_keys(
    secrets: &crate::sources::kubernetes::KubeSecrets,
    options: &Options,
) -> Result<Option<Secret>, BootstrapError> {
    let reference = SecretKeyRef {
        namespace: options.namespace.clone(),
        name: options.name.clone(),
        key: UNSEAL_KEY.into(),
    };
    match secrets.get(&reference).await {
        Ok(key) => Ok(Some(key)),
        Err(KubeError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn initialize(
    vault: &Vault,
    secrets: &crate::sources::kubernetes::KubeSecrets,
    options: &Options,
) -> Result<Secret, BootstrapError> {
    // Never retried: a lost answer to a repeated init would lose the keys.
    let body = json!({ "secret_shares": 1, "secret_threshold": 1 });
    let answer = vault
        .send_once(
            Method::Post,
            "sys/init",
            None,
            Some(body.to_string().into_bytes()),
            None,
        )
        .await?;
    let text = |pointer: &str| {
        answer
            .body
            .pointer(pointer)
            .and_then(Json::as_str)
            .map(Secret::new)
            .ok_or_else(|| {
                BootstrapError::Unexpected(format!("sys/init answered without {pointer}"))
            })
    };
    let key = text("/keys_base64/0")?;
    let root = text("/root_token")?;
    let object: KubeSecret = serde_json::from_value(json!({
        "metadata": {
            "name": options.name,
            "namespace": options.namespace,
            "labels": { "app.kubernetes.io/managed-by": "vault-converge" },
        },
        "type": "Opaque",
        "stringData": BTreeMap::from([(UNSEAL_KEY, key.expose()), (ROOT_TOKEN, root.expose())]),
    }))
    .map_err(|e| BootstrapError::Unexpected(e.to_string()))?;
    let store_error = |reason: String| BootstrapError::Store {
        namespace: options.namespace.clone(),
        name: options.name.clone(),
        reason: secret::scrub(&reason),
    };
    let client = secrets.client().await?;
    Api::<KubeSecret>::namespaced(client, &options.namespace)
        .create(&PostParams::default(), &object)
        .await
        .map_err(|e| store_error(e.to_string()))?;
    tracing::info!(namespace = %options.namespace, name = %options.name, "stored the unseal key and root token");
    Ok(key)
}

async fn unseal(vault: &Vault, key: &Secret) -> Result<(), BootstrapError> {
    let answer = vault
        .request_uncounted(
            Method::Post,
            "sys/unseal",
            Some(&json!({ "key": key.expose() })),
        )
        .await?;
    if answer.body.get("sealed").and_then(Json::as_bool) == Some(false) {
        Ok(())
    } else {
        Err(BootstrapError::Unexpected(
            "the server is still sealed after unsealing with the stored key".into(),
        ))
    }
}
