//! The converge engine against a real OpenBao dev server: idempotency,
//! drift repair, KV modes, overlays, exit codes, safety and redaction.

use serde_json::json;

use crate::common::*;
use crate::support::bao::Bao;
use crate::support::cli::{self, assert_no_secrets};

const BASE_TEMPLATE: &str = r#"
version: 1
mounts:
  app: { type: kv, options: { version: "2" }, description: Application secrets }
auth:
  kubernetes:
    type: kubernetes
    config:
      kubernetes_host: https://kubernetes.default.svc
      disable_local_ca_jwt: true
      kubernetes_ca_cert: |
{CA}    roles:
      api:
        bound_service_account_names: [api]
        bound_service_account_namespaces: [prod]
        token_policies: [api]
        token_ttl: 1h
  approle:
    type: approle
    roles:
      ci:
        token_policies: [api, ci]
        secret_id_ttl: 10m
policies:
  api: |
    path "app/data/api/*" {
      capabilities = ["read"]
    }
kv:
  app:
    api/config:
      mode: merge
      data: { API_URL: "https://api.example", RETRIES: 3 }
"#;

/// The base plan, with the stand-in cluster's CA for the Kubernetes auth config.
fn base() -> String {
    BASE_TEMPLATE.replace("{CA}", &ca_block(8))
}

#[test]
fn cold_apply_then_rerun_writes_nothing_and_plan_is_clean() {
    let bao = Bao::start_dev();
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), "plan.yaml", &base());
    let p = plan.to_str().unwrap();

    vc(&bao, &["plan", "-f", p, "--detailed-exitcode"], &[]).assert_code(4);

    let (out, cold) = apply_json(&bao, &plan, &[]);
    out.assert_success();
    assert_eq!(summary(&cold, "created"), 8, "{cold:#}");
    assert!(cold["requests"]["writes"].as_u64().unwrap() >= 8);
    let version = kv_version(&bao, "app", "api/config");

    let (out, rerun) = apply_json(&bao, &plan, &[]);
    out.assert_success();
    assert_eq!(summary(&rerun, "changes"), 0, "{rerun:#}");
    assert_eq!(summary(&rerun, "unchanged"), 8);
    assert_eq!(
        rerun["requests"]["writes"], 0,
        "a rerun must not write: {rerun:#}"
    );
    assert_eq!(
        kv_version(&bao, "app", "api/config"),
        version,
        "no new KV version"
    );

    let out = vc(&bao, &["plan", "-f", p, "--detailed-exitcode"], &[]);
    out.assert_code(0);
    assert!(out.stdout.contains("0 changes"), "{}", out.stdout);
}

#[test]
fn drift_behind_the_tools_back_is_planned_and_repaired() {
    let bao = Bao::start_dev();
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), "plan.yaml", &base());
    let p = plan.to_str().unwrap();
    vc(&bao, &["apply", "-f", p], &[]).assert_success();

    bao.write(
        "sys/policies/acl/api",
        &json!({"policy": "path \"app/data/*\" { capabilities = [\"read\", \"list\"] }"}),
    );
    bao.write(
        "auth/kubernetes/role/api",
        &json!({"bound_service_account_names": ["api"], "bound_service_account_namespaces": ["prod"],
                "token_policies": ["api"], "token_ttl": "2h"}),
    );
    let data = kv_data(&bao, "app", "api/config");
    let mut without = data.as_object().unwrap().clone();
    without.remove("API_URL");
    without.insert("EXTRA".into(), json!("kept"));
    bao.write("app/data/api/config", &json!({ "data": without }));

    let out = vc(&bao, &["plan", "-f", p, "--detailed-exitcode"], &[]);
    out.assert_code(4);
    for line in [
        "~ update policy sys/policies/acl/api",
        "~ update auth role auth/kubernetes/role/api",
        "token_ttl: 7200 → 1h",
        "~ update kv secret app/data/api/config",
        "+ API_URL: https://api.example",
    ] {
        assert!(
            out.stdout.contains(line),
            "missing `{line}` in\n{}",
            out.stdout
        );
    }
    assert!(out.stdout.contains("3 changes"), "{}", out.stdout);

    vc(&bao, &["apply", "-f", p], &[]).assert_success();
    let policy = bao.read("sys/policies/acl/api").unwrap();
    assert!(policy["data"]["policy"]
        .as_str()
        .unwrap()
        .contains("app/data/api/*"));
    let role = bao.read("auth/kubernetes/role/api").unwrap();
    assert_eq!(role["data"]["token_ttl"], 3600);
    let data = kv_data(&bao, "app", "api/config");
    assert_eq!(data["API_URL"], "https://api.example");
    assert_eq!(
        data["EXTRA"], "kept",
        "merge keeps keys the plan does not list"
    );
    vc(&bao, &["plan", "-f", p, "--detailed-exitcode"], &[]).assert_code(0);
}

