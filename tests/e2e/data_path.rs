//! Never silently wrong: value sources at any depth, write-only fields,
//! policy-name case, KV v1, dependency-scoped failures, stage order and auth
//! accessors — each against a real OpenBao dev server, asserting on the
//! server's state.

use serde_json::json;

use crate::common::*;
use crate::support::bao::Bao;
use crate::support::cli::assert_no_secrets;
use crate::support::random_hex;

#[test]
fn sources_resolve_at_any_depth_everywhere() {
    let bao = Bao::start_dev();
    let dir = tempfile::tempdir().unwrap();
    let secret = format!("deep-{}", random_hex(8));
    let plan = plan_file(
        dir.path(),
        "plan.yaml",
        r#"
version: 1
mounts:
  app: { type: kv, options: { version: { env: KV_VERSION } } }
  transit: { type: transit, config: { max_lease_ttl: { env: MAX_TTL } } }
kv:
  app:
    x:
      data:
        creds: { password: { env: DEEP_SECRET }, user: app }
        list: [ { token: { env: DEEP_SECRET } }, plain ]
writes:
  - path: transit/keys/deep
    mode: create
    data: { type: { env: KEY_TYPE } }
"#,
    );
    let env = [
        ("DEEP_SECRET", secret.as_str()),
        ("KV_VERSION", "2"),
        ("MAX_TTL", "7200"),
        ("KEY_TYPE", "ed25519"),
    ];
    let (out, _) = apply_json(&bao, &plan, &env);
    out.assert_success();
    assert_no_secrets(&out, &[&secret]);
    let data = kv_data(&bao, "app", "x");
    assert_eq!(data["creds"], json!({"password": secret, "user": "app"}));
    assert_eq!(data["list"], json!([{ "token": secret }, "plain"]));
    let mounts = bao.read("sys/mounts").unwrap();
    assert_eq!(mounts["data"]["app/"]["options"]["version"], "2");
    assert_eq!(mounts["data"]["transit/"]["config"]["max_lease_ttl"], 7200);
    assert_eq!(
        bao.read("transit/keys/deep").unwrap()["data"]["type"],
        "ed25519"
    );
    assert_stable(&bao, &plan, &env);
}

#[test]
fn write_only_fields_follow_sync_and_other_changes() {
    let bao = Bao::start_dev();
    let dir = tempfile::tempdir().unwrap();
    let yaml = |ttl: &str, sync: &str| {
        format!(
            "version: 1\nauth:\n  userpass:\n    type: userpass\n    users:\n      alice: {{ password: {{ env: ALICE_PW }}, token_ttl: {ttl}{sync} }}\n"
        )
    };
    let plan = plan_file(dir.path(), "plan.yaml", &yaml("1h", ""));
    let p = plan.to_str().unwrap();
    let login = |pw: &str| {
        bao.api(
            "POST",
            "auth/userpass/login/alice",
            Some(&json!({ "password": pw })),
        )
        .0
    };
    let (first, second, third) = (
        format!("pw-a-{}", random_hex(6)),
        format!("pw-b-{}", random_hex(6)),
        format!("pw-c-{}", random_hex(6)),
    );
    vc(&bao, &["apply", "-f", p], &[("ALICE_PW", &first)]).assert_success();
    assert_eq!(login(&first), 200);

    // if-missing (default): a changed password alone cannot be compared; plan says so.
    let out = vc(
        &bao,
        &["plan", "-f", p, "--verbose"],
        &[("ALICE_PW", &second)],
    );
    out.assert_success();
    assert!(
        out.stdout.contains("write-only, not compared: password"),
        "{}",
        out.stdout
    );
    assert_no_secrets(&out, &[&first, &second]);

    // Any other change carries the write-only field along.
    std::fs::write(&plan, yaml("2h", "")).unwrap();
    let (out, report) = apply_json(&bao, &plan, &[("ALICE_PW", &second)]);
    out.assert_success();
    assert_eq!(action_of(&report, "auth/userpass/users/alice"), "update");
    assert_eq!(
        login(&second),
        200,
        "the password went out with the TTL change"
    );

    // sync: always writes it every run, reported as synced.
    std::fs::write(&plan, yaml("2h", ", sync: always")).unwrap();
    let (out, report) = apply_json(&bao, &plan, &[("ALICE_PW", &third)]);
    out.assert_success();
    assert_eq!(action_of(&report, "auth/userpass/users/alice"), "synced");
    assert_eq!(login(&third), 200);
    assert_eq!(login(&second), 400);
    assert_no_secrets(&out, &[&first, &second, &third]);
    let user = bao.read("auth/userpass/users/alice").unwrap();
    assert!(
        user["data"].get("sync").is_none(),
        "`sync` is ours, never sent: {user}"
    );
}

