//! `prune:` (DESIGN.md "Ownership and prune"): which kinds of objects this
//! instance created and the plan no longer lists are deleted, and how many
//! a run may delete.

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::plan::schema::{MaxDeletesValue, PruneKindNames};
use crate::plan::{LoadedPlan, PlanError};
use crate::resources::owned::{MaxDeletes, PruneKind};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Prune {
    /// `all` (every kind but mounts and auth methods) or a list of kinds.
    #[serde(default)]
    #[schemars(with = "PruneKindNames")]
    pub kinds: PruneKinds,
    /// A count or `"N%"` of the objects this instance owns.
    #[schemars(with = "Option<MaxDeletesValue>")]
    pub max_deletes: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum PruneKinds {
    Keyword(String),
    List(Vec<String>),
}

impl Default for PruneKinds {
    fn default() -> Self {
        PruneKinds::Keyword("all".into())
    }
}

impl PruneKinds {
    /// The kinds named; `Err` names the first unknown one.
    pub fn resolve(&self) -> Result<BTreeSet<PruneKind>, String> {
        let names: Vec<&str> = match self {
            PruneKinds::Keyword(k) => vec![k.as_str()],
            PruneKinds::List(list) => list.iter().map(String::as_str).collect(),
        };
        let mut kinds = BTreeSet::new();
        for name in names {
            if name == "all" {
                kinds.extend(PruneKind::all_safe());
                continue;
            }
            if name == "identity" {
                kinds.extend([
                    PruneKind::IdentityAliases,
                    PruneKind::IdentityGroups,
                    PruneKind::IdentityEntities,
                ]);
                continue;
            }
            let kind = PruneKind::parse(name).ok_or_else(|| {
                let known: Vec<&str> = PruneKind::ALL.iter().map(|k| k.name()).collect();
                format!(
                    "unknown prune kind `{name}`: use `all`, `identity` or some of {}",
                    known.join(", ")
                )
            })?;
            kinds.insert(kind);
        }
        Ok(kinds)
    }
}

impl Prune {
    pub fn max_deletes(&self) -> Result<Option<MaxDeletes>, String> {
        let bad = || "max_deletes must be a count (10) or a percentage (\"25%\")".to_owned();
        match &self.max_deletes {
            None => Ok(None),
            Some(serde_json::Value::Number(n)) => n
                .as_u64()
                .map(|n| Some(MaxDeletes::Count(n as usize)))
                .ok_or_else(bad),
            Some(serde_json::Value::String(s)) => MaxDeletes::parse(s).map(Some).ok_or_else(bad),
            Some(_) => Err(bad()),
        }
    }
}

/// Offline checks of `prune:`.
pub(in crate::plan) fn validate_prune(loaded: &LoadedPlan) -> Result<(), PlanError> {
    let Some(prune) = &loaded.plan.prune else {
        return Ok(());
    };
    let invalid = |at: &[&str], message: String| PlanError::Field {
        loc: loaded.loc(at).unwrap_or_else(|| loaded.root_loc()),
        path: at.join("."),
        message,
    };
    prune
        .kinds
        .resolve()
        .map_err(|m| invalid(&["prune", "kinds"], m))?;
    prune
        .max_deletes()
        .map_err(|m| invalid(&["prune", "max_deletes"], m))?;
    Ok(())
}
