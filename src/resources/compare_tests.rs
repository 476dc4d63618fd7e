//! Tests of normalized comparison: durations, sets, scalars, planned fields,
//! policy names, redaction, HCL whitespace.

use super::*;
use serde_json::json;

fn planned(value: Json) -> Planned {
    Planned {
        value,
        sensitive: false,
    }
}

#[test]
fn durations_match_seconds() {
    assert!(equivalent("token_ttl", &json!("1h"), &json!(3600)));
    assert!(equivalent("ttl", &json!("1h30m"), &json!(5400)));
    assert!(equivalent("ttl", &json!("90s"), &json!("1m30s")));
    assert!(!equivalent("token_ttl", &json!("1h"), &json!(3601)));
    assert_eq!(duration_secs("24h"), Some(86400));
    assert_eq!(duration_secs("abc"), None);
}

#[test]
fn lists_are_sets_except_statements() {
    assert!(equivalent(
        "token_policies",
        &json!(["b", "a"]),
        &json!(["a", "b"])
    ));
    assert!(equivalent(
        "token_policies",
        &json!("a, b"),
        &json!(["b", "a"])
    ));
    assert!(!equivalent(
        "token_policies",
        &json!(["a"]),
        &json!(["a", "b"])
    ));
    assert!(!equivalent(
        "creation_statements",
        &json!(["x", "y"]),
        &json!(["y", "x"])
    ));
    assert!(equivalent("token_policies", &json!([]), &json!([])));
    assert!(equivalent(
        "creation_statements",
        &json!("CREATE ROLE a, b;"),
        &json!(["CREATE ROLE a, b;"])
    ));
    assert!(equivalent("bound_cidrs", &json!(null), &json!([])));
}

#[test]
fn scalars_normalize() {
    assert!(equivalent("version", &json!("2"), &json!(2)));
    assert!(equivalent("flag", &json!("true"), &json!(true)));
    assert!(equivalent("pem", &json!("CERT\n"), &json!("CERT")));
    assert!(!equivalent("name", &json!("a"), &json!("b")));
}

#[test]
fn only_planned_fields_are_compared_and_absent_ones_are_write_only() {
    let mut fields = std::collections::BTreeMap::new();
    fields.insert("token_ttl".to_owned(), planned(json!("2h")));
    fields.insert("password".to_owned(), planned(json!("hunter22")));
    fields.insert("empty".to_owned(), planned(json!([])));
    let current = json!({"token_ttl": 3600, "token_max_ttl": 0});
    let comparison = compare_fields(&fields, &current);
    assert_eq!(
        comparison.changes,
        vec![FieldChange {
            field: "token_ttl".into(),
            old: Some("3600".into()),
            new: Some("2h".into())
        }]
    );
    assert_eq!(comparison.write_only, vec!["password".to_owned()]);
}

#[test]
fn policy_names_compare_in_lower_case() {
    assert!(equivalent(
        "token_policies",
        &json!(["Administrator", "dev"]),
        &json!(["administrator", "dev"])
    ));
    assert!(equivalent(
        "disallowed_policies",
        &json!("Root"),
        &json!(["root"])
    ));
    assert!(!equivalent(
        "bound_service_account_names",
        &json!(["Api"]),
        &json!(["api"])
    ));
}

#[test]
fn sensitive_changes_are_redacted() {
    let mut fields = std::collections::BTreeMap::new();
    fields.insert(
        "host".to_owned(),
        Planned {
            value: json!("new-host"),
            sensitive: true,
        },
    );
    let changes = compare_fields(&fields, &json!({"host": "old-host"})).changes;
    assert_eq!(changes[0].old.as_deref(), Some(REDACTED));
    assert_eq!(changes[0].new.as_deref(), Some(REDACTED));
}

#[test]
fn hcl_whitespace_is_insignificant_but_strings_are_not() {
    let a = "path \"app/*\" {\n  capabilities = [\"read\"]\n}\n";
    let b = "path \"app/*\" { capabilities = [\"read\"] }";
    assert_eq!(normalize_hcl(a), normalize_hcl(b));
    assert_ne!(
        normalize_hcl("path \"a b\" {}"),
        normalize_hcl("path \"ab\" {}")
    );
}
