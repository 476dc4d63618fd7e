//! Builds the audit sections (to be filled in).

use crate::plan::LoadedPlan;
use crate::resources::Resource;

pub(in crate::engine) fn audit_devices(_loaded: &LoadedPlan) -> Vec<Box<dyn Resource>> {
    Vec::new()
}

pub(in crate::engine) fn audit_request_headers(_loaded: &LoadedPlan) -> Vec<Box<dyn Resource>> {
    Vec::new()
}
