//! How plan files are read: overlays of value sources, `-f DIR`,
//! interpolation, and the offline checks `validate` runs (policy HCL
//! among them) — against the real binary and, where something is written,
//! a real OpenBao dev server.

use serde_json::json;

use crate::common::*;
use crate::support::bao::Bao;
use crate::support::cli;

const KV_MOUNT: &str = "mounts:\n  app: { type: kv, options: { version: \"2\" } }\n";

#[test]
fn an_overlay_replaces_a_value_source_whole() {
    let bao = Bao::start_dev();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw.txt"), "from-the-overlay-file").unwrap();
    let base = plan_file(
        dir.path(),
        "base.yaml",
        &format!("version: 1\n{KV_MOUNT}kv:\n  app:\n    db:\n      data:\n        user: api\n        password: {{ env: VC_E2E_NEVER_SET_PW }}\n"),
    );
    let overlay = plan_file(
        dir.path(),
        "prod.yaml",
        "kv:\n  app:\n    db:\n      data:\n        password: { file: pw.txt }\n",
    );
    let (b, o) = (base.to_str().unwrap(), overlay.to_str().unwrap());

    // Merged key by key, the two sources would make `{env, file}`: no source at
    // all, and the base's unset variable would still be needed.
    vc(&bao, &["apply", "-f", b, "-f", o], &[]).assert_success();
    assert_eq!(
        kv_data(&bao, "app", "db"),
        json!({"user": "api", "password": "from-the-overlay-file"})
    );
}

#[test]
fn a_directory_of_drop_in_files_applies_in_name_order() {
    let bao = Bao::start_dev();
    let dir = tempfile::tempdir().unwrap();
    let plans = dir.path().join("plan.d");
    plan_file(
        &plans,
        "10-mounts.yaml",
        "version: 1\nmounts:\n  app: { type: kv, options: { version: \"2\" }, description: from 10 }\n",
    );
    plan_file(
        &plans,
        "20-kv.yml",
        "mounts:\n  app: { description: from 20 }\nkv:\n  app:\n    svc/config: { data: { URL: https://svc.example } }\n",
    );
    // Not a plan file: loading it would be a parse error.
    plan_file(&plans, "README.md", "# plan: [files\n");

    vc(&bao, &["apply", "-f", plans.to_str().unwrap()], &[]).assert_success();
    let mounts = bao.read("sys/mounts").unwrap();
    assert_eq!(
        mounts["data"]["app/"]["description"], "from 20",
        "{mounts:#}"
    );
    assert_eq!(
        kv_data(&bao, "app", "svc/config"),
        json!({"URL": "https://svc.example"})
    );

    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = vc(&bao, &["apply", "-f", empty.to_str().unwrap()], &[]);
    out.assert_code(2);
    assert!(out.stderr.contains("*.yaml"), "{}", out.describe());
}

#[test]
fn defaults_apply_and_every_missing_variable_is_named_at_once() {
    let bao = Bao::start_dev();
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(
        dir.path(),
        "vars.yaml",
        &format!("version: 1\n{KV_MOUNT}kv:\n  app:\n    cfg:\n      data:\n        REGION: ${{VC_E2E_REGION:-eu-west-1}}\n        HOST: ${{VC_E2E_HOST}}\n        PORT: ${{VC_E2E_PORT}}\n        LITERAL: $${{NOT_A_VARIABLE}}\n"),
    );
    let p = plan.to_str().unwrap();

    let out = cli::run(&["validate", "-f", p], &[]);
    out.assert_code(2);
    let last = out.stderr.trim_end().lines().last().unwrap_or_default();
    for expected in [
        "VC_E2E_HOST (",
        "vars.yaml:9:",
        "VC_E2E_PORT (",
        "vars.yaml:10:",
    ] {
        assert!(
            last.contains(expected),
            "`{expected}` in the last line: {}",
            out.describe()
        );
    }
    assert!(!last.contains("VC_E2E_REGION"), "it has a default: {last}");

    let env = [("VC_E2E_HOST", "db.example"), ("VC_E2E_PORT", "5432")];
    vc(&bao, &["apply", "-f", p], &env).assert_success();
    assert_eq!(
        kv_data(&bao, "app", "cfg"),
        json!({"REGION": "eu-west-1", "HOST": "db.example", "PORT": "5432", "LITERAL": "${NOT_A_VARIABLE}"})
    );
}

