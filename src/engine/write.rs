//! Converging one object: read and compare (`diff_one`), then send the
//! change (`write_one`), comparing again after a lost create race; with
//! ownership records, a stage's reads all come first so one registry write
//! can name what is about to be created (`diff_announce_write`).

use serde_json::Value as Json;

use futures::stream::{self, StreamExt};

use super::build::Stage;
use super::report::ObjectReport;
use super::run::Mode;
use crate::resources::{Action, Change, Context, ObjectError, Resource};
use crate::secret::scrub;
use crate::vault::VaultError;

/// When the run keeps ownership records: all reads and compares first, then
/// one registry write naming what is about to be created, then the writes.
pub(super) async fn diff_announce_write(
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

pub(super) async fn converge_one(
    ctx: &Context,
    resource: &dyn Resource,
    mode: Mode,
) -> ObjectReport {
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
        Ok(mut change) => {
            report.action = change.action;
            // The change keeps only its requests from here on.
            report.changes = std::mem::take(&mut change.fields);
            report.write_only = std::mem::take(&mut change.write_only);
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
                let checked = || resource.fields_to_check().is_some();
                return match ignored_parameters(&warnings).filter(|_| checked()) {
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

fn failed(report: ObjectReport, error: &ObjectError) -> ObjectReport {
    failed_with(report, error)
}

pub(super) fn failed_with(mut report: ObjectReport, error: &ObjectError) -> ObjectReport {
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
