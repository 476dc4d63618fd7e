//! Runs the stages in order; objects within a stage run concurrently,
//! bounded by `--concurrency` (`writes` one after another). A failed object
//! fails only what depends on it (DESIGN.md "Failure"): the objects that
//! name it in `needs` are skipped, everything else still runs.

use std::collections::HashMap;
use std::time::Instant;

use futures::stream::{self, StreamExt};
use serde_json::Value as Json;

use super::build::Stage;
use super::fields_gate::FieldsGate;
use super::report::{ObjectReport, StageTiming};
use crate::resources::home::in_home;
use crate::resources::{Action, Change, Context, ObjectError, Resource};
use crate::secret::scrub;
use crate::vault::VaultError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Read and compare only.
    Plan,
    /// Read, compare and write what differs.
    Apply,
}

/// Dependency keys of objects that failed or were skipped → what they are.
pub type Failed = HashMap<String, String>;

pub async fn converge(
    ctx: &Context,
    stages: &[Stage],
    mode: Mode,
    concurrency: usize,
    gate: &mut FieldsGate,
) -> (Vec<ObjectReport>, Vec<StageTiming>, Failed) {
    let mut reports = Vec::new();
    let mut timings = Vec::new();
    let mut failed = Failed::new();
    // Unknown fields found before any write stop the whole apply: nothing
    // of a plan with a typo is written.
    let halted = mode == Mode::Apply && gate.found_any();
    let mut progress =
        super::progress::Progress::new(stages.iter().map(|s| s.resources.len()).sum());
    for (s, stage) in stages.iter().enumerate() {
        progress.advance(0, stage.name);
        if ctx.vault.gave_up().is_some() {
            // The server is gone for good: the run ends with one message.
            break;
        }
        let started = Instant::now();
        let mut outcomes: Vec<(usize, ObjectReport)> = Vec::new();
        let mut wrote = false;
        let mut pending: Vec<usize> = (0..stage.resources.len()).collect();
        // Objects that need another object of the same stage (a group
        // naming a member group) wait for it: the stage runs in waves.
        while !pending.is_empty() {
            let wave = next_wave(stage, &pending);
            let mut in_wave = vec![false; stage.resources.len()];
            for &i in &wave {
                in_wave[i] = true;
            }
            pending.retain(|&i| !in_wave[i]);
            let done_before = outcomes.len();
            let mut runnable = Vec::new();
            for &i in &wave {
                let resource = &stage.resources[i];
                let id = resource.id();
                if let Some(error) = gate.error_for(s, i) {
                    let report = ObjectReport::new(id, Action::Unchanged);
                    outcomes.push((i, failed_with(report, &ObjectError::Invalid(error.clone()))));
                    continue;
                }
                if halted {
                    let mut report = ObjectReport::new(id, Action::Skipped);
                    report.hint = Some("not applied: the plan has unknown fields (see the failed objects); nothing was written".into());
                    outcomes.push((i, report));
                    continue;
                }
                // Objects in the plan's namespace need it when this run creates it.
                let in_namespace = ctx
                    .home
                    .pending
                    .as_ref()
                    .filter(|_| !in_home(id.kind))
                    .and_then(|key| failed.get(key));
                match id.needs.iter().find_map(|n| failed.get(n)).or(in_namespace) {
                    Some(cause) => outcomes.push((i, skipped(resource.as_ref(), cause))),
                    None => runnable.push((i, resource)),
                }
            }
            let width = if stage.sequential {
                1
            } else {
                concurrency.max(1)
            };
            // Unordered, so one slow object never holds back the next ones;
            // the report keeps plan order.
            let ran = if mode == Mode::Apply && ctx.ownership.track {
                let runnable = runnable.into_iter().map(|(i, r)| (i, r.as_ref())).collect();
                diff_announce_write(ctx, stage, runnable, width).await
            } else {
                stream::iter(runnable)
                    .map(|(i, r)| async move { (i, converge_one(ctx, r.as_ref(), mode).await) })
                    .buffer_unordered(width)
                    .collect()
                    .await
            };
            progress.advance(ran.len() + (outcomes.len() - done_before), stage.name);
            outcomes.extend(ran);
            for (i, outcome) in &outcomes[done_before..] {
                let id = stage.resources[*i].id();
                match outcome.action {
                    Action::Failed | Action::Skipped => {
                        if let Some(key) = &id.provides {
                            failed.insert(key.clone(), id.to_string());
                        }
                    }
                    Action::Create | Action::Update | Action::Synced | Action::Delete => {
                        wrote = true
                    }
                    Action::Unchanged | Action::Renewed => {}
                }
            }
        }
        outcomes.sort_by_key(|(i, _)| *i);
        if mode == Mode::Apply {
            // One registry write for what this stage created.
            super::records::record_stage(ctx, stage, &outcomes).await;
        }
        if wrote && mode == Mode::Apply {
            // New mounts have accessors, versions and fields later stages need.
            ctx.forget_tables();
            if let Err(e) = gate.recheck(ctx, stages, s).await {
                tracing::warn!(error = %e, "cannot read the API description again; fields under new mounts are not checked");
            }
        }
        reports.extend(outcomes.into_iter().map(|(_, o)| o));
        timings.push(StageTiming {
            stage: stage.name,
            objects: stage.resources.len(),
            ms: started.elapsed().as_millis() as u64,
        });
    }
    progress.finish();
    if mode == Mode::Apply {
        super::records::flush(ctx).await;
    }
    (reports, timings, failed)
}

