//! `export` (DESIGN.md "Export"), round trip on real OpenBao: apply the
//! platform example to server A, export A, set the placeholders, apply the
//! export to a fresh server B; `plan --detailed-exitcode` of the export
//! against A and B, and of the original plan against B, all exit 0.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::common::{plan_file, vc};
use crate::support::bao::Bao;
use crate::support::cli::{assert_no_secrets, CliOutput};

const ALICE: &str = "alice-export-pw-7391";
const BOB: &str = "bob-export-pw-2846";

fn example() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/examples/platform.yaml")
}

fn server() -> Bao {
    Bao::start_dev_with_config("unsafe_allow_api_audit_creation = true\n")
}

fn run(bao: &Bao, args: &[&str], env: &[(&str, &str)]) -> CliOutput {
    let mut all = vec![("ALICE_PASSWORD", ALICE), ("BOB_PASSWORD", BOB)];
    all.extend_from_slice(env);
    vc(bao, args, &all)
}

/// The placeholders the export's header lists: `NAME -> what`.
fn placeholders(export: &str) -> BTreeMap<String, String> {
    export
        .lines()
        .take_while(|l| l.starts_with('#'))
        .filter_map(|l| l.strip_prefix("#   "))
        .filter_map(|l| l.split_once("  "))
        .filter(|(name, _)| {
            name.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        })
        .map(|(name, what)| (name.to_owned(), what.trim().to_owned()))
        .collect()
}

/// The value each placeholder stands for on A (as an operator would set them).
fn values(a: &Bao, placeholders: &BTreeMap<String, String>) -> Vec<(String, String)> {
    placeholders
        .iter()
        .map(|(name, what)| {
            let value = if what.starts_with("auth/userpass/users/alice") {
                ALICE.to_owned()
            } else if what.starts_with("auth/userpass/users/bob") {
                BOB.to_owned()
            } else if let Some((path, key)) = what.split_once(" key ") {
                let (mount, rest) = path.split_once('/').unwrap();
                let data = a.read(&format!("{mount}/data/{rest}")).unwrap();
                data["data"]["data"][key].as_str().unwrap().to_owned()
            } else {
                panic!("unexpected placeholder {name}: {what}");
            };
            (name.clone(), value)
        })
        .collect()
}

