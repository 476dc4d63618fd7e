//! Builds the first stage: secrets engines (`mounts`) and auth methods
//! (`auth`, with their tune settings), which everything else is written under.

use super::system::plugin_needs;
use super::{field_set, object_id, trim};
use crate::paths::auth::TOKEN_METHOD;
use crate::plan::model::Fields;
use crate::plan::LoadedPlan;
use crate::resources::mount::{MountResource, MountSpec, Table};
use crate::resources::{deps, Kind, Resource};

/// Secrets engines (`mounts`) and auth methods (`auth`).
pub(in crate::engine) fn mounts_and_auth_methods(loaded: &LoadedPlan) -> Vec<Box<dyn Resource>> {
    let plan = &loaded.plan;
    let mut mounts: Vec<Box<dyn Resource>> = Vec::new();
    for (path, m) in &plan.mounts {
        let path = trim(path);
        let mut mount = MountResource::new(
            object_id(
                loaded,
                Kind::Mount,
                format!("sys/mounts/{path}"),
                &["mounts", &path],
                deps::mount(&path),
                plugin_needs(plan, "secret", &m.kind),
            ),
            Table::SecretEngines,
            &path,
            MountSpec {
                kind: m.kind.clone(),
                description: m.description.clone(),
                options: m.options.clone(),
                config: m.config.clone(),
                upgrade: m.upgrade,
            },
        );
        mount.catalog_check = !plan.plugins.contains_key(&format!("secret/{}", m.kind));
        mount.check = field_set(
            &format!("sys/mounts/{path}/tune"),
            &m.config,
            &["mounts", &path, "config"],
            None,
        );
        mounts.push(Box::new(mount));
    }
    for (path, a) in &plan.auth {
        let path = trim(path);
        // The builtin token method exists on every server: only its tune is ours.
        if a.kind == TOKEN_METHOD && a.tune.is_empty() {
            continue;
        }
        let mut method = MountResource::new(
            object_id(
                loaded,
                Kind::AuthMethod,
                format!("sys/auth/{path}"),
                &["auth", &path],
                deps::auth(&path),
                plugin_needs(plan, "auth", &a.kind),
            ),
            Table::AuthMethods,
            &path,
            MountSpec {
                kind: a.kind.clone(),
                description: a.description.clone(),
                options: Fields::new(),
                config: a.tune.clone(),
                upgrade: false,
            },
        );
        method.catalog_check = !plan.plugins.contains_key(&format!("auth/{}", a.kind));
        method.check = field_set(
            &format!("sys/auth/{path}/tune"),
            &a.tune,
            &["auth", &path, "tune"],
            None,
        );
        mounts.push(Box::new(method));
    }
    mounts
}
