//! What each planned object depends on, derived from the plan: the mount a
//! path lives under, auth methods named by accessor, password policies named
//! by `generate`.

use std::sync::Arc;

use crate::plan::model::{Fields, Mount, Plan};
use crate::resources::checked_fields::PlannedMount;
use crate::resources::deps;

/// The mount a Vault path lives under, if the plan declares it: writes to
/// `transit/keys/x` need mount `transit`, to `auth/approle/role/x` auth `approle`.
pub fn owning_mount(plan: &Plan, path: &str) -> Option<String> {
    let trimmed = path.trim_matches('/');
    if let Some(rest) = trimmed.strip_prefix("auth/") {
        return plan
            .auth
            .keys()
            .map(|p| p.trim_matches('/'))
            .filter(|p| rest == *p || rest.starts_with(&format!("{p}/")))
            .max_by_key(|p| p.len())
            .map(deps::auth);
    }
    plan.mounts
        .keys()
        .map(|p| p.trim_matches('/'))
        .filter(|p| trimmed == *p || trimmed.starts_with(&format!("{p}/")))
        .max_by_key(|p| p.len())
        .map(deps::mount)
}

/// The planned mount a path lives under and its type, for the fields check.
pub fn owning_mount_type(plan: &Plan, path: &str) -> Option<Arc<PlannedMount>> {
    let key = owning_mount(plan, path)?;
    if let Some(auth) = key.strip_prefix("auth:") {
        let method = plan
            .auth
            .iter()
            .find(|(p, _)| p.trim_matches('/') == auth)?
            .1;
        return Some(PlannedMount::new(
            format!("auth/{auth}"),
            method.kind.clone(),
        ));
    }
    let mount = key.strip_prefix("mount:")?;
    let planned = plan
        .mounts
        .iter()
        .find(|(p, _)| p.trim_matches('/') == mount)?
        .1;
    let kind = match (planned.kind.as_str(), declared_kv_version(planned)) {
        ("kv", 2) | ("kv-v2", _) => "kv-v2".to_owned(),
        (other, _) => other.to_owned(),
    };
    Some(PlannedMount::new(mount, kind))
}

/// Auth methods named by `${accessor:auth/PATH}` anywhere in `text`.
pub fn accessor_needs(text: &str) -> Vec<String> {
    if !text.contains("${accessor:") {
        return Vec::new();
    }
    crate::plan::interpolate::accessor_refs(text)
        .iter()
        .map(|p| deps::auth(p.trim_start_matches("auth/")))
        .collect()
}

/// The auth methods whose accessor a field's text names, in any string or
/// key at any depth. Only text that can hold a reference is scanned.
pub fn fields_accessor_needs(fields: &Fields) -> Vec<String> {
    let mut needs = Vec::new();
    for value in values_at_any_depth(fields) {
        match value {
            serde_json::Value::String(text) => needs.extend(accessor_needs(text)),
            serde_json::Value::Object(map) => {
                map.keys().for_each(|k| needs.extend(accessor_needs(k)))
            }
            _ => {}
        }
    }
    needs
}

/// Every value of `fields` and every value inside them, depth first in plan order.
fn values_at_any_depth(fields: &Fields) -> impl Iterator<Item = &serde_json::Value> {
    // Reversed onto the stack, so they come off it in plan order.
    let mut stack: Vec<&serde_json::Value> = fields.values().rev().collect();
    std::iter::from_fn(move || {
        let value = stack.pop()?;
        match value {
            serde_json::Value::Object(map) => stack.extend(map.values().rev()),
            serde_json::Value::Array(items) => stack.extend(items.iter().rev()),
            _ => {}
        }
        Some(value)
    })
}

/// The KV version a planned mount will have (Vault's default for `kv` is 1).
pub fn declared_kv_version(mount: &Mount) -> u8 {
    match mount.kind.as_str() {
        "kv-v2" => 2,
        "kv" => match mount.options.get("version").map(|v| v.to_string()) {
            Some(v) if v.trim_matches('"') == "2" => 2,
            _ => 1,
        },
        _ => 2,
    }
}

/// Password policies named by `generate: {policy: NAME}` at any depth of KV data.
pub fn generate_policy_needs(data: &Fields) -> Vec<String> {
    values_at_any_depth(data)
        .filter_map(|value| value.get("generate")?.get("policy")?.as_str())
        .map(deps::password_policy)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accessor_references_are_found_in_strings_and_keys_at_any_depth() {
        let fields: Fields = serde_json::from_value(json!({
            "a": "x ${accessor:auth/k8s} y",
            "b": {"${accessor:auth/jwt}": 1, "c": ["${accessor:auth/approle}", 2]},
            "d": "no reference, not even $${accessor:auth/escaped}",
            "e": 3
        }))
        .unwrap();
        assert_eq!(
            fields_accessor_needs(&fields),
            [deps::auth("k8s"), deps::auth("jwt"), deps::auth("approle")]
        );
        let generated: Fields =
            serde_json::from_value(json!({"pw": {"generate": {"policy": "strong"}}, "x": "plain"}))
                .unwrap();
        assert_eq!(
            generate_policy_needs(&generated),
            [deps::password_policy("strong")]
        );
    }
}
