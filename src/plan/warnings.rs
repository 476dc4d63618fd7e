//! What `validate` warns about but lets through: each warning is one line
//! starting with the plan file:line:column.

use super::load::LoadedPlan;
use super::model::Fields;
use super::node::{dotted, Loc, Node, PathSegment, Value};
use crate::secret::is_secret_name;

/// Role and user fields that hold policy names.
const POLICY_LISTS: [&str; 4] = [
    "token_policies",
    "policies",
    "allowed_policies",
    "disallowed_policies",
];

/// Secret-looking names that describe a secret rather than hold one
/// (`secret_id_ttl`, `private_key_format`): their last word says so.
const DESCRIPTORS: [&str; 12] = [
    "ttl", "type", "bits", "usage", "format", "uses", "cidrs", "period", "policies", "length",
    "version", "accessor",
];

/// Secrets shorter than this are scrubbed from free text only as whole words.
const MIN_SCRUBBED_LEN: usize = 8;

/// Upper-case policy names (Vault lower-cases them, so the plan never
/// matches) and literal secrets too short to scrub reliably.
pub fn warnings(loaded: &LoadedPlan) -> Vec<String> {
    let mut out = Vec::new();
    policy_names(loaded, &mut out);
    out.extend(loaded.findings.short_secrets.iter().cloned());
    out
}

/// The short-literal-secret warnings of the merged tree (before the typed
/// plan consumes it).
pub(crate) fn short_secrets_in(root: &Node) -> Vec<String> {
    let mut out = Vec::new();
    if let Value::Map(sections) = &root.value {
        for (key, section) in sections {
            // Policy sections hold HCL text keyed by policy name, never a secret.
            if !["policies", "password_policies"].contains(&key.name.as_str()) {
                short_secrets(section, &mut vec![PathSegment::Key(&key.name)], &mut out);
            }
        }
    }
    out
}

fn policy_names(loaded: &LoadedPlan, out: &mut Vec<String>) {
    let plan = &loaded.plan;
    let mut warn = |path: &[&str], name: &str| {
        if name.chars().any(char::is_uppercase) {
            let loc = loaded.loc(path).unwrap_or_else(|| loaded.root_loc());
            out.push(format!(
                "{loc}: {}: Vault stores policy names in lower case; `{name}` is stored as `{}`: write it in lower case",
                path.join("."),
                name.to_lowercase()
            ));
        }
    };
    for name in plan.policies.keys() {
        warn(&["policies", name], name);
    }
    if let Some(expect) = &plan.vault.expect_token {
        for name in &expect.policies {
            warn(&["vault", "expect_token", "policies"], name);
        }
    }
    for (method, auth) in &plan.auth {
        for (section, objects) in [("roles", &auth.roles), ("users", &auth.users)] {
            for (object, fields) in objects {
                for (field, names) in policy_lists(fields) {
                    for name in names {
                        warn(&["auth", method, section, object, field], &name);
                    }
                }
            }
        }
    }
}

/// The policy names of each policy-list field: a list, or Vault's comma string.
fn policy_lists(fields: &Fields) -> impl Iterator<Item = (&str, Vec<String>)> {
    POLICY_LISTS.iter().filter_map(|field| {
        let names = match fields.get(*field)? {
            serde_json::Value::Array(items) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect(),
            serde_json::Value::String(s) => s.split(',').map(|n| n.trim().to_owned()).collect(),
            _ => return None,
        };
        Some((*field, names))
    })
}

/// Literal values of secret-named fields, at any depth, shorter than
/// `MIN_SCRUBBED_LEN` (never the value itself in the message).
fn short_secrets<'a>(node: &'a Node, path: &mut Vec<PathSegment<'a>>, out: &mut Vec<String>) {
    if node.source_kind().is_some() {
        return;
    }
    match &node.value {
        Value::Map(entries) => {
            for (key, child) in entries {
                // Where a managed token is stored: names, never secrets.
                if key.name == "secretRef" {
                    continue;
                }
                if let Some(len) = literal_len(child).filter(|_| secret_field(&key.name)) {
                    if (1..MIN_SCRUBBED_LEN).contains(&len) {
                        out.push(short_secret_warning(&child.loc, path, &key.name, len));
                    }
                }
                path.push(PathSegment::Key(&key.name));
                short_secrets(child, path, out);
                path.pop();
            }
        }
        Value::Seq(items) => {
            for (i, child) in items.iter().enumerate() {
                path.push(PathSegment::Index(i));
                short_secrets(child, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn secret_field(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let last = lower.rsplit(['_', '-', '.']).next().unwrap_or(&lower);
    is_secret_name(name) && !DESCRIPTORS.contains(&last)
}

fn literal_len(node: &Node) -> Option<usize> {
    match &node.value {
        Value::Str(s) => Some(s.chars().count()),
        Value::Int(i) => Some(i.to_string().len()),
        _ => None,
    }
}

fn short_secret_warning(loc: &Loc, path: &[PathSegment], field: &str, len: usize) -> String {
    let mut full = dotted(path);
    if !full.is_empty() {
        full.push('.');
    }
    full.push_str(field);
    format!(
        "{loc}: {full}: this secret is {len} characters long; values shorter than {MIN_SCRUBBED_LEN} \
         are scrubbed from logs and errors only as whole words, so it may show up inside other text: \
         use a longer secret, or a value source ({{env: ..}}, {{file: ..}}, {{secretKeyRef: ..}})"
    )
}
