//! Tests of the located YAML tree: locations, sources, numbers.

use super::*;

fn file() -> Arc<str> {
    Arc::from("plan.yaml")
}

#[test]
fn nodes_carry_line_and_column() {
    let node = parse(&file(), "a:\n  b: [1, two]\n  c: {d: true}\n").unwrap();
    let b = node
        .find(&[PathSegment::Key("a"), PathSegment::Key("b")])
        .unwrap();
    assert_eq!((b.loc.line, b.loc.column), (2, 6));
    let two = node
        .find(&[
            PathSegment::Key("a"),
            PathSegment::Key("b"),
            PathSegment::Index(1),
        ])
        .unwrap();
    assert!(matches!(&two.value, Value::Str(s) if s == "two"));
    assert_eq!(two.loc.line, 2);
    let a = node.find(&[PathSegment::Key("a")]).unwrap();
    assert_eq!(a.key_loc("c").unwrap().line, 3);
    assert_eq!(
        node.to_json(),
        serde_json::json!({"a": {"b": [1, "two"], "c": {"d": true}}})
    );
}

#[test]
fn duplicate_keys_are_rejected_with_location() {
    let Err(ParseError::Yaml(err)) = parse(&file(), "a: 1\nb: 2\na: 3\n") else {
        panic!("duplicate key accepted");
    };
    let loc = err.location().expect("duplicate key error has a location");
    assert_eq!(loc.line(), 3);
}

#[test]
fn source_kind_needs_exactly_one_source_key() {
    let node = parse(
        &file(),
        "a: {env: X}\nb: {env: X, other: 1}\nc: {version: 2}\nd: [1]\n",
    )
    .unwrap();
    let kind = |k: &str| node.find(&[PathSegment::Key(k)]).unwrap().source_kind();
    assert_eq!(kind("a"), Some("env"));
    assert_eq!(kind("b"), None);
    assert_eq!(kind("c"), None);
    assert_eq!(kind("d"), None);
}

#[test]
fn quoted_numbers_stay_strings() {
    let node = parse(&file(), "v: \"2\"\nw: 2\n").unwrap();
    assert_eq!(node.to_json(), serde_json::json!({"v": "2", "w": 2}));
}

#[test]
fn numbers_vault_cannot_keep_exactly_are_located_errors() {
    let ok = parse(
        &file(),
        "a: 9007199254740991\nb: 0.5\nc: 1.0\nd: &n 1.5e3\ne: *n\n",
    )
    .unwrap();
    assert_eq!(
        ok.to_json(),
        serde_json::json!({"a": 9007199254740991_i64, "b": 0.5, "c": 1, "d": 1500, "e": 1500})
    );
    for (text, expected) in [
        (
            "x:\n  big: 1152921504606846977\n",
            "integer 1152921504606846977",
        ),
        (
            "x: [1, -18446744073709551615]\n",
            "integer -18446744073709551615",
        ),
        ("x: [1, 123456789012345678901234567890]\n", "beyond"),
        ("x: {pi: 3.14159265358979323846}\n", "more digits"),
    ] {
        let Err(ParseError::Number { loc, message }) = parse(&file(), text) else {
            panic!("{text} accepted");
        };
        assert!(message.contains(expected), "{text}: {message}");
        assert!(message.contains("quote it"), "{message}");
        assert!(loc.line >= 1 && loc.column > 1, "{loc}");
    }
    let Err(ParseError::Number { loc, .. }) = parse(&file(), "x:\n  big: 1152921504606846977\n")
    else {
        unreachable!()
    };
    assert_eq!((loc.line, loc.column), (2, 8));
    let Err(err) = parse(&file(), "db:\n  password: 123456789012345678901\n") else {
        panic!("accepted");
    };
    assert!(
        !err.to_string().contains("12345"),
        "a secret's digits are not shown: {err}"
    );
}
