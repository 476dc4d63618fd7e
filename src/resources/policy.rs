//! ACL policies (`sys/policies/acl/<name>`) and password policies
//! (`sys/policies/password/<name>`): HCL text compared without insignificant
//! whitespace. Vault stores ACL policy names in lower case.

use serde_json::json;

use super::compare::{normalize_hcl, FieldChange};
use super::{Action, Change, Context, Diff, ObjectError, ObjectId, Request, Resource};
use crate::plan::model::PolicySource;

pub const LIST_PATH: &str = "sys/policies/acl";
pub const PASSWORD_LIST_PATH: &str = "sys/policies/password";

pub struct PolicyResource {
    pub id: ObjectId,
    /// `LIST_PATH` or `PASSWORD_LIST_PATH`.
    pub collection: &'static str,
    /// As Vault stores it (ACL policy names in lower case).
    pub name: String,
    pub source: PolicySource,
}

impl PolicyResource {
    /// The HCL text; a file is read like any `file:` source (size limit, no directories).
    fn text(&self, ctx: &Context) -> Result<String, ObjectError> {
        match &self.source {
            PolicySource::Inline(text) => Ok(text.clone()),
            PolicySource::File { file } => Ok(ctx.resolver.read_file(file)?),
        }
    }
}

fn summary(text: &str) -> String {
    format!("{} lines", meaningful_lines(text).len())
}

fn meaningful_lines(text: &str) -> Vec<&str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
}

/// Lines removed and added, so the report shows what an update changes.
fn line_changes(old: &str, new: &str) -> Vec<FieldChange> {
    let (old, new) = (meaningful_lines(old), meaningful_lines(new));
    let line = |old: Option<&str>, new: Option<&str>| FieldChange {
        field: "policy".into(),
        old: old.map(str::to_owned),
        new: new.map(str::to_owned),
    };
    let removed = old
        .iter()
        .filter(|l| !new.contains(l))
        .map(|l| line(Some(l), None));
    let added = new
        .iter()
        .filter(|l| !old.contains(l))
        .map(|l| line(None, Some(l)));
    let changes: Vec<FieldChange> = removed.chain(added).collect();
    if changes.is_empty() {
        // The same lines in another layout or order.
        let reordered = |lines: &[&str]| format!("{} lines (reordered)", lines.len());
        return vec![line(Some(&reordered(&old)), Some(&reordered(&new)))];
    }
    changes
}

impl Resource for PolicyResource {
    fn id(&self) -> &ObjectId {
        &self.id
    }

    fn ownership(&self) -> Option<super::owned::Owned> {
        let kind = if self.collection == PASSWORD_LIST_PATH {
            super::owned::PruneKind::PasswordPolicies
        } else {
            super::owned::PruneKind::Policies
        };
        Some(super::owned::Owned::new(
            kind,
            format!("{}/{}", self.collection, self.name),
        ))
    }

    fn diff<'a>(&'a self, ctx: &'a Context) -> Diff<'a> {
        Box::pin(async move {
            let text = ctx.replace_accessors(&self.text(ctx)?).await?;
            let path = [self.collection, "/", &self.name].concat();
            let current: Option<PolicyData> = match ctx.listed(self.collection, &self.name).await? {
                Some(false) => None,
                _ => ctx.vault.read_data(&path).await?,
            };
            let current_text = current.as_ref().and_then(|c| c.policy.as_deref());
            let (action, fields) = match current_text {
                // Byte-equal is the common rerun case: no copies made.
                Some(old) if old == text || normalize_hcl(old) == normalize_hcl(&text) => {
                    return Ok(Change::unchanged())
                }
                Some(old) => (Action::Update, line_changes(old, &text)),
                None => (
                    Action::Create,
                    vec![FieldChange {
                        field: "policy".into(),
                        old: None,
                        new: Some(summary(&text)),
                    }],
                ),
            };
            Ok(Change::new(
                action,
                fields,
                vec![Request::post(path, json!({ "policy": text }))],
            ))
        })
    }
}

/// The part of a policy's read answer that is compared.
#[derive(Default, serde::Deserialize)]
struct PolicyData {
    policy: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_show_the_lines_that_changed() {
        let old = "path \"a/*\" {\n  capabilities = [\"read\"]\n}\n";
        let new = "path \"a/*\" {\n  capabilities = [\"read\", \"list\"]\n}\n";
        let changes = line_changes(old, new);
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].old.as_deref(), Some("capabilities = [\"read\"]"));
        assert_eq!(
            changes[1].new.as_deref(),
            Some("capabilities = [\"read\", \"list\"]")
        );
    }
}
