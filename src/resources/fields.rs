//! Objects that are a plain map of fields at one path: auth method config,
//! auth roles and users, database roles and static roles. Their fields pass through to
//! Vault and are compared after normalization.

use super::field_list::FieldList;
use super::owned::{Owned, PruneKind};
use super::{converge_fields, resolve_fields, Context, Diff, Kind, ObjectId, Resource};
use crate::engine::fields_gate::FieldSet;
use crate::plan::model::SyncPolicy;

pub struct FieldsResource {
    pub id: ObjectId,
    /// `(collection, name)` when the object lives in a LIST-able collection
    /// (`auth/k8s/role`, `database/roles`): one LIST tells which exist.
    pub listing: Option<(String, String)>,
    pub fields: FieldList,
    /// `always`: write-only fields are written on every run.
    pub sync: SyncPolicy,
    /// Checked against the server's API description before any write.
    pub check: Option<FieldSet>,
}

impl Resource for FieldsResource {
    fn id(&self) -> &ObjectId {
        &self.id
    }

    fn fields_to_check(&self) -> Option<&FieldSet> {
        self.check.as_ref()
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
            let exists = match &self.listing {
                Some((collection, name)) => ctx.listed(collection, name).await?,
                None => None,
            };
            converge_fields(ctx, &self.id.path, exists, &fields, self.sync).await
        })
    }
}
