//! What every resource shares during one run: the Vault client, the source
//! resolver and caches that make sure nothing is read twice.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use serde_json::Value as Json;
use tokio::sync::OnceCell;

use crate::sources::resolve::Resolver;
use crate::vault::{Vault, VaultError};

type Listing = Arc<OnceCell<Option<Arc<HashSet<String>>>>>;

pub struct Context {
    pub vault: Vault,
    pub resolver: Resolver,
    mounts: OnceCell<Json>,
    auth_mounts: OnceCell<Json>,
    listings: Mutex<HashMap<String, Listing>>,
}

impl Context {
    pub fn new(vault: Vault, resolver: Resolver) -> Context {
        Context {
            vault,
            resolver,
            mounts: OnceCell::new(),
            auth_mounts: OnceCell::new(),
            listings: Mutex::new(HashMap::new()),
        }
    }

    /// The secret-engine table (`sys/mounts`), read once per run.
    pub async fn mount_table(&self) -> Result<&Json, VaultError> {
        self.mounts
            .get_or_try_init(|| table(&self.vault, "sys/mounts"))
            .await
    }

    /// The auth-method table (`sys/auth`), read once per run.
    pub async fn auth_table(&self) -> Result<&Json, VaultError> {
        self.auth_mounts
            .get_or_try_init(|| table(&self.vault, "sys/auth"))
            .await
    }

    /// Whether `name` exists under the list endpoint `dir`, from one LIST per
    /// directory per run. `None` when the LIST is not allowed: the caller
    /// then reads the object itself.
    pub async fn listed(&self, dir: &str, name: &str) -> Result<Option<bool>, VaultError> {
        let cell = {
            let mut listings = self.listings.lock().unwrap_or_else(|e| e.into_inner());
            listings.entry(dir.to_owned()).or_default().clone()
        };
        let keys = cell
            .get_or_try_init(|| async {
                match self.vault.list(dir).await {
                    Ok(keys) => Ok(Some(Arc::new(keys.into_iter().collect::<HashSet<_>>()))),
                    // Not allowed or not supported here: fall back to reading each object.
                    Err(e) if matches!(e.code(), Some(400..=499)) => Ok(None),
                    Err(e) => Err(e),
                }
            })
            .await?;
        Ok(keys.as_ref().map(|k| k.contains(name)))
    }
}

impl Context {
    /// Whether KV v2 secret `path` exists, from the listing of its top-level
    /// directory: a fixture under an absent directory is absent without a
    /// request of its own. Under a directory that exists, listing deeper would
    /// cost as much as reading the secret, so the answer is `None` (read it).
    pub async fn kv_exists(&self, mount: &str, path: &str) -> Result<Option<bool>, VaultError> {
        let dir = format!("{mount}/metadata");
        match path.split_once('/') {
            None => self.listed(&dir, path).await,
            Some((top, _)) => match self.listed(&dir, &format!("{top}/")).await? {
                Some(false) => Ok(Some(false)),
                _ => Ok(None),
            },
        }
    }
}

async fn table(vault: &Vault, path: &str) -> Result<Json, VaultError> {
    let body = vault.read(path).await?.unwrap_or(Json::Null);
    // Newer servers nest the table under `data`; older ones also repeat it at the top.
    Ok(match body.get("data") {
        Some(data) if data.is_object() => data.clone(),
        _ => body,
    })
}

/// The table entry for a mount path (`app` → `app/`).
pub fn table_entry<'a>(table: &'a Json, path: &str) -> Option<&'a Json> {
    table.get(format!("{}/", path.trim_matches('/')))
}