#[test]
fn policy_names_are_compared_as_vault_stores_them() {
    let (bao, _dir, plan) = dev_with_plan(
        r#"
version: 1
auth:
  approle:
    type: approle
    roles:
      ci: { token_policies: [Administrator, dev], token_ttl: 1h }
policies:
  Administrator: 'path "sys/*" { capabilities = ["read"] }'
"#,
    );
    let out = crate::support::cli::run(&["validate", "-f", plan.to_str().unwrap()], &[]);
    out.assert_success();
    assert!(
        out.stderr
            .contains("`Administrator` is stored as `administrator`"),
        "{}",
        out.stderr
    );
    vc(&bao, &["apply", "-f", plan.to_str().unwrap()], &[]).assert_success();
    assert!(bao.read("sys/policies/acl/administrator").is_some());
    assert_stable(&bao, &plan, &[]);
}

#[test]
fn kv_v1_fixtures_in_every_mode() {
    let (bao, _dir, plan) = dev_with_plan(
        r#"
version: 1
mounts:
  legacy: { type: kv, options: { version: "1" } }
kv:
  legacy:
    created: { mode: create, data: { a: "1" } }
    merged: { mode: merge, data: { a: "1", nested: { b: [1, 2] } } }
    exact: { mode: overwrite, data: { only: "this" } }
"#,
    );
    vc(&bao, &["apply", "-f", plan.to_str().unwrap()], &[]).assert_success();
    let read = |path: &str| bao.read(&format!("legacy/{path}")).unwrap()["data"].clone();
    assert_eq!(read("created"), json!({"a": "1"}));
    assert_eq!(read("merged"), json!({"a": "1", "nested": {"b": [1, 2]}}));
    assert_eq!(read("exact"), json!({"only": "this"}));
    assert_stable(&bao, &plan, &[]);

    // Drift: merge keeps foreign keys, overwrite removes them, create leaves it alone.
    bao.write("legacy/merged", &json!({"a": "changed", "extra": "kept"}));
    bao.write("legacy/exact", &json!({"only": "this", "extra": "gone"}));
    bao.write("legacy/created", &json!({"a": "changed"}));
    vc(&bao, &["apply", "-f", plan.to_str().unwrap()], &[]).assert_success();
    assert_eq!(
        read("merged"),
        json!({"a": "1", "extra": "kept", "nested": {"b": [1, 2]}})
    );
    assert_eq!(read("exact"), json!({"only": "this"}));
    assert_eq!(read("created"), json!({"a": "changed"}));
}

#[test]
fn kv_version_changes_are_refused_unless_upgrade_is_set() {
    let bao = Bao::start_dev();
    bao.write(
        "sys/mounts/legacy",
        &json!({"type": "kv", "options": {"version": "1"}}),
    );
    bao.write(
        "sys/mounts/modern",
        &json!({"type": "kv", "options": {"version": "2"}}),
    );
    let dir = tempfile::tempdir().unwrap();
    let version = |mount: &str| {
        bao.read("sys/mounts").unwrap()["data"][format!("{mount}/")]["options"]["version"].clone()
    };
    let up = plan_file(
        dir.path(),
        "up.yaml",
        "version: 1\nmounts:\n  legacy: { type: kv, options: { version: \"2\" } }\n",
    );
    let out = vc(&bao, &["apply", "-f", up.to_str().unwrap()], &[]);
    out.assert_code(5);
    assert!(out.stderr.contains("upgrade: true"), "{}", out.stderr);
    assert_eq!(version("legacy"), "1");

    let down = plan_file(
        dir.path(),
        "down.yaml",
        "version: 1\nmounts:\n  modern: { type: kv, options: { version: \"1\" } }\n",
    );
    vc(&bao, &["apply", "-f", down.to_str().unwrap()], &[]).assert_code(2);
    assert_eq!(version("modern"), "2");

    let allowed = plan_file(
        dir.path(),
        "allowed.yaml",
        "version: 1\nmounts:\n  legacy: { type: kv, options: { version: \"2\" }, upgrade: true }\n",
    );
    vc(&bao, &["apply", "-f", allowed.to_str().unwrap()], &[]).assert_success();
    assert_eq!(version("legacy"), "2");
}

