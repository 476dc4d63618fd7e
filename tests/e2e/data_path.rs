//! Never silently wrong: value sources at any depth, write-only fields,
//! policy-name case, KV v1, ordered and write-only `writes`, once-only
//! actions, dependency-scoped failures, stage order and auth accessors —
//! each against a real OpenBao dev server, asserting on the server's state.

use serde_json::json;

use crate::common::*;
use crate::support::bao::Bao;
use crate::support::cli::assert_no_secrets;
use crate::support::postgres::Postgres;
use crate::support::random_hex;

/// Applies `plan` twice and asserts the rerun writes nothing and `plan
/// --detailed-exitcode` is clean afterwards.
fn assert_stable(bao: &Bao, plan: &std::path::Path, env: &[(&str, &str)]) -> serde_json::Value {
    let (out, rerun) = apply_json(bao, plan, env);
    out.assert_success();
    assert_eq!(
        rerun["requests"]["writes"], 0,
        "a rerun must not write: {rerun:#}"
    );
    vc(
        bao,
        &["plan", "-f", plan.to_str().unwrap(), "--detailed-exitcode"],
        env,
    )
    .assert_code(0);
    rerun
}

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
    let out = vc(&bao, &["plan", "-f", p], &[("ALICE_PW", &second)]);
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
fn writes_run_in_plan_order_after_typed_stages() {
    let bao = Bao::start_dev();
    let dir = tempfile::tempdir().unwrap();
    let mut yaml = String::from("version: 1\nauth:\n  approle: { type: approle }\nwrites:\n");
    for i in 0..8 {
        yaml.push_str(&format!(
            "  - {{ path: auth/approle/role/r{i}, data: {{ token_ttl: 1h }} }}\n  - {{ path: auth/approle/role/r{i}/role-id, mode: overwrite, data: {{ role_id: fixed-{i} }} }}\n"
        ));
    }
    let plan = plan_file(dir.path(), "plan.yaml", &yaml);
    vc(
        &bao,
        &["apply", "-f", plan.to_str().unwrap(), "--concurrency", "32"],
        &[],
    )
    .assert_success();
    for i in 0..8 {
        let id = bao
            .read(&format!("auth/approle/role/r{i}/role-id"))
            .unwrap();
        assert_eq!(id["data"]["role_id"], format!("fixed-{i}"));
    }
    assert_stable(&bao, &plan, &[]);
}

#[test]
fn write_only_endpoints_once_overwrite_and_create() {
    let (bao, dir, plan) = dev_with_plan(
        r#"
version: 1
mounts:
  transit: { type: transit }
writes:
  - { path: transit/keys/k, data: { type: aes256-gcm96 } }
  - { path: transit/keys/k/rotate, mode: once }
  - { path: transit/keys/k/config, mode: overwrite, data: { deletion_allowed: true } }
"#,
    );
    let (out, cold) = apply_json(&bao, &plan, &[]);
    out.assert_success();
    let key_version = || bao.read("transit/keys/k").unwrap()["data"]["latest_version"].clone();
    assert_eq!(key_version(), 2, "rotated once");
    assert_eq!(action_of(&cold, "transit/keys/k/rotate"), "create");
    let registry = kv_data(&bao, "vault-converge", "default");
    assert!(
        registry["once"]
            .get("write:transit/keys/k/rotate")
            .is_some(),
        "{registry}"
    );

    let (out, rerun) = apply_json(&bao, &plan, &[]);
    out.assert_success();
    assert_eq!(key_version(), 2, "never rotated again");
    assert_eq!(action_of(&rerun, "transit/keys/k/rotate"), "unchanged");
    assert_eq!(action_of(&rerun, "transit/keys/k/config"), "synced");
    assert_eq!(
        bao.read("transit/keys/k").unwrap()["data"]["deletion_allowed"],
        true
    );

    let create = plan_file(
        dir.path(),
        "create.yaml",
        "version: 1\nwrites:\n  - { path: transit/keys/k/config, mode: create, data: { min_decryption_version: 1 } }\n",
    );
    let out = vc(&bao, &["apply", "-f", create.to_str().unwrap()], &[]);
    out.assert_code(2);
    assert!(out.stdout.contains("mode: once"), "{}", out.stdout);
}

#[test]
fn rotate_root_failure_removes_the_connection_so_the_next_run_rotates() {
    let bao = Bao::start_dev();
    let pg = Postgres::start();
    let bootstrap = format!("boot-{}", random_hex(8));
    pg.psql(&format!(
        "CREATE ROLE vault LOGIN CREATEROLE PASSWORD '{bootstrap}';"
    ));
    bao.write("sys/mounts/database", &json!({"type": "database"}));
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(
        dir.path(),
        "plan.yaml",
        &format!(
            r#"
version: 1
databases:
  database:
    connections:
      pg:
        plugin_name: postgresql-database-plugin
        rotate_root: true
        allowed_roles: ["*"]
        config:
          connection_url: "postgresql://{{{{username}}}}:{{{{password}}}}@127.0.0.1:{}/{}?sslmode=disable"
          username: vault
          password: {{ env: PG_BOOT }}
"#,
            pg.port, pg.database
        ),
    );
    let weak = token_with_policy(
        &bao,
        "no-rotate",
        r#"path "database/config/*" { capabilities = ["create", "read", "update", "delete", "list"] }
path "database/config" { capabilities = ["list"] }
path "sys/mounts" { capabilities = ["read"] }
path "sys/mounts/*" { capabilities = ["create", "read", "update"] }
path "vault-converge/*" { capabilities = ["create", "read", "update"] }"#,
    );
    let env = [("PG_BOOT", bootstrap.as_str())];
    let mut weak_env = env.to_vec();
    weak_env.push(("VAULT_TOKEN", &weak));
    let out = vc(&bao, &["apply", "-f", plan.to_str().unwrap()], &weak_env);
    out.assert_code(1);
    assert!(out.stdout.contains("rotate-root"), "{}", out.describe());
    assert!(
        bao.read("database/config/pg").is_none(),
        "the connection is removed again when its rotation fails"
    );
    assert!(pg.can_login("vault", &bootstrap), "not rotated yet");

    let (out, report) = apply_json(&bao, &plan, &env);
    out.assert_success();
    assert_eq!(action_of(&report, "database/config/pg"), "create");
    assert!(
        !pg.can_login("vault", &bootstrap),
        "rotated: the bootstrap password no longer works"
    );
    let registry = kv_data(&bao, "vault-converge", "default");
    assert!(registry["once"]
        .get("rotate_root:database/config/pg")
        .is_some());
    assert_no_secrets(&out, &[&bootstrap]);
    assert_stable(&bao, &plan, &env);
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
