//! Tests of the API schema: known and unknown fields, path matching,
//! mounts of the same type, the ignored-parameters warning.

use super::*;
use crate::vault::schema_mounts::mount_types;
use serde_json::{json, Value as Json};

/// Shaped like OpenBao 2.7.2's `sys/internal/specs/openapi`, trimmed.
fn doc() -> Json {
    let param = |n: &str| json!([{"name": n, "in": "path", "schema": {"type": "string"}, "required": true}]);
    let post = |s: &str| json!({"requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{s}")}}}}});
    json!({
        "openapi": "3.0.2",
        "paths": {
            "/auth/kubernetes/role/{name}": {"parameters": param("name"), "post": post("KubernetesWriteAuthRoleRequest")},
            "/auth/kubernetes/role": {"get": {}},
            "/kv1/{path}": {"parameters": param("path"), "post": {"operationId": "kv-write-path"}},
            "/secret/^.*$": {},
            "/secret/data/{path}": {"parameters": param("path"), "post": post("KvWriteDataPathRequest")},
            "/database/config/{name}": {"parameters": param("name"), "post": post("DatabaseConfigureConnectionRequest")},
            "/sys/mounts/{path}": {"parameters": param("path"), "post": post("MountsEnableSecretsEngineRequest")},
            "/sys/mounts/{path}/tune": {"parameters": param("path"), "post": post("MountsTuneConfigurationParametersRequest")},
        },
        "components": {"schemas": {
            "KubernetesWriteAuthRoleRequest": {"type": "object", "properties": {
                "bound_service_account_names": {"type": "array"}, "token_policies": {"type": "array"}, "token_ttl": {"type": "integer"}}},
            "KvWriteDataPathRequest": {"type": "object", "properties": {"data": {"type": "object"}, "options": {"type": "object"}}},
            "DatabaseConfigureConnectionRequest": {"type": "object", "properties": {"plugin_name": {"type": "string"}}},
            "MountsEnableSecretsEngineRequest": {"type": "object", "properties": {"type": {"type": "string"}, "config": {"type": "object"}}},
            "MountsTuneConfigurationParametersRequest": {"type": "object", "properties": {"default_lease_ttl": {"type": "string"}}},
        }}
    })
}

fn unchecked(c: FieldCheck) -> bool {
    matches!(c, FieldCheck::Unchecked(_))
}

#[test]
fn known_unknown_and_path_params() {
    let s = ApiSchema::from_doc(&doc());
    let role = "auth/kubernetes/role/api";
    assert_eq!(
        s.check(role, &["token_ttl", "token_policies"]),
        FieldCheck::Known
    );
    assert_eq!(
        s.check(role, &["token_tll", "token_ttl"]),
        FieldCheck::Unknown(vec!["token_tll".into()])
    );
    assert_eq!(
        s.check(&format!("/{role}/"), &["name", "token_ttl"]),
        FieldCheck::Known
    );
    assert_eq!(
        s.check("secret/data/app/db", &["data", "typo"]),
        FieldCheck::Unknown(vec!["typo".into()])
    );
}

#[test]
fn arbitrary_data_and_unmatched_paths_are_unchecked() {
    let s = ApiSchema::from_doc(&doc());
    assert!(unchecked(s.check("kv1/app/config", &["anything"])));
    assert!(unchecked(s.check("database/config/pg", &["host", "port"])));
    assert!(
        unchecked(s.check("auth/kubernetes/role", &["x"])),
        "no write described"
    );
    assert!(
        unchecked(s.check("auth/k8s/role/api", &["token_tll"])),
        "mount not in the doc"
    );
    assert!(unchecked(s.check("", &["x"])));
    assert!(unchecked(s.check(&"a/".repeat(100), &["x"])));
}

#[test]
fn params_absorb_several_segments_when_needed() {
    let s = ApiSchema::from_doc(&doc());
    assert_eq!(
        s.check("sys/mounts/team/a/tune", &["default_lease_ttl"]),
        FieldCheck::Known
    );
    assert_eq!(
        s.check("sys/mounts/team/a", &["type", "config"]),
        FieldCheck::Known
    );
    assert_eq!(
        s.check("sys/mounts/a/tune", &["type"]),
        FieldCheck::Unknown(vec!["type".into()])
    );
    assert_eq!(s.check("secret/data/a/b/c", &["data"]), FieldCheck::Known);
}

