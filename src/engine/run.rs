//! Runs the stages in order; objects within a stage run concurrently,
//! bounded by `--concurrency`. A failed object does not stop its stage, but
//! later stages (which may depend on it) are skipped when applying.

use std::time::Instant;

use futures::stream::{self, StreamExt};

use super::build::Stage;
use super::report::{ObjectReport, StageTiming};
use crate::resources::{Action, Context, ObjectError, Resource};
use crate::secret::scrub;
use crate::vault::VaultError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Read and compare only.
    Plan,
    /// Read, compare and write what differs.
    Apply,
}

pub async fn converge(
    ctx: &Context,
    stages: &[Stage],
    mode: Mode,
    concurrency: usize,
) -> (Vec<ObjectReport>, Vec<StageTiming>) {
    let mut reports = Vec::new();
    let mut timings = Vec::new();
    let mut failed_stage: Option<&'static str> = None;
    for stage in stages {
        let started = Instant::now();
        if let (Some(failed), Mode::Apply) = (failed_stage, mode) {
            reports.extend(stage.resources.iter().map(|r| skipped(r.as_ref(), failed)));
            continue;
        }
        // Unordered, so one slow object never holds back the next ones;
        // the report keeps plan order.
        let mut outcomes: Vec<(usize, ObjectReport)> =
            stream::iter(stage.resources.iter().enumerate())
                .map(|(i, r)| async move { (i, converge_one(ctx, r.as_ref(), mode).await) })
                .buffer_unordered(concurrency.max(1))
                .collect()
                .await;
        outcomes.sort_by_key(|(i, _)| *i);
        let outcomes: Vec<ObjectReport> = outcomes.into_iter().map(|(_, o)| o).collect();
        if outcomes.iter().any(|o| o.action == Action::Failed) {
            failed_stage = Some(stage.name);
        }
        reports.extend(outcomes);
        timings.push(StageTiming {
            stage: stage.name,
            objects: stage.resources.len(),
            ms: started.elapsed().as_millis() as u64,
        });
    }
    (reports, timings)
}

async fn converge_one(ctx: &Context, resource: &dyn Resource, mode: Mode) -> ObjectReport {
    let id = resource.id();
    let mut report = ObjectReport {
        kind: id.kind,
        path: id.path.clone(),
        location: id.loc.as_ref().map(|l| format!("{}:{}", l.file, l.line)),
        action: Action::Unchanged,
        changes: Vec::new(),
        error: None,
        hint: None,
    };
    // A check-and-set conflict means someone wrote the object between our
    // read and our write (or a standby answered from stale state): compare
    // again once, against what is there now.
    let mut attempts_left = 2;
    loop {
        attempts_left -= 1;
        let change = match resource.diff(ctx).await {
            Ok(change) => change,
            Err(e) => return failed(report, &e),
        };
        report.action = change.action;
        report.changes = change.fields;
        if mode == Mode::Plan {
            return report;
        }
        match send(ctx, &change.requests).await {
            Ok(()) => {
                if !change.requests.is_empty() {
                    tracing::debug!(object = %id, action = ?change.action, "written");
                }
                return report;
            }
            Err(e) if attempts_left > 0 && is_cas_conflict(&e) => {
                tracing::info!(object = %id, "changed while being written; comparing again");
            }
            Err(e) => return failed(report, &ObjectError::Vault(e)),
        }
    }
}

async fn send(ctx: &Context, requests: &[crate::resources::Request]) -> Result<(), VaultError> {
    for request in requests {
        ctx.vault
            .request(request.method, &request.path, request.body.as_ref())
            .await?;
    }
    Ok(())
}

fn is_cas_conflict(error: &VaultError) -> bool {
    matches!(error, VaultError::Status { code: 400, message, .. } if message.contains("check-and-set"))
}

fn failed(mut report: ObjectReport, error: &ObjectError) -> ObjectReport {
    tracing::warn!(path = %report.path, error = %scrub(&error.to_string()), "object failed");
    report.action = Action::Failed;
    report.error = Some(scrub(&error.to_string()));
    report.hint = Some(error.hint().to_owned());
    report
}

fn skipped(resource: &dyn Resource, failed_stage: &str) -> ObjectReport {
    let id = resource.id();
    ObjectReport {
        kind: id.kind,
        path: id.path.clone(),
        location: id.loc.as_ref().map(|l| format!("{}:{}", l.file, l.line)),
        action: Action::Skipped,
        changes: Vec::new(),
        error: None,
        hint: Some(format!(
            "skipped because an object in stage `{failed_stage}` failed"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_check_and_set_mismatches_are_conflicts() {
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
        assert!(is_cas_conflict(&conflict));
        assert!(!is_cas_conflict(&other));
    }
}