#[test]
fn the_platform_example_round_trips_through_export() {
    let (a, b) = (server(), server());
    let plan = example();
    let p = plan.to_str().unwrap();
    run(&a, &["apply", "-f", p], &[]).assert_success();

    let exported = run(&a, &["export"], &[]);
    exported.assert_success();
    let text = exported.stdout.clone();
    let generated = a.read("app/data/payments/db").unwrap()["data"]["data"]["password"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_no_secrets(&exported, &[ALICE, BOB, &generated]);
    eprintln!(
        "export of the platform example: {} lines, {} bytes",
        text.lines().count(),
        text.len()
    );
    let dir = tempfile::tempdir().unwrap();
    let file = plan_file(dir.path(), "export.yaml", &text);
    let f = file.to_str().unwrap();
    run(&a, &["validate", "-f", f], &[]).assert_success();
    // Write-only and secret values are placeholders, listed at the top.
    let names = placeholders(&text);
    assert_eq!(
        names.len(),
        4,
        "alice's and bob's passwords, the db username and password: {names:?}"
    );
    for object in [
        "audit:",
        "pki-int:",
        "signed_by: pki-root",
        "issuer_name: int-2026",
        "engineering:",
        "member_groups:",
        "alnum-24:",
    ] {
        assert!(text.contains(object), "the export lacks {object}:\n{text}");
    }
    let env_owned = values(&a, &names);
    let env: Vec<(&str, &str)> = env_owned
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();

    let against_a = run(&a, &["plan", "-f", f, "--detailed-exitcode"], &env);
    against_a.assert_code(0);
    run(&b, &["apply", "-f", f], &env).assert_success();
    run(&b, &["plan", "-f", f, "--detailed-exitcode"], &env).assert_code(0);
    // The original plan finds B converged too.
    run(&b, &["plan", "-f", p, "--detailed-exitcode"], &[]).assert_code(0);

    // As drop-in files: one per section, the directory a valid plan.
    let out_dir = dir.path().join("exported");
    run(&a, &["export", "-o", out_dir.to_str().unwrap()], &[]).assert_success();
    let files: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(files.iter().any(|f| f.ends_with("-pki.yaml")), "{files:?}");
    run(
        &a,
        &[
            "plan",
            "-f",
            out_dir.to_str().unwrap(),
            "--detailed-exitcode",
        ],
        &env,
    )
    .assert_code(0);
}

#[test]
fn export_path_prefixes_limit_what_is_read() {
    let a = server();
    run(&a, &["apply", "-f", example().to_str().unwrap()], &[]).assert_success();
    let out = run(
        &a,
        &[
            "export",
            "--path",
            "auth/userpass",
            "--path",
            "sys/policies/acl/dev",
        ],
        &[],
    );
    out.assert_success();
    let doc: Value = serde_json::to_value(
        out.stdout
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .unwrap();
    let text = doc.as_str().unwrap();
    assert!(
        text.contains("userpass:") && text.contains("dev:"),
        "{text}"
    );
    for absent in ["pki-root", "admin:", "kv:", "identity:"] {
        assert!(
            !text.contains(absent),
            "{absent} is outside the prefixes:\n{text}"
        );
    }
}

#[test]
fn auth_configs_and_database_connections_round_trip_with_placeholders() {
    let pg = crate::support::postgres::Postgres::start();
    let (a, b) = (Bao::start_dev(), Bao::start_dev());
    let reviewer = "eyJhbGciOiJSUzI1NiJ9.reviewer-jwt-export-5521.sig";
    let plan_text = format!(
        r#"version: 1
mounts:
  database: {{type: database}}
auth:
  kubernetes:
    type: kubernetes
    config:
      kubernetes_host: https://kubernetes.example:6443
      token_reviewer_jwt: {{env: REVIEWER_JWT}}
      kubernetes_ca_cert: {{env: K8S_CA}}
      disable_local_ca_jwt: true
    roles:
      api: {{bound_service_account_names: [api], bound_service_account_namespaces: [shop], token_policies: [api], token_ttl: 1h, audience: vault}}
  approle:
    type: approle
    roles:
      ci: {{bind_secret_id: false, secret_id_bound_cidrs: [10.0.0.0/8], token_bound_cidrs: [10.0.0.0/8], token_policies: [ci]}}
databases:
  database:
    connections:
      pg:
        plugin_name: postgresql-database-plugin
        allowed_roles: [app]
        config:
          connection_url: "postgresql://{{{{username}}}}:{{{{password}}}}@127.0.0.1:{}/{}?sslmode=disable"
          username: {}
          password: {{env: PG_PASSWORD}}
    roles:
      app:
        db_name: pg
        creation_statements: ["CREATE ROLE \"{{{{name}}}}\" WITH LOGIN PASSWORD '{{{{password}}}}';"]
        default_ttl: 1h
"#,
        pg.port, pg.database, pg.superuser
    );
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), "plan.yaml", &plan_text);
    let p = plan.to_str().unwrap();
    let ca = crate::support::kube_api::CA_CERT_PEM;
    let env = [
        ("REVIEWER_JWT", reviewer),
        ("PG_PASSWORD", pg.password.as_str()),
        ("K8S_CA", ca),
    ];
    vc(&a, &["apply", "-f", p], &env).assert_success();

    let exported = vc(&a, &["export"], &[]);
    exported.assert_success();
    assert_no_secrets(&exported, &[reviewer, &pg.password]);
    let text = exported.stdout.clone();
    let names = placeholders(&text);
    let reviewer_env = names
        .iter()
        .find(|(_, what)| what.ends_with("config token_reviewer_jwt"))
        .map(|(n, _)| n.clone())
        .unwrap_or_else(|| panic!("no placeholder for the reviewer JWT:\n{text}"));
    let pg_env = names
        .iter()
        .find(|(_, what)| what.ends_with("database/config/pg password"))
        .map(|(n, _)| n.clone())
        .unwrap_or_else(|| panic!("no placeholder for the connection password:\n{text}"));
    assert!(
        text.contains("bind_secret_id: false"),
        "a false that is not the default stays:\n{text}"
    );
    let file = plan_file(dir.path(), "export.yaml", &text);
    let f = file.to_str().unwrap();
    let set = [
        (reviewer_env.as_str(), reviewer),
        (pg_env.as_str(), pg.password.as_str()),
    ];
    vc(&a, &["plan", "-f", f, "--detailed-exitcode"], &set).assert_code(0);
    vc(&b, &["apply", "-f", f], &set).assert_success();
    vc(&b, &["plan", "-f", f, "--detailed-exitcode"], &set).assert_code(0);
    vc(&b, &["plan", "-f", p, "--detailed-exitcode"], &env).assert_code(0);
    // B's connection works with the password from the placeholder.
    let creds = b
        .read("database/creds/app")
        .expect("B issues database credentials");
    assert!(creds["data"]["username"].is_string());
}
