//! One builder per section of the plan: each turns its part of the plan into
//! resources, every one with its object id, the dependency keys it needs and
//! the fields the API description is asked about. Shared here: the helpers
//! that every builder uses.

mod audit;
mod auth;
mod database;
mod identity;
mod kv;
mod mounts;
mod pki;
mod policies;
mod system;
mod tokens;
mod writes;

pub(super) use audit::{audit_devices, audit_request_headers};
pub(super) use auth::auth_config_roles_users;
pub(super) use database::{database_connections, database_roles};
pub(super) use identity::{identity_aliases, identity_entities_and_groups};
pub(super) use kv::kv_fixtures;
pub(super) use mounts::mounts_and_auth_methods;
pub(super) use pki::{pki_cas, pki_intermediates, pki_roles};
pub(super) use policies::policies;
pub(super) use system::{namespaces, plugins};
pub(super) use tokens::tokens;
pub(super) use writes::writes;

use crate::plan::model::{sync_setting, Fields, SyncPolicy, SYNC_FIELD};
use std::sync::Arc;

use crate::plan::{LoadedPlan, PathKey};
use crate::resources::checked_fields::{FieldSet, FieldsAt, PlannedMount};
use crate::resources::fields::FieldsResource;
use crate::resources::{deps, Kind, ObjectId, Resource};

/// The id of an object at `at` in the plan that provides the dependency key
/// `provides` and needs `needs`.
fn object_id(
    loaded: &LoadedPlan,
    kind: Kind,
    path: String,
    at: &[&str],
    provides: String,
    needs: Vec<String>,
) -> ObjectId {
    ObjectId {
        kind,
        path,
        loc: loaded.loc(at),
        provides: Some(provides),
        needs,
    }
}

/// Where an object's fields are declared and the planned mount above them.
fn fields_at(at: &[&str], mount: Option<Arc<PlannedMount>>) -> FieldsAt {
    FieldsAt {
        at: PathKey::of(at),
        mount,
    }
}

/// Fields checked at a path of their own, declared below `at`.
fn field_set(
    path: &str,
    fields: &Fields,
    at: &[&str],
    mount: Option<Arc<PlannedMount>>,
) -> Option<FieldSet> {
    Some(FieldSet {
        path: path.to_owned(),
        names: fields.keys().map(|name| name.as_str().into()).collect(),
        place: fields_at(at, mount),
    })
}

/// An object named `name` in a LIST-able collection (auth roles and users,
/// database roles), declared at `at`, under the planned mount `mount`.
struct Listed<'a> {
    kind: Kind,
    collection: &'a str,
    name: &'a str,
    at: &'a [&'a str],
    mount: Arc<PlannedMount>,
}

impl Listed<'_> {
    /// Its `FieldsResource`: one LIST of the collection tells whether it exists.
    fn resource(
        self,
        loaded: &LoadedPlan,
        fields: Fields,
        sync: SyncPolicy,
        needs: Vec<String>,
    ) -> Box<dyn Resource> {
        let vault_path = [self.collection, "/", self.name].concat();
        Box::new(FieldsResource {
            id: object_id(
                loaded,
                self.kind,
                vault_path.clone(),
                self.at,
                deps::object(&vault_path),
                needs,
            ),
            listing: Some(self.collection.len()),
            check: Some(fields_at(self.at, Some(self.mount))),
            fields: fields.into(),
            sync,
        })
    }
}

/// A plan path without leading or trailing slashes.
fn trim(p: &str) -> String {
    p.trim_matches('/').to_owned()
}

/// Our `sync` setting split off `fields`; an invalid one (validation refuses
/// it) leaves the default and the fields as they are.
fn sync_of(fields: &Fields) -> (SyncPolicy, Fields) {
    take_sync(fields.clone())
}

/// `sync_of` for fields the caller owns: no copy.
fn take_sync(mut fields: Fields) -> (SyncPolicy, Fields) {
    match sync_setting(&fields) {
        Ok(sync) => {
            fields.remove(SYNC_FIELD);
            (sync, fields)
        }
        Err(_) => (SyncPolicy::default(), fields),
    }
}
