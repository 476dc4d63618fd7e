//! Auth methods beyond config and roles: `tune`, the builtin token method's
//! roles, `certs:`, `paths:` for any other sub-path, a method type missing
//! from the plugin catalog, and the minimal policy covering all of them.

use serde_json::{json, Value};

use crate::common::{action_of, apply_json, assert_stable, ca_block, dev_with_plan, vc};
use crate::support::bao::Bao;
use crate::support::cli::CliOutput;

fn plan_with_every_auth_object() -> String {
    format!(
        r#"version: 1
auth:
  userpass:
    type: userpass
    tune:
      listing_visibility: unauth
      max_lease_ttl: 24h
      audit_non_hmac_request_keys: [username]
      passthrough_request_headers: [X-Request-Id]
    users:
      alice: {{password: alice-secret-pw, token_policies: [dev]}}
  token:
    roles:
      ci: {{allowed_policies: [ci], orphan: true, token_period: 24h}}
  cert:
    type: cert
    certs:
      web:
        display_name: web
        token_policies: [web]
        certificate: |
{ca}    paths:
      crls/cluster:
        crl: |
{crl}"#,
        ca = ca_block(10),
        crl = crl_block(10),
    )
}

/// An empty CRL signed by a throwaway CA, as a YAML block body.
fn crl_block(indent: usize) -> String {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "openssl {args:?}: {out:?}");
    };
    std::fs::write(dir.path().join("index.txt"), "").unwrap();
    std::fs::write(
        dir.path().join("ca.cnf"),
        "[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\ncrlnumber=crlnumber\ndefault_md=sha256\ndefault_crl_days=30\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("crlnumber"), "01\n").unwrap();
    run(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-subj",
        "/CN=crl-ca",
        "-days",
        "30",
    ]);
    run(&[
        "ca", "-config", "ca.cnf", "-gencrl", "-keyfile", "ca.key", "-cert", "ca.pem", "-out",
        "crl.pem",
    ]);
    std::fs::read_to_string(dir.path().join("crl.pem"))
        .unwrap()
        .lines()
        .map(|line| format!("{:indent$}{line}\n", ""))
        .collect()
}

fn auth_entry(bao: &Bao, path: &str) -> Value {
    bao.read("sys/auth").unwrap()["data"][format!("{path}/")].clone()
}

#[test]
fn tune_token_roles_certs_and_sub_paths_converge_and_rerun_without_writes() {
    let (bao, _dir, plan) = dev_with_plan(&plan_with_every_auth_object());
    let (out, cold) = apply_json(&bao, &plan, &[]);
    out.assert_success();
    for path in [
        "sys/auth/userpass",
        "auth/token/roles/ci",
        "auth/cert/certs/web",
        "auth/cert/crls/cluster",
    ] {
        assert_eq!(action_of(&cold, path), "create", "{path}: {cold:#}");
    }

    let tune = &auth_entry(&bao, "userpass")["config"];
    assert_eq!(tune["listing_visibility"], "unauth");
    assert_eq!(tune["max_lease_ttl"], 86400);
    assert_eq!(tune["audit_non_hmac_request_keys"], json!(["username"]));
    assert_eq!(tune["passthrough_request_headers"], json!(["X-Request-Id"]));
    let role = bao.read("auth/token/roles/ci").unwrap();
    assert_eq!(role["data"]["allowed_policies"], json!(["ci"]));
    assert_eq!(role["data"]["orphan"], true);
    assert_eq!(role["data"]["token_period"], 86400);
    let cert = bao.read("auth/cert/certs/web").unwrap();
    assert_eq!(cert["data"]["token_policies"], json!(["web"]));
    assert!(bao.read("auth/cert/crls/cluster").is_some());
    // The builtin token method is not enabled a second time anywhere.
    let methods = bao.read("sys/auth").unwrap()["data"].clone();
    let tokens = methods
        .as_object()
        .unwrap()
        .values()
        .filter(|m| m["type"] == "token")
        .count();
    assert_eq!(tokens, 1, "{methods:#}");

    assert_stable(&bao, &plan, &[]);
}

#[test]
fn drift_in_tune_and_token_roles_is_shown_by_plan_and_repaired_by_apply() {
    let (bao, _dir, plan) = dev_with_plan(&plan_with_every_auth_object());
    apply_json(&bao, &plan, &[]).0.assert_success();
    bao.write(
        "sys/auth/userpass/tune",
        &json!({"listing_visibility": "hidden", "max_lease_ttl": "1h"}),
    );
    bao.write(
        "auth/token/roles/ci",
        &json!({"allowed_policies": ["ci", "admin"], "orphan": true, "token_period": "24h"}),
    );

    let planned = vc(
        &bao,
        &["plan", "-f", plan.to_str().unwrap(), "--detailed-exitcode"],
        &[],
    );
    planned.assert_code(4);
    for shown in [
        "config.listing_visibility",
        "config.max_lease_ttl",
        "allowed_policies",
    ] {
        assert!(
            planned.stdout.contains(shown),
            "{shown}: {}",
            planned.describe()
        );
    }

    let (out, repaired) = apply_json(&bao, &plan, &[]);
    out.assert_success();
    assert_eq!(action_of(&repaired, "sys/auth/userpass"), "update");
    assert_eq!(action_of(&repaired, "auth/token/roles/ci"), "update");
    assert_eq!(
        auth_entry(&bao, "userpass")["config"]["listing_visibility"],
        "unauth"
    );
    assert_eq!(
        bao.read("auth/token/roles/ci").unwrap()["data"]["allowed_policies"],
        json!(["ci"])
    );
    assert_stable(&bao, &plan, &[]);
}

