//! Unknown fields are found by `plan` before anything is written, from the
//! server's own API description, and are exit-2 errors naming file:line.

use serde_json::json;

use crate::common::*;
use crate::support::bao::Bao;

const TYPOS: &str = r#"version: 1
auth:
  kubernetes:
    type: kubernetes
    roles:
      api:
        bound_service_account_names: [api]
        bound_service_account_namespaces: [prod]
        token_tll: 1h
  userpass:
    type: userpass
    users:
      alice: { password: { env: ALICE_PW }, token_polices: [dev] }
policies:
  dev: 'path "app/*" { capabilities = ["read"] }'
"#;

#[test]
fn typos_fail_plan_and_apply_before_any_write() {
    let bao = Bao::start_dev();
    bao.write("sys/auth/kubernetes", &json!({"type": "kubernetes"}));
    bao.write("sys/auth/userpass", &json!({"type": "userpass"}));
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), "plan.yaml", TYPOS);
    let p = plan.to_str().unwrap();
    let env = [("ALICE_PW", "alice-password-1")];

    for command in ["plan", "apply"] {
        let out = vc(&bao, &[command, "-f", p], &env);
        out.assert_code(2);
        for expected in [
            "`token_tll` (",
            "plan.yaml:9)",
            "`token_polices` (",
            "plan.yaml:13)",
        ] {
            assert!(
                out.stdout.contains(expected),
                "{command}: `{expected}` in {}",
                out.describe()
            );
        }
        let last = out.stderr.lines().last().unwrap_or("");
        assert!(last.contains("plan.yaml:"), "{last}");
    }
    assert!(
        bao.read("auth/kubernetes/role/api").is_none(),
        "nothing written"
    );
    assert!(
        bao.read("auth/userpass/users/alice").is_none(),
        "nothing written"
    );
    assert!(
        bao.read("sys/policies/acl/dev").is_none(),
        "not even independent objects: a plan with a typo is not applied"
    );

    // Fixed, it applies and reruns clean (no perpetual diff).
    let fixed = TYPOS
        .replace("token_tll", "token_ttl")
        .replace("token_polices", "token_policies");
    std::fs::write(&plan, fixed).unwrap();
    vc(&bao, &["apply", "-f", p], &env).assert_success();
    assert_eq!(
        bao.read("auth/kubernetes/role/api").unwrap()["data"]["token_ttl"],
        3600
    );
    let (out, rerun) = apply_json(&bao, &plan, &env);
    out.assert_success();
    assert_eq!(rerun["requests"]["writes"], 0, "{rerun:#}");
}

/// OpenBao's description gives jwt's `role/{name}` and `cel/role/{name}` one
/// schema name: valid role fields must pass, a typo must still be caught.
#[test]
fn jwt_roles_are_checked_against_their_own_path() {
    let bao = Bao::start_dev();
    bao.write("sys/auth/jwt", &json!({"type": "jwt"}));
    let dir = tempfile::tempdir().unwrap();
    let yaml = |field: &str| {
        format!(
            "version: 1\nauth:\n  jwt:\n    type: jwt\n    roles:\n      deploy: {{ role_type: jwt, user_claim: sub, bound_audiences: [ci], {field}: 1h }}\n"
        )
    };
    let good = plan_file(dir.path(), "good.yaml", &yaml("token_ttl"));
    vc(&bao, &["plan", "-f", good.to_str().unwrap()], &[]).assert_success();
    let typo = plan_file(dir.path(), "typo.yaml", &yaml("token_tll"));
    let out = vc(&bao, &["plan", "-f", typo.to_str().unwrap()], &[]);
    out.assert_code(2);
    assert!(
        out.stdout.contains("`token_tll` (") && !out.stdout.contains("`user_claim`"),
        "{}",
        out.describe()
    );
}

/// `writes` are checked too: a KV v2 data write takes `data` and `options`,
/// nothing else (Vault would answer with an "ignored parameters" warning).
#[test]
fn unknown_fields_of_writes_are_refused() {
    let bao = Bao::start_dev();
    bao.write(
        "sys/mounts/app",
        &json!({"type": "kv", "options": {"version": "2"}}),
    );
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(
        dir.path(),
        "plan.yaml",
        "version: 1\nwrites:\n  - { path: app/data/x, mode: overwrite, data: { data: { a: b }, bogus_option: true } }\n",
    );
    let out = vc(&bao, &["apply", "-f", plan.to_str().unwrap()], &[]);
    out.assert_code(2);
    assert!(
        out.stdout.contains("`bogus_option` (") && out.stdout.contains("plan.yaml:3)"),
        "{}",
        out.describe()
    );
    assert!(
        out.stderr
            .lines()
            .last()
            .unwrap_or("")
            .contains("plan.yaml:3"),
        "{}",
        out.stderr
    );
    assert!(bao.read("app/data/x").is_none(), "nothing written");
}

