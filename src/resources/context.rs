//! What every resource shares during one run: the Vault client, the source
//! resolver and caches that make sure nothing is read twice.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use serde_json::Value as Json;
use tokio::sync::OnceCell;

use super::ObjectError;
use crate::registry::Registry;
use crate::sources::resolve::Resolver;
use crate::vault::{Vault, VaultError};

const ACCESSOR_REF: &str = "${accessor:";

type Listing = Arc<OnceCell<Option<Arc<HashSet<String>>>>>;
/// A mount table, read at most once; `stale` after the mounts stage wrote,
/// so readers that need the new mounts (accessors) read it again.
#[derive(Default)]
struct Table {
    cell: Arc<OnceCell<Arc<Json>>>,
    stale: bool,
}

pub struct Context {
    pub vault: Vault,
    pub resolver: Resolver,
    pub registry: Registry,
    mounts: Mutex<Table>,
    auth_mounts: Mutex<Table>,
    listings: Mutex<HashMap<String, Listing>>,
    plugin_catalog: OnceCell<Option<Arc<Json>>>,
    /// Identity entities and groups read during the run.
    pub identity: super::identity::Cache,
    /// `plan`: objects under auth methods the run would create have no
    /// accessor yet, and show a placeholder instead.
    pub planning: bool,
    /// The token's own namespace, when the plan's `vault.namespace` differs.
    pub home: super::home::Home,
    /// Whether this run records what it creates, and what it prunes.
    pub ownership: super::owned::Ownership,
}

impl Context {
    pub fn new(vault: Vault, resolver: Resolver, registry: Registry) -> Context {
        Context {
            vault,
            resolver,
            registry,
            mounts: Mutex::default(),
            auth_mounts: Mutex::default(),
            listings: Mutex::new(HashMap::new()),
            plugin_catalog: OnceCell::new(),
            identity: super::identity::Cache::default(),
            planning: false,
            home: Default::default(),
            ownership: super::owned::Ownership::default(),
        }
    }

    /// Replaces `${accessor:auth/PATH}` in `text` by that auth method's accessor.
    pub async fn replace_accessors(&self, text: &str) -> Result<String, ObjectError> {
        if !text.contains(ACCESSOR_REF) {
            return Ok(text.to_owned());
        }
        let table = self.fresh_auth_table().await?;
        let planning = self.planning;
        crate::plan::interpolate::replace_accessors(text, |path| {
            let mount = path.trim_matches('/');
            let mount = mount.strip_prefix("auth/").unwrap_or(mount);
            table_entry(&table, mount)
                .and_then(|e| e.get("accessor"))
                .and_then(Json::as_str)
                .map(str::to_owned)
                .or_else(|| planning.then(|| format!("<accessor of auth/{mount}, known after apply>")))
        })
        .map_err(|path| {
            ObjectError::Invalid(format!(
                "`${{accessor:{path}}}` names an auth method that does not exist; enable it under `auth:` or fix the path"
            ))
        })
    }

    /// `replace_accessors` on every string inside `value`.
    pub async fn replace_accessors_json(&self, value: &mut Json) -> Result<(), ObjectError> {
        let mut stack = vec![value];
        while let Some(node) = stack.pop() {
            match node {
                Json::String(s) if s.contains(ACCESSOR_REF) => {
                    *s = self.replace_accessors(s).await?
                }
                Json::Array(items) => stack.extend(items.iter_mut()),
                Json::Object(map) => stack.extend(map.values_mut()),
                _ => {}
            }
        }
        Ok(())
    }

    /// The secret-engine table (`sys/mounts`), read once per run. Mounts
    /// the run itself enabled may be missing from it: their planned settings stand in.
    pub async fn mount_table(&self) -> Result<Arc<Json>, VaultError> {
        cached_table(&self.mounts, &self.vault, "sys/mounts", false).await
    }

    /// The auth-method table (`sys/auth`), read once per run.
    pub async fn auth_table(&self) -> Result<Arc<Json>, VaultError> {
        cached_table(&self.auth_mounts, &self.vault, "sys/auth", false).await
    }

    /// `mount_table`, read again if the run changed mounts since.
    pub async fn fresh_mount_table(&self) -> Result<Arc<Json>, VaultError> {
        cached_table(&self.mounts, &self.vault, "sys/mounts", true).await
    }

    /// `auth_table`, read again if the run changed auth methods since.
    pub async fn fresh_auth_table(&self) -> Result<Arc<Json>, VaultError> {
        cached_table(&self.auth_mounts, &self.vault, "sys/auth", true).await
    }

    /// Forgets every cached table and listing: after a lost create race,
    /// existence is never concluded from what was read before it.
    pub fn forget_cached_state(&self) {
        for table in [&self.mounts, &self.auth_mounts] {
            *table.lock().unwrap_or_else(|e| e.into_inner()) = Table::default();
        }
        self.listings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.identity.forget();
        self.home.forget();
    }

    /// Marks the mount tables stale after the mounts stage wrote: readers
    /// that need new mounts (accessors, the fields check) read them again.
    pub fn forget_tables(&self) {
        for table in [&self.mounts, &self.auth_mounts] {
            table.lock().unwrap_or_else(|e| e.into_inner()).stale = true;
        }
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
    /// The plugin catalog (`sys/plugins/catalog`: names by type), read at
    /// most once; `None` when the token may not read it.
    pub async fn plugin_catalog(&self) -> Option<Arc<Json>> {
        self.plugin_catalog
            .get_or_init(|| async {
                let answer = self
                    .vault
                    .request_uncounted(crate::vault::Method::Get, super::plugin::CATALOG, None)
                    .await
                    .ok()?;
                answer.body.get("data").cloned().map(Arc::new)
            })
            .await
            .clone()
    }

    /// Whether KV secret `path` exists, from the listing of its top-level
    /// directory (`dir`: `<mount>/metadata` on v2, `<mount>` on v1): a
    /// fixture under an absent directory is absent without a request of its
    /// own. Under a directory that exists, listing deeper would cost as much
    /// as reading the secret, so the answer is `None` (read it).
    pub async fn kv_exists(&self, dir: &str, path: &str) -> Result<Option<bool>, VaultError> {
        match path.split_once('/') {
            None => self.listed(dir, path).await,
            Some((top, _)) => match self.listed(dir, &format!("{top}/")).await? {
                Some(false) => Ok(Some(false)),
                _ => Ok(None),
            },
        }
    }
}

async fn cached_table(
    cached: &Mutex<Table>,
    vault: &Vault,
    path: &str,
    fresh: bool,
) -> Result<Arc<Json>, VaultError> {
    let cell = {
        let mut cached = cached.lock().unwrap_or_else(|e| e.into_inner());
        if fresh && cached.stale {
            *cached = Table::default();
        }
        cached.cell.clone()
    };
    cell.get_or_try_init(|| async { table(vault, path).await.map(Arc::new) })
        .await
        .cloned()
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
    table.get([path.trim_matches('/'), "/"].concat())
}
