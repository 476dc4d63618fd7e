//! The vault-converge command line. This is the only place exit codes are chosen
//! (DESIGN.md "Exit codes").

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;
use vault_converge::app::{self, Command, RunError, Status};
use vault_converge::plan::PlanError;
use vault_converge::resources::FailureClass;
use vault_converge::secret::scrub;
use vault_converge::settings::{Overrides, Settings, SettingsError};

const EXIT_OK: u8 = 0;
const EXIT_RUNTIME: u8 = 1;
const EXIT_INVALID: u8 = 2;
const EXIT_VERIFY: u8 = 3;
const EXIT_CHANGES: u8 = 4;
const EXIT_REFUSED: u8 = 5;

#[derive(Parser)]
#[command(
    name = "vault-converge",
    version,
    about = "Make a Vault or OpenBao server match a YAML plan, then verify that it works"
)]
struct Cli {
    #[command(subcommand)]
    command: Sub,
    /// Report format on stdout.
    #[arg(long, global = true, value_parser = ["text", "json"])]
    output: Option<String>,
    /// Log filter for stderr: error, warn, info, debug, trace (or a tracing filter).
    #[arg(long, global = true)]
    log_level: Option<String>,
    /// How long to wait for Vault to be reachable, initialized and unsealed (e.g. 60s, 5m).
    #[arg(long, global = true)]
    wait_timeout: Option<String>,
    /// Objects read and written at once within a stage.
    #[arg(long, global = true)]
    concurrency: Option<usize>,
    /// Vault address (default: VAULT_ADDR, BAO_ADDR, then http://127.0.0.1:8200).
    #[arg(long, global = true)]
    addr: Option<String>,
}

#[derive(Args)]
struct PlanFiles {
    /// Plan file; repeat to merge overlays in order (later files win).
    #[arg(short = 'f', long = "file", required = true)]
    files: Vec<PathBuf>,
}

#[derive(Subcommand)]
enum Sub {
    /// Parse and check the plan without contacting Vault.
    Validate(PlanFiles),
    /// Read Vault and print what apply would change (redacted).
    Plan {
        #[command(flatten)]
        plan: PlanFiles,
        /// Exit 4 when changes are pending, 0 when none.
        #[arg(long)]
        detailed_exitcode: bool,
    },
    /// Converge Vault to the plan, then run its verify checks.
    Apply {
        #[command(flatten)]
        plan: PlanFiles,
        /// Skip the verify checks after converging.
        #[arg(long)]
        no_verify: bool,
    },
    /// Run only the plan's verify checks.
    Verify(PlanFiles),
    /// Dev/CI clusters only: initialize and unseal a fresh server, keeping its
    /// unseal key and root token in a Kubernetes secret.
    Bootstrap {
        /// Confirm this is a dev or CI cluster (required).
        #[arg(long)]
        dev: bool,
        /// Namespace of the secret that holds the keys.
        #[arg(long, default_value = "vault")]
        secret_namespace: String,
        /// Name of the secret that holds the keys.
        #[arg(long, default_value = "vault-bootstrap")]
        secret_name: String,
    },
    /// Print the minimal Vault policy (HCL) the job's own token needs for this plan.
    Policy(PlanFiles),
    /// Print Kubernetes Role + RoleBinding YAML granting `get` on exactly the secrets the plan reads.
    Rbac {
        #[command(flatten)]
        plan: PlanFiles,
        /// Namespace of the job's service account.
        #[arg(long)]
        namespace: String,
        /// The job's service account.
        #[arg(long)]
        service_account: String,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                EXIT_INVALID
            } else {
                EXIT_OK
            });
        }
    };
    let overrides = Overrides {
        addr: cli.addr.clone(),
        wait_timeout: cli.wait_timeout.clone(),
        concurrency: cli.concurrency,
        log_level: cli.log_level.clone(),
        output: cli.output.clone(),
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

    let (command, files, detailed) = match cli.command {
        Sub::Bootstrap {
            dev,
            secret_namespace,
            secret_name,
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
        Sub::Policy(p) => return print_access(&p.files, vault_converge::access::policy_hcl),
        Sub::Rbac {
            plan,
            namespace,
            service_account,
        } => {
            return print_access(&plan.files, |p| {
                vault_converge::access::rbac_yaml(p, &namespace, &service_account)
            })
        }
        Sub::Validate(p) => (Command::Validate, p.files, false),
        Sub::Plan {
            plan,
            detailed_exitcode,
        } => (Command::Plan, plan.files, detailed_exitcode),
        Sub::Apply { plan, no_verify } => {
            (Command::Apply { verify: !no_verify }, plan.files, false)
        }
        Sub::Verify(p) => (Command::Verify, p.files, false),
    };

    let run = |rt: tokio::runtime::Runtime| {
        rt.block_on(async {
            tokio::select! {
                outcome = app::run(command, &files, &settings) => Some(outcome),
                signal = terminated() => {
                    tracing::warn!(signal, "stopping");
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
            let code = match &e {
                RunError::Plan(PlanError::Unsafe { .. }) | RunError::TokenDrift(_) => EXIT_REFUSED,
                RunError::Plan(_)
                | RunError::Settings(SettingsError::Invalid(_))
                | RunError::NoToken => EXIT_INVALID,
                RunError::TokenFile { .. } | RunError::Vault(_) | RunError::Login(_) => {
                    EXIT_RUNTIME
                }
            };
            return fail(Some(&settings), code, &e.to_string());
        }
    };

    let report = &outcome.report;
    let rendered = if settings.output == "json" {
        report.to_json() + "\n"
    } else if let Some(size) = report.plan {
        format!(
            "plan is valid: {} file(s), {} objects, {} checks\n",
            files.len(),
            size.objects,
            size.checks
        )
    } else {
        report.to_text()
    };
    let _ = std::io::stdout().write_all(rendered.as_bytes());

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
                Some(&settings),
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
                .find(|c| !c.passed)
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
                Some(&settings),
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

/// `policy` and `rbac`: derived from the plan alone, no network.
fn print_access(
    files: &[PathBuf],
    render: impl Fn(&vault_converge::plan::Plan) -> String,
) -> ExitCode {
    match app::load_plan(files, vault_converge::plan::LocalSources::MayBeAbsent) {
        Ok(loaded) => {
            let _ = std::io::stdout().write_all(render(&loaded.plan).as_bytes());
            ExitCode::from(EXIT_OK)
        }
        Err(e) => {
            let code = match e {
                PlanError::Unsafe { .. } => EXIT_REFUSED,
                _ => EXIT_INVALID,
            };
            fail(None, code, &e.to_string())
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

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Prints the one-sentence failure reason as the last stderr line and to the
/// termination-message file, then returns the exit code.
fn fail(settings: Option<&Settings>, code: u8, message: &str) -> ExitCode {
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

/// Logs go to stderr through the scrubber; HTTP internals stay quiet unless asked for.
fn init_logging(level: &str) {
    let directive = if level.contains('=') || level.contains(',') {
        level.to_owned()
    } else {
        format!("{level},vaultrs=off,rustify=off,hyper=warn,hyper_util=warn,reqwest=warn,kube=warn,tower=warn")
    };
    let filter = EnvFilter::try_new(directive).unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(ScrubbedStderr)
        .with_target(false)
        .init();
}

struct ScrubbedStderr;

struct ScrubbingWriter;

impl Write for ScrubbingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().write_all(scrub(&text).as_bytes())?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> MakeWriter<'a> for ScrubbedStderr {
    type Writer = ScrubbingWriter;
    fn make_writer(&'a self) -> Self::Writer {
        ScrubbingWriter
    }
}
