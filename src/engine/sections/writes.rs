//! Builds the last stage: the raw `writes`, run one after another in plan
//! order.

use super::{field_set, object_id, trim};
use crate::engine::needs::{fields_accessor_needs, owning_mount, owning_mount_type};
use crate::plan::LoadedPlan;
use crate::resources::write::WriteResource;
use crate::resources::{deps, Kind, Resource};

/// The raw `writes`, in plan order.
pub(in crate::engine) fn writes(loaded: &LoadedPlan) -> Vec<Box<dyn Resource>> {
    let plan = &loaded.plan;
    let mut writes: Vec<Box<dyn Resource>> = Vec::new();
    for (i, w) in plan.writes.iter().enumerate() {
        let path = trim(&w.path);
        let mut needs: Vec<String> = owning_mount(plan, &path).into_iter().collect();
        needs.extend(fields_accessor_needs(&w.data));
        let index = i.to_string();
        writes.push(Box::new(WriteResource {
            check: field_set(
                &path,
                &w.data,
                &["writes", &index, "data"],
                owning_mount_type(plan, &path),
            ),
            id: object_id(
                loaded,
                Kind::Write,
                path.clone(),
                &["writes", &i.to_string()],
                deps::object(&path),
                needs,
            ),
            path,
            mode: w.mode,
            sync: w.sync.unwrap_or_default(),
            data: w.data.clone(),
        }));
    }
    writes
}
