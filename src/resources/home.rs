//! The token's own namespace (`VAULT_NAMESPACE`, or the root): where
//! `namespaces:` are created and where the server-wide objects live (plugin
//! catalog, audit devices and request headers), whatever namespace the
//! plan's `vault.namespace` converges. Its tables are read once per run.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value as Json;
use tokio::sync::OnceCell;

use super::{Context, Kind};
use crate::vault::{Vault, VaultError};

type Cached = Arc<OnceCell<Option<Arc<Json>>>>;

#[derive(Default)]
pub struct Home {
    /// `None`: the plan sets no `vault.namespace`, so home is where the run converges.
    pub client: Option<Vault>,
    /// The dependency key of the plan's namespace when this run creates it
    /// (listed under `namespaces:` and absent): nothing in it can be read or
    /// checked before the namespaces stage, and nothing in it runs when that fails.
    pub pending: Option<String>,
    reads: Mutex<HashMap<String, Cached>>,
}

impl Home {
    /// Forgets every cached answer (after a lost create race).
    pub fn forget(&self) {
        self.reads.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// Kinds that live in the token's own namespace, not the plan's.
pub fn in_home(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Plugin | Kind::Namespace | Kind::AuditDevice | Kind::AuditHeader
    )
}

impl Context {
    /// The client for the token's own namespace.
    pub fn home_vault(&self) -> &Vault {
        self.home.client.as_ref().unwrap_or(&self.vault)
    }

    /// GET `path` in the token's namespace, once per run; `None` on 404.
    pub async fn home_read(&self, path: &str) -> Result<Option<Arc<Json>>, VaultError> {
        let cell = self.home_cell(format!("GET {path}"));
        cell.get_or_try_init(|| async { Ok(self.home_vault().read(path).await?.map(Arc::new)) })
            .await
            .cloned()
    }

    /// LIST `path` in the token's namespace, once per run: the keys (empty on 404).
    pub async fn home_list(&self, path: &str) -> Result<Vec<String>, VaultError> {
        let cell = self.home_cell(format!("LIST {path}"));
        let keys = cell
            .get_or_try_init(|| async {
                let keys = self.home_vault().list(path).await?;
                Ok(Some(Arc::new(Json::from(keys))))
            })
            .await?;
        Ok(keys
            .as_deref()
            .and_then(Json::as_array)
            .map(|keys| {
                keys.iter()
                    .filter_map(|k| k.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }

    fn home_cell(&self, key: String) -> Cached {
        let mut reads = self.home.reads.lock().unwrap_or_else(|e| e.into_inner());
        reads.entry(key).or_default().clone()
    }
}

/// The data of an answer: newer servers nest it under `data`, older ones
/// also repeat it at the top.
pub fn data_of(answer: &Json) -> &Json {
    match answer.get("data") {
        Some(data) if data.is_object() => data,
        _ => answer,
    }
}
