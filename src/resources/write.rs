//! Generic `writes`: the escape hatch for endpoints without a typed section.
//! `create` writes only when the path does not read back; `overwrite` writes
//! whenever a planned field differs from what reads back, or nothing does.

use super::{
    body_of, compare, resolve_fields, Action, Change, Context, Diff, ObjectId, Request, Resource,
};
use crate::plan::model::{Fields, WriteMode};

pub struct WriteResource {
    pub id: ObjectId,
    pub path: String,
    pub mode: WriteMode,
    pub data: Fields,
}

impl Resource for WriteResource {
    fn id(&self) -> &ObjectId {
        &self.id
    }

    fn diff<'a>(&'a self, ctx: &'a Context) -> Diff<'a> {
        Box::pin(async move {
            let fields = resolve_fields(ctx, &self.data).await?;
            let current = ctx.vault.read(&self.path).await?;
            let write = || vec![Request::post(self.path.clone(), body_of(&fields))];
            match (current, self.mode) {
                (None, _) => Ok(Change {
                    action: Action::Create,
                    fields: compare::created_fields(&fields),
                    requests: write(),
                }),
                (Some(_), WriteMode::Create | WriteMode::Once) => Ok(Change::unchanged()),
                (Some(current), WriteMode::Overwrite) => {
                    let data = current.get("data").cloned().unwrap_or(current);
                    let changes = compare::diff_fields(&fields, &data);
                    if changes.is_empty() {
                        return Ok(Change::unchanged());
                    }
                    Ok(Change {
                        action: Action::Update,
                        fields: changes,
                        requests: write(),
                    })
                }
            }
        })
    }
}
