//! `secretKeyRef` values from the Kubernetes API (in-cluster config or
//! KUBECONFIG). Each secret is fetched once per run, however many objects use it.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use k8s_openapi::api::core::v1::Secret as KubeSecret;
use kube::api::Api;
use tokio::sync::OnceCell;

use super::SecretKeyRef;
use crate::secret::Secret;

#[derive(Debug, Clone, thiserror::Error)]
pub enum KubeError {
    #[error("cannot configure the Kubernetes client: {0}; run in a pod with a service account or set KUBECONFIG")]
    Config(String),
    #[error("Kubernetes secret {namespace}/{name} not found; create it or fix secretKeyRef")]
    NotFound { namespace: String, name: String },
    #[error("reading Kubernetes secret {namespace}/{name} is forbidden ({message}); grant `get` on it (`vault-converge rbac` prints the Role)")]
    Forbidden {
        namespace: String,
        name: String,
        message: String,
    },
    #[error(
        "Kubernetes secret {namespace}/{name} has no key `{key}`; add the key or fix secretKeyRef"
    )]
    MissingKey {
        namespace: String,
        name: String,
        key: String,
    },
    #[error("cannot read Kubernetes secret {namespace}/{name}: {reason}")]
    Api {
        namespace: String,
        name: String,
        reason: String,
    },
}

type Fetched = Result<Arc<BTreeMap<String, Secret>>, KubeError>;
/// One fetch per secret per run, shared by every object that refers to it.
type SecretCells = HashMap<(String, String), Arc<OnceCell<Fetched>>>;

#[derive(Default)]
pub struct KubeSecrets {
    client: OnceCell<Result<kube::Client, KubeError>>,
    cache: Mutex<SecretCells>,
}

impl KubeSecrets {
    pub async fn get(&self, reference: &SecretKeyRef) -> Result<Secret, KubeError> {
        let cell = {
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            cache
                .entry((reference.namespace.clone(), reference.name.clone()))
                .or_default()
                .clone()
        };
        let data = cell
            .get_or_init(|| self.fetch(&reference.namespace, &reference.name))
            .await
            .clone()?;
        data.get(&reference.key)
            .cloned()
            .ok_or_else(|| KubeError::MissingKey {
                namespace: reference.namespace.clone(),
                name: reference.name.clone(),
                key: reference.key.clone(),
            })
    }

    pub async fn client(&self) -> Result<kube::Client, KubeError> {
        self.client
            .get_or_init(|| async {
                kube::Client::try_default()
                    .await
                    .map_err(|e| KubeError::Config(e.to_string()))
            })
            .await
            .clone()
    }

    /// One GET, retried on transport errors, 429 and 5xx (an API server
    /// restarting or throttling), at most `ATTEMPTS` times.
    async fn get_with_retry(api: &Api<KubeSecret>, name: &str) -> Result<KubeSecret, kube::Error> {
        const ATTEMPTS: u32 = 4;
        let mut attempt = 0;
        loop {
            attempt += 1;
            match api.get(name).await {
                Err(kube::Error::Api(status)) if status.code != 429 && status.code < 500 => {
                    return Err(kube::Error::Api(status))
                }
                Err(e) if attempt < ATTEMPTS => {
                    tracing::debug!(error = %e, attempt, "retrying Kubernetes secret read");
                    tokio::time::sleep(std::time::Duration::from_millis(200 << attempt)).await;
                }
                other => return other,
            }
        }
    }

    async fn fetch(&self, namespace: &str, name: &str) -> Fetched {
        let api: Api<KubeSecret> = Api::namespaced(self.client().await?, namespace);
        let secret = Self::get_with_retry(&api, name)
            .await
            .map_err(|e| match e {
                kube::Error::Api(status) if status.code == 404 => KubeError::NotFound {
                    namespace: namespace.into(),
                    name: name.into(),
                },
                kube::Error::Api(status) if status.code == 403 || status.code == 401 => {
                    KubeError::Forbidden {
                        namespace: namespace.into(),
                        name: name.into(),
                        message: status.message.clone(),
                    }
                }
                other => KubeError::Api {
                    namespace: namespace.into(),
                    name: name.into(),
                    reason: other.to_string(),
                },
            })?;
        let mut values = BTreeMap::new();
        for (key, bytes) in secret.data.unwrap_or_default() {
            let text = String::from_utf8(bytes.0).map_err(|_| KubeError::Api {
                namespace: namespace.into(),
                name: name.into(),
                reason: format!("key `{key}` is not UTF-8 text"),
            })?;
            values.insert(key, Secret::new(text));
        }
        for (key, text) in secret.string_data.unwrap_or_default() {
            values.insert(key, Secret::new(text));
        }
        Ok(Arc::new(values))
    }
}
