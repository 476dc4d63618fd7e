//! How a failure is told: one scrubbed sentence as the last stderr line and
//! in the termination-message file (DESIGN.md "Exit codes"), for panics too.
//! Depends on the library alone, so the tests can compile it as well.

use std::any::Any;
use std::io::Write;
use std::path::PathBuf;

use vault_converge::secret::scrub;
use vault_converge::settings::Settings;

/// Prints `error: SENTENCE` to stderr and writes the sentence to the
/// termination-message file; returns the sentence as written.
pub fn tell(settings: Option<&Settings>, message: &str) -> String {
    let sentence = scrub(message)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let _ = writeln!(std::io::stderr(), "error: {sentence}");
    if let Some(path) = termination_log(settings) {
        let _ = std::fs::write(path, format!("{sentence}\n"));
    }
    sentence
}

/// The setting, else the variable itself (settings may not have loaded),
/// else the Kubernetes default /dev/termination-log when it is writable.
pub fn termination_log(settings: Option<&Settings>) -> Option<PathBuf> {
    let configured = settings
        .and_then(|s| s.termination_log.clone())
        .or_else(|| {
            std::env::var_os("VAULT_CONVERGE_TERMINATION_LOG")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        });
    configured.or_else(|| {
        let default = PathBuf::from("/dev/termination-log");
        let writable = std::fs::OpenOptions::new().append(true).open(&default);
        writable.is_ok().then_some(default)
    })
}

/// Installed first thing in `main`, before settings exist.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info.location().map(|l| (l.file(), l.line()));
        tell(None, &panic_sentence(info.payload(), location));
    }));
}

/// A panic is a bug: say so, and where. `tell` scrubs it, because panic
/// texts can quote values (`called unwrap() on Err("...")`).
pub fn panic_sentence(payload: &(dyn Any + Send), location: Option<(&str, u32)>) -> String {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned());
    let at = location
        .map(|(file, line)| format!(" (at {file}:{line})"))
        .unwrap_or_default();
    format!("internal error: {message}{at}; please report it")
}
