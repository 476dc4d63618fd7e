//! Where managed tokens are kept for their users (DESIGN.md `tokens:`): a
//! Kubernetes Secret key, written with the `resourceVersion` it was read at
//! so a concurrent writer is never overwritten, or a file, written
//! atomically with mode 0600. Knows nothing of Vault.

mod file;
mod kube_secret;

use crate::plan::model::TokenStore;
use crate::secret::Secret;
use crate::sources::kubernetes::KubeSecrets;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Kube(#[from] crate::sources::kubernetes::KubeError),
    #[error("{place} changed while this run replaced the token (another writer updated it after it was read); nothing was overwritten: rerun")]
    Conflict { place: String },
    #[error("writing {place} is forbidden ({message}); grant `{verb}` on it (`vault-converge rbac` prints the Role)")]
    Forbidden {
        place: String,
        verb: &'static str,
        message: String,
    },
    #[error("cannot {doing} {place}: {reason}")]
    Failed {
        doing: &'static str,
        place: String,
        reason: String,
    },
}

/// The stored token, and what it takes to replace it without a lost update.
pub struct Loaded {
    pub value: Option<Secret>,
    /// The Secret as read (`None`: it does not exist).
    kube: Option<k8s_openapi::api::core::v1::Secret>,
}

/// Where the token of `store` lives, for messages.
pub fn place(store: &TokenStore) -> String {
    match (&store.secret_ref, &store.path) {
        (Some(r), _) => format!("Kubernetes Secret {}/{} key {}", r.namespace, r.name, r.key),
        (None, Some(path)) => format!("file {path}"),
        (None, None) => "nowhere".into(),
    }
}

/// Reads the stored token (`None` when the Secret, its key or the file is missing).
pub async fn load(kube: &KubeSecrets, store: &TokenStore) -> Result<Loaded, StoreError> {
    match (&store.secret_ref, &store.path) {
        (Some(reference), _) => kube_secret::load(kube, reference).await,
        (None, Some(path)) => Ok(Loaded {
            value: file::load(path)?,
            kube: None,
        }),
        (None, None) => Ok(Loaded {
            value: None,
            kube: None,
        }),
    }
}

/// Replaces the stored token by `value`, only if the store is as `loaded` found it.
pub async fn save(
    kube: &KubeSecrets,
    store: &TokenStore,
    loaded: &Loaded,
    value: &Secret,
) -> Result<(), StoreError> {
    match (&store.secret_ref, &store.path) {
        (Some(reference), _) => {
            kube_secret::save(kube, reference, loaded.kube.as_ref(), value).await
        }
        (None, Some(path)) => file::save(path, value),
        (None, None) => Ok(()),
    }
}
