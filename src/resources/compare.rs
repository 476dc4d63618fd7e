//! Normalized comparison: what Vault stores differs in form from what a plan
//! says (`1h` vs 3600, `"a,b"` vs `["a","b"]`, `"true"` vs true, list order of
//! sets). Only the fields the plan sets are compared; Vault's defaults for the
//! rest are left alone.

use serde_json::Value as Json;

use crate::duration::duration_secs;
use crate::secret::{is_secret_name, REDACTED};
pub use crate::sources::resolve::Planned;

/// Lists whose order Vault preserves and acts on (SQL runs in order).
const ORDERED_LISTS: [&str; 6] = [
    "creation_statements",
    "revocation_statements",
    "rollback_statements",
    "renew_statements",
    "rotation_statements",
    "root_rotation_statements",
];

/// Lists of policy names: Vault stores policy names in lower case.
const POLICY_LISTS: [&str; 6] = [
    "policies",
    "token_policies",
    "allowed_policies",
    "disallowed_policies",
    "allowed_policies_glob",
    "disallowed_policies_glob",
];

/// One field that differs, rendered for the report (already redacted).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldChange {
    pub field: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
}

/// Planned fields compared with what Vault returned.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    pub changes: Vec<FieldChange>,
    /// Planned fields Vault does not return (passwords, JWTs, ...): they
    /// cannot be compared, so they are sent with any other change, or on
    /// every run with `sync: always`.
    pub write_only: Vec<String>,
}

/// Compares planned fields with what Vault returned. Only planned fields are
/// compared; one Vault does not return at all is write-only.
pub fn compare_fields<'a>(
    planned: impl IntoIterator<Item = (&'a String, &'a Planned)>,
    current: &Json,
) -> Comparison {
    let mut out = Comparison::default();
    for (name, want) in planned {
        let hidden = hidden(name, want);
        match current.get(name.as_str()) {
            None | Some(Json::Null) if is_empty(&want.value) => {}
            None | Some(Json::Null) => out.write_only.push(name.clone()),
            Some(have) => {
                if !equivalent(name, &want.value, have) {
                    out.changes.push(FieldChange {
                        field: name.clone(),
                        old: Some(render(have, hidden)),
                        new: Some(render(&want.value, hidden)),
                    });
                }
            }
        }
    }
    out
}

/// Every planned field as the report shows a new object.
pub fn created_fields<'a>(
    planned: impl IntoIterator<Item = (&'a String, &'a Planned)>,
) -> Vec<FieldChange> {
    planned
        .into_iter()
        .map(|(name, want)| FieldChange {
            field: name.clone(),
            old: None,
            new: Some(render(&want.value, hidden(name, want))),
        })
        .collect()
}

/// Whether a planned field's value must not be shown: it came from a source,
/// or it is text in a secret-named field (a flag like `disable_local_ca_jwt: true` is not).
pub fn hidden(name: &str, planned: &Planned) -> bool {
    planned.sensitive || (is_secret_name(name) && !is_flag_or_number(&planned.value))
}

fn is_flag_or_number(value: &Json) -> bool {
    matches!(value, Json::Bool(_) | Json::Number(_))
}

/// Renders a value for the report, or `<redacted>`. Multi-line text (a
/// certificate, a policy) is summarized rather than spilled across the report.
pub fn render(value: &Json, hidden: bool) -> String {
    if hidden {
        return REDACTED.to_owned();
    }
    match value {
        Json::String(s) if s.trim_end().contains('\n') => {
            let first = s.lines().next().unwrap_or("");
            format!("{first}… ({} lines)", s.trim_end().lines().count())
        }
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn is_empty(value: &Json) -> bool {
    match value {
        Json::Null => true,
        Json::String(s) => s.is_empty(),
        Json::Array(a) => a.is_empty(),
        Json::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// Whether the planned value `want` means the same as Vault's `have`.
pub fn equivalent(field: &str, want: &Json, have: &Json) -> bool {
    if want == have {
        return true;
    }
    match (want, have) {
        (Json::Object(w), Json::Object(h)) => w.iter().all(|(k, wv)| match h.get(k) {
            Some(hv) => equivalent(k, wv, hv),
            None => is_empty(wv),
        }),
        (_, Json::Array(h)) => {
            let Some(mut w) = as_list(field, want) else {
                return false;
            };
            if POLICY_LISTS.contains(&field) {
                for item in &mut w {
                    if let Json::String(s) = item {
                        *s = s.to_lowercase();
                    }
                }
            }
            if w.len() != h.len() {
                return false;
            }
            if ORDERED_LISTS.contains(&field) {
                w.iter().zip(h).all(|(a, b)| scalar_eq(a, b))
            } else {
                let mut used = vec![false; h.len()];
                w.iter().all(|a| {
                    let found = h
                        .iter()
                        .enumerate()
                        .position(|(i, b)| !used[i] && scalar_eq(a, b));
                    found.map(|i| used[i] = true).is_some()
                })
            }
        }
        (Json::Array(_), _) | (Json::Object(_), _) | (_, Json::Object(_)) => false,
        (Json::Null, _) => is_empty(have),
        _ => scalar_eq(want, have),
    }
}

/// A planned list, or a string Vault would turn into one: comma-separated,
/// except for statement lists, where a string is one statement.
fn as_list(field: &str, value: &Json) -> Option<Vec<Json>> {
    match value {
        Json::String(_) if ORDERED_LISTS.contains(&field) => Some(vec![value.clone()]),
        Json::Array(items) => Some(items.clone()),
        Json::Null => Some(Vec::new()),
        Json::String(s) if s.trim().is_empty() => Some(Vec::new()),
        Json::String(s) => Some(
            s.split(',')
                .map(|part| Json::String(part.trim().to_owned()))
                .collect(),
        ),
        _ => None,
    }
}

/// Scalars compared after normalization: numbers vs numeric strings,
/// booleans vs "true"/"false", durations vs seconds.
fn scalar_eq(want: &Json, have: &Json) -> bool {
    if want == have {
        return true;
    }
    match (want, have) {
        (Json::String(w), Json::String(h)) => {
            w.trim_end() == h.trim_end()
                || matches!((duration_secs(w), duration_secs(h)), (Some(a), Some(b)) if a == b)
        }
        (Json::String(w), Json::Number(h)) | (Json::Number(h), Json::String(w)) => {
            match (duration_secs(w), h.as_f64()) {
                (Some(a), Some(b)) => a as f64 == b,
                _ => false,
            }
        }
        (Json::String(w), Json::Bool(h)) | (Json::Bool(h), Json::String(w)) => {
            w.parse::<bool>().ok() == Some(*h)
        }
        (Json::Number(w), Json::Number(h)) => w.as_f64() == h.as_f64(),
        _ => false,
    }
}

/// Policy HCL without insignificant whitespace: whitespace outside string
/// literals is dropped, so re-indenting or trailing newlines are not a diff.
pub fn normalize_hcl(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
#[path = "compare_tests.rs"]
mod tests;
