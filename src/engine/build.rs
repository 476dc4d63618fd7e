//! Plan → ordered stages of resources (DESIGN.md "Order and dependencies"):
//! plugins → namespaces → mounts, auth methods and audit devices → policies
//! and password policies → auth config, tune, roles, users, database
//! connections and PKI CAs (intermediates in stages right after, each after
//! the CA that signs it) → database roles, PKI roles, identity entities and
//! groups → identity aliases → KV fixtures and tokens → `writes`, one after another in
//! plan order. Each object names the objects
//! it depends on, so a failure skips only what needs it.

use super::sections;
use crate::plan::LoadedPlan;
use crate::resources::Resource;

pub struct Stage {
    pub name: &'static str,
    /// Empty once the stage ran and released them (`ran` then lists them,
    /// when kept).
    pub resources: Vec<Box<dyn Resource>>,
    /// Run one after another in plan order (`writes`: a later one may need an earlier one).
    pub sequential: bool,
    /// The objects of a stage that ran, after `release`.
    ran: Vec<RanObject>,
}

/// What the steps after converge (prune) need of an object whose resource
/// was freed: its path, and whether it is recorded for ownership.
struct RanObject {
    path: String,
    recorded: bool,
}

impl Stage {
    fn new(name: &'static str, resources: Vec<Box<dyn Resource>>) -> Stage {
        Stage {
            name,
            resources,
            sequential: false,
            ran: Vec::new(),
        }
    }

    /// Frees the resources of a stage that ran: on a large plan they are
    /// most of what a run holds, and later stages and the report no longer
    /// need their fields. `keep_objects`: prune will ask for their paths
    /// (only when ownership is tracked: building the list costs 2–9 ms at
    /// 10,000 objects).
    pub fn release(&mut self, keep_objects: bool) {
        let resources = std::mem::take(&mut self.resources);
        if keep_objects {
            self.ran.extend(resources.iter().map(|r| RanObject {
                recorded: r.ownership().is_some(),
                path: r.id().path.clone(),
            }));
        }
        crate::free::free_elsewhere(resources);
    }

    /// Every object of the stage, released or not: its Vault path and
    /// whether it is recorded for ownership.
    pub fn objects(&self) -> impl Iterator<Item = (&str, bool)> {
        let ran = self.ran.iter().map(|o| (o.path.as_str(), o.recorded));
        let pending = self
            .resources
            .iter()
            .map(|r| (r.id().path.as_str(), r.ownership().is_some()));
        ran.chain(pending)
    }
}

/// The stages of `loaded`. The plan's bulk sections (ACL policies, auth
/// roles, users, groups, certs and paths, KV fixtures) move into their
/// resources, so no object is held twice; a run reads them nowhere else.
pub fn stages(loaded: &mut LoadedPlan) -> Vec<Stage> {
    let mut first = sections::mounts_and_auth_methods(loaded);
    first.extend(sections::audit_devices(loaded));
    // Tokens name the planned policies they need: built before those move.
    let tokens = sections::tokens(loaded);
    let mut policies = sections::policies(loaded);
    policies.extend(sections::audit_request_headers(loaded));
    let mut config = sections::auth_config_roles_users(loaded);
    config.extend(sections::database_connections(loaded));
    config.extend(sections::pki_cas(loaded));
    let mut roles = sections::database_roles(loaded);
    roles.extend(sections::pki_roles(loaded));
    roles.extend(sections::identity_entities_and_groups(loaded));
    let mut kv_and_tokens = sections::kv_fixtures(loaded);
    kv_and_tokens.extend(tokens);
    let mut stages = vec![
        Stage::new("plugins", sections::plugins(loaded)),
        Stage::new("namespaces", sections::namespaces(loaded)),
        Stage::new("mounts, auth methods and audit devices", first),
        Stage::new("policies and password policies", policies),
        Stage::new(
            "auth config, tune, roles, users, database connections and pki CAs",
            config,
        ),
    ];
    // Each after the CA that signs it (see sections/pki.rs); none without intermediates.
    for level in sections::pki_intermediates(loaded) {
        stages.push(Stage::new("pki intermediate CAs", level));
    }
    stages.extend([
        Stage::new(
            "database roles, pki roles, identity entities and groups",
            roles,
        ),
        Stage::new("identity aliases", sections::identity_aliases(loaded)),
        Stage::new("kv fixtures and tokens", kv_and_tokens),
        Stage {
            sequential: true,
            ..Stage::new("writes", sections::writes(loaded))
        },
    ]);
    stages
}
