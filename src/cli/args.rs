//! Command-line arguments (clap).

use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use vault_converge::settings::Settings;

#[derive(Parser)]
#[command(
    name = "vault-converge",
    version,
    about = "Make a Vault or OpenBao server match a YAML plan, then verify that it works"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Sub,
    /// Report format on stdout.
    #[arg(long, global = true, value_parser = ["text", "json"])]
    pub output: Option<String>,
    /// Log filter for stderr: error, warn, info, debug, trace (or a tracing filter).
    #[arg(long, global = true)]
    pub log_level: Option<String>,
    /// List unchanged objects in the report too.
    #[arg(short = 'v', long, global = true)]
    pub verbose: bool,
}

/// How to reach Vault: only on the commands that talk to it.
#[derive(Args, Default, Clone)]
pub struct Network {
    /// Vault address, with scheme and host.
    #[arg(long)]
    pub addr: Option<String>,
    /// How long to wait for Vault to be reachable, initialized and unsealed (e.g. 60s, 5m).
    #[arg(long, value_name = "DURATION")]
    pub wait_timeout: Option<String>,
    /// How long one request to Vault may take before it is retried (e.g. 30s, 2m).
    #[arg(long, value_name = "DURATION")]
    pub request_timeout: Option<String>,
    /// Objects read and written at once within a stage.
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// Follow a 307/308 redirect to another host (a standby without request
    /// forwarding); never from https to http.
    #[arg(long)]
    pub follow_redirects: bool,
}

/// Each flag that is also a setting, and the variables it can come from
/// (highest precedence first; the flag beats them all).
const FLAG_VARIABLES: [(&str, &str); 7] = [
    ("output", "VAULT_CONVERGE_OUTPUT"),
    ("log_level", "VAULT_CONVERGE_LOG_LEVEL"),
    ("wait_timeout", "VAULT_CONVERGE_WAIT_TIMEOUT"),
    ("request_timeout", "VAULT_CONVERGE_REQUEST_TIMEOUT"),
    ("concurrency", "VAULT_CONVERGE_CONCURRENCY"),
    ("addr", "VAULT_CONVERGE_ADDR, BAO_ADDR, VAULT_ADDR"),
    ("follow_redirects", "VAULT_CONVERGE_FOLLOW_REDIRECTS"),
];

/// The command line, each setting flag's help ending with its default and
/// variables. Defaults come from `Settings::default()`, so help cannot drift
/// from what a run uses; settings (figment) stay the only reader of variables.
pub fn command() -> clap::Command {
    let command = with_defaults(Cli::command());
    let names: Vec<String> = command
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    names.iter().fold(command, |command, name| {
        command.mut_subcommand(name, with_defaults)
    })
}

/// `command`'s setting flags with their default and variables in the help.
fn with_defaults(mut command: clap::Command) -> clap::Command {
    let defaults = serde_json::to_value(Settings::default()).unwrap_or_default();
    for (id, variables) in FLAG_VARIABLES {
        if !command.get_arguments().any(|a| a.get_id() == id) {
            continue;
        }
        let default = match &defaults[id] {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        command = command.mut_arg(id, |arg| {
            let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
            arg.help(format!("{help} [default: {default}] [env: {variables}]"))
        });
    }
    command
}

#[derive(Args)]
pub struct PlanFiles {
    /// Plan file; repeat to merge overlays in order (later files win).
    #[arg(short = 'f', long = "file", required = true)]
    pub files: Vec<PathBuf>,
}

/// Ownership and prune (README "Ownership and prune").
#[derive(Args)]
pub struct PruneFlags {
    /// Delete what this instance created and the plan no longer lists
    /// (the plan's `prune.kinds`, else `all`: never mounts or auth methods).
    #[arg(long)]
    pub prune: bool,
    /// The most deletions one run may make: a count or a percentage of the
    /// objects this instance owns [default: 10, and 25% once 20+ are owned].
    #[arg(long, value_name = "N|N%")]
    pub max_deletes: Option<String>,
    /// Record planned objects that exist already as this instance's own.
    #[arg(long)]
    pub adopt: bool,
}

#[derive(Subcommand)]
pub enum Sub {
    /// Parse and check the plan without contacting Vault.
    Validate(PlanFiles),
    /// Read Vault and print what apply would change (redacted).
    Plan {
        #[command(flatten)]
        plan: PlanFiles,
        /// Exit 4 when changes are pending, 0 when none.
        #[arg(long)]
        detailed_exitcode: bool,
        #[command(flatten)]
        prune: PruneFlags,
        #[command(flatten)]
        network: Network,
    },
    /// Converge Vault to the plan, then run its verify checks.
    Apply {
        #[command(flatten)]
        plan: PlanFiles,
        /// Skip the verify checks after converging.
        #[arg(long)]
        no_verify: bool,
        #[command(flatten)]
        prune: PruneFlags,
        #[command(flatten)]
        network: Network,
    },
    /// Run only the plan's verify checks.
    Verify {
        #[command(flatten)]
        plan: PlanFiles,
        /// Without Vault: run only the `external_secrets` checks, against
        /// the plan's `kv:` fixtures (CI before merge).
        #[arg(long)]
        against_plan: bool,
        #[command(flatten)]
        network: Network,
    },
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
        #[command(flatten)]
        network: Network,
    },
    /// Read the server and print a plan of what it holds (secrets as `{env: NAME}` placeholders).
    Export {
        /// Only objects under this Vault path (e.g. `auth/kubernetes`, `app/`); repeatable.
        #[arg(long = "path", value_name = "PREFIX")]
        paths: Vec<String>,
        /// Write one drop-in file per section into DIR instead of one plan on stdout.
        #[arg(short = 'o', long = "out-dir", value_name = "DIR")]
        out_dir: Option<PathBuf>,
        /// The registry mount, left out of the export [default: vault-converge].
        #[arg(long, value_name = "MOUNT", default_value = "vault-converge")]
        registry_mount: String,
        #[command(flatten)]
        network: Network,
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
    /// Print the JSON Schema of the plan format, for editors (yaml-language-server).
    Schema,
    /// Print the shell completion script for bash, zsh or fish.
    Completions {
        #[arg(value_enum)]
        shell: CompletionShell,
    },
}

/// The shells `completions` writes a script for.
#[derive(Clone, Copy, ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

impl Sub {
    /// The network flags of a command that talks to Vault.
    pub fn network(&self) -> Option<&Network> {
        match self {
            Sub::Plan { network, .. }
            | Sub::Apply { network, .. }
            | Sub::Verify { network, .. }
            | Sub::Bootstrap { network, .. }
            | Sub::Export { network, .. } => Some(network),
            _ => None,
        }
    }
}
