//! The plan's ACL and password policies, checked offline (`policy_hcl`)
//! and located: inline text by its plan line, a policy file by its own path.

use super::error::PlanError;
use super::load::LoadedPlan;
use super::model::PolicySource;
use super::node::{Loc, PathSegment, Value};
use super::policy_hcl::{check, Issue, PolicyKind};
use crate::sources::resolve::read_source_file;

/// Every ACL and password policy of the plan, in plan order: the first
/// error is returned.
pub fn check_policies(loaded: &LoadedPlan) -> Result<(), PlanError> {
    let plan = &loaded.plan;
    for (name, source) in &plan.policies {
        check_one(loaded, &["policies", name], source, PolicyKind::Acl)?;
    }
    for (name, policy) in &plan.password_policies {
        let path = ["password_policies", name.as_str(), "policy"];
        check_one(loaded, &path, &policy.policy, PolicyKind::Password)?;
    }
    Ok(())
}

fn check_one(
    loaded: &LoadedPlan,
    path: &[&str],
    source: &PolicySource,
    kind: PolicyKind,
) -> Result<(), PlanError> {
    // Looked up only for an error: most plans have none.
    let key_loc = || loaded.loc(path).unwrap_or_else(|| loaded.root_loc());
    match source {
        PolicySource::Inline(text) => check(text, kind).map_err(|issue| {
            let text_loc = text_loc(loaded, path).unwrap_or_else(key_loc);
            PlanError::PolicyHcl {
                loc: plan_loc_of(&text_loc, &issue),
                path: path.join("."),
                at: format!(
                    "line {}, column {} of the policy text",
                    issue.line, issue.column
                ),
                message: issue.message,
            }
        }),
        PolicySource::File { file } => {
            // Absent or unreadable: a missing file is reported by loading when
            // sources must exist; `validate` may run where only the job has it.
            // Bounded: a policy file follows the `file:` size limit.
            let max = loaded.max_source_bytes;
            let Ok(text) = read_source_file(std::path::Path::new(file), max) else {
                return Ok(());
            };
            check(&text, kind).map_err(|issue| PlanError::PolicyHcl {
                loc: key_loc(),
                path: path.join("."),
                at: format!("{file}:{}:{}", issue.line, issue.column),
                message: issue.message,
            })
        }
    }
}

/// Where the inline text itself starts: for a `|` block, its first line.
fn text_loc(loaded: &LoadedPlan, path: &[&str]) -> Option<Loc> {
    let segments: Vec<PathSegment> = path.iter().map(|s| PathSegment::Key(s)).collect();
    let node = loaded.tree().find(&segments)?;
    matches!(node.value, Value::Str(_)).then(|| node.loc.clone())
}

/// The plan line of the issue: exact for `|` blocks and one-line strings,
/// near it for folded ones.
fn plan_loc_of(text: &Loc, issue: &Issue) -> Loc {
    Loc {
        file: text.file.clone(),
        line: text.line.saturating_add(offset(issue.line)),
        column: text.column.saturating_add(offset(issue.column)),
    }
}

/// A 1-based position inside the text as an offset from its start.
fn offset(position: usize) -> u32 {
    u32::try_from(position.saturating_sub(1)).unwrap_or(u32::MAX)
}
