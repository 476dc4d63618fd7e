//! `pki:` — CAs generated once, URLs, CRL settings and roles per pki mount,
//! and the `pki_issue` verify check.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::plan::{LoadedPlan, PlanError};

use super::Fields;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PkiMount {
    /// Generated once (`<mount>/root/generate/<type>`).
    pub root: Option<Fields>,
    /// Generated once: CSR here, signed by the mount `signed_by`, set here.
    pub intermediate: Option<Fields>,
    /// `<mount>/config/urls`.
    pub urls: Option<Fields>,
    /// `<mount>/config/crl`.
    pub crl: Option<Fields>,
    /// `<mount>/roles/<name>`.
    #[serde(default)]
    pub roles: BTreeMap<String, Fields>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PkiIssueCheck {
    pub mount: String,
    pub role: String,
    pub common_name: String,
}

/// Checks of this section that need no network (validation).
pub(in crate::plan) fn validate_pki(_loaded: &LoadedPlan) -> Result<(), PlanError> {
    Ok(())
}
