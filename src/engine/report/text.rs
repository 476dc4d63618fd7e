//! The report for people: one line per object that changed (all of them
//! with `--verbose`), its field changes, then the checks and a summary with
//! correct plurals. Coloured only on a terminal and never with `NO_COLOR`.

use std::fmt::Write as _;

use super::{ObjectReport, Report};
use crate::resources::Action;
use crate::secret::scrub;

/// How the text report looks.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextStyle {
    /// List unchanged objects too.
    pub verbose: bool,
    /// ANSI colours (a terminal, and `NO_COLOR` unset).
    pub color: bool,
}

impl TextStyle {
    /// Colour when `stdout` is a terminal and `NO_COLOR` is unset or empty
    /// (https://no-color.org).
    pub fn for_stdout(verbose: bool) -> TextStyle {
        use std::io::IsTerminal;
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        TextStyle {
            verbose,
            color: std::io::stdout().is_terminal() && !no_color,
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

const GREEN: &str = "32";
const YELLOW: &str = "33";
const RED: &str = "31";
const CYAN: &str = "36";
const DIM: &str = "2";
const BOLD: &str = "1";

/// `1 change`, `2 changes`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Objects' lines are scrubbed and written in batches of about this many
/// bytes: a report of 30,000 objects is never held as one text (twice, with
/// its scrubbed copy: +11 MB peak at W(10000)).
const BATCH_BYTES: usize = 64 * 1024;

/// Writes the report. A batch ends only between objects, so a secret in one
/// object's lines (a value can span lines) is always scrubbed whole.
pub(super) fn write(
    report: &Report,
    style: &TextStyle,
    sink: &mut impl std::io::Write,
) -> std::io::Result<()> {
    let mut out = String::new();
    for o in &report.objects {
        if o.action == Action::Unchanged && !style.verbose {
            continue;
        }
        object(&mut out, o, style);
        if out.len() >= BATCH_BYTES {
            sink.write_all(scrub(&out).as_bytes())?;
            out.clear();
        }
    }
    for c in &report.verify {
        let (symbol, color) = match (c.passed, c.skipped) {
            (true, _) => ("✓", GREEN),
            (false, true) => ("-", DIM),
            (false, false) => ("✗", RED),
        };
        let _ = write!(
            out,
            "{} verify {} {}",
            style.paint(color, symbol),
            c.check,
            c.target
        );
        if let Some(loc) = &c.location {
            let _ = write!(out, "  ({loc})");
        }
        out.push('\n');
        if let Some(message) = &c.message {
            let _ = writeln!(out, "    {message}");
        }
    }
    if let Some(n) = report.unowned.filter(|n| *n > 0) {
        let _ = writeln!(
            out,
            "note: {} existed before and {} not owned by this instance: converged, but never pruned (apply --adopt records them)",
            plural(n, "planned object"),
            if n == 1 { "is" } else { "are" }
        );
    }
    if let Some(refused) = &report.prune_refused {
        let _ = writeln!(out, "{} prune refused: {refused}", style.paint(RED, "✗"));
    }
    let _ = writeln!(out, "{}", style.paint(BOLD, &summary(report)));
    sink.write_all(scrub(&out).as_bytes())
}

fn object(out: &mut String, o: &ObjectReport, style: &TextStyle) {
    let (symbol, verb, color) = match o.action {
        Action::Create => ("+", "create", GREEN),
        Action::Update => ("~", "update", YELLOW),
        Action::Synced => ("↻", "synced", CYAN),
        Action::Renewed => ("↻", "renewed", CYAN),
        Action::Unchanged => ("=", "unchanged", DIM),
        Action::Failed => ("✗", "failed", RED),
        Action::Skipped => ("-", "skipped", DIM),
        Action::Delete => ("-", "delete", RED),
    };
    let _ = write!(
        out,
        "{} {} {}",
        style.paint(color, &format!("{symbol} {verb}")),
        o.kind_label(),
        o.path
    );
    if let Some(loc) = &o.location {
        let _ = write!(out, "  ({loc})");
    }
    out.push('\n');
    for c in &o.changes {
        let _ = match (&c.old, &c.new) {
            (Some(old), Some(new)) => writeln!(out, "    {}: {old} → {new}", c.field),
            (None, Some(new)) => writeln!(out, "    + {}: {new}", c.field),
            (Some(old), None) => writeln!(out, "    - {}: {old}", c.field),
            (None, None) => writeln!(out, "    {}", c.field),
        };
    }
    if !o.write_only.is_empty() {
        let _ = writeln!(
            out,
            "    write-only, not compared: {}",
            o.write_only.join(", ")
        );
    }
    for warning in &o.warnings {
        let _ = writeln!(out, "    {} {warning}", style.paint(YELLOW, "warning:"));
    }
    if let Some(error) = &o.error {
        let _ = writeln!(out, "    {} {error}", style.paint(RED, "error:"));
    }
    if let Some(hint) = &o.hint {
        let _ = writeln!(out, "    hint: {hint}");
    }
}

/// `3 changes (1 created, 2 updated, 9 unchanged, 0 failed); 2 checks (2 passed, 0 failed) on <addr>`.
fn summary(report: &Report) -> String {
    let s = &report.summary;
    let mut parts = vec![
        format!("{} created", s.created),
        format!("{} updated", s.updated),
    ];
    for (n, word) in [
        (s.deleted, "deleted"),
        (s.synced, "synced"),
        (s.renewed, "renewed"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {word}"));
        }
    }
    parts.push(format!("{} unchanged", s.unchanged));
    parts.push(format!("{} failed", s.failed));
    if s.skipped > 0 {
        parts.push(format!("{} skipped", s.skipped));
    }
    let checks = report.verify.len();
    let mut line = format!(
        "{} ({}); {} ({} passed, {} failed{})",
        plural(s.changes, "change"),
        parts.join(", "),
        plural(checks, "check"),
        s.verify_passed,
        s.verify_failed,
        if s.verify_skipped > 0 {
            format!(", {} skipped", s.verify_skipped)
        } else {
            String::new()
        }
    );
    if let Some(addr) = &report.vault_addr {
        let _ = write!(line, " on {addr}");
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_singular_or_plural() {
        assert_eq!(plural(0, "change"), "0 changes");
        assert_eq!(plural(1, "change"), "1 change");
        assert_eq!(plural(2, "check"), "2 checks");
    }

    /// Batches end between objects: a secret in a value that spans lines is
    /// scrubbed in every object of a report many batches long.
    #[test]
    fn a_large_report_is_scrubbed_in_every_batch() {
        use crate::resources::{compare::FieldChange, Kind, ObjectId};
        let secret = "multi-line\nsecret-5b1f0c2e";
        crate::secret::register(secret);
        let mut report = Report::new("apply");
        for i in 0..2000 {
            let id = ObjectId {
                kind: Kind::KvSecret,
                path: format!("app/data/svc-{i:04}"),
                loc: None,
                provides: None,
                needs: Vec::new(),
            };
            let mut object = ObjectReport::new(&id, Action::Update);
            object.changes.push(FieldChange {
                field: "password".into(),
                old: Some(format!("padding {} {secret}", "x".repeat(i % 50))),
                new: None,
            });
            report.objects.push(object);
        }
        let mut out = Vec::new();
        write(&report, &TextStyle::default(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.len() > 2 * BATCH_BYTES, "{} bytes", text.len());
        assert_eq!(text.matches("app/data/svc-").count(), 2000);
        assert!(!text.contains("secret-5b1f0c2e"));
        assert_eq!(text.matches(crate::secret::REDACTED).count(), 2000);
    }

    #[test]
    fn colour_only_when_asked() {
        let plain = TextStyle {
            verbose: false,
            color: false,
        };
        let coloured = TextStyle {
            verbose: false,
            color: true,
        };
        assert_eq!(plain.paint(GREEN, "+ create"), "+ create");
        assert_eq!(coloured.paint(GREEN, "+ create"), "\x1b[32m+ create\x1b[0m");
    }
}
