//! The vault-converge command line: parse, run, report, exit (codes are
//! chosen in `cli::exit` alone, DESIGN.md "Exit codes").

#![forbid(unsafe_code)]

mod cli;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::FromArgMatches;
use cli::args::{Cli, Sub};
use cli::exit::{self, fail, EXIT_INVALID, EXIT_OK, EXIT_REFUSED, EXIT_RUNTIME};
use cli::logging::init_logging;
use vault_converge::app::{self, Command};
use vault_converge::plan::PlanError;
use vault_converge::settings::{Overrides, Settings};

fn main() -> ExitCode {
    cli::failure::install_panic_hook();
    let parsed = cli::args::command()
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => return exit::usage_error(&e),
    };
    // Print-only commands need neither settings nor Vault.
    match cli.command {
        Sub::Schema => return cli::print::schema(),
        Sub::Completions { shell } => return cli::print::completions(shell),
        _ => {}
    }
    let prune = match &cli.command {
        Sub::Plan { prune, .. } | Sub::Apply { prune, .. } => Some(prune),
        _ => None,
    };
    let network = cli.command.network().cloned().unwrap_or_default();
    let overrides = Overrides {
        prune: prune.and_then(|p| p.prune.then_some(true)),
        max_deletes: prune.and_then(|p| p.max_deletes.clone()),
        adopt: prune.and_then(|p| p.adopt.then_some(true)),
        addr: network.addr.clone(),
        wait_timeout: network.wait_timeout.clone(),
        request_timeout: network.request_timeout.clone(),
        concurrency: network.concurrency,
        log_level: cli.log_level.clone(),
        output: cli.output.clone(),
        follow_redirects: network.follow_redirects.then_some(true),
    };
    let settings = match Settings::load(&overrides) {
        Ok(s) => s,
        Err(e) => return fail(None, EXIT_INVALID, &e.to_string()),
    };
    init_logging(&settings.log_level);
    for name in vault_converge::settings::unknown_variables() {
        tracing::warn!(variable = %name, "unknown setting ignored (a typo?); see README \"Connecting and logging in\"");
    }
    let _ = rustls::crypto::ring::default_provider().install_default();

    let verbose = cli.verbose;
    let (command, files, detailed) = match cli.command {
        Sub::Bootstrap {
            dev,
            secret_namespace,
            secret_name,
            ..
        } => {
            let options = vault_converge::bootstrap::Options {
                dev,
                namespace: secret_namespace,
                name: secret_name,
                wait_timeout: settings
                    .wait_timeout()
                    .unwrap_or(std::time::Duration::from_secs(60)),
            };
            return run_bootstrap(&settings, &options);
        }
        Sub::Export {
            paths,
            out_dir,
            registry_mount,
            ..
        } => {
            let options = vault_converge::export::Options {
                prefixes: paths,
                registry_mount,
            };
            return cli::export::run(&settings, &options, out_dir.as_deref());
        }
        Sub::Policy(p) => {
            return print_access(
                &settings,
                "policy",
                &p.files,
                vault_converge::access::policy_hcl,
            )
        }
        Sub::Rbac {
            plan,
            namespace,
            service_account,
        } => {
            return print_access(&settings, "rbac", &plan.files, |p| {
                vault_converge::access::rbac_yaml(p, &namespace, &service_account)
            })
        }
        Sub::Validate(p) => (Command::Validate, p.files, false),
        Sub::Plan {
            plan,
            detailed_exitcode,
            ..
        } => (Command::Plan, plan.files, detailed_exitcode),
        Sub::Apply {
            plan, no_verify, ..
        } => (Command::Apply { verify: !no_verify }, plan.files, false),
        Sub::Verify {
            plan, against_plan, ..
        } => {
            let command = if against_plan {
                Command::VerifyAgainstPlan
            } else {
                Command::Verify
            };
            (command, plan.files, false)
        }
        Sub::Schema => return cli::print::schema(),
        Sub::Completions { shell } => return cli::print::completions(shell),
    };

    let run = |rt: tokio::runtime::Runtime| {
        rt.block_on(async {
            tokio::select! {
                outcome = app::run(command, &files, &settings) => Some(outcome),
                signal = terminated() => {
                    tracing::warn!(signal, "stopping");
                    // The run is dropped here; a token from its login must not outlive it.
                    app::signals::revoke_login_token().await;
                    None
                }
            }
        })
    };
    let outcome = match runtime().map(run) {
        Ok(Some(outcome)) => outcome,
        Ok(None) => {
            return fail(
                Some(&settings),
                EXIT_RUNTIME,
                "interrupted (SIGTERM or SIGINT) before the run finished: what was written stays written; rerun to converge",
            )
        }
        Err(e) => return fail(Some(&settings), EXIT_RUNTIME, &format!("{e:#}")),
    };
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            return exit::fail_without_report(
                Some(&settings),
                exit::run_error_code(&e),
                &e.to_string(),
            );
        }
    };

    let report = &outcome.report;
    // Streamed either way: the report of a large plan is never held as text.
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let written = if settings.output == "json" {
        report.write_json(&mut stdout)
    } else if let Some(size) = report.plan {
        writeln!(
            stdout,
            "plan is valid: {} file(s), {} objects, {} checks",
            files.len(),
            size.objects,
            size.checks
        )
    } else {
        let style = vault_converge::engine::report::TextStyle::for_stdout(verbose);
        report.write_text(&style, &mut stdout)
    };
    let _ = written.and_then(|()| stdout.flush());
    drop(stdout);
    let code = exit::outcome_code(&outcome, detailed, &settings);
    // The process ends here: freeing a large run's report one entry at a
    // time would only delay the exit (25 ms at 30,000 objects).
    std::mem::forget(outcome);
    code
}

