//! Builds the audit sections: devices (with the mounts) and request headers
//! (with the policies). Both live in the token's own namespace.

use super::{field_set, object_id, trim};
use crate::plan::model::Fields;
use crate::plan::LoadedPlan;
use crate::resources::audit::{AuditDeviceResource, AuditSpec, TABLE};
use crate::resources::audit_header::{self, AuditHeaderResource};
use crate::resources::{deps, Kind, Resource};

/// Audit devices, keyed by path.
pub(in crate::engine) fn audit_devices(loaded: &LoadedPlan) -> Vec<Box<dyn Resource>> {
    let mut out: Vec<Box<dyn Resource>> = Vec::new();
    for (key, d) in &loaded.plan.audit {
        let path = trim(key);
        let vault_path = format!("{TABLE}/{path}");
        let at = ["audit", key.as_str()];
        // The body's fields the plan sets, for the API description check.
        let mut planned = Fields::new();
        planned.insert("type".into(), serde_json::Value::Null);
        if d.description.is_some() {
            planned.insert("description".into(), serde_json::Value::Null);
        }
        if !d.options.is_empty() {
            planned.insert("options".into(), serde_json::Value::Null);
        }
        planned.insert("local".into(), serde_json::Value::Null);
        out.push(Box::new(AuditDeviceResource {
            id: object_id(
                loaded,
                Kind::AuditDevice,
                vault_path.clone(),
                &at,
                deps::object(&vault_path),
                Vec::new(),
            ),
            check: field_set(&vault_path, &planned, &at, None),
            path,
            spec: AuditSpec {
                kind: d.kind.clone(),
                description: d.description.clone(),
                options: d.options.clone(),
                local: d.local,
            },
        }));
    }
    out
}

/// Audit request headers, keyed by header name.
pub(in crate::engine) fn audit_request_headers(loaded: &LoadedPlan) -> Vec<Box<dyn Resource>> {
    let mut out: Vec<Box<dyn Resource>> = Vec::new();
    for (name, fields) in &loaded.plan.audit_request_headers {
        let vault_path = format!("{}/{name}", audit_header::TABLE);
        let at = ["audit_request_headers", name.as_str()];
        out.push(Box::new(AuditHeaderResource {
            id: object_id(
                loaded,
                Kind::AuditHeader,
                vault_path.clone(),
                &at,
                deps::object(&vault_path),
                Vec::new(),
            ),
            check: field_set(&vault_path, fields, &at, None),
            name: name.clone(),
            fields: fields.clone(),
        }));
    }
    out
}
