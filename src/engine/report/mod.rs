//! The run's report: one entry per object and per check, a summary, request
//! counts and timings; rendered as text lines or as one JSON document.

use serde::Serialize;

use crate::resources::{Action, FailureClass, FieldChange, Kind, ObjectId};
use crate::vault::RequestCounts;

mod json_layout;
mod text;

pub use text::{plural, TextStyle};

#[derive(Debug, Clone, Serialize)]
pub struct ObjectReport {
    pub kind: Kind,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Place>,
    pub action: Action,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Planned fields that could not be compared (Vault does not return them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub write_only: Vec<String>,
    /// Warnings Vault returned for the object's writes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// For a failed object: which exit code its failure calls for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<FailureClass>,
}

/// Where the plan declares an object: `file:line`, kept as its parts (a
/// report of 30,000 objects would otherwise hold 30,000 more strings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    file: std::sync::Arc<str>,
    line: u32,
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

impl Serialize for Place {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl ObjectReport {
    pub fn new(id: &ObjectId, action: Action) -> ObjectReport {
        ObjectReport {
            kind: id.kind,
            path: id.path.clone(),
            location: id.loc.as_ref().map(|l| Place {
                file: l.file.clone(),
                line: l.line,
            }),
            action,
            changes: Vec::new(),
            error: None,
            hint: None,
            write_only: Vec::new(),
            warnings: Vec::new(),
            failure: None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub check: String,
    pub target: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    pub passed: bool,
    /// Not run: it uses an object that failed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub skipped: bool,
    /// It could not run: Vault unreachable or unavailable, or the job's
    /// token refused (a retry can help), as opposed to a wrong answer.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub could_not_run: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub changes: usize,
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
    pub synced: usize,
    pub renewed: usize,
    pub unchanged: usize,
    pub failed: usize,
    pub skipped: usize,
    pub verify_passed: usize,
    pub verify_failed: usize,
    pub verify_skipped: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct StageTiming {
    pub stage: &'static str,
    pub objects: usize,
    pub ms: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Timings {
    pub total_ms: u64,
    /// Reading the server's API description and checking the plan's fields.
    pub fields_check_ms: u64,
    pub stages: Vec<StageTiming>,
    pub verify_ms: u64,
}

/// What `validate` found in the plan.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct PlanSize {
    pub objects: usize,
    pub checks: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub command: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanSize>,
    pub summary: Summary,
    pub objects: Vec<ObjectReport>,
    pub verify: Vec<CheckReport>,
    /// Requests made to converge objects: a rerun of an unchanged plan shows 0 writes.
    pub requests: RequestCounts,
    /// The server the run talked to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vault_addr: Option<String>,
    /// Requests made by verify checks (token creation, lease revocation), counted apart.
    pub verify_requests: RequestCounts,
    pub timings: Timings,
    /// Planned objects that exist but this instance does not own (created
    /// before its first run, or by hand): converged, never pruned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unowned: Option<usize>,
    /// Why the prune was refused (more deletions than allowed); nothing was deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prune_refused: Option<String>,
}

impl Report {
    pub fn new(command: &'static str) -> Report {
        Report {
            command,
            plan: None,
            summary: Summary::default(),
            objects: Vec::new(),
            verify: Vec::new(),
            requests: RequestCounts::default(),
            vault_addr: None,
            verify_requests: RequestCounts::default(),
            timings: Timings::default(),
            unowned: None,
            prune_refused: None,
        }
    }

    pub fn summarize(&mut self) {
        let mut s = Summary::default();
        for o in &self.objects {
            match o.action {
                Action::Create => s.created += 1,
                Action::Update => s.updated += 1,
                Action::Synced => s.synced += 1,
                Action::Renewed => s.renewed += 1,
                Action::Unchanged => s.unchanged += 1,
                Action::Failed => s.failed += 1,
                Action::Skipped => s.skipped += 1,
                Action::Delete => s.deleted += 1,
            }
        }
        s.changes = s.created + s.updated + s.deleted;
        s.verify_passed = self.verify.iter().filter(|c| c.passed).count();
        s.verify_skipped = self.verify.iter().filter(|c| c.skipped).count();
        s.verify_failed = self.verify.len() - s.verify_passed - s.verify_skipped;
        self.summary = s;
    }

    /// The report for people (see `text`), scrubbed as it is written.
    pub fn write_text(
        &self,
        style: &TextStyle,
        out: &mut impl std::io::Write,
    ) -> std::io::Result<()> {
        text::write(self, style, out)
    }

    /// The report as JSON (see `json_layout`: one line per object), scrubbed
    /// line by line as it is written: a large report is never held as text
    /// (a newline inside a JSON string is escaped, so no secret spans two lines).
    pub fn write_json(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        // Plain strings and numbers: serializing cannot fail, and must not
        // panic; an I/O error is the only error.
        let serialized = crate::secret::write_scrubbed(out, |lines| {
            json_layout::to_writer(&mut *lines, self)
                .and_then(|()| lines.write_all(b"\n").map_err(serde_json::Error::io))
        })?;
        if let Err(e) = serialized {
            if let Some(kind) = e.io_error_kind() {
                return Err(kind.into());
            }
            let note =
                serde_json::json!({ "error": format!("the report could not be serialized: {e}") });
            let text = format!("\n{note}\n");
            out.write_all(crate::secret::scrub(&text).as_bytes())?;
            out.flush()?;
        }
        Ok(())
    }
}

impl ObjectReport {
    pub fn kind_label(&self) -> &'static str {
        self.kind.label()
    }
}
