//! System sections: plugin catalog entries and audit devices.

use serde::Deserialize;

use crate::plan::{LoadedPlan, PlanError};

use super::Fields;

/// A plugin catalog entry (`sys/plugins/catalog/<type>/<name>`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plugin {
    pub sha256: String,
    pub command: String,
    pub version: Option<String>,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: Vec<String>,
}

/// An audit device (`sys/audit/<path>`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditDevice {
    #[serde(rename = "type")]
    pub kind: String,
    pub description: Option<String>,
    #[serde(default)]
    pub options: Fields,
    #[serde(default)]
    pub local: bool,
}

/// Checks of this section that need no network (validation).
pub(in crate::plan) fn validate_system(_loaded: &LoadedPlan) -> Result<(), PlanError> {
    Ok(())
}
