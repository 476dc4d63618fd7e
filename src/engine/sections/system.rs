//! Builds the first two stages: plugin catalog entries, then namespaces.
//! Both live in the token's own namespace.

use super::{field_set, object_id};
use crate::plan::model::{Fields, Plan};
use crate::plan::LoadedPlan;
use crate::resources::namespace::NamespaceResource;
use crate::resources::plugin::{PluginResource, PluginSpec, CATALOG};
use crate::resources::{deps, Kind, Resource};

/// Plugin catalog entries, keyed `<type>/<name>`.
pub(in crate::engine) fn plugins(loaded: &LoadedPlan) -> Vec<Box<dyn Resource>> {
    let mut out: Vec<Box<dyn Resource>> = Vec::new();
    for (key, p) in &loaded.plan.plugins {
        let key_trimmed = key.trim_matches('/');
        let path = format!("{CATALOG}/{key_trimmed}");
        let at = ["plugins", key.as_str()];
        // Only the fields the plan sets, for the API description check.
        let mut planned = Fields::new();
        planned.insert("sha256".into(), serde_json::Value::Null);
        planned.insert("command".into(), serde_json::Value::Null);
        if p.version.is_some() {
            planned.insert("version".into(), serde_json::Value::Null);
        }
        if !p.args.is_empty() {
            planned.insert("args".into(), serde_json::Value::Null);
        }
        if !p.env.is_empty() {
            planned.insert("env".into(), serde_json::Value::Null);
        }
        out.push(Box::new(PluginResource {
            id: object_id(
                loaded,
                Kind::Plugin,
                path.clone(),
                &at,
                deps::plugin(key_trimmed),
                Vec::new(),
            ),
            check: field_set(&path, &planned, &at, None),
            spec: PluginSpec {
                sha256: p.sha256.clone(),
                command: p.command.clone(),
                version: p.version.clone(),
                args: p.args.clone(),
                env: p.env.clone(),
            },
        }));
    }
    out
}

/// Namespaces, created relative to the token's own namespace.
pub(in crate::engine) fn namespaces(loaded: &LoadedPlan) -> Vec<Box<dyn Resource>> {
    let mut out: Vec<Box<dyn Resource>> = Vec::new();
    for (i, name) in loaded.plan.namespaces.iter().enumerate() {
        let name = name.trim_matches('/').to_owned();
        let index = i.to_string();
        out.push(Box::new(NamespaceResource {
            id: object_id(
                loaded,
                Kind::Namespace,
                NamespaceResource::path(&name),
                &["namespaces", &index],
                deps::namespace(&name),
                Vec::new(),
            ),
            name,
        }));
    }
    out
}

/// What an object using plugin `name` of `plugin_type` (`secret`, `auth`,
/// `database`) needs: the catalog entry, when the plan registers it.
pub(in crate::engine) fn plugin_needs(plan: &Plan, plugin_type: &str, name: &str) -> Vec<String> {
    let key = format!("{plugin_type}/{name}");
    plan.plugins
        .keys()
        .any(|k| k.trim_matches('/') == key)
        .then(|| deps::plugin(&key))
        .into_iter()
        .collect()
}
