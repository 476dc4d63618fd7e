use serde_json::{json, Value};

use super::plan_schema;
use super::values::CHARSETS;
use crate::sources::generate::{Generate, MAX_LENGTH};

fn def<'a>(schema: &'a Value, name: &str) -> &'a Value {
    schema["$defs"]
        .get(name)
        .unwrap_or_else(|| panic!("no $defs/{name}"))
}

#[test]
fn the_root_is_a_draft_2020_12_plan_with_described_sections() {
    let schema = plan_schema();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(schema["additionalProperties"], false);
    let properties = schema["properties"].as_object().unwrap();
    for section in ["version", "mounts", "auth", "kv", "verify", "tokens", "pki"] {
        assert!(properties.contains_key(section), "{section}");
    }
    for (name, property) in properties {
        let described = property["description"]
            .as_str()
            .is_some_and(|d| !d.is_empty());
        assert!(described, "top-level `{name}` has no description");
    }
    assert_eq!(properties["version"]["const"], 1);
}

#[test]
fn a_file_may_be_partial_but_list_items_are_whole() {
    let schema = plan_schema();
    assert!(schema.get("required").is_none(), "version is per plan");
    assert!(def(&schema, "Mount").get("required").is_none());
    assert_eq!(def(&schema, "Mount")["additionalProperties"], false);
    assert_eq!(def(&schema, "Write")["required"], json!(["path"]));
    assert_eq!(
        schema["properties"]["mounts"]["additionalProperties"]["$ref"],
        "#/$defs/Mount"
    );
    assert_eq!(def(&schema, "Mount")["type"], json!(["object", "null"]));
}

#[test]
fn value_sources_follow_the_loader() {
    let schema = plan_schema();
    let kv = serde_json::to_string(def(&schema, "KvValueSource")).unwrap();
    let other = serde_json::to_string(def(&schema, "ValueSource")).unwrap();
    assert!(kv.contains("\"generate\""), "{kv}");
    assert!(!other.contains("\"generate\""), "{other}");
    assert_eq!(
        def(&schema, "Fields")["additionalProperties"]["$ref"],
        "#/$defs/FieldValue"
    );
    for charset in CHARSETS {
        let generate = json!({ "length": MAX_LENGTH, "charset": charset });
        assert!(Generate::from_json(&generate).is_ok(), "{charset}");
    }
    assert!(Generate::from_json(&json!({ "length": MAX_LENGTH + 1 })).is_err());
}
