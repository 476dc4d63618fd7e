//! Exit codes (DESIGN.md "Exit codes"): the only place they are chosen, and
//! the one-sentence failure message that goes with them.

use std::process::ExitCode;

use vault_converge::app::{Outcome, RunError, Status};
use vault_converge::plan::PlanError;
use vault_converge::resources::FailureClass;
use vault_converge::settings::{Settings, SettingsError};
use vault_converge::vault::login::LoginError;

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
        RunError::Plan(_)
        | RunError::Settings(SettingsError::Invalid(_))
        | RunError::NoToken
        | RunError::InvalidToken => EXIT_INVALID,
        // A certificate or address problem: retrying cannot fix it.
        RunError::Vault(e) if e.is_permanent() => EXIT_INVALID,
        // Unreachable or 5xx at login: a retry can fix it.
        RunError::Login(LoginError::Vault(e)) if !e.is_permanent() => EXIT_RUNTIME,
        // Missing, unreadable or empty credentials, or credentials Vault
        // refused (400/403 at login): only changing the settings can fix it.
        RunError::Login(_) => EXIT_INVALID,
        RunError::TokenFile { .. } | RunError::Vault(_) => EXIT_RUNTIME,
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
        Status::PruneRefused => fail(
            Some(settings),
            EXIT_REFUSED,
            &format!(
                "{} refused by a safety guard: {}",
                report.command,
                report.prune_refused.clone().unwrap_or_default()
            ),
        ),
        Status::VerifyNotRun => {
            let first = report
                .verify
                .iter()
                .find(|c| c.could_not_run)
                .map(check_line)
                .unwrap_or_default();
            fail(
                Some(settings),
                EXIT_RUNTIME,
                &format!("verification could not run: {first}; rerun once Vault answers and the job's token may run the check"),
            )
        }
        Status::VerifyFailed => {
            let first = report
                .verify
                .iter()
                .find(|c| !c.passed && !c.skipped)
                .map(check_line)
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

/// `check target: message` of a verify check, for the failure sentence.
fn check_line(c: &vault_converge::engine::CheckReport) -> String {
    format!(
        "{} {}: {}",
        c.check,
        c.target,
        c.message.clone().unwrap_or_default()
    )
}

/// Prints the one-sentence failure reason as the last stderr line and to the
/// termination-message file, then returns the exit code.
pub fn fail(settings: Option<&Settings>, code: u8, message: &str) -> ExitCode {
    super::failure::tell(settings, message);
    ExitCode::from(code)
}

/// `fail` for a command that ends before printing its report: with
/// `--output json`, stdout gets the failure as JSON too, so a caller that
/// parses stdout always gets a JSON document.
pub fn fail_without_report(settings: Option<&Settings>, code: u8, message: &str) -> ExitCode {
    if settings.is_some_and(|s| s.output == "json") {
        let error = serde_json::json!({
            "error": { "message": vault_converge::secret::scrub(message), "exit_code": code }
        });
        println!("{error}");
    }
    fail(settings, code, message)
}

/// A command line clap refused: its own explanation, then the one sentence
/// (exit 2). `--help` and `--version` come here too and exit 0.
pub fn usage_error(error: &clap::Error) -> ExitCode {
    let _ = error.print();
    if !error.use_stderr() {
        return ExitCode::from(EXIT_OK);
    }
    fail(None, EXIT_INVALID, &usage_sentence(error))
}

/// clap's first paragraph on one line, and which `--help` to read.
fn usage_sentence(error: &clap::Error) -> String {
    use clap::error::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand | ErrorKind::MissingSubcommand
    ) {
        return "invalid command line: no command given; see `vault-converge --help` for the commands".into();
    }
    let text = error.render().to_string();
    let problem: Vec<&str> = text
        .lines()
        .take_while(|l| !l.trim().is_empty() && !l.starts_with("Usage:"))
        .flat_map(str::split_whitespace)
        .collect();
    let problem = problem.join(" ");
    let problem = problem.strip_prefix("error: ").unwrap_or(&problem);
    // "Usage: vault-converge plan [OPTIONS] ..." names the subcommand.
    let command: Vec<&str> = text
        .lines()
        .find_map(|l| l.strip_prefix("Usage: "))
        .unwrap_or("vault-converge")
        .split_whitespace()
        .take_while(|w| !w.starts_with(['[', '<', '-']))
        .collect();
    let command = match command.join(" ") {
        c if c.is_empty() => "vault-converge".to_owned(),
        c => c,
    };
    format!("invalid command line: {problem}; see `{command} --help`")
}
