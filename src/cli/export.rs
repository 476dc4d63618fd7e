//! `vault-converge export`: prints the plan, or writes one file per section.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use vault_converge::app;
use vault_converge::export::{render_dir, render_single, Options};
use vault_converge::settings::Settings;

use super::exit::{self, fail_without_report as fail, EXIT_INVALID, EXIT_OK, EXIT_RUNTIME};

pub fn run(settings: &Settings, options: &Options, out_dir: Option<&Path>) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return fail(
                Some(settings),
                EXIT_RUNTIME,
                &format!("cannot start the async runtime: {e}"),
            )
        }
    };
    let export = match runtime.block_on(app::export(settings, options)) {
        Ok(export) => export,
        Err(e) => return fail(Some(settings), exit::run_error_code(&e), &e.to_string()),
    };
    let Some(dir) = out_dir else {
        print!("{}", render_single(&export));
        return ExitCode::from(EXIT_OK);
    };
    if let Err(e) = std::fs::create_dir_all(dir) {
        return fail(
            Some(settings),
            EXIT_INVALID,
            &format!("cannot create {}: {e}", dir.display()),
        );
    }
    for (name, text) in render_dir(&export) {
        let path: PathBuf = dir.join(&name);
        if let Err(e) = std::fs::write(&path, text) {
            return fail(
                Some(settings),
                EXIT_INVALID,
                &format!("cannot write {}: {e}", path.display()),
            );
        }
        eprintln!("wrote {}", path.display());
    }
    ExitCode::from(EXIT_OK)
}
