//! `${NAME}` and `${NAME:-default}` from the environment at load time;
//! `${accessor:auth/PATH}` is left for the engine, which knows the accessors
//! only once the auth methods exist.

use super::error::{MissingVariable, PlanError};
use super::node::{Loc, Node, Value};
use crate::secret::is_secret_name;

const ACCESSOR: &str = "accessor:";
const AUTH: &str = "auth/";

/// Expands `${VAR}` in every string of the tree, source arguments included.
/// Every missing variable is reported, in one error.
pub fn interpolate_tree(node: &mut Node) -> Result<(), PlanError> {
    let mut found = Found::default();
    walk(node, &env_var, false, &mut found);
    if !found.missing.is_empty() {
        return Err(PlanError::MissingVariables {
            missing: found.missing,
        });
    }
    match found.malformed {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

#[derive(Default)]
struct Found {
    missing: Vec<MissingVariable>,
    malformed: Option<PlanError>,
}

/// `secret`: under a key named like a secret, whose text is never quoted.
fn walk(node: &mut Node, lookup: &dyn Fn(&str) -> Option<String>, secret: bool, found: &mut Found) {
    match &mut node.value {
        Value::Str(s) if s.contains("${") => {
            match interpolate(s, &node.loc, lookup, &mut found.missing) {
                Ok(text) => *s = text,
                Err(mut e) => {
                    if let (true, PlanError::Field { path, .. }) = (secret, &mut e) {
                        *path = "the value of a secret field".into();
                    }
                    found.malformed.get_or_insert(e);
                }
            }
        }
        Value::Seq(items) => items
            .iter_mut()
            .for_each(|n| walk(n, lookup, secret, found)),
        Value::Map(entries) => entries.iter_mut().for_each(|(key, n)| {
            let secret = secret || is_secret_name(&key.name);
            walk(n, lookup, secret, found)
        }),
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
            // Most likely a typo that would otherwise reach Vault as literal text.
            return Err(PlanError::Field {
                loc: loc.clone(),
                path: quoted_excerpt(&rest[start..], text),
                message: "`${` is not closed: write `${NAME}`, or `$${` for a literal `${`".into(),
            });
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
                (Some(value), _) => {
                    // DESIGN "Redaction": a variable named like a secret is
                    // one, wherever its value lands (a connection URL, a header).
                    if crate::secret::is_secret_name(name) {
                        crate::secret::register(&value);
                    }
                    out.push_str(&value)
                }
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

/// The whole string when short, else the unclosed reference on: a policy
/// or script would not fit in one sentence.
fn quoted_excerpt(from_reference: &str, text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() <= MAX {
        return format!("\"{}\"", text.escape_debug());
    }
    let shown: String = from_reference.chars().take(MAX / 2).collect();
    let cut = if shown.len() < from_reference.len() {
        "…"
    } else {
        ""
    };
    format!("\"…{}{cut}\"", shown.escape_debug())
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
#[path = "interpolate_tests.rs"]
mod tests;
