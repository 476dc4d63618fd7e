//! Namespaces (`sys/namespaces/<name>`): created in the token's own
//! namespace before everything else, never changed or deleted.

use serde_json::json;

use super::compare::FieldChange;
use super::{Action, Change, Context, Diff, ObjectId, Request, Resource};

/// The collection one LIST per run reads.
pub const LIST_PATH: &str = "sys/namespaces";

pub struct NamespaceResource {
    pub id: ObjectId,
    pub name: String,
}

impl NamespaceResource {
    pub fn path(name: &str) -> String {
        format!("{LIST_PATH}/{name}")
    }
}

impl Resource for NamespaceResource {
    fn id(&self) -> &ObjectId {
        &self.id
    }

    fn diff<'a>(&'a self, ctx: &'a Context) -> Diff<'a> {
        Box::pin(async move {
            let exists = match ctx.home_list(LIST_PATH).await {
                Ok(keys) => keys.iter().any(|k| k.trim_end_matches('/') == self.name),
                // Not allowed to list: ask for this one.
                Err(e) if matches!(e.code(), Some(400..=499)) => ctx
                    .home_vault()
                    .read(&Self::path(&self.name))
                    .await?
                    .is_some(),
                Err(e) => return Err(e.into()),
            };
            if exists {
                return Ok(Change::unchanged());
            }
            let field = FieldChange {
                field: "path".into(),
                old: None,
                new: Some(format!("{}/", self.name)),
            };
            let create = Request::post(Self::path(&self.name), json!({})).in_home();
            Ok(Change::new(Action::Create, vec![field], vec![create]))
        })
    }
}
