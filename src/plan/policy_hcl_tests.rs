//! Tests of the offline policy checks.

use super::*;

fn acl(text: &str) -> Result<(), Issue> {
    check(text, PolicyKind::Acl)
}

#[test]
fn valid_policies_pass() {
    acl(r#"
# comment
path "app/data/{{identity.entity.id}}/*" {
  capabilities = ["read", "list",]
}
path "identity/entity-alias/${accessor:auth/kubernetes}" { capabilities = ["update"] }
path "secret/+/x" {
  policy = "write"
  allowed_parameters = { "*" = [], "ttl" = ["1h"] }
  min_wrapping_ttl = "1s"
}
"#)
    .unwrap();
    acl(r#"{"path": {"a/*": {"capabilities": ["read"]}}}"#).unwrap();
    acl("").unwrap();
    check(
        "length = 20\nrule \"charset\" {\n  charset = \"abc\"\n  min-chars = 1\n}\n",
        PolicyKind::Password,
    )
    .unwrap();
}

#[test]
fn syntax_errors_name_the_line() {
    let issue = acl("path \"a\" {\n  capabilities = [\"read\"\n}\n").unwrap_err();
    assert_eq!(issue.line, 3, "{issue:?}");
    let issue = check("length = 20\nrule \"charset\" {\n", PolicyKind::Password).unwrap_err();
    assert!(issue.line >= 2, "{issue:?}");
    let issue = acl("{\"path\": {\n").unwrap_err();
    assert_eq!(issue.line, 2, "{issue:?}");
}

#[test]
fn structure_errors_name_the_word_and_line() {
    let issue = acl("path \"a\" {\n  capabilities = [\"read\", \"wirte\"]\n}\n").unwrap_err();
    assert_eq!((issue.line, issue.column), (2, 27), "{issue:?}");
    assert!(issue.message.contains("`wirte`"), "{issue:?}");
    let issue = acl("path \"a\" {\n  capabilites = [\"read\"]\n}\n").unwrap_err();
    assert!(issue.message.contains("capabilites"), "{issue:?}");
    assert!(acl("paths \"a\" { capabilities = [] }").is_err());
    assert!(acl("path { capabilities = [] }").is_err());
    assert!(acl("path \"a\" { capabilities = \"read\" }").is_err());
    assert!(acl("path \"a\" { policy = \"all\" }").is_err());
    let issue = acl(r#"{"path": {"a": {"capabilities": ["raed"]}}}"#).unwrap_err();
    assert!(issue.message.contains("raed"), "{issue:?}");
}

#[test]
fn hostile_input_is_an_issue_not_a_crash() {
    let deep = "[".repeat(100_000);
    assert!(acl(&format!("path \"a\" {{ capabilities = {deep} }}")).is_err());
    for text in [
        "\u{0}",
        "path \"\\",
        "path \"a\" {",
        "}}}}",
        "<<EOF\n",
        "a = <<EOF\nx\n",
    ] {
        assert!(acl(text).is_err(), "{text:?}");
    }
}