#[test]
fn check_like_reroots_on_a_mount_of_the_same_type() {
    let auth =
        json!({"data": {"kubernetes/": {"type": "kubernetes"}, "token/": {"type": "token"}}});
    let mounts = json!({"data": {"secret/": {"type": "kv", "options": {"version": "2"}}}, "request_id": "x"});
    let types = mount_types(&mounts, &auth);
    assert_eq!(types.get("secret").map(String::as_str), Some("kv-v2"));
    let s = ApiSchema::from_doc(&doc()).with_mounts(types);
    let k8s =
        |fields: &[&str]| s.check_like("auth/k8s/role/api", "auth/k8s/", "kubernetes", fields);
    assert_eq!(k8s(&["token_ttl"]), FieldCheck::Known);
    assert_eq!(
        k8s(&["token_tll"]),
        FieldCheck::Unknown(vec!["token_tll".into()])
    );
    assert!(unchecked(s.check_like(
        "auth/k8sx/role/a",
        "auth/k8s",
        "kubernetes",
        &["x"]
    )));
    assert!(unchecked(s.check_like(
        "auth/jwt/role/a",
        "auth/jwt",
        "jwt",
        &["x"]
    )));
    assert!(
        unchecked(s.check_like("auth/t/roles/a", "auth/t", "token", &["x"])),
        "token not in the doc"
    );
}

#[test]
fn unavailable_description_checks_nothing() {
    let s = ApiSchema::unavailable("forbidden".into());
    assert!(unchecked(
        s.check("auth/kubernetes/role/api", &["token_tll"])
    ));
    assert!(unchecked(
        ApiSchema::from_doc(&json!({"paths": 3})).check("a/b", &["x"])
    ));
}

/// The answer's bytes read straight into the parts the check needs give
/// the same answers as the JSON tree; an empty answer and JSON of another
/// shape check nothing, bytes that are not JSON are an error.
#[test]
fn description_bytes_read_like_its_json() {
    let bytes = serde_json::to_vec(&doc()).unwrap();
    let (from_bytes, from_json) = (
        ApiSchema::from_bytes(&bytes).unwrap(),
        ApiSchema::from_doc(&doc()),
    );
    let cases: [(&str, &[&str]); 6] = [
        ("auth/kubernetes/role/api", &["token_ttl", "name"]),
        ("auth/kubernetes/role/api", &["token_tll"]),
        ("kv1/app", &["anything"]),
        ("database/config/pg", &["connection_url"]),
        (
            "sys/mounts/app/tune",
            &["default_lease_ttl", "max_lease_tll"],
        ),
        ("auth/kubernetes/role", &["x"]),
    ];
    for (path, fields) in cases {
        assert_eq!(
            from_bytes.check(path, fields),
            from_json.check(path, fields),
            "{path}"
        );
    }
    assert_eq!(
        from_bytes.check("auth/kubernetes/role/api", &["token_tll"]),
        FieldCheck::Unknown(vec!["token_tll".into()])
    );
    for nothing in [&b""[..], br#"{"paths": 3}"#, b"[1, 2]"] {
        let schema = ApiSchema::from_bytes(nothing).unwrap();
        assert!(unchecked(schema.check("auth/kubernetes/role/api", &["x"])));
    }
    assert!(ApiSchema::from_bytes(b"<html>").is_err());
    assert!(ApiSchema::parse(br#"{"paths": "#.to_vec()).is_err());
}

#[test]
fn parses_ignored_parameters_warning() {
    // Text as OpenBao 2.7.2 returns it (Go's %v of a sorted []string).
    let w = "Endpoint ignored these unrecognized parameters: [alpha typo]";
    assert_eq!(
        ignored_parameters(w),
        Some(vec!["alpha".into(), "typo".into()])
    );
    assert_eq!(
        ignored_parameters("Issuing Certificate was set to default"),
        None
    );
    assert_eq!(
        ignored_parameters("Endpoint ignored these unrecognized parameters: []"),
        None
    );
    assert_eq!(
        ignored_parameters("Endpoint ignored these unrecognized parameters: [x"),
        None
    );
}
