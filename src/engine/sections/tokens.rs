//! Builds the managed tokens (`tokens:`), converged with the KV fixtures.

use super::object_id;
use crate::plan::LoadedPlan;
use crate::resources::token::TokenResource;
use crate::resources::{deps, Kind, Resource};

pub(in crate::engine) fn tokens(loaded: &LoadedPlan) -> Vec<Box<dyn Resource>> {
    let plan = &loaded.plan;
    plan.tokens
        .iter()
        .map(|(name, spec)| {
            // A planned policy that failed would make the mint fail too.
            let needs = spec
                .policies
                .iter()
                .filter(|p| plan.policies.contains_key(*p))
                .map(|p| deps::policy(p))
                .collect();
            Box::new(TokenResource {
                id: object_id(
                    loaded,
                    Kind::Token,
                    crate::resources::token::path_of(name),
                    &["tokens", name],
                    format!("token:{name}"),
                    needs,
                ),
                name: name.clone(),
                spec: spec.clone(),
            }) as Box<dyn Resource>
        })
        .collect()
}
