//! One module per kind of Vault object. Each implements `Resource`: read the
//! current state (and the planned values' sources), compare after
//! normalization, and say which requests would make Vault match. The engine
//! decides whether to send them.

pub mod audit;
pub mod audit_header;
pub mod checked_fields;
pub mod compare;
pub mod context;
pub mod database;
pub mod error;
pub mod field_list;
pub mod fields;
pub mod home;
pub mod identity;
mod kind;
pub mod kv;
pub mod mount;
pub mod namespace;
pub mod owned;
pub mod pki;
pub mod plugin;
pub mod policy;
pub mod token;
pub mod write;

use std::collections::BTreeMap;
use std::fmt;

use futures::future::BoxFuture;
use serde_json::Value as Json;

pub use checked_fields::CheckedFields;
pub use compare::{FieldChange, Planned};
pub use context::Context;
pub use error::{FailureClass, ObjectError};
pub use kind::{deps, Kind};

use crate::plan::model::SyncPolicy;
use crate::plan::node::Loc;
use crate::vault::Method;

/// What an object is and where it lives, in Vault and in the plan.
#[derive(Debug, Clone)]
pub struct ObjectId {
    pub kind: Kind,
    /// The Vault path the object is written at.
    pub path: String,
    /// Where the plan declares it.
    pub loc: Option<Loc>,
    /// The dependency key later objects name in `needs` (e.g. `mount:app`).
    pub provides: Option<String>,
    /// Keys of the objects this one cannot be converged without: when one of
    /// them fails, this one is skipped (and its own key counts as failed).
    pub needs: Vec<String>,
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
    /// Pruned: this instance created it and the plan no longer lists it.
    Delete,
    /// A managed token kept alive (renewed): upkeep, not drift.
    Renewed,
}

/// One request that makes part of the change. The body may hold secrets:
/// this type has no Debug on purpose.
pub struct Request {
    pub method: Method,
    pub path: String,
    pub body: Option<Json>,
    /// Sent in the token's own namespace, not the plan's `vault.namespace`
    /// (namespaces, plugins, audit devices and headers).
    pub home: bool,
}

impl Request {
    pub fn post(path: impl Into<String>, body: Json) -> Request {
        Request {
            method: Method::Post,
            path: path.into(),
            body: Some(body),
            home: false,
        }
    }

    /// The same request, sent in the token's own namespace.
    pub fn in_home(self) -> Request {
        Request { home: true, ..self }
    }

    pub fn delete(path: impl Into<String>) -> Request {
        Request {
            method: Method::Delete,
            path: path.into(),
            body: None,
            home: false,
        }
    }
}

/// The outcome of comparing one object.
pub struct Change {
    pub action: Action,
    pub fields: Vec<FieldChange>,
    /// Sent in order when applying; empty for `Unchanged`.
    pub requests: Vec<Request>,
    /// Planned fields Vault does not return, so they could not be compared
    /// (passwords, JWTs): the report says so.
    pub write_only: Vec<String>,
    /// Sent when a request after the first fails, to undo the first: an
    /// action that must happen together with the creation (`rotate_root`).
    pub rollback: Option<Request>,
    /// A `Once` record the registry keeps after the requests succeed.
    pub once: Option<String>,
    /// Sent after `requests`: work whose requests need the answers of the
    /// ones before (a CSR signed by another mount, a generated key stored in KV).
    pub steps: Option<Box<dyn Steps>>,
}

/// Requests that depend on each other's answers, so they cannot be listed
/// in advance. Returns Vault's warnings, like the fixed requests.
pub trait Steps: Send + Sync {
    fn run<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Result<Vec<String>, ObjectError>>;
}

impl Change {
    pub fn new(action: Action, fields: Vec<FieldChange>, requests: Vec<Request>) -> Change {
        Change {
            action,
            fields,
            requests,
            write_only: Vec::new(),
            rollback: None,
            once: None,
            steps: None,
        }
    }

    pub fn unchanged() -> Change {
        Change::new(Action::Unchanged, Vec::new(), Vec::new())
    }

    pub fn with_write_only(mut self, write_only: Vec<String>) -> Change {
        self.write_only = write_only;
        self
    }
}

pub type Diff<'a> = BoxFuture<'a, Result<Change, ObjectError>>;

/// read → normalized compare → the requests that would converge the object.
pub trait Resource: Send + Sync {
    fn id(&self) -> &ObjectId;
    fn diff<'a>(&'a self, ctx: &'a Context) -> Diff<'a>;
    /// The fields checked against the server's API description before any write.
    fn fields_to_check(&self) -> Option<CheckedFields<'_>> {
        None
    }
    /// A write's failure in the object's own terms, when Vault's message
    /// does not say it (a method type missing from the plugin catalog, an
    /// audit device the server only accepts from its configuration file).
    fn explain(&self, error: ObjectError) -> ObjectError {
        error
    }
    /// How the registry records this object when the run creates it, so a
    /// later run can prune it: its prune kind and the path a DELETE removes
    /// it at. `None`: never recorded, never pruned.
    fn ownership(&self) -> Option<owned::Owned> {
        None
    }
}

/// Resolves a map of planned fields (sources at any depth, auth accessors),
/// noting which ones came from sources.
pub async fn resolve_fields<'f>(
    ctx: &Context,
    fields: impl IntoIterator<Item = (&'f String, &'f Json)>,
) -> Result<BTreeMap<String, Planned>, ObjectError> {
    let mut out = BTreeMap::new();
    for (name, value) in fields {
        let mut planned = ctx.resolver.resolve(value).await?;
        ctx.replace_accessors_json(&mut planned.value).await?;
        // Source values and literal secrets (an inline password) are masked in
        // all output from now on, including Vault's error messages.
        if planned.sensitive || crate::secret::is_secret_name(name) {
            crate::secret::register_json(&planned.value);
        } else {
            crate::secret::register_secret_named(&planned.value);
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

/// The common case: read `path`, compare the planned fields, write them all
/// when any differs. Fields Vault does not return are write-only: sent with
/// any other change, and on every run with `sync: always`.
pub async fn converge_fields(
    ctx: &Context,
    path: &str,
    exists: Option<bool>,
    fields: &BTreeMap<String, Planned>,
    sync: SyncPolicy,
) -> Result<Change, ObjectError> {
    let current: Option<Json> = match exists {
        Some(false) => None,
        // Only the planned fields are compared: the rest of the answer is skipped.
        _ => {
            let planned = |name: &str| fields.contains_key(name);
            ctx.vault.read_data_fields(path, &planned).await?
        }
    };
    let write = || vec![Request::post(path, body_of(fields))];
    let Some(data) = current else {
        return Ok(Change::new(
            Action::Create,
            compare::created_fields(fields),
            write(),
        ));
    };
    let comparison = compare::compare_fields(fields, &data);
    let action = if !comparison.changes.is_empty() {
        Action::Update
    } else if sync == SyncPolicy::Always && !comparison.write_only.is_empty() {
        Action::Synced
    } else {
        return Ok(Change::unchanged().with_write_only(comparison.write_only));
    };
    Ok(Change::new(action, comparison.changes, write()).with_write_only(comparison.write_only))
}
