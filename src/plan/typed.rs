//! The merged tree → the typed plan; a serde error points at the plan line.

use super::error::PlanError;
use super::model::Plan;
use super::node::{Loc, Node, Value};

/// Consumes the tree; `tree_again` gives it back (read anew) when an error
/// needs a location.
pub fn typed(root: Node, tree_again: impl FnOnce() -> Option<Node>) -> Result<Plan, PlanError> {
    let root_loc = root.loc.clone();
    let mut plan = serde_path_to_error::deserialize::<_, Plan>(root).map_err(|err| {
        let segments: Vec<String> = err
            .path()
            .iter()
            .filter_map(|s| match s {
                serde_path_to_error::Segment::Seq { index } => Some(index.to_string()),
                serde_path_to_error::Segment::Map { key } => Some(key.clone()),
                serde_path_to_error::Segment::Enum { variant } => Some(variant.clone()),
                serde_path_to_error::Segment::Unknown => None,
            })
            .collect();
        let message = err.inner().to_string();
        let loc = match tree_again() {
            Some(tree) => locate(&tree, &segments, &message),
            None => root_loc,
        };
        PlanError::Field {
            loc,
            path: if segments.is_empty() {
                "(top level)".to_owned()
            } else {
                segments.join(".")
            },
            message,
        }
    })?;
    plan.fill_defaults();
    Ok(plan)
}

/// The deepest node on `path`; for an unknown field, the offending key itself.
fn locate(root: &Node, path: &[String], message: &str) -> Loc {
    let unknown_field = message.starts_with("unknown field");
    let mut node = root;
    let mut loc = root.loc.clone();
    for segment in path {
        let next = match &node.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| &k.name == segment)
                .map(|(k, v)| (k.loc.clone(), v)),
            Value::Seq(items) => segment
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get(i))
                .map(|n| (n.loc.clone(), n)),
            _ => None,
        };
        let Some((key_loc, child)) = next else { break };
        node = child;
        loc = if unknown_field || matches!(child.value, Value::Map(_)) {
            key_loc
        } else {
            child.loc.clone()
        };
    }
    loc
}
