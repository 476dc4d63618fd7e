//! Builds the identity sections (to be filled in).

use crate::plan::LoadedPlan;
use crate::resources::Resource;

pub(in crate::engine) fn identity_entities_and_groups(
    _loaded: &LoadedPlan,
) -> Vec<Box<dyn Resource>> {
    Vec::new()
}

pub(in crate::engine) fn identity_aliases(_loaded: &LoadedPlan) -> Vec<Box<dyn Resource>> {
    Vec::new()
}