#[test]
fn invalid_policy_hcl_is_refused_before_anything_is_written() {
    let bao = Bao::start_dev();
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(
        dir.path(),
        "p.yaml",
        "version: 1\nmounts:\n  app: { type: kv }\npolicies:\n  api: |\n    path \"app/data/*\" {\n      capabilities = [\"read\", \"lst\"]\n    }\n",
    );
    let out = vc(&bao, &["apply", "-f", plan.to_str().unwrap()], &[]);
    out.assert_code(2);
    let last = out.stderr.trim_end().lines().last().unwrap_or_default();
    assert!(
        last.contains("p.yaml:7:") && last.contains("line 2") && last.contains("`lst`"),
        "plan line, policy line and the word: {}",
        out.describe()
    );
    assert!(bao.read("sys/policies/acl/api").is_none());
    assert!(bao.read("sys/mounts").unwrap()["data"]
        .get("app/")
        .is_none());

    let hcl = dir.path().join("ops.hcl");
    std::fs::write(
        &hcl,
        "path \"sys/health\" {\n  capabilities = [\"read\"\n}\n",
    )
    .unwrap();
    let plan = plan_file(
        dir.path(),
        "f.yaml",
        "version: 1\npolicies:\n  ops: { file: ops.hcl }\n",
    );
    let out = cli::run(&["validate", "-f", plan.to_str().unwrap()], &[]);
    out.assert_code(2);
    assert!(
        out.stderr.contains(&format!("{}:3:", hcl.display())) && out.stderr.contains("f.yaml:3:"),
        "{}",
        out.describe()
    );
}

#[test]
fn policies_with_accessor_references_and_templates_validate() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(
        dir.path(),
        "p.yaml",
        "version: 1\npolicies:\n  self: |\n    path \"identity/entity-alias/id/${accessor:auth/kubernetes}\" { capabilities = [\"read\"] }\n    path \"app/data/{{identity.entity.id}}/*\" { capabilities = [\"read\", \"patch\"] }\npassword_policies:\n  alnum: { policy: \"length = 24\\nrule \\\"charset\\\" {\\n  charset = \\\"abc\\\"\\n}\\n\" }\n",
    );
    cli::run(&["validate", "-f", plan.to_str().unwrap()], &[]).assert_success();
}

#[test]
fn validate_refuses_misplaced_options_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    // (plan body after `version: 1`, what the last stderr line must name)
    let cases: [(&str, &[&str]); 5] = [
        (
            "auth:\n  k:\n    type: kubernetes\n    roles:\n      api:\n        token_ttl: { generate: { length: 8 } }\n",
            &["p.yaml:7:", "auth.k.roles.api.token_ttl", "generate"],
        ),
        (
            "mounts:\n  app: { type: transit }\nkv:\n  app:\n    s: { data: { a: 1 } }\n",
            &["p.yaml:6:", "kv.app.s", "transit"],
        ),
        (
            "mounts:\n  t:\n    type: transit\n    upgrade: true\n",
            &["p.yaml:5:", "mounts.t.upgrade"],
        ),
        (
            "auth:\n  k:\n    type: kubernetes\n    config:\n      sync: sometimes\n",
            &["p.yaml:6:", "auth.k.config.sync"],
        ),
        (
            "writes:\n  - path: sys/x\n    mode: once\n    sync: always\n",
            &["p.yaml:5:", "drop sync"],
        ),
    ];
    for (body, expected) in cases {
        let plan = plan_file(dir.path(), "p.yaml", &format!("version: 1\n{body}"));
        let out = cli::run(&["validate", "-f", plan.to_str().unwrap()], &[]);
        out.assert_code(2);
        let last = out.stderr.trim_end().lines().last().unwrap_or_default();
        for text in expected {
            assert!(
                last.contains(text),
                "`{text}` in the last line: {}",
                out.describe()
            );
        }
    }
}