#[test]
fn a_method_type_missing_from_the_catalog_fails_only_itself_and_what_is_under_it() {
    let (bao, _dir, plan) = dev_with_plan(
        r#"version: 1
auth:
  github:
    type: github
    config: {organization: example}
    paths:
      map/teams/platform: {value: admins}
  approle:
    type: approle
    roles:
      deployer: {token_policies: [deploy]}
"#,
    );
    // `plan` already says what `apply` will hit, before anything is written.
    let planned = vc(&bao, &["plan", "-f", plan.to_str().unwrap()], &[]);
    planned.assert_code(2);
    assert!(
        planned
            .stdout
            .contains("`github` is not in this server's plugin catalog"),
        "{}",
        planned.describe()
    );
    assert!(bao.read("auth/approle/role/deployer").is_none());

    let (out, report) = apply_json(&bao, &plan, &[]);
    out.assert_code(2);
    let github = crate::common::object_of(&report, "sys/auth/github");
    let error = github["error"].as_str().unwrap();
    assert!(
        error.contains("`github` is not in this server's plugin catalog")
            && error.contains("plugins:"),
        "{report:#}"
    );
    assert_eq!(action_of(&report, "auth/github/config"), "skipped");
    assert_eq!(
        action_of(&report, "auth/github/map/teams/platform"),
        "skipped"
    );
    assert_eq!(action_of(&report, "auth/approle/role/deployer"), "create");
    assert!(bao.read("auth/approle/role/deployer").is_some());
    assert!(auth_entry(&bao, "github").is_null());
}

fn refused_offline(yaml: &str, line: usize, says: &str) {
    let (bao, _dir, plan) = dev_with_plan(yaml);
    let out: CliOutput = vc(&bao, &["apply", "-f", plan.to_str().unwrap()], &[]);
    out.assert_code(2);
    assert!(
        out.stderr.contains(&format!("plan.yaml:{line}")) && out.stderr.contains(says),
        "expected plan.yaml:{line} and `{says}`: {}",
        out.describe()
    );
    // Refused before anything was written.
    assert!(bao.read("sys/policies/acl/p").is_none());
}

#[test]
fn auth_objects_the_method_cannot_have_are_refused_before_anything_is_written() {
    refused_offline(
        "version: 1\npolicies: {p: 'path \"a\" { capabilities = [\"read\"] }'}\nauth:\n  corp:\n    type: ldap\n    roles:\n      x: {policies: [a]}\n",
        6,
        "have no roles",
    );
    refused_offline(
        "version: 1\npolicies: {p: 'path \"a\" { capabilities = [\"read\"] }'}\nauth:\n  tok:\n    type: token\n",
        5,
        "builtin token method lives at `token`",
    );
    refused_offline(
        "version: 1\npolicies: {p: 'path \"a\" { capabilities = [\"read\"] }'}\nauth:\n  token:\n    users:\n      x: {}\n",
        5,
        "takes only roles: and tune:",
    );
    refused_offline(
        "version: 1\npolicies: {p: 'path \"a\" { capabilities = [\"read\"] }'}\nauth:\n  up:\n    roles: {}\n",
        4,
        "auth type is empty",
    );
}

#[test]
fn typos_in_tune_and_token_roles_are_found_before_anything_is_written() {
    let (bao, _dir, plan) = dev_with_plan(
        "version: 1\npolicies: {p: 'path \"a\" { capabilities = [\"read\"] }'}\nauth:\n  up:\n    type: userpass\n    tune: {listing_visiblity: unauth}\n  token:\n    roles:\n      ci: {allowed_polices: [a]}\n",
    );
    for command in ["plan", "apply"] {
        let out = vc(&bao, &[command, "-f", plan.to_str().unwrap()], &[]);
        out.assert_code(2);
        for (field, line) in [("listing_visiblity", 6), ("allowed_polices", 9)] {
            assert!(
                out.stdout.contains(&format!("`{field}` ("))
                    && out.stdout.contains(&format!("plan.yaml:{line})")),
                "{field}: {}",
                out.describe()
            );
        }
    }
    assert!(bao.read("sys/policies/acl/p").is_none());
    assert!(auth_entry(&bao, "up").is_null());
    assert!(bao.read("auth/token/roles/ci").is_none());
}
