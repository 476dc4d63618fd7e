//! Order and once-only actions: `writes` in plan order after the typed
//! stages, write-only endpoints (`once`, `overwrite`, `create`) and a failed
//! `rotate_root` that leaves the rotation to the next run — each against a
//! real OpenBao dev server, asserting on the server's state.

use serde_json::json;

use crate::common::*;
use crate::support::bao::Bao;
use crate::support::cli::assert_no_secrets;
use crate::support::postgres::Postgres;
use crate::support::random_hex;

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

/// An SSH CA is generated once through `writes` with `mode: once`: the rerun
/// neither writes nor replaces the key, so signed certificates stay valid.
#[test]
fn an_ssh_ca_is_generated_once_through_a_once_write() {
    let (bao, _dir, plan) = crate::common::dev_with_plan(
        "version: 1\nmounts:\n  ssh: {type: ssh}\nwrites:\n  - {path: ssh/config/ca, data: {generate_signing_key: true, key_type: ssh-ed25519}, mode: once}\n  - {path: ssh/roles/ops, data: {key_type: ca, allow_user_certificates: true, allowed_users: ops, default_user: ops, ttl: 1h}, mode: overwrite}\n",
    );
    let (out, _) = crate::common::apply_json(&bao, &plan, &[]);
    out.assert_success();
    let key = bao.read("ssh/config/ca").unwrap()["data"]["public_key"].clone();
    assert!(
        key.as_str().is_some_and(|k| k.starts_with("ssh-ed25519 ")),
        "{key}"
    );
    crate::common::assert_stable(&bao, &plan, &[]);
    assert_eq!(
        bao.read("ssh/config/ca").unwrap()["data"]["public_key"],
        key
    );
}
