//! Everything the stand-in remembers, behind one mutex: the issued JWTs, the
//! secrets with their resource versions, the RBAC denials tests asked for,
//! and the log of requests served.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use super::jwt::IssuedJwt;

#[derive(Default)]
pub(super) struct State {
    pub reader_token: String,
    pub reviewer_token: String,
    /// (namespace, name) -> secret
    pub secrets: BTreeMap<(String, String), StoredSecret>,
    /// (namespace, name) forbidden to the reader
    pub forbidden: HashSet<(String, String)>,
    /// (namespace, service account) -> uid, stable per service account
    pub sa_uids: HashMap<(String, String), String>,
    /// issued JWT -> what it authenticates as
    pub jwts: HashMap<String, IssuedJwt>,
    pub revoked: HashSet<String>,
    /// The last resourceVersion handed out (one counter for every object,
    /// like etcd's revision).
    pub resource_version: u64,
    pub requests: Vec<String>,
}

pub(super) struct StoredSecret {
    pub uid: String,
    pub resource_version: u64,
    pub creation_timestamp: String,
    /// key -> base64 value, as in `Secret.data`
    pub data: BTreeMap<String, String>,
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking test thread must not take the server down with it.
    m.lock().unwrap_or_else(|e| e.into_inner())
}
