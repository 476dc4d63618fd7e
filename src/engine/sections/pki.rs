//! Builds the pki sections (to be filled in).

use crate::plan::LoadedPlan;
use crate::resources::Resource;

pub(in crate::engine) fn pki_cas(_loaded: &LoadedPlan) -> Vec<Box<dyn Resource>> {
    Vec::new()
}

pub(in crate::engine) fn pki_roles(_loaded: &LoadedPlan) -> Vec<Box<dyn Resource>> {
    Vec::new()
}
