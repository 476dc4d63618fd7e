//! Prune (DESIGN.md "Ownership and prune"): after all stages, objects of
//! the pruned kinds that this instance owns (or a killed run was about to
//! create) and the plan no longer lists are deleted, children before
//! parents — never an object another instance owns too, never more than
//! `max_deletes`.

use std::collections::{BTreeMap, HashMap, HashSet};

use futures::stream::{self, StreamExt};

use super::build::Stage;
use super::report::ObjectReport;
use crate::registry::Edit;
use crate::resources::home::in_home;
use crate::resources::owned::{delete_limit, Owned, PruneKind};
use crate::resources::{Action, Context, ObjectError, ObjectId};
use crate::secret::scrub;
use crate::vault::{Method, VaultError};

/// What the prune step found and did.
#[derive(Default)]
pub struct Pruned {
    /// `- delete` lines (done, or pending in `plan`), and failed deletions.
    pub objects: Vec<ObjectReport>,
    /// More deletions than allowed: nothing was deleted.
    pub refused: Option<String>,
    /// Planned objects that exist but this instance does not own.
    pub unowned: usize,
}

/// The prune step. `apply`: deletes; `plan`: only reports.
pub async fn prune(
    ctx: &Context,
    stages: &[Stage],
    reports: &[ObjectReport],
    apply: bool,
    concurrency: usize,
) -> Result<Pruned, VaultError> {
    let own = &ctx.ownership;
    let mut out = Pruned::default();
    if !own.track {
        return Ok(out);
    }
    let owned = ctx.registry.owned(&ctx.vault).await?;
    let actions: HashMap<&str, Action> = reports
        .iter()
        .map(|r| (r.path.as_str(), r.action))
        .collect();
    let planned: HashSet<&str> = stages
        .iter()
        .flat_map(|s| s.objects().map(|(path, _)| path))
        .collect();
    out.unowned = stages
        .iter()
        .flat_map(Stage::objects)
        .filter(|&(path, recorded)| recorded && !owned.contains_key(path))
        .filter(|(path, _)| {
            matches!(
                actions.get(path),
                Some(Action::Unchanged | Action::Update | Action::Synced)
            )
        })
        .count();
    if own.prune.is_empty() {
        return Ok(out);
    }
    let dropped = |(path, o): &(&String, &Owned)| {
        own.prune.contains(&o.kind) && !planned.contains(path.as_str())
    };
    // Managed token entries: pruning one revokes the tokens minted for it.
    let tokens = ctx.registry.tokens(&ctx.vault).await?;
    let token_entries: BTreeMap<String, Owned> = tokens
        .iter()
        .map(|(name, accessors)| {
            let accessors: Vec<&str> = accessors.iter().map(String::as_str).collect();
            (
                crate::resources::token::path_of(name),
                Owned::new(PruneKind::Tokens, accessors.join(",")),
            )
        })
        .collect();
    let mut candidates: Vec<(&String, &Owned)> = owned
        .iter()
        .chain(token_entries.iter())
        .filter(dropped)
        .collect();
    // What a killed run was about to create and the plan dropped since:
    // deleted when it exists (the run got to create it), forgotten when not.
    let pending = ctx.registry.pending(&ctx.vault).await?;
    let mut forget: Vec<Edit> = Vec::new();
    let mut owned_count = owned.len() + token_entries.len();
    for (path, o) in pending.iter().filter(dropped) {
        match ctx.vault.read(&o.delete).await {
            Ok(None) => forget.push(Edit::Forget(path.clone())),
            // Present, or unreadable: the delete finds out.
            _ => {
                candidates.push((path, o));
                owned_count += 1;
            }
        }
    }
    if candidates.is_empty() {
        forget_all(ctx, forget, apply).await;
        return Ok(out);
    }
    if reports
        .iter()
        .any(|r| matches!(r.action, Action::Failed | Action::Skipped))
    {
        tracing::warn!("prune skipped: objects failed, so the plan did not converge");
        return Ok(out);
    }
    // Children before parents; stable within a kind.
    candidates.sort_by(|a, b| (a.1.kind, a.0).cmp(&(b.1.kind, b.0)));
    let others = ctx.registry.owned_by_others(&ctx.vault).await?;
    let (shared, to_delete): (Vec<_>, Vec<_>) = candidates
        .into_iter()
        .partition(|(path, _)| others.contains(path.as_str()));
    for (path, o) in &shared {
        tracing::info!(kind = %o.kind, %path, "not deleted: another instance owns it too; this instance lets go of it");
    }
    let limit = delete_limit(own.max_deletes, owned_count);
    if to_delete.len() > limit {
        out.refused = Some(refusal(ctx, &to_delete, limit, owned_count));
        return Ok(out);
    }
    forget.extend(shared.iter().map(|(p, o)| forget_edit(p, o)));
    if !apply {
        out.objects = to_delete
            .iter()
            .map(|(path, o)| ObjectReport::new(&id_of(path, o), Action::Delete))
            .collect();
        return Ok(out);
    }
    // Kind by kind (children first); within a kind, concurrently.
    let mut by_kind: BTreeMap<PruneKind, Vec<(&String, &Owned)>> = BTreeMap::new();
    for (path, o) in to_delete {
        by_kind.entry(o.kind).or_default().push((path, o));
    }
    for group in by_kind.into_values() {
        let done: Vec<(Edit, ObjectReport)> = stream::iter(group)
            .map(|(path, o)| async move { (forget_edit(path, o), delete_one(ctx, path, o).await) })
            .buffered(concurrency.max(1))
            .collect()
            .await;
        for (edit, report) in done {
            if report.action == Action::Delete {
                forget.push(edit);
            }
            out.objects.push(report);
        }
    }
    forget_all(ctx, forget, apply).await;
    Ok(out)
}

