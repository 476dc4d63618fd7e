//! One module per kind of Vault object. Each implements `Resource`: read the
//! current state (and the planned values' sources), compare after
//! normalization, and say which requests would make Vault match. The engine
//! decides whether to send them.

pub mod auth;
pub mod compare;
pub mod context;
pub mod database;
pub mod fields;
pub mod kv;
pub mod mount;
pub mod policy;
pub mod write;

use std::collections::BTreeMap;
use std::fmt;

use futures::future::BoxFuture;
use serde_json::Value as Json;

pub use compare::{FieldChange, Planned};
pub use context::Context;

use crate::plan::node::Loc;
use crate::sources::resolve::SourceError;
use crate::vault::{Method, VaultError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Mount,
    AuthMethod,
    AuthConfig,
    AuthRole,
    Policy,
    DatabaseConnection,
    DatabaseRole,
    DatabaseStaticRole,
    KvSecret,
    Write,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Mount => "mount",
            Kind::AuthMethod => "auth method",
            Kind::AuthConfig => "auth config",
            Kind::AuthRole => "auth role",
            Kind::Policy => "policy",
            Kind::DatabaseConnection => "database connection",
            Kind::DatabaseRole => "database role",
            Kind::DatabaseStaticRole => "database static role",
            Kind::KvSecret => "kv secret",
            Kind::Write => "write",
        }
    }
}

/// What an object is and where it lives, in Vault and in the plan.
#[derive(Debug, Clone)]
pub struct ObjectId {
    pub kind: Kind,
    /// The Vault path the object is written at.
    pub path: String,
    /// Where the plan declares it.
    pub loc: Option<Loc>,
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind.label(), self.path)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    /// Written every run by design (`sync: always`), not drift.
    Synced,
    Unchanged,
    Failed,
    /// Not attempted because an earlier stage failed.
    Skipped,
}

/// One request that makes part of the change. The body may hold secrets:
/// this type has no Debug on purpose.
pub struct Request {
    pub method: Method,
    pub path: String,
    pub body: Option<Json>,
}

impl Request {
    pub fn post(path: impl Into<String>, body: Json) -> Request {
        Request {
            method: Method::Post,
            path: path.into(),
            body: Some(body),
        }
    }
}

/// The outcome of comparing one object.
pub struct Change {
    pub action: Action,
    pub fields: Vec<FieldChange>,
    /// Sent in order when applying; empty for `Unchanged`.
    pub requests: Vec<Request>,
}

impl Change {
    pub fn unchanged() -> Change {
        Change {
            action: Action::Unchanged,
            fields: Vec::new(),
            requests: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error("{0}")]
    Source(#[from] SourceError),
    /// Vault holds something the tool will not change without being asked
    /// (a mount of another type): never silently destructive.
    #[error("{0}")]
    Conflict(String),
}

impl ObjectError {
    pub fn hint(&self) -> &'static str {
        match self {
            ObjectError::Vault(e) => e.hint(),
            ObjectError::Source(_) => {
                "nothing was written for this object; fix the source and rerun"
            }
            ObjectError::Conflict(_) => "change the plan or fix the object in Vault by hand",
        }
    }
}

pub type Diff<'a> = BoxFuture<'a, Result<Change, ObjectError>>;

/// read → normalized compare → the requests that would converge the object.
pub trait Resource: Send + Sync {
    fn id(&self) -> &ObjectId;
    fn diff<'a>(&'a self, ctx: &'a Context) -> Diff<'a>;
}

/// Resolves a map of planned fields, noting which ones came from sources.
pub async fn resolve_fields(
    ctx: &Context,
    fields: &BTreeMap<String, Json>,
) -> Result<BTreeMap<String, Planned>, SourceError> {
    let mut out = BTreeMap::new();
    for (name, value) in fields {
        let planned = ctx.resolver.resolve(value).await?;
        // Source values and literal secrets (an inline password) are masked in
        // all output from now on, including Vault's error messages.
        if planned.sensitive || crate::secret::is_secret_name(name) {
            crate::secret::register_json(&planned.value);
        }
        out.insert(name.clone(), planned);
    }
    Ok(out)
}

/// The JSON body for a write of resolved fields.
pub fn body_of(fields: &BTreeMap<String, Planned>) -> Json {
    Json::Object(
        fields
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect(),
    )
}

/// The common case: read `path`, compare the planned fields, write them all when any differs.
pub async fn converge_fields(
    ctx: &Context,
    path: &str,
    exists: Option<bool>,
    fields: &BTreeMap<String, Planned>,
) -> Result<Change, ObjectError> {
    let current = match exists {
        Some(false) => None,
        _ => ctx.vault.read(path).await?,
    };
    let Some(current) = current else {
        return Ok(Change {
            action: Action::Create,
            fields: compare::created_fields(fields),
            requests: vec![Request::post(path, body_of(fields))],
        });
    };
    let data = current.get("data").cloned().unwrap_or(Json::Null);
    let changes = compare::diff_fields(fields, &data);
    if changes.is_empty() {
        return Ok(Change::unchanged());
    }
    Ok(Change {
        action: Action::Update,
        fields: changes,
        requests: vec![Request::post(path, body_of(fields))],
    })
}