/// When the run keeps ownership records: all reads and compares first, then
/// one registry write naming what is about to be created, then the writes.
async fn diff_announce_write(
    ctx: &Context,
    stage: &Stage,
    runnable: Vec<(usize, &dyn Resource)>,
    width: usize,
) -> Vec<(usize, ObjectReport)> {
    let diffed: Vec<_> = stream::iter(runnable)
        .map(|(i, r)| async move { (i, r, diff_one(ctx, r).await) })
        .buffer_unordered(width)
        .collect()
        .await;
    let creating: Vec<usize> = diffed
        .iter()
        .filter(|(_, _, d)| matches!(d, Ok((_, change)) if change.action == Action::Create))
        .map(|(i, _, _)| *i)
        .collect();
    super::records::announce(ctx, stage, &creating).await;
    stream::iter(diffed)
        .map(|(i, r, diffed)| async move {
            let report = match diffed {
                Err(report) => report,
                Ok((report, change)) => write_one(ctx, r, report, change).await,
            };
            (i, report)
        })
        .buffer_unordered(width)
        .collect()
        .await
}

async fn converge_one(ctx: &Context, resource: &dyn Resource, mode: Mode) -> ObjectReport {
    match diff_one(ctx, resource).await {
        Err(report) => report,
        Ok((report, _)) if mode == Mode::Plan => report,
        Ok((report, change)) => write_one(ctx, resource, report, change).await,
    }
}

/// Reads and compares: the report and the change, or the failed report.
async fn diff_one(
    ctx: &Context,
    resource: &dyn Resource,
) -> Result<(ObjectReport, Change), ObjectReport> {
    let mut report = ObjectReport::new(resource.id(), Action::Unchanged);
    match resource.diff(ctx).await {
        Ok(change) => {
            report.action = change.action;
            report.changes = change.fields.clone();
            report.write_only = change.write_only.clone();
            Ok((report, change))
        }
        Err(e) => Err(failed(report, &e)),
    }
}

/// Sends the change. A lost create race (a check-and-set conflict, a mount
/// enabled meanwhile) means someone wrote the object between our read and
/// our write, or a standby answered from stale state: compare again against
/// what is there now, bypassing cached tables and listings.
async fn write_one(
    ctx: &Context,
    resource: &dyn Resource,
    mut report: ObjectReport,
    mut change: Change,
) -> ObjectReport {
    let id = resource.id();
    let mut attempts_left = 2;
    loop {
        match send(ctx, &mut change).await {
            Ok(warnings) => {
                if !change.requests.is_empty() {
                    tracing::debug!(object = %id, action = ?change.action, "written");
                }
                if let Some(key) = &change.once {
                    if let Err(e) = ctx.registry.record_once(&ctx.vault, key).await {
                        let error = ObjectError::Incomplete {
                            error: e,
                            note: format!(
                                "written, but its once-only record could not be kept in {}; the next run repeats it",
                                ctx.registry.location()
                            ),
                        };
                        return failed(report, &error);
                    }
                }
                // Only objects whose fields the API description covers: a
                // database connection passes plugin fields through, which
                // Vault's framework calls "unrecognized" although the plugin uses them.
                let checked = resource.fields_to_check().is_some();
                return match ignored_parameters(&warnings).filter(|_| checked) {
                    Some(error) => failed(report, &error),
                    None => {
                        report.warnings = warnings.iter().map(|w| scrub(w)).collect();
                        for warning in &report.warnings {
                            tracing::warn!(object = %id, %warning, "Vault warned");
                        }
                        report
                    }
                };
            }
            Err(ObjectError::Vault(e)) if is_create_race(&e) => {
                if attempts_left == 0 {
                    let error = ObjectError::Concurrent(e.to_string());
                    return failed(report, &error);
                }
                attempts_left -= 1;
                tracing::info!(object = %id, "changed while being written; comparing again");
                ctx.forget_cached_state();
                match diff_one(ctx, resource).await {
                    Ok((again, changed)) => (report, change) = (again, changed),
                    Err(failed) => return failed,
                }
            }
            Err(e) => return failed(report, &resource.explain(e)),
        }
    }
}

