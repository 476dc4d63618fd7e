//! One file may be only part of a plan (`plan::load`: overlays and drop-in
//! files merge key by key, and `null` removes what an earlier file set).
//! So wherever a file's value is merged into another's, the schema accepts
//! a partial object (no required fields) and `null` for an entry. A list
//! replaces the earlier one whole (`plan::merge`), so inside list items
//! (`writes`, `verify`, aliases) objects are complete and keep their
//! required fields; a value source is a leaf and keeps its shape too.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

const REMOVES: &str = "Removes what an earlier plan file set here.";

/// Relaxes `root` (a generated schema with `$defs`) for partial files.
pub fn allow_partial_files(root: &mut Value) {
    let merged = merged_definitions(root);
    if let Some(object) = root.as_object_mut() {
        relax(object);
    }
    let Some(defs) = root.get_mut("$defs").and_then(Value::as_object_mut) else {
        return;
    };
    for name in merged {
        if let Some(def) = defs.get_mut(&name) {
            if let Some(object) = def.as_object_mut() {
                relax(object);
            }
            allow_null(def);
        }
    }
}

/// The definitions whose values are merged with other files' values:
/// those reached from the root other than through a list's items. Value
/// sources sit behind `if`/`then`, which is not followed: they are leaves.
fn merged_definitions(root: &Value) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    if let Some(object) = root.as_object() {
        reach(object, object, &mut found, &mut BTreeSet::new(), true);
    }
    found
}

fn reach(
    root: &Map<String, Value>,
    schema: &Map<String, Value>,
    found: &mut BTreeSet<String>,
    seen: &mut BTreeSet<(String, bool)>,
    merged: bool,
) {
    if let Some(name) = definition_name(schema) {
        if seen.insert((name.to_owned(), merged)) {
            if merged {
                found.insert(name.to_owned());
            }
            if let Some(def) = root
                .get("$defs")
                .and_then(|d| d.get(name))
                .and_then(Value::as_object)
            {
                reach(root, def, found, seen, merged);
            }
        }
    }
    for (key, value) in schema {
        let inner = match key.as_str() {
            "additionalProperties" | "properties" | "anyOf" | "oneOf" | "allOf" => merged,
            "items" | "prefixItems" => false,
            _ => continue,
        };
        let children: Vec<&Value> = match (key.as_str(), value) {
            ("properties", Value::Object(props)) => props.values().collect(),
            (_, Value::Array(items)) => items.iter().collect(),
            (_, other) => vec![other],
        };
        for child in children.into_iter().filter_map(Value::as_object) {
            reach(root, child, found, seen, inner);
        }
    }
}

fn definition_name(schema: &Map<String, Value>) -> Option<&str> {
    schema.get("$ref")?.as_str()?.strip_prefix("#/$defs/")
}

/// A merged object (one of our structs, `additionalProperties: false`)
/// needs none of its fields in one file, and its inline maps take `null`
/// for an entry (a `$ref`'d entry's definition takes it itself).
fn relax(object: &mut Map<String, Value>) {
    if object.get("additionalProperties") == Some(&Value::Bool(false)) {
        object.remove("required");
    }
    nullable_entries(object);
}

fn nullable_entries(object: &mut Map<String, Value>) {
    for (key, value) in object.iter_mut() {
        let children: Vec<&mut Value> = match (key.as_str(), value) {
            ("properties", Value::Object(props)) => props.values_mut().collect(),
            ("anyOf" | "oneOf" | "allOf", Value::Array(items)) => items.iter_mut().collect(),
            ("additionalProperties", entry) => {
                if let Some(object) = entry.as_object_mut() {
                    nullable_entries(object);
                    if definition_name(object).is_none() {
                        allow_null(entry);
                    }
                }
                continue;
            }
            _ => continue,
        };
        children
            .into_iter()
            .filter_map(Value::as_object_mut)
            .for_each(nullable_entries);
    }
}

/// Adds `null` to what `schema` accepts; one without `type`, `enum` or
/// alternatives accepts it already.
fn allow_null(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if let Some(Value::Array(values)) = object.get_mut("enum") {
        values.push(Value::Null);
    }
    match object.get_mut("type") {
        Some(Value::String(single)) => {
            let single = std::mem::take(single);
            object.insert("type".into(), json!([single, "null"]));
            return;
        }
        Some(Value::Array(types)) => {
            if !types.iter().any(|t| t == "null") {
                types.push("null".into());
            }
            return;
        }
        _ => {}
    }
    for alternatives in ["anyOf", "oneOf"] {
        if let Some(Value::Array(items)) = object.get_mut(alternatives) {
            items.push(json!({ "type": "null", "description": REMOVES }));
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_objects_are_partial_and_list_items_whole() {
        let mut schema = json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["version"],
            "properties": {
                "version": { "const": 1 },
                "mounts": { "type": "object", "additionalProperties": { "$ref": "#/$defs/Mount" } },
                "tags": { "type": "object", "additionalProperties": { "type": "string" } },
                "writes": { "type": "array", "items": { "$ref": "#/$defs/Write" } },
                "data": { "$ref": "#/$defs/Fields" },
            },
            "$defs": {
                "Mount": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["type"],
                    "properties": { "sync": { "$ref": "#/$defs/Sync" } },
                },
                "Sync": { "oneOf": [{ "const": "always" }, { "const": "if-missing" }] },
                "Write": { "type": "object", "additionalProperties": false, "required": ["path"] },
                "Fields": { "type": "object", "additionalProperties": { "$ref": "#/$defs/FieldValue" } },
                "FieldValue": { "if": { "type": "object" }, "then": { "$ref": "#/$defs/Source" } },
                "Source": { "type": "object", "required": ["env"] },
            },
        });
        allow_partial_files(&mut schema);
        let defs = &schema["$defs"];
        assert!(schema.get("required").is_none());
        assert!(defs["Mount"].get("required").is_none());
        assert_eq!(defs["Mount"]["type"], json!(["object", "null"]));
        assert_eq!(defs["Sync"]["oneOf"][2]["type"], "null");
        assert_eq!(
            schema["properties"]["tags"]["additionalProperties"]["type"],
            json!(["string", "null"])
        );
        assert_eq!(defs["Write"]["required"], json!(["path"]));
        assert_eq!(defs["Write"]["type"], "object");
        assert_eq!(
            defs["Source"],
            json!({ "type": "object", "required": ["env"] })
        );
        assert_eq!(defs["FieldValue"]["if"], json!({ "type": "object" }));
    }
}
