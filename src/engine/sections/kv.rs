//! Builds the KV fixtures stage: the path carries `data/` unless the plan
//! declares the mount KV version 1.

use super::{object_id, trim};
use crate::engine::needs::{declared_kv_version, generate_policy_needs};
use crate::paths;
use crate::plan::LoadedPlan;
use crate::resources::kv::KvResource;
use crate::resources::{deps, Kind, Resource};

/// The KV fixtures (`kv`), moved out of the plan into their resources (a
/// run reads them nowhere else).
pub(in crate::engine) fn kv_fixtures(loaded: &mut LoadedPlan) -> Vec<Box<dyn Resource>> {
    let kv = std::mem::take(&mut loaded.plan.kv);
    let loaded = &*loaded;
    let plan = &loaded.plan;
    let mut fixtures: Vec<Box<dyn Resource>> = Vec::new();
    for (mount, entries) in kv {
        let mount = trim(&mount);
        let declared_version = plan.mounts.get(&mount).map(declared_kv_version);
        for (path, fixture) in entries {
            let path = trim(&path);
            let vault_path = match declared_version {
                Some(1) => paths::kv::v1(&mount, &path),
                _ => paths::kv::data(&mount, &path),
            };
            let mut needs = vec![deps::mount(&mount)];
            needs.extend(generate_policy_needs(&fixture.data));
            fixtures.push(Box::new(KvResource {
                id: object_id(
                    loaded,
                    Kind::KvSecret,
                    vault_path.clone(),
                    &["kv", &mount, &path],
                    deps::object(&vault_path),
                    needs,
                ),
                declared_version,
                mount: mount.clone(),
                path,
                mode: fixture.mode,
                data: fixture.data.into(),
            }));
        }
    }
    fixtures
}
