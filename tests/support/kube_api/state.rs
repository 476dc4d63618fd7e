//! Everything the stand-in remembers, behind one mutex: the issued JWTs, the
//! secrets with their resource versions, the RBAC denials and concurrent
//! writers tests asked for, and the log of requests served.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use super::encoding::{base64_decode, base64_encode, now_secs, rfc3339, uuid_v4};
use super::external_secrets::StoredExternalSecret;
use super::jwt::IssuedJwt;

/// (namespace, name) of a secret.
pub(super) type SecretKey = (String, String);

pub(super) fn secret_key(namespace: &str, name: &str) -> SecretKey {
    (namespace.to_string(), name.to_string())
}

#[derive(Default)]
pub(super) struct State {
    pub reader_token: String,
    pub reviewer_token: String,
    pub secrets: BTreeMap<SecretKey, StoredSecret>,
    /// Secrets the reader may not get, create or update.
    pub forbidden: HashSet<SecretKey>,
    /// Secrets the reader may get but not create or update.
    pub write_forbidden: HashSet<SecretKey>,
    /// Plain-text key/values another writer sets on a secret right after
    /// the next GET of it is answered 200.
    pub change_after_get: HashMap<SecretKey, Vec<(String, String)>>,
    /// POST/PUT requests answered 2xx, per secret.
    pub writes: HashMap<SecretKey, usize>,
    /// (namespace, service account) -> uid, stable per service account
    pub sa_uids: HashMap<(String, String), String>,
    /// issued JWT -> what it authenticates as
    pub jwts: HashMap<String, IssuedJwt>,
    pub revoked: HashSet<String>,
    /// The last resourceVersion handed out: one counter for every object,
    /// like etcd's revision.
    pub resource_version: u64,
    pub requests: Vec<String>,
    /// ExternalSecret custom resources, by (namespace, name).
    pub external_secrets: BTreeMap<SecretKey, StoredExternalSecret>,
    /// The external-secrets.io versions served (`v1` from the start).
    pub external_secret_versions: Vec<String>,
}

#[derive(Clone, PartialEq)]
pub(super) struct StoredSecret {
    pub uid: String,
    pub resource_version: u64,
    pub creation_timestamp: String,
    /// key -> base64 value, as in `Secret.data`
    pub data: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

impl StoredSecret {
    /// A secret created now, with a fresh uid and this resourceVersion.
    pub fn new(resource_version: u64) -> StoredSecret {
        StoredSecret {
            uid: uuid_v4(),
            resource_version,
            creation_timestamp: rfc3339(now_secs()),
            data: BTreeMap::new(),
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
        }
    }

    /// `data` with every value base64-decoded; panics on non-UTF-8 values.
    pub fn decoded_data(&self) -> BTreeMap<String, String> {
        self.data
            .iter()
            .map(|(k, v)| {
                let bytes = base64_decode(v).expect("stored base64");
                (k.clone(), String::from_utf8(bytes).expect("utf-8 secret"))
            })
            .collect()
    }
}

impl State {
    /// Hand out the next resourceVersion.
    pub fn next_resource_version(&mut self) -> u64 {
        self.resource_version += 1;
        self.resource_version
    }

    /// Set these plain-text values on `key` (creating it if needed) and bump
    /// its resourceVersion; with `replace`, the old data goes first. Labels,
    /// annotations, uid and creationTimestamp stay.
    pub fn write_values(&mut self, key: &SecretKey, values: &[(String, String)], replace: bool) {
        let rv = self.next_resource_version();
        let secret = self
            .secrets
            .entry(key.clone())
            .or_insert_with(|| StoredSecret::new(rv));
        secret.resource_version = rv;
        if replace {
            secret.data.clear();
        }
        for (k, v) in values {
            secret.data.insert(k.clone(), base64_encode(v.as_bytes()));
        }
    }

    /// What another writer does right after a GET of `key` was answered:
    /// the changes queued by `KubeApi::change_after_next_get`, if any.
    pub fn after_get(&mut self, key: &SecretKey) {
        if let Some(values) = self.change_after_get.remove(key) {
            self.write_values(key, &values, false);
        }
    }

    pub fn count_write(&mut self, key: &SecretKey) {
        *self.writes.entry(key.clone()).or_default() += 1;
    }
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking test thread must not take the server down with it.
    m.lock().unwrap_or_else(|e| e.into_inner())
}
