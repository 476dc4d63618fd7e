//! Auth method configuration (`auth/<path>/config`) and roles
//! (`auth/<path>/role/<name>`, `auth/<path>/users/<name>` for userpass).
//! Role fields pass through to Vault and are compared after normalization.

use super::{converge_fields, resolve_fields, Context, Diff, ObjectId, Resource};
use crate::plan::model::Fields;

pub struct AuthConfigResource {
    pub id: ObjectId,
    pub fields: Fields,
}

impl Resource for AuthConfigResource {
    fn id(&self) -> &ObjectId {
        &self.id
    }

    fn diff<'a>(&'a self, ctx: &'a Context) -> Diff<'a> {
        Box::pin(async move {
            let fields = resolve_fields(ctx, &self.fields).await?;
            converge_fields(ctx, &self.id.path, None, &fields).await
        })
    }
}

/// The collection roles live in: userpass calls them users.
pub fn role_collection(method_type: &str) -> &'static str {
    match method_type {
        "userpass" => "users",
        _ => "role",
    }
}

pub struct AuthRoleResource {
    pub id: ObjectId,
    /// `auth/<path>/role`: listed once to learn which roles exist.
    pub collection: String,
    pub name: String,
    pub fields: Fields,
}

impl Resource for AuthRoleResource {
    fn id(&self) -> &ObjectId {
        &self.id
    }

    fn diff<'a>(&'a self, ctx: &'a Context) -> Diff<'a> {
        Box::pin(async move {
            let fields = resolve_fields(ctx, &self.fields).await?;
            let exists = ctx.listed(&self.collection, &self.name).await?;
            converge_fields(ctx, &self.id.path, exists, &fields).await
        })
    }
}
