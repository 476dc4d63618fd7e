//! The merged tree → the typed plan; a serde error points at the plan line.

use serde::Deserialize;

use super::error::PlanError;
use super::model::Plan;
use super::node::{Loc, Node, Value};

/// Consumes the tree; `tree_again` gives it back (read anew) when an error
/// needs a location. The plan is read without tracking where each value
/// lies (a copy of every key on the way down); only a plan that fails is
/// read again with the tracking, to say where.
pub fn typed(root: Node, tree_again: impl FnOnce() -> Option<Node>) -> Result<Plan, PlanError> {
    let root_loc = root.loc.clone();
    let mut plan = Plan::deserialize(root).map_err(|err| match tree_again() {
        Some(tree) => located_error(tree, err.to_string()),
        None => PlanError::Field {
            loc: root_loc,
            path: "(top level)".to_owned(),
            message: err.to_string(),
        },
    })?;
    plan.fill_defaults();
    Ok(plan)
}

/// The error of a plan that does not deserialize, with the path and line
/// of the value at fault.
fn located_error(tree: Node, first_message: String) -> PlanError {
    let Err(err) = serde_path_to_error::deserialize::<_, Plan>(tree.clone()) else {
        // The same tree failed a moment ago; should it not now, the first
        // error still stands.
        return PlanError::Field {
            loc: tree.loc,
            path: "(top level)".to_owned(),
            message: first_message,
        };
    };
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
    PlanError::Field {
        loc: locate(&tree, &segments, &message),
        path: if segments.is_empty() {
            "(top level)".to_owned()
        } else {
            segments.join(".")
        },
        message,
    }
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
