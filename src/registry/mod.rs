//! The tool's own records, kept in Vault (DESIGN.md "Once", "Ownership and
//! prune"): one KV v2 secret per instance at `<mount>/data/<instance>`,
//! holding `{once: {key: {at}}, owned: "kind\tpath[\tdelete path]\n…",
//! pending: "…"}`: the `Once` actions done, the objects this instance created
//! (and how to delete each one again), and the objects a stage is about to
//! create (written before its writes, so a run killed mid-stage leaves a
//! record of every object it may have created). The mount is enabled on
//! first write; reading costs one request per run, and every update is one
//! check-and-set write. Edits are collected in memory and ride along with
//! the next write, so a run writes the registry about once per stage.

mod store;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value as Json};
use tokio::sync::Mutex;

use crate::paths;
use crate::plan::model::RegistrySettings;
use crate::resources::owned::Owned;
use crate::vault::{Vault, VaultError};

pub struct Registry {
    mount: String,
    instance: String,
    /// Loaded on first use; `None` until then.
    state: Mutex<Option<State>>,
    /// Edits made in memory and not yet written: every write carries them.
    unsaved: std::sync::Mutex<Vec<Edit>>,
}

/// One change to the ownership records.
#[derive(Debug, Clone)]
pub enum Edit {
    /// Owned by this instance (no longer pending).
    Own(String, Owned),
    /// About to be created by this instance (unless already owned).
    Pend(String, Owned),
    /// Not about to be created any more.
    Settle(String),
    /// Neither owned nor pending (deleted, or let go).
    Forget(String),
    /// A token minted for the managed token entry (entry, accessor).
    TokenMinted(String, String),
    /// A token of the entry revoked, or found gone (entry, accessor).
    TokenGone(String, String),
    /// Every token of the entry revoked (the entry was pruned).
    ForgetTokens(String),
}

impl Edit {
    fn apply(&self, state: &mut State) {
        match self {
            Edit::Own(path, owned) => {
                state.pending.remove(path);
                state.owned.insert(path.clone(), owned.clone());
            }
            Edit::Pend(path, owned) => {
                if !state.owned.contains_key(path) {
                    state.pending.insert(path.clone(), owned.clone());
                }
            }
            Edit::Settle(path) => {
                state.pending.remove(path);
            }
            Edit::Forget(path) => {
                state.owned.remove(path);
                state.pending.remove(path);
            }
            Edit::TokenMinted(entry, accessor) => {
                state
                    .tokens
                    .entry(entry.clone())
                    .or_default()
                    .insert(accessor.clone());
            }
            Edit::ForgetTokens(entry) => {
                state.tokens.remove(entry);
            }
            Edit::TokenGone(entry, accessor) => {
                if let Some(accessors) = state.tokens.get_mut(entry) {
                    accessors.remove(accessor);
                    if accessors.is_empty() {
                        state.tokens.remove(entry);
                    }
                }
            }
        }
    }
}

/// What the records say about one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Owned,
    /// A stage of an earlier run was about to create it (and may have).
    Pending,
    Unknown,
}

#[derive(Default, Clone)]
struct State {
    /// The KV version read, for check-and-set (0: the secret does not exist).
    version: u64,
    once: BTreeMap<String, Json>,
    owned: BTreeMap<String, Owned>,
    pending: BTreeMap<String, Owned>,
    /// Managed token entry → the accessors of the tokens minted for it and
    /// not revoked yet.
    tokens: BTreeMap<String, BTreeSet<String>>,
}

impl Registry {
    pub fn new(settings: &RegistrySettings) -> Registry {
        Registry {
            mount: settings.mount.trim_matches('/').to_owned(),
            instance: settings.instance.clone(),
            state: Mutex::new(None),
            unsaved: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn data_path(&self) -> String {
        paths::kv::data(&self.mount, &self.instance)
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

    /// The objects an earlier run was about to create and did not record as owned.
    pub async fn pending(&self, vault: &Vault) -> Result<BTreeMap<String, Owned>, VaultError> {
        let mut state = self.state.lock().await;
        if state.is_none() {
            *state = Some(self.read(vault).await?);
        }
        Ok(state
            .as_ref()
            .map(|s| s.pending.clone())
            .unwrap_or_default())
    }

    /// The accessors of the tokens minted for every managed token entry.
    pub async fn tokens(
        &self,
        vault: &Vault,
    ) -> Result<BTreeMap<String, BTreeSet<String>>, VaultError> {
        let mut state = self.state.lock().await;
        if state.is_none() {
            *state = Some(self.read(vault).await?);
        }
        Ok(state.as_ref().map(|s| s.tokens.clone()).unwrap_or_default())
    }

    /// What the records say about `path` (the records are read on first use).
    pub async fn standing(&self, vault: &Vault, path: &str) -> Result<Standing, VaultError> {
        let mut state = self.state.lock().await;
        if state.is_none() {
            *state = Some(self.read(vault).await?);
        }
        let state = state.as_ref();
        Ok(if state.is_some_and(|s| s.owned.contains_key(path)) {
            Standing::Owned
        } else if state.is_some_and(|s| s.pending.contains_key(path)) {
            Standing::Pending
        } else {
            Standing::Unknown
        })
    }

    /// Makes `edits` in memory; the next write carries them.
    pub async fn note(&self, edits: Vec<Edit>) {
        if edits.is_empty() {
            return;
        }
        let mut state = self.state.lock().await;
        if let Some(state) = state.as_mut() {
            for edit in &edits {
                edit.apply(state);
            }
        }
        self.unsaved_edits().extend(edits);
    }

    /// Makes `edits` and writes them with everything noted before (one
    /// write; none when there is nothing to write).
    pub async fn save(&self, vault: &Vault, edits: Vec<Edit>) -> Result<(), VaultError> {
        self.note(edits).await;
        if self.unsaved_edits().is_empty() {
            return Ok(());
        }
        self.update(vault, |_| {}).await
    }

    fn unsaved_edits(&self) -> std::sync::MutexGuard<'_, Vec<Edit>> {
        // A panic while holding it cannot leave the list half-edited.
        self.unsaved.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The paths other instances own (one LIST, then one read per instance):
    /// an object they own too is never deleted by this one.
    pub async fn owned_by_others(&self, vault: &Vault) -> Result<BTreeSet<String>, VaultError> {
        let mut paths = BTreeSet::new();
        for instance in vault.list(&format!("{}/metadata", self.mount)).await? {
            if instance == self.instance || instance.ends_with('/') {
                continue;
            }
            let other = paths::kv::data(&self.mount, &instance);
            if let Some(body) = vault.read(&other).await? {
                paths.extend(store::parse(&body).owned.into_keys());
            }
        }
        Ok(paths)
    }
}
