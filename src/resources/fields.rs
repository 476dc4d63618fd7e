//! Objects that are a plain map of fields at one path: auth method config,
//! auth roles and users, database roles and static roles. Their fields pass through to
//! Vault and are compared after normalization.

use super::checked_fields::{CheckedFields, FieldsAt};
use super::field_list::FieldList;
use super::owned::{Owned, PruneKind};
use super::{converge_fields, resolve_fields, Context, Diff, Kind, ObjectId, Resource};
use crate::plan::model::SyncPolicy;

pub struct FieldsResource {
    pub id: ObjectId,
    /// When the object lives in a LIST-able collection (`auth/k8s/role`,
    /// `database/roles`), the length of the collection's part of its path
    /// (`collection/name`): one LIST tells which exist.
    pub listing: Option<usize>,
    pub fields: FieldList,
    /// `always`: write-only fields are written on every run.
    pub sync: SyncPolicy,
    /// Checked against the server's API description before any write: the
    /// names are those of `fields`, written at the object's path.
    pub check: Option<FieldsAt>,
}

impl Resource for FieldsResource {
    fn id(&self) -> &ObjectId {
        &self.id
    }

    fn fields_to_check(&self) -> Option<CheckedFields<'_>> {
        self.check.as_ref().map(|place| CheckedFields {
            path: &self.id.path,
            names: self.fields.iter().map(|(name, _)| name.as_str()).collect(),
            place,
        })
    }

    fn ownership(&self) -> Option<Owned> {
        let kind = match self.id.kind {
            Kind::AuthRole => PruneKind::AuthRoles,
            Kind::AuthPath => PruneKind::AuthPaths,
            Kind::DatabaseRole => PruneKind::DatabaseRoles,
            Kind::DatabaseStaticRole => PruneKind::DatabaseStaticRoles,
            Kind::PkiRole => PruneKind::PkiRoles,
            // Config and other settings belong to their parent.
            _ => return None,
        };
        Some(Owned::new(kind, self.id.path.clone()))
    }

    fn diff<'a>(&'a self, ctx: &'a Context) -> Diff<'a> {
        Box::pin(async move {
            let fields = resolve_fields(ctx, &self.fields).await?;
            let exists = match self.listing.and_then(|n| self.id.path.split_at_checked(n)) {
                Some((collection, rest)) => {
                    let name = rest.strip_prefix('/').unwrap_or(rest);
                    ctx.listed(collection, name).await?
                }
                None => None,
            };
            converge_fields(ctx, &self.id.path, exists, &fields, self.sync).await
        })
    }
}
