//! Builds the pki objects: root CAs, URLs and CRL settings with the auth
//! config and database connections; intermediates in stages of their own
//! right after, one per level of signing; roles with the database roles.
//!
//! An intermediate is signed by another mount's CA, so that CA must exist
//! before it: intermediates signed by a root run in the stage after the
//! roots, those signed by such an intermediate in the stage after that, and
//! so on. Stages are the engine's own "after", and they skip an
//! intermediate whose signer failed through `needs`; waiting inside one
//! concurrent stage would have to re-implement both.

use std::sync::Arc;

use super::{field_set, fields_at, object_id, trim, Listed};
use crate::plan::model::{CaSpec, Fields, PkiMount, SyncPolicy};
use crate::plan::LoadedPlan;
use crate::resources::checked_fields::PlannedMount;
use crate::resources::fields::FieldsResource;
use crate::resources::pki::ca::{csr_fields, CaResource};
use crate::resources::pki::paths;
use crate::resources::{deps, Kind, Resource};

/// Root CAs, URLs and CRL settings (the stage of auth config and connections).
pub(in crate::engine) fn pki_cas(loaded: &LoadedPlan) -> Vec<Box<dyn Resource>> {
    let mut out = ca_levels(loaded).into_iter().next().unwrap_or_default();
    for (mount, pki) in &loaded.plan.pki {
        let mount = trim(mount);
        for (key, path, fields) in [
            ("urls", paths::urls(&mount), &pki.urls),
            ("crl", paths::crl(&mount), &pki.crl),
        ] {
            let Some(fields) = fields else { continue };
            let at = ["pki", mount.as_str(), key];
            out.push(Box::new(FieldsResource {
                id: object_id(
                    loaded,
                    Kind::PkiConfig,
                    path.clone(),
                    &at,
                    deps::object(&path),
                    vec![deps::mount(&mount)],
                ),
                listing: None,
                check: Some(fields_at(&at, Some(pki_mount(&mount)))),
                fields: fields.clone().into(),
                sync: SyncPolicy::IfMissing,
            }));
        }
    }
    out
}

/// Intermediate CAs by level of signing: each level is one stage.
pub(in crate::engine) fn pki_intermediates(loaded: &LoadedPlan) -> Vec<Vec<Box<dyn Resource>>> {
    ca_levels(loaded).into_iter().skip(1).collect()
}

/// `<mount>/roles/<name>` (the stage of database roles, after every CA).
pub(in crate::engine) fn pki_roles(loaded: &LoadedPlan) -> Vec<Box<dyn Resource>> {
    let mut roles = Vec::new();
    for (mount, pki) in &loaded.plan.pki {
        let mount = trim(mount);
        let collection = paths::roles(&mount);
        let mut needs = vec![deps::mount(&mount)];
        if pki.root.is_some() || pki.intermediate.is_some() {
            // A role issues from the mount's default issuer: its CA.
            needs.push(deps::pki_ca(&mount));
        }
        for (name, fields) in &pki.roles {
            let listed = Listed {
                kind: Kind::PkiRole,
                collection: &collection,
                name,
                at: &["pki", &mount, "roles", name],
                mount: pki_mount(&mount),
            };
            roles.push(listed.resource(
                loaded,
                fields.clone(),
                SyncPolicy::IfMissing,
                needs.clone(),
            ));
        }
    }
    roles
}

fn pki_mount(mount: &str) -> Arc<PlannedMount> {
    PlannedMount::new(mount, "pki")
}

/// The CAs grouped by how many signatures separate them from their root:
/// roots first.
fn ca_levels(loaded: &LoadedPlan) -> Vec<Vec<Box<dyn Resource>>> {
    let plan = &loaded.plan;
    let mut levels: Vec<Vec<Box<dyn Resource>>> = Vec::new();
    for (mount, pki) in &plan.pki {
        let Some((spec, root)) = pki.ca() else {
            continue;
        };
        let Some(level) = level_of(&plan.pki, mount) else {
            continue;
        };
        let mount = trim(mount);
        let key = if root { "root" } else { "intermediate" };
        let at = ["pki", mount.as_str(), key];
        let (check_path, checked) = if root {
            (
                paths::root_generate(&mount, "internal"),
                spec.fields.clone(),
            )
        } else {
            let csr: Fields = csr_fields(&spec.fields)
                .into_iter()
                .filter_map(|k| spec.fields.get(&k).map(|v| (k, v.clone())))
                .collect();
            (paths::intermediate_generate(&mount, "internal"), csr)
        };
        let mut needs = vec![deps::mount(&mount)];
        if let Some(signer) = &spec.signed_by {
            needs.push(deps::pki_ca(signer));
        }
        if let Some(export) = &spec.export_key_to {
            needs.push(deps::mount(&export.mount));
        }
        let resource = CaResource {
            id: object_id(
                loaded,
                Kind::PkiCa,
                format!("{mount}/{key}"),
                &at,
                deps::pki_ca(&mount),
                needs,
            ),
            check: field_set(&check_path, &checked, &at, Some(pki_mount(&mount))),
            urls_planned: pki.urls.is_some(),
            mount,
            spec,
        };
        if levels.len() <= level {
            levels.resize_with(level + 1, Vec::new);
        }
        levels[level].push(Box::new(resource));
    }
    levels
}

/// 0 for a root, one more than its signer for an intermediate; `None` for
/// a chain that loops or ends nowhere (validation refuses those).
fn level_of(pki: &std::collections::BTreeMap<String, PkiMount>, mount: &str) -> Option<usize> {
    let mut at = mount;
    for level in 0..=pki.len() {
        let (spec, root): (CaSpec, bool) = pki.get(at)?.ca()?;
        if root {
            return Some(level);
        }
        at = pki.get_key_value(spec.signed_by.as_deref()?)?.0;
    }
    None
}
