//! Builds the second stage: ACL policies (named in lower case, as Vault
//! stores them) and password policies.

use super::object_id;
use crate::engine::needs::accessor_needs;
use crate::plan::{LoadedPlan, PolicySource};
use crate::resources::policy::{PolicyResource, LIST_PATH, PASSWORD_LIST_PATH};
use crate::resources::{deps, Kind, Resource};

/// ACL policies and password policies. ACL policies move out of the plan
/// into their resources (a run reads them nowhere else once the tokens that
/// name them are built).
pub(in crate::engine) fn policies(loaded: &mut LoadedPlan) -> Vec<Box<dyn Resource>> {
    let acl = std::mem::take(&mut loaded.plan.policies);
    let loaded = &*loaded;
    let plan = &loaded.plan;
    let mut policies: Vec<Box<dyn Resource>> = Vec::new();
    for (name, source) in acl {
        // Vault stores ACL policy names in lower case.
        let stored = name.to_lowercase();
        let needs = match &source {
            PolicySource::Inline(text) => accessor_needs(text),
            PolicySource::File { .. } => Vec::new(),
        };
        policies.push(Box::new(PolicyResource {
            id: object_id(
                loaded,
                Kind::Policy,
                [LIST_PATH, "/", &stored].concat(),
                &["policies", &name],
                deps::policy(&stored),
                needs,
            ),
            collection: LIST_PATH,
            name: stored,
            source,
        }));
    }
    for (name, p) in &plan.password_policies {
        policies.push(Box::new(PolicyResource {
            id: object_id(
                loaded,
                Kind::PasswordPolicy,
                [PASSWORD_LIST_PATH, "/", name].concat(),
                &["password_policies", name],
                deps::password_policy(name),
                Vec::new(),
            ),
            collection: PASSWORD_LIST_PATH,
            name: name.clone(),
            source: p.policy.clone(),
        }));
    }
    policies
}
