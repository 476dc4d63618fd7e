//! Offline checks of ACL and password policy text, so a typo is an exit-2
//! error from `validate` rather than a 400 in the middle of an apply.
//!
//! Vault reads policies with HCL 1 (which also accepts JSON); `hcl-rs`
//! parses HCL 2, which agrees on everything policies use except `${` and
//! `%{` inside strings (templates in HCL 2, plain text in Vault): those are
//! neutralized first, which also keeps `${accessor:auth/PATH}` and
//! `{{identity.entity.id}}` from tripping the parser.

use hcl::edit::expr::Expression;
use hcl::edit::structure::{Block, BlockLabel, Body, Structure};
use hcl::edit::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// `sys/policies/acl`: `path "<glob>" { capabilities = [...] }` blocks.
    Acl,
    /// `sys/policies/password`: `length = N` and `rule "charset" {...}`; syntax only.
    Password,
}

/// What is wrong and where, inside the policy text (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Vault's and OpenBao's capabilities together (OpenBao adds `scan`, Vault
/// `subscribe` and `recover`): a word outside all of them is rejected by either.
pub const CAPABILITIES: [&str; 11] = [
    "create",
    "read",
    "update",
    "patch",
    "delete",
    "list",
    "sudo",
    "deny",
    "subscribe",
    "recover",
    "scan",
];

/// Keys Vault or OpenBao accept inside a `path` block.
const PATH_KEYS: [&str; 14] = [
    "capabilities",
    "policy",
    "comment",
    "allowed_parameters",
    "denied_parameters",
    "required_parameters",
    "min_wrapping_ttl",
    "max_wrapping_ttl",
    "mfa_methods",
    "control_group",
    "subscribe_event_types",
    "pagination_limit",
    "expiration",
    "list_scan_response_keys_filter_path",
];

/// Old-style `policy = "..."` values.
const OLD_POLICIES: [&str; 4] = ["deny", "read", "write", "sudo"];

/// Deeper nesting than any policy needs; it also bounds the parser's recursion.
const MAX_NESTING: usize = 64;

pub fn check(text: &str, kind: PolicyKind) -> Result<(), Issue> {
    if kind == PolicyKind::Acl && super::policy_simple::is_simple_acl(text) {
        return Ok(());
    }
    check_with_parser(text, kind)
}

/// `check` without the shortcut for the common shape.
pub(super) fn check_with_parser(text: &str, kind: PolicyKind) -> Result<(), Issue> {
    let neutral = text.replace("${", "_{").replace("%{", "_{");
    check_nesting(&neutral)?;
    if neutral.trim_start().starts_with('{') {
        return check_json(&neutral, kind);
    }
    let body = hcl::edit::parser::parse_body(&neutral).map_err(|e| Issue {
        line: e.location().line(),
        column: e.location().column(),
        message: e.message().replace('\n', " "),
    })?;
    match kind {
        PolicyKind::Acl => check_acl(&body, &neutral),
        PolicyKind::Password => Ok(()),
    }
}

fn check_nesting(text: &str) -> Result<(), Issue> {
    let mut depth = 0usize;
    for (offset, c) in text.char_indices() {
        match c {
            '{' | '[' | '(' => depth += 1,
            '}' | ']' | ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_NESTING {
            return Err(issue_at(
                text,
                offset,
                format!("nested more than {MAX_NESTING} levels deep"),
            ));
        }
    }
    Ok(())
}

fn check_acl(body: &Body, text: &str) -> Result<(), Issue> {
    for structure in body.iter() {
        match structure {
            // `name = ".."` is allowed at the top; `path = {..}` is HCL 1's other spelling.
            Structure::Attribute(a) if ["name", "path"].contains(&a.key.as_str()) => {}
            Structure::Block(block) if block.ident.as_str() == "path" => {
                check_path_block(block, text)?
            }
            other => {
                let key = match other {
                    Structure::Attribute(a) => a.key.as_str(),
                    Structure::Block(b) => b.ident.as_str(),
                };
                return Err(issue_of(
                    text,
                    other,
                    format!("unknown top-level key `{key}`: an ACL policy holds `path \"<glob>\" {{ capabilities = [...] }}` blocks"),
                ));
            }
        }
    }
    Ok(())
}

fn check_path_block(block: &Block, text: &str) -> Result<(), Issue> {
    if !matches!(block.labels.as_slice(), [BlockLabel::String(_)]) {
        return Err(issue_of(
            text,
            block,
            "a path block takes one quoted path: `path \"secret/data/*\" { ... }`".into(),
        ));
    }
    for structure in block.body.iter() {
        let (key, value) = match structure {
            Structure::Attribute(a) => (a.key.as_str(), Some(&a.value)),
            Structure::Block(b) => (b.ident.as_str(), None),
        };
        if !PATH_KEYS.contains(&key) {
            return Err(issue_of(
                text,
                structure,
                format!(
                    "unknown key `{key}` in a path block; expected one of {}",
                    PATH_KEYS.join(", ")
                ),
            ));
        }
        match (key, value) {
            ("capabilities", Some(value)) => check_capabilities(value, text)?,
            ("policy", Some(Expression::String(s))) if OLD_POLICIES.contains(&s.as_str()) => {}
            ("policy", Some(value)) => {
                return Err(issue_of(
                    text,
                    value,
                    format!("`policy` must be one of {}", OLD_POLICIES.join(", ")),
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

fn check_capabilities(value: &Expression, text: &str) -> Result<(), Issue> {
    let Expression::Array(items) = value else {
        return Err(issue_of(
            text,
            value,
            "capabilities must be a list: `capabilities = [\"read\"]`".into(),
        ));
    };
    for item in items.iter() {
        match item {
            Expression::String(s) if CAPABILITIES.contains(&s.as_str()) => {}
            Expression::String(s) => {
                return Err(issue_of(text, item, unknown_capability(s.as_str())));
            }
            _ => {
                return Err(issue_of(
                    text,
                    item,
                    "capabilities must be quoted strings".into(),
                ))
            }
        }
    }
    Ok(())
}

fn unknown_capability(word: &str) -> String {
    format!(
        "unknown capability `{word}`; expected one of {}",
        CAPABILITIES.join(", ")
    )
}

/// A JSON policy (`{"path": {"glob": {"capabilities": [..]}}}`), which HCL 1 also reads.
fn check_json(text: &str, kind: PolicyKind) -> Result<(), Issue> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| Issue {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    if kind == PolicyKind::Password {
        return Ok(());
    }
    let paths = value.get("path").and_then(|p| p.as_object());
    let capabilities = paths
        .into_iter()
        .flat_map(|p| p.values())
        .filter_map(|rules| rules.get("capabilities")?.as_array())
        .flatten();
    for capability in capabilities {
        let word = capability.as_str().unwrap_or_default();
        if !CAPABILITIES.contains(&word) {
            let needle = capability.to_string();
            let offset = text.find(&needle).unwrap_or(0);
            return Err(issue_at(text, offset, unknown_capability(&needle)));
        }
    }
    Ok(())
}

fn issue_of(text: &str, spanned: &impl Span, message: String) -> Issue {
    let offset = spanned.span().map(|s| s.start).unwrap_or(0);
    issue_at(text, offset, message)
}

fn issue_at(text: &str, offset: usize, message: String) -> Issue {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Issue {
        line,
        column,
        message,
    }
}

#[cfg(test)]
#[path = "policy_hcl_tests.rs"]
mod tests;
