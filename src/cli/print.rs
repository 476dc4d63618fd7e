//! Commands that only print, from the binary alone: no plan, no settings,
//! no Vault.

use std::io::Write;
use std::process::ExitCode;

use clap_complete::Shell;
use vault_converge::plan::schema::plan_schema_text;

use super::args::{self, CompletionShell};
use super::exit::EXIT_OK;

/// `schema`: the plan format's JSON Schema, pretty-printed (whatever `--output`).
pub fn schema() -> ExitCode {
    print(plan_schema_text().as_bytes())
}

/// `completions SHELL`: the completion script of the real command tree.
pub fn completions(shell: CompletionShell) -> ExitCode {
    let shell = match shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
    };
    let mut command = args::command();
    let name = command.get_name().to_owned();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, name, &mut script);
    print(&script)
}

/// A closed stdout (`| head`) is not a failure of these commands.
fn print(bytes: &[u8]) -> ExitCode {
    let _ = std::io::stdout().write_all(bytes);
    ExitCode::from(EXIT_OK)
}
