//! Builds the system sections (to be filled in).

use crate::plan::LoadedPlan;
use crate::resources::Resource;

pub(in crate::engine) fn plugins(_loaded: &LoadedPlan) -> Vec<Box<dyn Resource>> {
    Vec::new()
}

pub(in crate::engine) fn namespaces(_loaded: &LoadedPlan) -> Vec<Box<dyn Resource>> {
    Vec::new()
}
