//! Grants for PKI mounts and the pki_issue check.

use super::policy::Grants;
use crate::plan::model::Plan;

pub(super) fn grants(_plan: &Plan, _g: &mut Grants) {}