#[test]
fn kv_modes_create_merge_overwrite() {
    let bao = Bao::start_dev();
    bao.write(
        "sys/mounts/app",
        &json!({"type": "kv", "options": {"version": "2"}}),
    );
    for name in ["created", "merged", "overwritten"] {
        bao.write(
            &format!("app/data/{name}"),
            &json!({"data": {"OLD": "old-value", "SHARED": "before"}}),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(
        dir.path(),
        "plan.yaml",
        r#"
version: 1
kv:
  app:
    created:     { mode: create,    data: { SHARED: after, NEW: "1" } }
    merged:      { mode: merge,     data: { SHARED: after, NEW: "1" } }
    overwritten: { mode: overwrite, data: { SHARED: after, NEW: "1" } }
    fresh:       { mode: create,    data: { ONLY: here } }
"#,
    );
    let (out, report) = apply_json(&bao, &plan, &[]);
    out.assert_success();
    assert_eq!(action_of(&report, "app/data/created"), "unchanged");
    assert_eq!(action_of(&report, "app/data/merged"), "update");
    assert_eq!(action_of(&report, "app/data/overwritten"), "update");
    assert_eq!(action_of(&report, "app/data/fresh"), "create");

    assert_eq!(
        kv_data(&bao, "app", "created"),
        json!({"OLD": "old-value", "SHARED": "before"}),
        "create never touches an existing secret"
    );
    assert_eq!(
        kv_data(&bao, "app", "merged"),
        json!({"OLD": "old-value", "SHARED": "after", "NEW": "1"})
    );
    assert_eq!(
        kv_data(&bao, "app", "overwritten"),
        json!({"SHARED": "after", "NEW": "1"})
    );
    assert_eq!(kv_data(&bao, "app", "fresh"), json!({"ONLY": "here"}));
    let versions: Vec<u64> = ["created", "merged", "overwritten", "fresh"]
        .iter()
        .map(|p| kv_version(&bao, "app", p))
        .collect();
    assert_eq!(versions, vec![1, 2, 2, 1]);

    let (out, rerun) = apply_json(&bao, &plan, &[]);
    out.assert_success();
    assert_eq!(rerun["requests"]["writes"], 0, "{rerun:#}");
}

#[test]
fn overlays_merge_by_key_and_null_removes() {
    let bao = Bao::start_dev();
    let dir = tempfile::tempdir().unwrap();
    let base = plan_file(dir.path(), "base.yaml", &base());
    let prod = plan_file(
        dir.path(),
        "prod.yaml",
        r#"
auth:
  kubernetes:
    roles:
      api: { token_ttl: 15m }
  approle: null
policies:
  ops: 'path "sys/health" { capabilities = ["read"] }'
"#,
    );
    let (b, o) = (base.to_str().unwrap(), prod.to_str().unwrap());
    let out = vc(&bao, &["apply", "-f", b, "-f", o, "--output", "json"], &[]);
    out.assert_success();
    let report = parse_report(&out);
    assert!(
        !out.stdout.contains("auth/approle"),
        "approle removed by overlay: {report:#}"
    );
    let role = bao.read("auth/kubernetes/role/api").unwrap();
    assert_eq!(role["data"]["token_ttl"], 900);
    assert_eq!(
        role["data"]["bound_service_account_names"],
        json!(["api"]),
        "fields the overlay does not set come from the base"
    );
    assert!(bao.read("sys/policies/acl/ops").is_some());
    assert!(bao.read("sys/auth").unwrap()["data"]
        .get("approle/")
        .is_none());
}

#[test]
fn a_mount_of_another_type_is_an_error_and_is_left_alone() {
    let bao = Bao::start_dev();
    bao.write(
        "sys/mounts/app",
        &json!({"type": "kv", "options": {"version": "2"}}),
    );
    bao.write("app/data/keep", &json!({"data": {"precious": "data"}}));
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(
        dir.path(),
        "plan.yaml",
        "version: 1\nmounts:\n  app: { type: transit }\npolicies:\n  p: 'path \"x\" { capabilities = [\"read\"] }'\n",
    );
    let out = vc(&bao, &["apply", "-f", plan.to_str().unwrap()], &[]);
    out.assert_code(5);
    assert!(
        out.stdout.contains("✗ failed mount sys/mounts/app"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("never remounts"), "{}", out.stdout);
    let last = out.stderr.lines().last().unwrap_or("");
    assert!(
        last.contains("sys/mounts/app") && last.contains("plan.yaml:3"),
        "{last}"
    );
    assert_eq!(kv_data(&bao, "app", "keep"), json!({"precious": "data"}));
    // A failure fails only what depends on it: the policy is independent.
    assert!(bao.read("sys/policies/acl/p").is_some());
}

#[test]
fn exit_codes_for_invalid_plans() {
    let dir = tempfile::tempdir().unwrap();
    let yaml_error = plan_file(
        dir.path(),
        "broken.yaml",
        "version: 1\nmounts:\n  app: {type: kv\n",
    );
    let out = cli::run(&["validate", "-f", yaml_error.to_str().unwrap()], &[]);
    out.assert_code(2);
    assert!(
        out.stderr.contains("broken.yaml:4:1") || out.stderr.contains("broken.yaml:3:"),
        "{}",
        out.stderr
    );

    // (file, plan, what the last stderr line must name)
    let cases: [(&str, &str, &[&str]); 3] = [
        (
            "unknown.yaml",
            "version: 1\npolicies: {}\nmounts:\n  app:\n    type: kv\n    optoins: {}\n",
            &["unknown.yaml:6:5", "mounts.app.optoins"],
        ),
        (
            "dup.yaml",
            "version: 1\npolicies: {}\npolicies: {}\n",
            &["dup.yaml:3:"],
        ),
        (
            "var.yaml",
            "version: 1\nkv:\n  app:\n    x: { data: { URL: \"https://${VC_E2E_UNSET_HOST}/\" } }\n",
            &["var.yaml:4:", "VC_E2E_UNSET_HOST"],
        ),
    ];
    for (name, yaml, expected) in cases {
        let plan = plan_file(dir.path(), name, yaml);
        let out = cli::run(&["validate", "-f", plan.to_str().unwrap()], &[]);
        out.assert_code(2);
        for text in expected {
            assert!(
                out.stderr.contains(text),
                "{name}: `{text}` in {}",
                out.stderr
            );
        }
    }

    let wrong_version = plan_file(dir.path(), "v2.yaml", "version: 2\n");
    cli::run(&["validate", "-f", wrong_version.to_str().unwrap()], &[]).assert_code(2);
    cli::run(&["validate"], &[]).assert_code(2);
    cli::run(&["validate", "-f", "/nonexistent/plan.yaml"], &[]).assert_code(2);

    let unsafe_combo = plan_file(
        dir.path(),
        "unsafe.yaml",
        "version: 1\ndatabases:\n  database:\n    connections:\n      pg:\n        plugin_name: postgresql-database-plugin\n        sync: always\n        rotate_root: true\n",
    );
    let out = cli::run(&["validate", "-f", unsafe_combo.to_str().unwrap()], &[]);
    out.assert_code(5);
    assert!(
        out.stderr.contains("unsafe.yaml:5:") && out.stderr.contains("rotate_root"),
        "{}",
        out.stderr
    );
}

#[test]
fn exit_codes_at_run_time() {
    let bao = Bao::start_dev();
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), "plan.yaml", &base());
    let p = plan.to_str().unwrap();

    // 1: nothing listens there, within the wait budget.
    let port = crate::support::ports::free_port();
    let addr = format!("http://127.0.0.1:{port}");
    let out = cli::run(
        &["plan", "-f", p, "--wait-timeout", "1s"],
        &[("VAULT_ADDR", &addr), ("VAULT_TOKEN", "x")],
    );
    out.assert_code(1);
    assert!(
        out.stderr
            .lines()
            .last()
            .unwrap()
            .contains("not ready within 1s"),
        "{}",
        out.stderr
    );

    // 1: an object fails (a token without rights), with the path and a hint.
    let weak = token_with_policy(
        &bao,
        "read-only",
        "path \"sys/mounts\" { capabilities = [\"read\"] }",
    );
    let out = cli::run(
        &["apply", "-f", p],
        &[("VAULT_ADDR", &bao.addr), ("VAULT_TOKEN", &weak)],
    );
    out.assert_code(1);
    assert!(out.stdout.contains("403"), "{}", out.stdout);
    assert!(out.stdout.contains("hint:"), "{}", out.stdout);
    assert_no_secrets(&out, &[&weak, &bao.root_token]);

    // 3: verification fails after a successful apply.
    let failing = plan_file(
        dir.path(),
        "verify.yaml",
        &format!(
            "{}verify:\n  - kv_keys: {{ mount: app, path: api/config, keys: [API_URL, MISSING_KEY] }}\n",
            base()
        ),
    );
    let out = vc(&bao, &["apply", "-f", failing.to_str().unwrap()], &[]);
    out.assert_code(3);
    assert!(out.stdout.contains("MISSING_KEY"), "{}", out.stdout);
    assert!(
        out.stderr
            .lines()
            .last()
            .unwrap()
            .contains("verification failed"),
        "{}",
        out.stderr
    );
    vc(&bao, &["verify", "-f", failing.to_str().unwrap()], &[]).assert_code(3);
    vc(
        &bao,
        &["apply", "--no-verify", "-f", failing.to_str().unwrap()],
        &[],
    )
    .assert_code(0);

    // 5: the token is not the one the plan expects; nothing is written.
    let guarded = plan_file(
        dir.path(),
        "guarded.yaml",
        "version: 1\nvault:\n  expect_token: { policies: [vault-converge] }\npolicies:\n  guarded: 'path \"x\" { capabilities = [\"read\"] }'\n",
    );
    let out = vc(&bao, &["apply", "-f", guarded.to_str().unwrap()], &[]);
    out.assert_code(5);
    assert!(
        out.stderr
            .contains("policies are [root], expected [vault-converge]"),
        "{}",
        out.stderr
    );
    assert!(bao.read("sys/policies/acl/guarded").is_none());
}

#[test]
fn secrets_from_env_never_reach_any_output() {
    let bao = Bao::start_dev();
    let dir = tempfile::tempdir().unwrap();
    let secret_a = format!("s3cr3t-{}", crate::support::random_hex(12));
    let secret_b = format!("r0tated-{}", crate::support::random_hex(12));
    let plan = plan_file(
        dir.path(),
        "plan.yaml",
        &r#"
version: 1
mounts:
  app: { type: kv, options: { version: "2" } }
auth:
  kubernetes:
    type: kubernetes
    config:
      kubernetes_host: https://kubernetes.default.svc
      token_reviewer_jwt: { env: REVIEWER_JWT }
      disable_local_ca_jwt: true
      kubernetes_ca_cert: |
{CA}
kv:
  app:
    db:
      mode: overwrite
      data:
        USER: app
        PASSWORD: { env: DB_PASSWORD }
        DSN: { env: DB_PASSWORD }
verify:
  - kv_keys: { mount: app, path: db, keys: [USER, PASSWORD] }
"#
        .replace("{CA}", &ca_block(8)),
    );
    let p = plan.to_str().unwrap();
    for secret in [&secret_a, &secret_b] {
        let env = [
            ("DB_PASSWORD", secret.as_str()),
            ("REVIEWER_JWT", secret.as_str()),
        ];
        for args in [
            vec!["plan", "-f", p],
            vec!["apply", "-f", p, "--log-level", "debug"],
            vec!["apply", "-f", p, "--output", "json"],
            vec!["verify", "-f", p, "--log-level", "trace"],
        ] {
            let out = vc(&bao, &args, &env);
            assert!(out.code == 0, "{}", out.describe());
            assert_no_secrets(&out, &[&secret_a, &secret_b, &bao.root_token]);
        }
        assert_eq!(kv_data(&bao, "app", "db")["PASSWORD"], secret.as_str());
    }
    // The rotated value was written, and shown only as redacted.
    let out = vc(
        &bao,
        &["plan", "-f", p],
        &[("DB_PASSWORD", "a-third-value"), ("REVIEWER_JWT", "x")],
    );
    assert!(
        out.stdout.contains("PASSWORD: <redacted> → <redacted>"),
        "{}",
        out.stdout
    );
    assert_no_secrets(&out, &["a-third-value", &secret_b]);
}

#[test]
fn every_example_plan_applies_and_reruns_clean() {
    let examples = repo_root().join("config/examples");
    let mut plans: Vec<_> = std::fs::read_dir(&examples)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    plans.sort();
    assert!(!plans.is_empty());
    for plan in plans {
        let name = plan.file_name().unwrap().to_str().unwrap();
        if name == "whispr.yaml" || name == "platform.yaml" {
            // whispr needs Redis, PostgreSQL and Kubernetes: applied in the
            // database scenarios; platform needs API audit devices and
            // passwords: applied in platform_example.
            continue;
        }
        let bao = Bao::start_dev();
        let (out, cold) = apply_json(&bao, &plan, &[]);
        out.assert_success();
        assert!(summary(&cold, "changes") > 0, "{name}: {cold:#}");
        let (out, rerun) = apply_json(&bao, &plan, &[]);
        out.assert_success();
        assert_eq!(summary(&rerun, "changes"), 0, "{name}: {rerun:#}");
        assert_eq!(rerun["requests"]["writes"], 0, "{name}: {rerun:#}");
        assert_eq!(summary(&rerun, "verify_failed"), 0, "{name}");
        vc(
            &bao,
            &["plan", "-f", plan.to_str().unwrap(), "--detailed-exitcode"],
            &[],
        )
        .assert_code(0);
    }
}

/// The benchmark's workload shape: per service a policy, a role and a KV
/// fixture. Counts, not timings: discovery by LIST means a cold run reads
/// nothing it is about to create, and a rerun reads each object once and
/// writes nothing.
#[test]
fn request_counts_of_cold_run_and_rerun() {
    const N: u64 = 25;
    let plan = workload(N as usize);
    let bao = Bao::start_dev();
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), "workload.yaml", &plan);

    let (out, cold) = apply_json(&bao, &plan, &[]);
    out.assert_success();
    assert_eq!(
        cold["requests"],
        json!({"reads": 5, "writes": 3 * N + 3, "lists": 3}),
        "cold: the mount and auth tables (again after the mounts stage, for the fields \
         check of objects under the new mounts) and the auth config are the only reads"
    );
    let (out, rerun) = apply_json(&bao, &plan, &[]);
    out.assert_success();
    assert_eq!(
        rerun["requests"],
        json!({"reads": 3 * N + 3, "writes": 0, "lists": 3}),
        "rerun: every object read once, nothing written"
    );
}

