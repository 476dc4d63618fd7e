//! The tool's own records, kept in Vault (DESIGN.md "Once", "Ownership"):
//! one KV v2 secret per instance at `<mount>/data/<instance>`. It holds the
//! `Once` records: actions that must happen exactly once (`rotate_root`
//! after a connection is created, `writes` with `mode: once`). The mount is
//! enabled on first use; reading costs one request per run.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value as Json};
use tokio::sync::Mutex;

use crate::plan::model::RegistrySettings;
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
    /// Whether the registry mount exists.
    mount_exists: bool,
    once: BTreeMap<String, Json>,
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

    async fn read(&self, vault: &Vault) -> Result<State, VaultError> {
        let table = vault.read("sys/mounts").await?.unwrap_or(Json::Null);
        let table = table
            .get("data")
            .filter(|d| d.is_object())
            .unwrap_or(&table);
        if table.get(format!("{}/", self.mount)).is_none() {
            return Ok(State::default());
        }
        let Some(body) = vault.read(&self.data_path()).await? else {
            return Ok(State {
                mount_exists: true,
                ..State::default()
            });
        };
        let version = body
            .pointer("/data/metadata/version")
            .and_then(Json::as_u64)
            .unwrap_or(0);
        let once = body
            .pointer("/data/data/once")
            .and_then(Json::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        Ok(State {
            version,
            mount_exists: true,
            once,
        })
    }

    /// Whether the `Once` action `key` has been recorded.
    pub async fn has_once(&self, vault: &Vault, key: &str) -> Result<bool, VaultError> {
        let mut state = self.state.lock().await;
        if state.is_none() {
            *state = Some(self.read(vault).await?);
        }
        Ok(state.as_ref().is_some_and(|s| s.once.contains_key(key)))
    }

    /// Records the `Once` action `key`, with check-and-set: a concurrent run's
    /// records are read again and kept.
    pub async fn record_once(&self, vault: &Vault, key: &str) -> Result<(), VaultError> {
        let mut guard = self.state.lock().await;
        let mut state = match guard.take() {
            Some(state) => state,
            None => self.read(vault).await?,
        };
        let at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        for attempt in 0..3 {
            if !state.mount_exists {
                self.enable_mount(vault).await?;
                state.mount_exists = true;
            }
            state.once.insert(key.to_owned(), json!({ "at": at }));
            let once: Map<String, Json> = state.once.clone().into_iter().collect();
            let body = json!({ "options": { "cas": state.version }, "data": { "once": once } });
            match vault.write(&self.data_path(), &body).await {
                Ok(answer) => {
                    state.version = answer
                        .pointer("/data/version")
                        .and_then(Json::as_u64)
                        .unwrap_or(state.version + 1);
                    *guard = Some(state);
                    return Ok(());
                }
                Err(VaultError::Status {
                    code: 400,
                    ref message,
                    ..
                }) if message.contains("check-and-set") && attempt < 2 => {
                    // Another run recorded something meanwhile: merge with it.
                    let fresh = self.read(vault).await?;
                    let mine = std::mem::take(&mut state.once);
                    state = fresh;
                    for (k, v) in mine {
                        state.once.entry(k).or_insert(v);
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Err(VaultError::Status {
            method: "POST",
            path: self.data_path(),
            code: 400,
            message: "the registry kept changing while being written (check-and-set)".into(),
        })
    }

    async fn enable_mount(&self, vault: &Vault) -> Result<(), VaultError> {
        let body = json!({
            "type": "kv",
            "options": { "version": "2" },
            "description": "vault-converge records (Once actions, ownership)",
        });
        match vault
            .write(&format!("sys/mounts/{}", self.mount), &body)
            .await
        {
            Ok(_) => Ok(()),
            // A concurrent run enabled it first.
            Err(VaultError::Status {
                code: 400,
                ref message,
                ..
            }) if message.contains("already in use") => Ok(()),
            Err(e) => Err(e),
        }
    }
}
