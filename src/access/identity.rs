//! Grants for identity entities, groups and aliases.

use super::policy::Grants;
use crate::plan::model::Plan;

pub(super) fn grants(_plan: &Plan, _g: &mut Grants) {}