/// Auth method types beyond Kubernetes: userpass users (write-only password),
/// JWT config and roles, AppRole roles; then a clean rerun and a real login.
#[test]
fn userpass_jwt_and_approle_converge_and_log_in() {
    let bao = Bao::start_dev();
    let dir = tempfile::tempdir().unwrap();
    let password = format!("pw-{}", crate::support::random_hex(8));
    let plan = plan_file(
        dir.path(),
        "plan.yaml",
        r#"
version: 1
auth:
  userpass:
    type: userpass
    roles:
      alice: { password: { env: ALICE_PASSWORD }, token_policies: [reader], token_ttl: 10m }
  jwt:
    type: jwt
    config:
      jwt_validation_pubkeys:
        - |
          -----BEGIN PUBLIC KEY-----
          MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8DHPP2R5RklaSvFeZDMV1phoLwpz
          ZWAQZHag0VdZdEG9r8L4UASgMwgfhDiOdl6pv7UuPlCSFnFG8WBQ0CMRuQ==
          -----END PUBLIC KEY-----
      bound_issuer: https://ci.example
    roles:
      deploy:
        role_type: jwt
        user_claim: sub
        bound_audiences: [vault]
        bound_claims: { repository: example/app }
        token_policies: [reader]
        token_ttl: 15m
  approle:
    type: approle
    roles:
      ci: { token_policies: [reader, ci], secret_id_ttl: 10m, token_num_uses: 5 }
policies:
  reader: 'path "secret/data/*" { capabilities = ["read"] }'
verify:
  - login: { auth: userpass, username: alice, password: { env: ALICE_PASSWORD } }
"#,
    );
    let env = [("ALICE_PASSWORD", password.as_str())];
    let (out, cold) = apply_json(&bao, &plan, &env);
    out.assert_success();
    assert_eq!(summary(&cold, "verify_passed"), 1, "{cold:#}");
    assert_eq!(action_of(&cold, "auth/userpass/users/alice"), "create");
    assert_eq!(action_of(&cold, "auth/jwt/role/deploy"), "create");
    let (out, rerun) = apply_json(&bao, &plan, &env);
    out.assert_success();
    assert_eq!(summary(&rerun, "changes"), 0, "{rerun:#}");
    assert_eq!(rerun["requests"]["writes"], 0);
    assert_no_secrets(&out, &[&password]);
    let role = bao.read("auth/jwt/role/deploy").unwrap();
    assert_eq!(
        role["data"]["bound_claims"],
        json!({"repository": "example/app"})
    );
    assert_eq!(role["data"]["token_ttl"], 900);
}
