//! Exit codes (DESIGN.md "Exit codes"): the only place they are chosen, and
//! the one-sentence failure message that goes with them.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use vault_converge::app::{Outcome, RunError, Status};
use vault_converge::plan::PlanError;
use vault_converge::resources::FailureClass;
use vault_converge::secret::scrub;
use vault_converge::settings::{Settings, SettingsError};

pub const EXIT_OK: u8 = 0;
pub const EXIT_RUNTIME: u8 = 1;
pub const EXIT_INVALID: u8 = 2;
pub const EXIT_VERIFY: u8 = 3;
pub const EXIT_CHANGES: u8 = 4;
pub const EXIT_REFUSED: u8 = 5;

/// The exit code of a run that stopped before it had a report.
pub fn run_error_code(error: &RunError) -> u8 {
    match error {
        RunError::Plan(PlanError::Unsafe { .. }) | RunError::TokenDrift(_) => EXIT_REFUSED,
        RunError::Plan(_) | RunError::Settings(SettingsError::Invalid(_)) | RunError::NoToken => {
            EXIT_INVALID
        }
        RunError::TokenFile { .. } | RunError::Vault(_) | RunError::Login(_) => EXIT_RUNTIME,
    }
}

/// The exit code of a finished run, with its failure sentence when it failed.
pub fn outcome_code(outcome: &Outcome, detailed: bool, settings: &Settings) -> ExitCode {
    let report = &outcome.report;
    let s = &report.summary;
    match outcome.status {
        Status::Clean => ExitCode::from(EXIT_OK),
        Status::ChangesPending if detailed => ExitCode::from(EXIT_CHANGES),
        Status::ChangesPending => ExitCode::from(EXIT_OK),
        Status::ObjectsFailed(class) => {
            // Name a failure of the class that chose the exit code.
            let first = report
                .objects
                .iter()
                .find(|o| o.failure == Some(class))
                .map(|o| {
                    format!(
                        "{} {}{}: {}",
                        o.kind_label(),
                        o.path,
                        o.location
                            .as_ref()
                            .map(|l| format!(" ({l})"))
                            .unwrap_or_default(),
                        o.error.clone().unwrap_or_default()
                    )
                })
                .unwrap_or_default();
            let code = match class {
                FailureClass::Refused => EXIT_REFUSED,
                FailureClass::Invalid => EXIT_INVALID,
                FailureClass::Runtime => EXIT_RUNTIME,
            };
            fail(
                Some(settings),
                code,
                &format!(
                    "{} failed: {} of {} objects failed, first: {first}; fix it and rerun",
                    report.command,
                    s.failed,
                    report.objects.len()
                ),
            )
        }
        Status::VerifyFailed => {
            let first = report
                .verify
                .iter()
                .find(|c| !c.passed && !c.skipped)
                .map(|c| {
                    format!(
                        "{} {}: {}",
                        c.check,
                        c.target,
                        c.message.clone().unwrap_or_default()
                    )
                })
                .unwrap_or_default();
            fail(
                Some(settings),
                EXIT_VERIFY,
                &format!(
                    "verification failed: {} of {} checks failed, first: {first}",
                    s.verify_failed,
                    report.verify.len()
                ),
            )
        }
    }
}

/// Prints the one-sentence failure reason as the last stderr line and to the
/// termination-message file, then returns the exit code.
pub fn fail(settings: Option<&Settings>, code: u8, message: &str) -> ExitCode {
    let sentence = scrub(message).replace('\n', " ");
    let _ = writeln!(std::io::stderr(), "error: {sentence}");
    let path = settings
        .and_then(|s| s.termination_log.clone())
        .or_else(|| {
            let default = PathBuf::from("/dev/termination-log");
            std::fs::OpenOptions::new()
                .append(true)
                .open(&default)
                .ok()
                .map(|_| default)
        });
    if let Some(path) = path {
        let _ = std::fs::write(path, format!("{sentence}\n"));
    }
    ExitCode::from(code)
}
