//! Generic `writes`: the escape hatch for endpoints without a typed section.
//! `create` writes only when the path does not read back; `overwrite` writes
//! whenever a planned field differs from what reads back (or nothing does);
//! `once` writes once and keeps a record in the registry, never reading the
//! path. Paths that cannot be read (write-only endpoints answer 405) are
//! written on every run with `overwrite`, and are an error with `create`.

use super::checked_fields::FieldSet;
use super::{
    body_of, compare, resolve_fields, Action, Change, Context, Diff, ObjectError, ObjectId,
    Request, Resource,
};
use crate::plan::model::{Fields, SyncPolicy, WriteMode};
use crate::vault::VaultError;

pub struct WriteResource {
    pub id: ObjectId,
    pub path: String,
    pub mode: WriteMode,
    pub sync: SyncPolicy,
    pub data: Fields,
    /// Checked against the server's API description before any write.
    pub check: Option<FieldSet>,
}

/// The `Once` record of a write.
pub fn once_key(path: &str) -> String {
    format!("write:{path}")
}

/// A read that the endpoint does not support: the path is write-only.
fn unreadable(error: &VaultError) -> bool {
    matches!(error.code(), Some(405))
        || matches!(error, VaultError::Status { code: 400, message, .. } if message.contains("unsupported operation"))
}

impl Resource for WriteResource {
    fn id(&self) -> &ObjectId {
        &self.id
    }

    fn fields_to_check(&self) -> Option<super::CheckedFields<'_>> {
        self.check.as_ref().map(FieldSet::view)
    }

    fn diff<'a>(&'a self, ctx: &'a Context) -> Diff<'a> {
        Box::pin(async move {
            let fields = resolve_fields(ctx, &self.data).await?;
            let write = || vec![Request::post(self.path.clone(), body_of(&fields))];
            if self.mode == WriteMode::Once {
                let key = once_key(&self.path);
                if ctx.registry.has_once(&ctx.vault, &key).await? {
                    return Ok(Change::unchanged());
                }
                let mut change =
                    Change::new(Action::Create, compare::created_fields(&fields), write());
                change.once = Some(key);
                return Ok(change);
            }
            let current = match ctx.vault.read(&self.path).await {
                Ok(current) => current,
                Err(e) if unreadable(&e) => {
                    return match self.mode {
                        WriteMode::Overwrite => Ok(Change::new(Action::Synced, Vec::new(), write())
                            .with_write_only(fields.keys().cloned().collect())),
                        _ => Err(ObjectError::Invalid(format!(
                            "{} cannot be read back ({e}), so `mode: create` cannot tell whether it \
                             was written; use `mode: once` (written once, recorded in the registry), \
                             `mode: overwrite` (written every run) or a typed section",
                            self.path
                        ))),
                    };
                }
                Err(e) => return Err(e.into()),
            };
            let Some(current) = current else {
                return Ok(Change::new(
                    Action::Create,
                    compare::created_fields(&fields),
                    write(),
                ));
            };
            if self.mode == WriteMode::Create {
                return Ok(Change::unchanged());
            }
            let data = current.get("data").cloned().unwrap_or(current);
            let comparison = compare::compare_fields(&fields, &data);
            let action = if !comparison.changes.is_empty() {
                Action::Update
            } else if self.sync == SyncPolicy::Always && !comparison.write_only.is_empty() {
                Action::Synced
            } else {
                return Ok(Change::unchanged().with_write_only(comparison.write_only));
            };
            Ok(Change::new(action, comparison.changes, write())
                .with_write_only(comparison.write_only))
        })
    }
}
