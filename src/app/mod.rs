//! One run of a command, from settings and plan files to a report. Returns
//! typed outcomes; `main` alone turns them into exit codes.

use std::path::PathBuf;
use std::time::Instant;

use crate::engine::report::PlanSize;
use crate::engine::{self, Mode, Report};
use crate::plan::{self, LoadedPlan, LocalSources, PlanError};
use crate::registry::Registry;
use crate::resources::{Context, FailureClass};
use crate::settings::{Settings, SettingsError};
use crate::sources::resolve::Resolver;
use crate::vault::login::LoginError;
use crate::vault::schema_prefetch::PrefetchedSchema;
use crate::vault::{Vault, VaultError};
use crate::verify;

mod connect;
mod drift_guard;
mod export;
mod namespace;
mod ownership;
pub mod signals;

pub(crate) use connect::session;
use connect::{connection, prefetch_schema};
use drift_guard::check_token;
pub use export::export;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Validate,
    Plan,
    Apply {
        verify: bool,
    },
    Verify,
    /// `verify --against-plan`: the `external_secrets` checks against the
    /// plan's `kv:` fixtures, without Vault.
    VerifyAgainstPlan,
}

impl Command {
    fn name(self) -> &'static str {
        match self {
            Command::Validate => "validate",
            Command::Plan => "plan",
            Command::Apply { .. } => "apply",
            Command::Verify | Command::VerifyAgainstPlan => "verify",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Converged (and verified), or nothing to change.
    Clean,
    /// `plan` found changes to make.
    ChangesPending,
    /// At least one object could not be read or written; the class of the
    /// most serious failure (refused > invalid > runtime) picks the exit code.
    ObjectsFailed(FailureClass),
    /// Everything was written, but a verify check ran and its answer was wrong.
    VerifyFailed,
    /// A verify check could not run (Vault unreachable, unavailable, or the
    /// job's token refused): a retry can help.
    VerifyNotRun,
    /// Prune would delete more than `max_deletes`: nothing was deleted
    /// (`report.prune_refused` says what).
    PruneRefused,
}

pub struct Outcome {
    pub status: Status,
    pub report: Report,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("cannot read the token file {path}: {reason}")]
    TokenFile { path: String, reason: String },
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Login(#[from] LoginError),
    #[error("no Vault token: set VAULT_TOKEN or VAULT_CONVERGE_TOKEN_FILE, or log in with VAULT_CONVERGE_AUTH_METHOD=kubernetes|approle")]
    NoToken,
    #[error("the Vault token is invalid or expired (Vault does not know it); set VAULT_TOKEN or the token file to a valid token, or log in with VAULT_CONVERGE_AUTH_METHOD")]
    InvalidToken,
    #[error("refusing to write: the Vault token is not the one the plan expects ({0}); use the job's own token or update vault.expect_token")]
    TokenDrift(String),
}

/// Loads and checks the plan; `env`/`file` sources must exist only when
/// they are about to be used.
pub fn load_plan(
    files: &[PathBuf],
    options: impl Into<plan::LoadOptions>,
) -> Result<LoadedPlan, PlanError> {
    let loaded = plan::load_with(files, options)?;
    plan::validate::validate(&loaded)?;
    // A generated plan can repeat one mistake a thousand times: show the
    // first few and how many more there are.
    const SHOWN: usize = 10;
    let warnings = plan::validate::warnings(&loaded);
    for warning in warnings.iter().take(SHOWN) {
        tracing::warn!("{warning}");
    }
    if warnings.len() > SHOWN {
        tracing::warn!(
            "… and {} more plan warnings of these kinds",
            warnings.len() - SHOWN
        );
    }
    Ok(loaded)
}

pub async fn run(
    command: Command,
    files: &[PathBuf],
    settings: &Settings,
) -> Result<Outcome, RunError> {
    let started = Instant::now();
    let prefetched = prefetch_schema(command, settings);
    let sources = if matches!(command, Command::Validate | Command::VerifyAgainstPlan) {
        LocalSources::MayBeAbsent
    } else {
        LocalSources::MustExist
    };
    let mut loaded = load_plan(
        files,
        plan::LoadOptions {
            sources,
            max_source_bytes: settings.max_source_bytes,
        },
    )?;
    let mut report = Report::new(command.name());
    if command == Command::VerifyAgainstPlan {
        report.verify = verify::run_against_plan(&loaded, settings.concurrency).await;
        report.summarize();
        report.timings.total_ms = started.elapsed().as_millis() as u64;
        let status = if report.verify.iter().any(|c| c.could_not_run) {
            Status::VerifyNotRun
        } else if report.summary.verify_failed > 0 {
            Status::VerifyFailed
        } else {
            Status::Clean
        };
        return Ok(Outcome { status, report });
    }
    let mut stages = engine::stages(&mut loaded);
    if command == Command::Validate {
        report.plan = Some(PlanSize {
            objects: stages.iter().map(|s| s.resources.len()).sum(),
            checks: loaded.plan.verify.len(),
        });
        report.summarize();
        return Ok(Outcome {
            status: Status::Clean,
            report,
        });
    }

    let (vault, lookup) = session(settings).await?;
    report.vault_addr = Some(vault.addr().to_owned());
    if let Some(expected) = &loaded.plan.vault.expect_token {
        check_token(&vault, lookup.as_ref(), expected).await?;
    }
    let mut ctx = Context::new(
        vault,
        Resolver::with_max_file_bytes(settings.max_source_bytes),
        Registry::new(&loaded.plan.vault.registry),
    );
    ctx.planning = command == Command::Plan;
    namespace::enter(&mut ctx, &loaded).await?;
    ctx.ownership = ownership::ownership_of(&loaded, settings)?;
    let result = converge_and_verify(
        &ctx,
        &loaded,
        &mut stages,
        command,
        settings,
        report,
        prefetched,
    )
    .await;
    // The token from our login must not outlive the run, whatever happened.
    signals::revoke_login_token().await;
    let gave_up = ctx.vault.gave_up();
    // Nothing reads the plan, its objects or the run's caches after this:
    // freeing them at 10,000 objects is 10–20 ms the report need not wait for.
    crate::free::free_elsewhere((loaded, stages, ctx));
    // The server stayed away past the budget: one message, not one per object.
    if let Some(error) = gave_up {
        return Err(RunError::Vault(error));
    }
    let mut outcome = result?;
    outcome.report.timings.total_ms = started.elapsed().as_millis() as u64;
    Ok(outcome)
}

async fn converge_and_verify(
    ctx: &Context,
    loaded: &LoadedPlan,
    stages: &mut [engine::Stage],
    command: Command,
    settings: &Settings,
    mut report: Report,
    prefetched: Option<PrefetchedSchema>,
) -> Result<Outcome, RunError> {
    let concurrency = settings.concurrency;

    let mut status = Status::Clean;
    let mut failed = engine::run::Failed::new();
    if command != Command::Verify {
        let mode = if command == Command::Plan {
            Mode::Plan
        } else {
            Mode::Apply
        };
        let mut gate =
            engine::fields_gate::FieldsGate::check(ctx, loaded, stages, prefetched).await?;
        let (objects, timings, failed_now) =
            engine::converge(ctx, stages, mode, concurrency, &mut gate).await;
        report.timings.fields_check_ms = gate.elapsed().as_millis() as u64;
        failed = failed_now;
        let pruned =
            engine::prune::prune(ctx, stages, &objects, mode == Mode::Apply, concurrency).await?;
        report.objects = objects;
        report.objects.extend(pruned.objects);
        report.unowned = ctx.ownership.track.then_some(pruned.unowned);
        report.prune_refused = pruned.refused;
        report.timings.stages = timings;
        report.summarize();
        if report.prune_refused.is_some() {
            status = Status::PruneRefused;
        } else if let Some(class) = report.objects.iter().filter_map(|o| o.failure).max() {
            status = Status::ObjectsFailed(class);
        } else if report.summary.failed + report.summary.skipped > 0 {
            status = Status::ObjectsFailed(FailureClass::Runtime);
        } else if command == Command::Plan && report.summary.changes > 0 {
            status = Status::ChangesPending;
        }
    }
    // Checks that use a failed object are skipped; the others still run.
    let verify_now = match command {
        Command::Apply { verify } => verify,
        Command::Verify => true,
        _ => false,
    };
    report.requests = ctx.vault.counts();
    if verify_now {
        let verify_started = Instant::now();
        report.verify = verify::run_checks(ctx, loaded, concurrency, &failed).await;
        report.timings.verify_ms = verify_started.elapsed().as_millis() as u64;
        report.summarize();
        if status == Status::Clean {
            if report.verify.iter().any(|c| c.could_not_run) {
                status = Status::VerifyNotRun;
            } else if report.summary.verify_failed > 0 {
                status = Status::VerifyFailed;
            }
        }
    }
    report.verify_requests = ctx.vault.counts().since(report.requests);
    Ok(Outcome { status, report })
}

/// `bootstrap`: no plan and no token, just the server and the cluster.
pub async fn bootstrap(
    settings: &Settings,
    options: &crate::bootstrap::Options,
) -> Result<crate::bootstrap::Outcome, crate::bootstrap::BootstrapError> {
    let vault = Vault::connect(
        &connection(settings)
            .map_err(|e| crate::bootstrap::BootstrapError::Unexpected(e.to_string()))?,
    )?;
    crate::bootstrap::bootstrap(&vault, options).await
}
