//! The tool's own records, kept in Vault (DESIGN.md "Once", "Ownership and
//! prune"): one KV v2 secret per instance at `<mount>/data/<instance>`,
//! holding `{once: {key: {at}}, owned: "kind\tpath[\tdelete path]\n…"}`:
//! the `Once` actions done, and the objects this instance created (and how
//! to delete each one again). The mount is enabled on first write; reading costs one
//! request per run, and every update is one check-and-set write.

mod store;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value as Json};
use tokio::sync::Mutex;

use crate::plan::model::RegistrySettings;
use crate::resources::owned::Owned;
use crate::vault::{Vault, VaultError};

pub struct Registry {
    mount: String,
    instance: String,
    /// Loaded on first use; `None` until then.
    state: Mutex<Option<State>>,
}

#[derive(Default, Clone)]
struct State {
    /// The KV version read, for check-and-set (0: the secret does not exist).
    version: u64,
    once: BTreeMap<String, Json>,
    owned: BTreeMap<String, Owned>,
}

impl Registry {
    pub fn new(settings: &RegistrySettings) -> Registry {
        Registry {
            mount: settings.mount.trim_matches('/').to_owned(),
            instance: settings.instance.clone(),
            state: Mutex::new(None),
        }
    }

    fn data_path(&self) -> String {
        format!("{}/data/{}", self.mount, self.instance)
    }

    /// Where the records live, for messages.
    pub fn location(&self) -> String {
        self.data_path()
    }

    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Whether the `Once` action `key` has been recorded.
    pub async fn has_once(&self, vault: &Vault, key: &str) -> Result<bool, VaultError> {
        let mut state = self.state.lock().await;
        if state.is_none() {
            *state = Some(self.read(vault).await?);
        }
        Ok(state.as_ref().is_some_and(|s| s.once.contains_key(key)))
    }

    /// The objects this instance owns, keyed by the path the plan writes them at.
    pub async fn owned(&self, vault: &Vault) -> Result<BTreeMap<String, Owned>, VaultError> {
        let mut state = self.state.lock().await;
        if state.is_none() {
            *state = Some(self.read(vault).await?);
        }
        Ok(state.as_ref().map(|s| s.owned.clone()).unwrap_or_default())
    }

    /// Records the `Once` action `key`.
    pub async fn record_once(&self, vault: &Vault, key: &str) -> Result<(), VaultError> {
        let at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        self.update(vault, |s| {
            s.once.insert(key.to_owned(), json!({ "at": at }));
        })
        .await
    }

    /// Records `objects` as created by this instance (one write).
    pub async fn record_owned(
        &self,
        vault: &Vault,
        objects: &[(String, Owned)],
    ) -> Result<(), VaultError> {
        if objects.is_empty() {
            return Ok(());
        }
        self.update(vault, |s| {
            for (path, owned) in objects {
                s.owned.insert(path.clone(), owned.clone());
            }
        })
        .await
    }

    /// Forgets `paths` (deleted, or left to another instance that owns them too).
    pub async fn forget_owned(&self, vault: &Vault, paths: &[String]) -> Result<(), VaultError> {
        if paths.is_empty() {
            return Ok(());
        }
        self.update(vault, |s| {
            for path in paths {
                s.owned.remove(path);
            }
        })
        .await
    }

    /// The paths other instances own (one LIST, then one read per instance):
    /// an object they own too is never deleted by this one.
    pub async fn owned_by_others(&self, vault: &Vault) -> Result<BTreeSet<String>, VaultError> {
        let mut paths = BTreeSet::new();
        for instance in vault.list(&format!("{}/metadata", self.mount)).await? {
            if instance == self.instance || instance.ends_with('/') {
                continue;
            }
            let other = format!("{}/data/{instance}", self.mount);
            if let Some(body) = vault.read(&other).await? {
                paths.extend(store::parse(&body).owned.into_keys());
            }
        }
        Ok(paths)
    }
}
