//! Plan → ordered stages of resources (DESIGN.md "Order and dependencies"):
//! mounts and auth methods → policies and password policies → auth config,
//! roles, users and database connections → database roles → KV fixtures →
//! `writes`, one after another in plan order. Each object names the objects
//! it depends on, so a failure skips only what needs it.

use super::sections;
use crate::plan::LoadedPlan;
use crate::resources::Resource;

pub struct Stage {
    pub name: &'static str,
    pub resources: Vec<Box<dyn Resource>>,
    /// Run one after another in plan order (`writes`: a later one may need an earlier one).
    pub sequential: bool,
}

impl Stage {
    fn new(name: &'static str, resources: Vec<Box<dyn Resource>>) -> Stage {
        Stage {
            name,
            resources,
            sequential: false,
        }
    }
}

pub fn stages(loaded: &LoadedPlan) -> Vec<Stage> {
    let mut config = sections::auth_config_roles_users(loaded);
    config.extend(sections::database_connections(loaded));
    vec![
        Stage::new(
            "mounts and auth methods",
            sections::mounts_and_auth_methods(loaded),
        ),
        Stage::new("policies and password policies", sections::policies(loaded)),
        Stage::new("auth config, roles, users and database connections", config),
        Stage::new("database roles", sections::database_roles(loaded)),
        Stage::new("kv fixtures", sections::kv_fixtures(loaded)),
        Stage {
            sequential: true,
            ..Stage::new("writes", sections::writes(loaded))
        },
    ]
}
