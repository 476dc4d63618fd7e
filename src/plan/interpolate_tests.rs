//! Tests of `${NAME}` expansion and accessor references.

use super::*;
use std::sync::Arc;

fn loc(line: u32) -> Loc {
    Loc {
        file: Arc::from("f.yaml"),
        line,
        column: 7,
    }
}

fn vars(name: &str) -> Option<String> {
    match name {
        "HOST" => Some("db.example".into()),
        "EMPTY" => Some(String::new()),
        _ => None,
    }
}

fn expand(text: &str) -> (String, Vec<MissingVariable>) {
    let mut missing = Vec::new();
    let out = interpolate(text, &loc(3), &vars, &mut missing).unwrap();
    (out, missing)
}

#[test]
fn variables_defaults_and_escapes() {
    assert_eq!(
        expand("pg://${HOST}:5432 $${literal}").0,
        "pg://db.example:5432 ${literal}"
    );
    assert_eq!(expand("${UNSET:-fallback}").0, "fallback");
    assert_eq!(expand("${EMPTY:-fallback}").0, "fallback");
    assert_eq!(expand("${HOST:-fallback}").0, "db.example");
    assert_eq!(expand("${UNSET:-}x").0, "x");
    assert_eq!(expand("kept $${HOST").0, "kept ${HOST");
}

#[test]
fn an_unclosed_reference_is_an_error_with_its_text() {
    let mut missing = Vec::new();
    let err = interpolate("abc ${NAME", &loc(3), &vars, &mut missing).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("f.yaml:3:7: \"abc ${NAME\": "), "{text}");
    assert!(text.contains("`$${`"), "{text}");
    let long = format!("{}x: ${{NAME and more", "#\n".repeat(40));
    let text = interpolate(&long, &loc(3), &vars, &mut missing)
        .unwrap_err()
        .to_string();
    assert!(text.contains(": \"…${NAME and more\": "), "{text}");

    let mut root = crate::plan::node::parse(
        &Arc::from("p.yaml"),
        "a: ok\ndb:\n  password: 'pw ${oops'\n",
    )
    .unwrap();
    let text = interpolate_tree(&mut root).unwrap_err().to_string();
    assert!(
        text.starts_with("p.yaml:3:13: the value of a secret field: "),
        "{text}"
    );
    assert!(!text.contains("oops"), "{text}");
}

#[test]
fn accessors_are_left_for_the_engine() {
    let text = r#"path "identity/${accessor:auth/kubernetes}/x" {} $${accessor:auth/kept}"#;
    let (out, missing) = expand(text);
    assert_eq!(out, text, "verbatim, escape included");
    assert!(missing.is_empty());
    assert_eq!(accessor_refs(&out), vec!["kubernetes".to_owned()]);
    let replaced = replace_accessors(&out, |p| Some(format!("auth_{p}_123")));
    assert_eq!(
        replaced.unwrap(),
        r#"path "identity/auth_kubernetes_123/x" {} ${accessor:auth/kept}"#
    );
    assert_eq!(
        replace_accessors("${accessor:auth/a/} ${accessor:auth/b}", |p| {
            (p == "a").then(|| "acc".to_owned())
        }),
        Err("b".to_owned())
    );
    let mut missing = Vec::new();
    let err = interpolate("${accessor:kubernetes}", &loc(2), &vars, &mut missing).unwrap_err();
    assert!(err.to_string().contains("accessor:auth/PATH"), "{err}");
}

#[test]
fn every_missing_variable_is_reported_at_once() {
    let mut root = crate::plan::node::parse(
        &Arc::from("p.yaml"),
        "a: ${VC_T_NOPE_1}\nb: [x, 'y ${VC_T_NOPE_2} ${VC_T_NOPE_1}']\n",
    )
    .unwrap();
    let err = interpolate_tree(&mut root).unwrap_err();
    let PlanError::MissingVariables { missing } = &err else {
        panic!("{err}")
    };
    let names: Vec<&str> = missing.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["VC_T_NOPE_1", "VC_T_NOPE_2", "VC_T_NOPE_1"]);
    let text = err.to_string();
    assert!(text.starts_with("p.yaml:1:4: "), "{text}");
    assert!(text.contains("VC_T_NOPE_2 (p.yaml:2:"), "{text}");
    assert!(text.contains("${NAME:-default}"), "{text}");
}

#[test]
fn odd_names_are_missing_not_a_panic() {
    let mut missing = Vec::new();
    let out = interpolate("${} ${A=B} ${a\u{0}b}", &loc(1), &env_var, &mut missing).unwrap();
    assert_eq!(out, "  ");
    assert_eq!(missing.len(), 3);
}