/// Sends the change's requests in order, then its steps, and returns Vault's
/// warnings. When a request after the first fails, the rollback undoes the
/// first. Each body is serialized and its JSON dropped before it is sent,
/// so a large secret is held once, not twice.
async fn send(ctx: &Context, change: &mut Change) -> Result<Vec<String>, ObjectError> {
    let mut warnings = Vec::new();
    for (i, request) in change.requests.iter_mut().enumerate() {
        let vault = match request.home {
            true => ctx.home_vault(),
            false => &ctx.vault,
        };
        let body = request
            .body
            .take()
            .map(|json| crate::vault::json_bytes(&json));
        match vault
            .request_bytes(request.method, &request.path, body)
            .await
        {
            Ok(answer) => warnings.extend(warnings_of(&answer.body)),
            Err(error) => {
                let Some(rollback) = change.rollback.as_ref().filter(|_| i > 0) else {
                    return Err(error.into());
                };
                let note = match vault.request(rollback.method, &rollback.path, None).await {
                    Ok(_) => format!(
                        "{} was removed again so the next run creates it and retries this step",
                        rollback.path
                    ),
                    Err(e) => format!(
                        "removing {} again failed too ({e}): remove it by hand before the next run",
                        rollback.path
                    ),
                };
                return Err(ObjectError::Incomplete { error, note });
            }
        }
    }
    if let Some(steps) = &change.steps {
        warnings.extend(steps.run(ctx).await?);
    }
    Ok(warnings)
}

fn warnings_of(body: &Json) -> Vec<String> {
    body.get("warnings")
        .and_then(Json::as_array)
        .map(|w| {
            w.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Vault's warning that it ignored parameters means a field of the plan is
/// unknown to the server: the same error the schema check reports.
fn ignored_parameters(warnings: &[String]) -> Option<ObjectError> {
    let ignored: Vec<String> = warnings
        .iter()
        .filter_map(|w| crate::vault::schema::ignored_parameters(w))
        .flatten()
        .collect();
    (!ignored.is_empty()).then(|| {
        ObjectError::Invalid(format!(
            "Vault ignored unknown field(s) {}: fix the spelling or remove them (the rest was written)",
            ignored.join(", ")
        ))
    })
}

/// Another writer created the object between our read and our write.
fn is_create_race(error: &VaultError) -> bool {
    matches!(error, VaultError::Status { code: 400, message, .. }
        if message.contains("check-and-set") || message.contains("already in use"))
}

/// The pending objects of `stage` that need no other pending object of it
/// (all of them when their needs go round in a circle).
fn next_wave(stage: &Stage, pending: &[usize]) -> Vec<usize> {
    let provided: HashMap<&str, usize> = pending
        .iter()
        .filter_map(|&i| Some((stage.resources[i].id().provides.as_deref()?, i)))
        .collect();
    let wave: Vec<usize> = pending
        .iter()
        .copied()
        .filter(|&i| {
            stage.resources[i]
                .id()
                .needs
                .iter()
                .all(|n| provided.get(n.as_str()).is_none_or(|&j| j == i))
        })
        .collect();
    if wave.is_empty() {
        pending.to_vec()
    } else {
        wave
    }
}

fn failed(report: ObjectReport, error: &ObjectError) -> ObjectReport {
    failed_with(report, error)
}

fn failed_with(mut report: ObjectReport, error: &ObjectError) -> ObjectReport {
    // An outage is reported once for the run, not once per object.
    if !matches!(error, ObjectError::Vault(VaultError::Unavailable { .. })) {
        tracing::warn!(path = %report.path, error = %scrub(&error.to_string()), "object failed");
    }
    report.action = Action::Failed;
    report.error = Some(scrub(&error.to_string()));
    report.hint = Some(error.hint().to_owned());
    report.failure = Some(error.class());
    report
}

fn skipped(resource: &dyn Resource, cause: &str) -> ObjectReport {
    let mut report = ObjectReport::new(resource.id(), Action::Skipped);
    report.hint = Some(format!(
        "skipped because it depends on {cause}, which failed"
    ));
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_lost_create_races_are_compared_again() {
        let conflict = VaultError::Status {
            method: "POST",
            path: "app/data/x".into(),
            code: 400,
            message: "check-and-set parameter did not match the current version".into(),
        };
        let other = VaultError::Status {
            method: "POST",
            path: "app/data/x".into(),
            code: 400,
            message: "invalid field".into(),
        };
        assert!(is_create_race(&conflict));
        assert!(!is_create_race(&other));
    }
}