#[test]
fn a_failed_object_skips_only_what_depends_on_it() {
    let (bao, _dir, plan) = dev_with_plan(
        r#"
version: 1
mounts:
  app: { type: kv, options: { version: "2" } }
auth:
  github: { type: github, config: { organization: example } }
  okta: { type: okta }
  userpass: { type: userpass, users: { bob: { password: { env: BOB_PW } } } }
policies:
  dev: 'path "app/*" { capabilities = ["read"] }'
kv:
  app:
    x: { data: { a: b } }
verify:
  - kv_keys: { mount: app, path: x, keys: [a] }
"#,
    );
    let (out, report) = apply_json(&bao, &plan, &[("BOB_PW", "bob-password-1")]);
    assert_ne!(out.code, 0, "{}", out.describe());
    assert_eq!(action_of(&report, "sys/auth/github"), "failed");
    assert_eq!(action_of(&report, "auth/github/config"), "skipped");
    assert_eq!(action_of(&report, "sys/auth/okta"), "failed");
    for independent in [
        "sys/policies/acl/dev",
        "auth/userpass/users/bob",
        "app/data/x",
    ] {
        assert_eq!(action_of(&report, independent), "create", "{report:#}");
    }
    assert!(bao.read("sys/policies/acl/dev").is_some());
    assert!(bao.read("auth/userpass/users/bob").is_some());
    assert_eq!(kv_data(&bao, "app", "x"), json!({"a": "b"}));
    assert_eq!(summary(&report, "verify_passed"), 1, "{report:#}");
}

#[test]
fn password_policies_come_first_and_generate_values() {
    let (bao, _dir, plan) = dev_with_plan(
        r#"
version: 1
mounts:
  app: { type: kv-v2 }
password_policies:
  digits-12:
    policy: |
      length = 12
      rule "charset" {
        charset = "0123456789"
      }
kv:
  app:
    x: { data: { pin_code: { generate: { policy: digits-12 } } } }
"#,
    );
    vc(&bao, &["apply", "-f", plan.to_str().unwrap()], &[]).assert_success();
    let value = kv_data(&bao, "app", "x")["pin_code"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(value.len(), 12, "{value}");
    assert!(value.bytes().all(|b| b.is_ascii_digit()), "{value}");
    assert_stable(&bao, &plan, &[]);
    assert_eq!(kv_data(&bao, "app", "x")["pin_code"], value, "kept forever");
}

#[test]
fn auth_accessors_resolve_at_run_time() {
    let (bao, _dir, plan) = dev_with_plan(
        r#"
version: 1
auth:
  userpass: { type: userpass }
policies:
  self: |
    path "app/data/{{identity.entity.aliases.${accessor:auth/userpass}.name}}/*" {
      capabilities = ["read"]
    }
"#,
    );
    vc(&bao, &["plan", "-f", plan.to_str().unwrap()], &[]).assert_success();
    vc(&bao, &["apply", "-f", plan.to_str().unwrap()], &[]).assert_success();
    let accessor = bao.read("sys/auth").unwrap()["data"]["userpass/"]["accessor"]
        .as_str()
        .unwrap()
        .to_owned();
    let policy = bao.read("sys/policies/acl/self").unwrap()["data"]["policy"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        policy.contains(&format!("aliases.{accessor}.name")),
        "{policy}"
    );
    assert_stable(&bao, &plan, &[]);
}