/// One registry write: deleted objects, and those let go or never created.
async fn forget_all(ctx: &Context, edits: Vec<Edit>, apply: bool) {
    if !apply || edits.is_empty() {
        return;
    }
    if let Err(e) = ctx.registry.save(&ctx.vault, edits).await {
        // Deleted objects stay recorded: the next run finds them gone and forgets them then.
        tracing::warn!(error = %scrub(&e.to_string()), "cannot update the registry after pruning");
    }
}

/// How the registry lets go of an object (a token entry: all its accessors).
fn forget_edit(path: &str, o: &Owned) -> Edit {
    match (o.kind, crate::resources::token::entry_of(path)) {
        (PruneKind::Tokens, Some(entry)) => Edit::ForgetTokens(entry.to_owned()),
        _ => Edit::Forget(path.to_owned()),
    }
}

fn id_of(path: &str, o: &Owned) -> ObjectId {
    ObjectId {
        kind: o.kind.object_kind(),
        path: path.to_owned(),
        loc: None,
        provides: None,
        needs: Vec::new(),
    }
}

async fn delete_one(ctx: &Context, path: &str, o: &Owned) -> ObjectReport {
    let mut report = ObjectReport::new(&id_of(path, o), Action::Delete);
    if o.kind == PruneKind::Tokens {
        return revoke_entry(ctx, report, o).await;
    }
    // Audit devices live in the token's own namespace, not the plan's.
    let vault = match in_home(o.kind.object_kind()) {
        true => ctx.home_vault(),
        false => &ctx.vault,
    };
    match vault.request(Method::Delete, &o.delete, None).await {
        Ok(_) => {}
        // Already gone (deleted by hand): nothing left to do.
        Err(e) if e.code() == Some(404) => {}
        Err(e) => {
            let error = ObjectError::Vault(e);
            tracing::warn!(%path, error = %scrub(&error.to_string()), "cannot prune");
            report.action = Action::Failed;
            report.error = Some(scrub(&error.to_string()));
            report.hint = Some(error.hint().to_owned());
            report.failure = Some(error.class());
        }
    }
    report
}

/// A token entry the plan dropped: every token minted for it is revoked
/// (its "delete path" holds the accessors, comma-separated).
async fn revoke_entry(ctx: &Context, mut report: ObjectReport, o: &Owned) -> ObjectReport {
    for accessor in o.delete.split(',').filter(|a| !a.is_empty()) {
        let body = serde_json::json!({ "accessor": accessor });
        match ctx.vault.write("auth/token/revoke-accessor", &body).await {
            Ok(_) => {}
            Err(e) if e.to_string().contains("invalid accessor") => {}
            Err(e) => {
                let error = ObjectError::Vault(e);
                report.action = Action::Failed;
                report.error = Some(scrub(&error.to_string()));
                report.hint = Some(error.hint().to_owned());
                report.failure = Some(error.class());
                return report;
            }
        }
    }
    report
}

/// The refusal: the count, the limit, and the first ten objects.
fn refusal(ctx: &Context, to_delete: &[(&String, &Owned)], limit: usize, owned: usize) -> String {
    const SHOWN: usize = 10;
    let first: Vec<String> = to_delete
        .iter()
        .take(SHOWN)
        .map(|(path, o)| format!("{} {path}", o.kind.object_kind().label()))
        .collect();
    let more = to_delete.len().saturating_sub(SHOWN);
    format!(
        "prune would delete {} objects, more than max_deletes allows ({limit} of the {owned} that instance `{}` owns); nothing was deleted: {}{}; restore them in the plan or raise prune.max_deletes (--max-deletes N or N%)",
        to_delete.len(),
        ctx.registry.instance(),
        first.join(", "),
        if more > 0 { format!(" and {more} more") } else { String::new() },
    )
}