/// The description is read while the plan loads, and that one read is the
/// one the fields are checked against: one read per run, typos still caught.
#[test]
fn the_api_description_is_read_once_per_run() {
    let dir = tempfile::tempdir().unwrap();
    let (bao, audit) = dev_with_audit(dir.path());
    bao.write("sys/auth/kubernetes", &json!({"type": "kubernetes"}));
    let plan = plan_file(dir.path(), "plan.yaml", "version: 1\nauth:\n  kubernetes:\n    type: kubernetes\n    roles:\n      api: { bound_service_account_names: [api], bound_service_account_namespaces: [prod], token_tll: 1h }\n");
    let out = vc(&bao, &["apply", "-f", plan.to_str().unwrap()], &[]);
    out.assert_code(2);
    assert!(out.stdout.contains("`token_tll` ("), "{}", out.describe());
    assert!(bao.read("auth/kubernetes/role/api").is_none());
    let requests = audited_requests(&audit);
    assert_eq!(
        requests_to(&requests, "read", "sys/internal/specs/openapi"),
        1,
        "{requests:#?}"
    );
}

/// A mount the run creates is described by its own help once it exists: the
/// whole description (about 13× the server's CPU) is not read a second time,
/// and a typo under the new mount is still caught before anything under it
/// is written.
#[test]
fn a_mount_the_run_creates_is_checked_against_its_own_help() {
    let dir = tempfile::tempdir().unwrap();
    let (bao, audit) = dev_with_audit(dir.path());
    let yaml = |field: &str| {
        format!("version: 1\nauth:\n  approle:\n    type: approle\n    roles:\n      ci: {{ token_ttl: 1h, {field}: 10m }}\n")
    };
    let plan = plan_file(dir.path(), "plan.yaml", &yaml("secret_id_tll"));
    let p = plan.to_str().unwrap();
    let out = vc(&bao, &["apply", "-f", p], &[]);
    out.assert_code(2);
    assert!(
        out.stdout.contains("`secret_id_tll` (") && out.stdout.contains("plan.yaml:6)"),
        "{}",
        out.describe()
    );
    assert!(
        bao.read("sys/auth").unwrap()["data"]["approle/"].is_object(),
        "the mount was created"
    );
    assert!(
        bao.read("auth/approle/role/ci").is_none(),
        "the role was not written"
    );
    let requests = audited_requests(&audit);
    assert_eq!(
        requests_to(&requests, "read", "sys/internal/specs/openapi"),
        1,
        "{requests:#?}"
    );
    assert_eq!(
        requests_to(&requests, "help", "auth/approle"),
        1,
        "{requests:#?}"
    );

    std::fs::write(&plan, yaml("secret_id_ttl")).unwrap();
    vc(&bao, &["apply", "-f", p], &[]).assert_success();
    assert_eq!(
        bao.read("auth/approle/role/ci").unwrap()["data"]["secret_id_ttl"],
        600
    );
}

/// A dev server writing its audit log to a file in `dir`.
fn dev_with_audit(dir: &std::path::Path) -> (Bao, std::path::PathBuf) {
    let audit = dir.join("audit.log");
    let bao = Bao::start_dev_with_config(&format!(
        "audit \"file\" \"log\" {{\n  options {{\n    file_path = \"{}\"\n  }}\n}}\n",
        audit.display()
    ));
    (bao, audit)
}

/// The request entries of an audit log.
fn audited_requests(audit: &std::path::Path) -> Vec<serde_json::Value> {
    let log = std::fs::read_to_string(audit).unwrap();
    log.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|entry| entry["type"] == "request")
        .map(|entry| entry["request"].clone())
        .collect()
}

/// How many of `requests` were `operation` on `path` (a trailing slash aside).
fn requests_to(requests: &[serde_json::Value], operation: &str, path: &str) -> usize {
    (requests.iter())
        .filter(|r| {
            r["operation"] == operation
                && r["path"].as_str().map(|p| p.trim_end_matches('/')) == Some(path)
        })
        .count()
}

/// A description read for the token's namespace is not the plan's: a typo
/// under a mount only the plan's namespace has is caught before any write.
#[test]
fn typos_in_the_plans_namespace_are_checked_against_its_own_description() {
    let plan_text = "version: 1\nvault: { namespace: team-a }\nnamespaces: [team-a]\nauth:\n  approle:\n    type: approle\n    roles:\n      ci: { token_ttl: 1h }\n";
    let (bao, _dir, plan) = dev_with_plan(plan_text);
    let p = plan.to_str().unwrap();
    vc(&bao, &["apply", "-f", p], &[]).assert_success();
    let typo = plan_text.replace("token_ttl: 1h", "token_ttl: 2h, secret_id_tll: 10m")
        + "policies:\n  dev: 'path \"a\" { capabilities = [\"read\"] }'\n";
    std::fs::write(&plan, typo).unwrap();
    let out = vc(&bao, &["apply", "-f", p], &[]);
    out.assert_code(2);
    assert!(
        out.stdout.contains("`secret_id_tll` (") && out.stdout.contains("plan.yaml:8)"),
        "{}",
        out.describe()
    );
    let (code, role) = in_namespace(&bao, "team-a", "GET", "auth/approle/role/ci", None);
    assert_eq!(code, 200, "{role}");
    assert_eq!(role["data"]["token_ttl"], 3600, "the role was not changed");
    let (code, _) = in_namespace(&bao, "team-a", "GET", "sys/policies/acl/dev", None);
    assert_eq!(code, 404, "nothing of a plan with a typo is written");
}
