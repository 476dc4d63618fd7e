//! This run's ownership settings: the plan's `prune:` and the `--prune`,
//! `--max-deletes` and `--adopt` flags (the flags win).

use std::collections::BTreeSet;

use crate::plan::{LoadedPlan, PlanError};
use crate::resources::owned::{MaxDeletes, Ownership, PruneKind};
use crate::settings::{Settings, SettingsError};

use super::RunError;

pub(super) fn ownership_of(
    loaded: &LoadedPlan,
    settings: &Settings,
) -> Result<Ownership, RunError> {
    let plan = loaded.plan.prune.as_ref();
    let invalid = |message: String| {
        RunError::Plan(PlanError::Field {
            loc: loaded.loc(&["prune"]).unwrap_or_else(|| loaded.root_loc()),
            path: "prune".into(),
            message,
        })
    };
    let prune: BTreeSet<PruneKind> = match plan {
        Some(p) => p.kinds.resolve().map_err(invalid)?,
        None if settings.prune => PruneKind::all_safe(),
        None => BTreeSet::new(),
    };
    let max_deletes = match &settings.max_deletes {
        Some(text) => Some(MaxDeletes::parse(text).ok_or_else(|| {
            SettingsError::Invalid(format!(
                "max_deletes: `{text}` is not a count (10) or a percentage (25%)"
            ))
        })?),
        None => match plan {
            Some(p) => p.max_deletes().map_err(invalid)?,
            None => None,
        },
    };
    Ok(Ownership {
        track: !prune.is_empty() || settings.adopt,
        prune,
        adopt: settings.adopt,
        max_deletes,
    })
}
