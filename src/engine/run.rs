//! Runs the stages in order; objects within a stage run concurrently,
//! bounded by `--concurrency` (`writes` one after another). A failed object
//! fails only what depends on it (DESIGN.md "Failure"): the objects that
//! name it in `needs` are skipped, everything else still runs.

use std::collections::HashMap;
use std::time::Instant;

use futures::stream::{self, StreamExt};

use super::build::Stage;
use super::fields_gate::FieldsGate;
use super::report::{ObjectReport, StageTiming};
use super::write::{converge_one, diff_announce_write, failed_with};
use crate::resources::home::in_home;
use crate::resources::{Action, Context, ObjectError, Resource};

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
    stages: &mut [Stage],
    mode: Mode,
    concurrency: usize,
    gate: &mut FieldsGate<'_>,
) -> (Vec<ObjectReport>, Vec<StageTiming>, Failed) {
    // Sized once: growing it near the end of a large run would hold the
    // old and the new array of reports at once.
    let objects = stages.iter().map(|s| s.resources.len()).sum();
    let mut reports = Vec::with_capacity(objects);
    let mut timings = Vec::new();
    let mut failed = Failed::new();
    // Unknown fields found before any write stop the whole apply: nothing
    // of a plan with a typo is written.
    let halted = mode == Mode::Apply && gate.found_any();
    let mut progress = super::progress::Progress::new(objects);
    for s in 0..stages.len() {
        let stage = &stages[s];
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
            stage: stages[s].name,
            objects: stages[s].resources.len(),
            ms: started.elapsed().as_millis() as u64,
        });
        stages[s].release(ctx.ownership.track);
    }
    progress.finish();
    if mode == Mode::Apply {
        super::records::flush(ctx).await;
    }
    (reports, timings, failed)
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

fn skipped(resource: &dyn Resource, cause: &str) -> ObjectReport {
    let mut report = ObjectReport::new(resource.id(), Action::Skipped);
    report.hint = Some(format!(
        "skipped because it depends on {cause}, which failed"
    ));
    report
}
