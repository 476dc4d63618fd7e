//! `${NAME}` and `${NAME:-default}` from the environment at load time;
//! `${accessor:auth/PATH}` is left for the engine, which knows the accessors
//! only once the auth methods exist.

use super::error::{MissingVariable, PlanError};
use super::node::{Loc, Node, Value};

const ACCESSOR: &str = "accessor:";
const AUTH: &str = "auth/";

/// Expands `${VAR}` in every string of the tree, source arguments included.
/// Every missing variable is reported, in one error.
pub fn interpolate_tree(node: &mut Node) -> Result<(), PlanError> {
    let mut missing = Vec::new();
    let mut malformed = None;
    walk(node, &env_var, &mut missing, &mut malformed);
    if !missing.is_empty() {
        return Err(PlanError::MissingVariables { missing });
    }
    match malformed {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

fn walk(
    node: &mut Node,
    lookup: &dyn Fn(&str) -> Option<String>,
    missing: &mut Vec<MissingVariable>,
    malformed: &mut Option<PlanError>,
) {
    match &mut node.value {
        Value::Str(s) if s.contains("${") => match interpolate(s, &node.loc, lookup, missing) {
            Ok(text) => *s = text,
            Err(e) => {
                malformed.get_or_insert(e);
            }
        },
        Value::Seq(items) => items
            .iter_mut()
            .for_each(|n| walk(n, lookup, missing, malformed)),
        Value::Map(entries) => entries
            .iter_mut()
            .for_each(|(_, n)| walk(n, lookup, missing, malformed)),
        _ => {}
    }
}

/// A variable's value; names that cannot be variables have none (and
/// `std::env` is never asked about them).
fn env_var(name: &str) -> Option<String> {
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return None;
    }
    std::env::var(name).ok()
}

/// One string: `${NAME}` → value, `${NAME:-default}` → value, or `default`
/// when NAME is unset or empty (POSIX `:-`); `$${` → a literal `${`.
/// Missing names are pushed to `missing`; the text keeps going so that
/// all of them are found.
pub(crate) fn interpolate(
    text: &str,
    loc: &Loc,
    lookup: &dyn Fn(&str) -> Option<String>,
    missing: &mut Vec<MissingVariable>,
) -> Result<String, PlanError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        if rest[..start].ends_with('$') {
            out.push_str(&rest[..start - 1]);
            // An escaped accessor stays escaped: the engine's pass unescapes it.
            out.push_str(if after.starts_with(ACCESSOR) {
                "$${"
            } else {
                "${"
            });
            rest = after;
            continue;
        }
        out.push_str(&rest[..start]);
        let Some(end) = after.find('}') else {
            // No closing brace: not a reference, keep the text as written.
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let expr = &after[..end];
        if let Some(path) = expr.strip_prefix(ACCESSOR) {
            if auth_path(path).is_none() {
                return Err(PlanError::Field {
                    loc: loc.clone(),
                    path: format!("${{{expr}}}"),
                    message:
                        "an accessor reference names an auth method: write `${accessor:auth/PATH}`"
                            .into(),
                });
            }
            out.push_str(&rest[start..start + 2 + end + 1]);
        } else {
            let (name, default) = match expr.split_once(":-") {
                Some((name, default)) => (name, Some(default)),
                None => (expr, None),
            };
            match (lookup(name), default) {
                (Some(value), Some(default)) if value.is_empty() => out.push_str(default),
                (Some(value), _) => out.push_str(&value),
                (None, Some(default)) => out.push_str(default),
                (None, None) => {
                    let entry = MissingVariable {
                        loc: loc.clone(),
                        name: name.to_owned(),
                    };
                    if !missing.contains(&entry) {
                        missing.push(entry);
                    }
                }
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `auth/PATH` → `PATH` without surrounding slashes; `None` when it is not an auth path.
fn auth_path(reference: &str) -> Option<&str> {
    let path = reference.strip_prefix(AUTH)?.trim_matches('/');
    (!path.is_empty()).then_some(path)
}

/// Each `${accessor:auth/PATH}` in `text`, as `PATH` (the key under `auth:`),
/// in order of first use; escaped `$${accessor:...}` are not references.
pub fn accessor_refs(text: &str) -> Vec<String> {
    let mut refs: Vec<String> = Vec::new();
    for_each_accessor(text, |piece| {
        if let Piece::Ref(path) = piece {
            if !refs.iter().any(|r| r == path) {
                refs.push(path.to_owned());
            }
        }
    });
    refs
}

/// Replaces each `${accessor:auth/PATH}` by `accessor(PATH)` (the mount
/// accessor, e.g. `auth_kubernetes_1a2b3c`) and `$${accessor:` by a literal
/// `${accessor:`. `Err(PATH)` for the first path `accessor` does not know.
pub fn replace_accessors(
    text: &str,
    accessor: impl Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut unknown = None;
    for_each_accessor(text, |piece| match piece {
        Piece::Text(t) => out.push_str(t),
        Piece::Ref(path) => match accessor(path) {
            Some(value) => out.push_str(&value),
            None => {
                unknown.get_or_insert_with(|| path.to_owned());
            }
        },
    });
    match unknown {
        Some(path) => Err(path),
        None => Ok(out),
    }
}

enum Piece<'a> {
    Text(&'a str),
    Ref(&'a str),
}

/// Splits `text` into literal pieces and accessor references.
fn for_each_accessor<'a>(text: &'a str, mut f: impl FnMut(Piece<'a>)) {
    const OPEN: &str = "${accessor:";
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        if rest[..start].ends_with('$') {
            f(Piece::Text(&rest[..start - 1]));
            f(Piece::Text(OPEN));
            rest = &rest[start + OPEN.len()..];
            continue;
        }
        let inner = &rest[start + OPEN.len()..];
        let path = inner
            .find('}')
            .and_then(|end| auth_path(&inner[..end]).map(|p| (p, end)));
        match path {
            Some((path, end)) => {
                f(Piece::Text(&rest[..start]));
                f(Piece::Ref(path));
                rest = &inner[end + 1..];
            }
            None => {
                // Not a well-formed reference (load rejects those): literal text.
                f(Piece::Text(&rest[..start + OPEN.len()]));
                rest = inner;
            }
        }
    }
    f(Piece::Text(rest));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn loc(line: u64) -> Loc {
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
        assert_eq!(expand("no brace ${HOST").0, "no brace ${HOST");
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
        let mut root = super::super::node::parse(
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
}
