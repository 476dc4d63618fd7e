//! ACL policies at `sys/policies/acl/<name>`, compared without insignificant whitespace.

use serde_json::{json, Value as Json};

use super::compare::{normalize_hcl, FieldChange};
use super::{Action, Change, Context, Diff, ObjectError, ObjectId, Request, Resource};
use crate::plan::model::PolicySource;
use crate::sources::resolve::SourceError;

pub const LIST_PATH: &str = "sys/policies/acl";

pub struct PolicyResource {
    pub id: ObjectId,
    pub name: String,
    pub source: PolicySource,
}

impl PolicyResource {
    fn text(&self) -> Result<String, ObjectError> {
        match &self.source {
            PolicySource::Inline(text) => Ok(text.clone()),
            PolicySource::File { file } => std::fs::read_to_string(file).map_err(|e| {
                ObjectError::Source(SourceError::File {
                    path: file.clone(),
                    reason: e.to_string(),
                })
            }),
        }
    }
}

fn summary(text: &str) -> String {
    format!(
        "{} lines",
        text.lines().filter(|l| !l.trim().is_empty()).count()
    )
}

impl Resource for PolicyResource {
    fn id(&self) -> &ObjectId {
        &self.id
    }

    fn diff<'a>(&'a self, ctx: &'a Context) -> Diff<'a> {
        Box::pin(async move {
            let text = self.text()?;
            let path = format!("{LIST_PATH}/{}", self.name);
            let current = match ctx.listed(LIST_PATH, &self.name).await? {
                Some(false) => None,
                _ => ctx.vault.read(&path).await?,
            };
            let current_text = current
                .as_ref()
                .and_then(|c| c.pointer("/data/policy"))
                .and_then(Json::as_str);
            let action = match current_text {
                Some(old) if normalize_hcl(old) == normalize_hcl(&text) => {
                    return Ok(Change::unchanged())
                }
                Some(_) => Action::Update,
                None => Action::Create,
            };
            Ok(Change {
                action,
                fields: vec![FieldChange {
                    field: "policy".into(),
                    old: current_text.map(summary),
                    new: Some(summary(&text)),
                }],
                requests: vec![Request::post(path, json!({ "policy": text }))],
            })
        })
    }
}