fn run_bootstrap(settings: &Settings, options: &vault_converge::bootstrap::Options) -> ExitCode {
    use vault_converge::bootstrap::{BootstrapError, Outcome};
    let result = match runtime() {
        Ok(rt) => rt.block_on(app::bootstrap(settings, options)),
        Err(e) => return fail(Some(settings), EXIT_RUNTIME, &format!("{e:#}")),
    };
    let place = format!("{}/{}", options.namespace, options.name);
    match result {
        Ok(outcome) => {
            let line = match outcome {
                Outcome::Initialized => format!("initialized and unsealed; unseal key and root token stored in Kubernetes secret {place}"),
                Outcome::Unsealed => format!("unsealed with the key from Kubernetes secret {place}"),
                Outcome::AlreadyReady => "already initialized and unsealed: nothing to do".to_owned(),
            };
            println!("bootstrap: {line}");
            ExitCode::from(EXIT_OK)
        }
        Err(e) => {
            let code = match e {
                BootstrapError::NotDev
                | BootstrapError::KeysNotHeld { .. }
                | BootstrapError::StaleSecret { .. } => EXIT_REFUSED,
                _ => EXIT_RUNTIME,
            };
            fail(Some(settings), code, &e.to_string())
        }
    }
}

/// `policy` and `rbac`: derived from the plan alone, no network. With
/// `--output json`: `{"command": …, "text": …}`.
fn print_access(
    settings: &Settings,
    command: &str,
    files: &[PathBuf],
    render: impl Fn(&vault_converge::plan::Plan) -> String,
) -> ExitCode {
    match app::load_plan(files, vault_converge::plan::LocalSources::MayBeAbsent) {
        Ok(loaded) => {
            let text = render(&loaded.plan);
            let out = if settings.output == "json" {
                serde_json::json!({ "command": command, "text": text }).to_string() + "\n"
            } else {
                text
            };
            let _ = std::io::stdout().write_all(out.as_bytes());
            ExitCode::from(EXIT_OK)
        }
        Err(e) => {
            let code = match e {
                PlanError::Unsafe { .. } => EXIT_REFUSED,
                _ => EXIT_INVALID,
            };
            exit::fail_without_report(Some(settings), code, &e.to_string())
        }
    }
}

/// As PID 1 in a container nothing else handles SIGTERM: without this the
/// job would hang for the whole grace period when its deadline passes.
async fn terminated() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = tokio::signal::ctrl_c() => "SIGINT",
    }
}

/// One thread: the run is bound by the network, and a second thread only
/// adds wake-ups across threads (measured at W(1000): 0.38 → 0.27 CPU
/// seconds cold, 1.17 → 0.85 s wall, as the server keeps the other core).
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
