use serde_json::json;

use super::*;

fn key(value: Json, hidden: bool) -> Key {
    Key {
        value,
        hidden,
        generated: false,
    }
}

/// Whether `part` lies inside `whole` (borrowed, not copied).
fn inside(part: &str, whole: &[u8]) -> bool {
    let range = whole.as_ptr_range();
    range.contains(&part.as_ptr()) && part.len() <= whole.len()
}

#[test]
fn the_comparing_writer_accepts_exactly_the_same_bytes() {
    let value = json!({"a": [1, -2, 0.5, true, null], "b": {"c": "d\n\"e\""}});
    let exact = serde_json::to_vec(&value).unwrap();
    assert!(same_bytes(&value, &exact));
    assert!(!same_bytes(&value, &exact[..exact.len() - 1]), "shorter");
    let mut longer = exact.clone();
    longer.push(b' ');
    assert!(!same_bytes(&value, &longer), "longer");
    assert!(!same_bytes(&json!("abc"), br#""abd""#));
    assert!(!same_bytes(&json!("abc"), b""));
    assert!(same_bytes(&json!(""), br#""""#));
    assert!(same_bytes(&json!(42), b"42"));
    assert!(!same_bytes(&json!(42), b"42.0"));
    assert!(!same_bytes(&json!(1.5), b"15"));
    // Vault's encoder escapes what serde_json writes as is.
    assert!(!same_bytes(&json!("<b>&"), br#""\u003cb\u003e\u0026""#));
}

#[test]
fn a_v2_answer_is_borrowed_not_copied() {
    let raw = br#"{"request_id":"x","data":{"data":{"blob":"AAAA","nested":{"k":[1,2]}},"metadata":{"version":7,"custom_metadata":{"managed-by":"vault-converge"}}}}"#;
    let current = Current::parse(Some(raw), 2, "app/data/x").unwrap();
    assert!(current.exists());
    assert_eq!(current.cas(), 7);
    assert_eq!(
        current.custom_metadata().unwrap()["managed-by"],
        "vault-converge"
    );
    assert_eq!(current.names().collect::<Vec<_>>(), ["blob", "nested"]);
    let data = current.data.as_ref().unwrap();
    for (name, value) in data {
        assert!(matches!(name, Cow::Borrowed(_)), "{name}");
        assert!(inside(name, raw) && inside(value.get(), raw), "{name}");
    }
    assert_eq!(current.value("nested").unwrap(), Some(json!({"k": [1, 2]})));
    assert_eq!(current.value("absent").unwrap(), None);
}

#[test]
fn v1_answers_deleted_versions_and_empty_bodies() {
    let raw = br#"{"data":{"a\u0062":"1","c":null},"lease_id":""}"#;
    let v1 = Current::parse(Some(raw), 1, "legacy/x").unwrap();
    assert_eq!(v1.names().collect::<Vec<_>>(), ["ab", "c"]);
    assert_eq!(v1.value("c").unwrap(), Some(Json::Null));
    assert_eq!(v1.cas(), 0);

    let deleted = br#"{"data":{"data":null,"metadata":{"version":3,"deletion_time":"t"}}}"#;
    let deleted = Current::parse(Some(deleted), 2, "app/data/x").unwrap();
    assert!(!deleted.exists());
    assert_eq!(deleted.cas(), 3, "a new version must name the deleted one");

    for raw in [None, Some(&b""[..])] {
        let none = Current::parse(raw, 2, "app/data/x").unwrap();
        assert!(!none.exists());
        assert_eq!(none.cas(), 0);
    }
    let bad = Current::parse(Some(b"{\"data\": 1}"), 2, "app/data/x");
    assert!(bad.is_err());
}

#[test]
fn escaped_values_are_the_same_value_and_differences_are_found() {
    let raw = br#"{"data":{"data":{"html":"\u003cb\u003e\u0026\"q\"\n","accent":"caf\u00e9","nested":{"b":1,"a":"\u003c"},"num":1e-07,"other":"old","sum":2}}}"#;
    let current = Current::parse(Some(raw), 2, "app/data/x").unwrap();
    let planned = vec![
        ("accent".to_owned(), key(json!("café"), false)),
        ("html".to_owned(), key(json!("<b>&\"q\"\n"), false)),
        ("nested".to_owned(), key(json!({"a": "<", "b": 1}), false)),
        ("num".to_owned(), key(json!(1e-7), false)),
        ("other".to_owned(), key(json!("new"), false)),
        ("sum".to_owned(), key(json!(3), false)),
        ("added".to_owned(), key(json!("x"), false)),
    ];
    let fields = current.changes(&planned).unwrap();
    let shown: Vec<_> = fields
        .iter()
        .map(|f| (f.field.as_str(), f.old.as_deref(), f.new.as_deref()))
        .collect();
    assert_eq!(
        shown,
        [
            ("other", Some("old"), Some("new")),
            ("sum", Some("2"), Some("3")),
            ("added", None, Some("x")),
        ]
    );
}

#[test]
fn differing_and_unplanned_secrets_are_registered() {
    let raw = br#"{"data":{"data":{"password":"old-secret-5c1f9e","token":"same-planned-7a2d","stray":{"deep":["unplanned-secret-83be"]}}}}"#;
    let current = Current::parse(Some(raw), 2, "app/data/x").unwrap();
    let planned = vec![
        ("password".to_owned(), key(json!("new-secret-0d4b"), true)),
        ("token".to_owned(), key(json!("same-planned-7a2d"), true)),
    ];
    let fields = current.changes(&planned).unwrap();
    assert_eq!(fields.len(), 1);
    assert_eq!(fields[0].old.as_deref(), Some(secret::REDACTED));
    let text = secret::scrub("old-secret-5c1f9e unplanned-secret-83be");
    assert!(!text.contains("secret-"), "{text}");

    let merged = current.merged(planned).unwrap();
    assert_eq!(
        Json::Object(merged),
        json!({"password": "new-secret-0d4b", "token": "same-planned-7a2d",
               "stray": {"deep": ["unplanned-secret-83be"]}})
    );
}
