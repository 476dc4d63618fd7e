//! Audit request headers (`sys/config/auditing/request-headers/<name>`):
//! headers the audit log records, in the token's own namespace (the root:
//! the setting is server-wide). One read of the whole table per run; Vault
//! keys it by the header's name in lower case.

use serde_json::Value as Json;

use super::checked_fields::FieldSet;
use super::home::data_of;
use super::{
    body_of, compare, resolve_fields, Action, Change, Context, Diff, ObjectError, ObjectId,
    Request, Resource,
};
use crate::plan::model::Fields;

/// The table of every configured header.
pub const TABLE: &str = "sys/config/auditing/request-headers";

pub struct AuditHeaderResource {
    pub id: ObjectId,
    pub name: String,
    pub fields: Fields,
    pub check: Option<FieldSet>,
}

impl AuditHeaderResource {
    /// The header's settings from the table; `Ok(None)` when it is not
    /// there, `Err(..)` with the error when the table cannot be read.
    async fn current(&self, ctx: &Context) -> Result<Option<Json>, ObjectError> {
        match ctx.home_read(TABLE).await {
            Ok(table) => Ok(table.as_deref().and_then(|t| {
                data_of(t)
                    .get("headers")
                    .and_then(|h| h.get(self.name.to_lowercase()))
                    .cloned()
            })),
            // Not allowed to read the table: ask for this header alone.
            Err(e) if matches!(e.code(), Some(403)) => self.read_one(ctx).await,
            Err(e) => Err(e.into()),
        }
    }

    /// The answer nests the settings under the header's name as asked; an
    /// absent header's 400 "Could not find header" reads as absent (`Vault::read`).
    async fn read_one(&self, ctx: &Context) -> Result<Option<Json>, ObjectError> {
        let answer = ctx.home_vault().read(&self.id.path).await?;
        Ok(answer.and_then(|a| {
            data_of(&a)
                .as_object()
                .and_then(|d| d.iter().find(|(k, _)| k.eq_ignore_ascii_case(&self.name)))
                .map(|(_, v)| v.clone())
        }))
    }
}

impl Resource for AuditHeaderResource {
    fn id(&self) -> &ObjectId {
        &self.id
    }

    fn fields_to_check(&self) -> Option<super::CheckedFields<'_>> {
        self.check.as_ref().map(FieldSet::view)
    }

    fn diff<'a>(&'a self, ctx: &'a Context) -> Diff<'a> {
        Box::pin(async move {
            let fields = resolve_fields(ctx, &self.fields).await?;
            let write = || vec![Request::post(self.id.path.clone(), body_of(&fields)).in_home()];
            let Some(current) = self.current(ctx).await? else {
                let created = compare::created_fields(&fields);
                return Ok(Change::new(Action::Create, created, write()));
            };
            let comparison = compare::compare_fields(&fields, &current);
            if comparison.changes.is_empty() {
                return Ok(Change::unchanged());
            }
            Ok(Change::new(Action::Update, comparison.changes, write()))
        })
    }
}
