//! The fields an object writes, as the unknown-fields check sees them
//! (DESIGN.md "Unknown parameters"): their names, the Vault path they go
//! to, where the plan sets them and the planned mount they live under.
//!
//! Kept small: a plan of 10,000 roles holds one per role for the whole
//! run, so a place is a `PathKey` (looked up only for an error) and the
//! names are the object's own field list when it has one.

use std::sync::Arc;

use crate::plan::PathKey;

/// A planned mount (`auth/k8s` or `app`) and its type, for a check before
/// the mount exists. One per mount, shared by the objects under it.
#[derive(Debug)]
pub struct PlannedMount {
    pub path: String,
    pub kind: String,
}

impl PlannedMount {
    pub fn new(path: impl Into<String>, kind: impl Into<String>) -> Arc<PlannedMount> {
        Arc::new(PlannedMount {
            path: path.into(),
            kind: kind.into(),
        })
    }
}

/// Where an object's fields are declared (each field is a key below
/// `at`) and the planned mount above them.
#[derive(Debug, Clone)]
pub struct FieldsAt {
    pub at: PathKey,
    pub mount: Option<Arc<PlannedMount>>,
}

/// Fields checked at a path of their own (a mount's tune, a CA's generate
/// call): names and path kept with the place.
#[derive(Debug)]
pub struct FieldSet {
    pub path: String,
    pub names: Box<[Box<str>]>,
    pub place: FieldsAt,
}

impl FieldSet {
    pub fn view(&self) -> CheckedFields<'_> {
        CheckedFields {
            path: &self.path,
            names: self.names.iter().map(|n| &**n).collect(),
            place: &self.place,
        }
    }
}

/// What the check reads of one object, borrowed from it.
pub struct CheckedFields<'a> {
    pub path: &'a str,
    pub names: Vec<&'a str>,
    pub place: &'a FieldsAt,
}
