//! Keeping the ownership records (DESIGN.md "Ownership and prune"): before
//! a stage's writes, one registry write names the objects it is about to
//! create (with the previous stage's records riding along); after the
//! stage, what it created is noted as owned. A run killed mid-stage thus
//! leaves every object it may have created recorded as pending: the next
//! run owns the ones it finds exactly as planned and prunes the ones the
//! plan dropped.

use super::build::Stage;
use super::report::ObjectReport;
use crate::registry::{Edit, Standing};
use crate::resources::{Action, Context};
use crate::secret::scrub;
use crate::vault::VaultError;

/// Before the stage's writes: `creating` (indexes into the stage) are
/// about to be created.
pub async fn announce(ctx: &Context, stage: &Stage, creating: &[usize]) {
    if !ctx.ownership.track {
        return;
    }
    let edits: Vec<Edit> = creating
        .iter()
        .filter_map(|&i| {
            let resource = stage.resources.get(i)?;
            Some(Edit::Pend(
                resource.id().path.clone(),
                resource.ownership()?,
            ))
        })
        .collect();
    if let Err(e) = ctx.registry.save(&ctx.vault, edits).await {
        not_recorded(ctx, &e);
    }
}

/// After the stage: notes what it created (and, with `--adopt`, the planned
/// objects that existed; without, the ones an earlier killed run was about
/// to create and that are exactly as planned). Written with the next write.
pub async fn record_stage(ctx: &Context, stage: &Stage, outcomes: &[(usize, ObjectReport)]) {
    let own = &ctx.ownership;
    if !own.track {
        return;
    }
    let mut edits = Vec::new();
    for (i, outcome) in outcomes {
        let Some(resource) = stage.resources.get(*i) else {
            continue;
        };
        let Some(record) = resource.ownership() else {
            continue;
        };
        let path = &resource.id().path;
        let standing = match ctx.registry.standing(&ctx.vault, path).await {
            Ok(standing) => standing,
            Err(e) => return not_recorded(ctx, &e),
        };
        let own_it = match outcome.action {
            Action::Create => true,
            Action::Unchanged => own.adopt || standing == Standing::Pending,
            Action::Update | Action::Synced => own.adopt,
            _ => false,
        };
        if own_it && standing != Standing::Owned {
            if standing == Standing::Pending && outcome.action == Action::Unchanged {
                tracing::info!(%path, "re-adopted: an earlier run was about to create it and it is exactly as planned");
            }
            edits.push(Edit::Own(path.clone(), record));
        }
    }
    ctx.registry.note(edits).await;
}

/// After the last stage: writes what is still only noted.
pub async fn flush(ctx: &Context) {
    if !ctx.ownership.track {
        return;
    }
    if let Err(e) = ctx.registry.save(&ctx.vault, Vec::new()).await {
        not_recorded(ctx, &e);
    }
}

fn not_recorded(ctx: &Context, error: &VaultError) {
    tracing::warn!(
        registry = %ctx.registry.location(),
        error = %scrub(&error.to_string()),
        "cannot record what this run creates: those objects are not owned, so no later prune deletes them (apply --adopt records them)"
    );
}
