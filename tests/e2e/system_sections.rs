//! `plugins:`, `namespaces:` with `vault.namespace`, `audit:` and
//! `audit_request_headers:` against real OpenBao dev servers: created,
//! stable on rerun, drift planned and repaired (or refused where repairing
//! would be destructive), bad values with their exit codes and plan lines.

use std::path::Path;

use serde_json::json;

use crate::common::*;
use crate::support::bao::Bao;

/// A stand-in plugin binary in `dir` and its SHA-256. OpenBao registers a
/// catalog entry without running the binary, so a script is enough to test
/// the catalog; mounting it would need a real plugin.
fn plugin_binary(dir: &Path, name: &str) -> String {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\necho {name}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = std::process::Command::new("sha256sum")
        .arg(&path)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_owned()
}

/// A dev server whose plugin directory is `dir`.
fn with_plugin_dir(dir: &Path) -> Bao {
    Bao::start_dev_with_config(&format!("plugin_directory = \"{}\"\n", dir.display()))
}

fn plan_changes(bao: &Bao, plan: &Path) -> String {
    let out = vc(
        bao,
        &["plan", "-f", plan.to_str().unwrap(), "--detailed-exitcode"],
        &[],
    );
    out.assert_code(4);
    out.stdout
}

#[test]
fn plugins_are_registered_compared_and_repaired() {
    let plugins = tempfile::tempdir().unwrap();
    let sha = plugin_binary(plugins.path(), "my-plugin");
    let bao = with_plugin_dir(plugins.path());
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(
        dir.path(),
        "plan.yaml",
        &format!(
            "version: 1\nplugins:\n  secret/my-plugin: {{ sha256: \"{sha}\", command: my-plugin, version: v1.2.0, args: [--flag] }}\n  auth/my-auth: {{ sha256: \"{}\", command: my-plugin, env: [\"TOKEN=plugin-env-secret\"] }}\n",
            sha.to_uppercase()
        ),
    );
    let (out, report) = apply_json(&bao, &plan, &[]);
    out.assert_success();
    assert_eq!(summary(&report, "created"), 2, "{report:#}");
    let entry = bao
        .read("sys/plugins/catalog/secret/my-plugin?version=v1.2.0")
        .unwrap();
    assert_eq!(entry["data"]["sha256"], sha);
    assert_eq!(entry["data"]["args"], json!(["--flag"]));
    assert_eq!(entry["data"]["version"], "v1.2.0");
    assert_eq!(
        bao.read("sys/plugins/catalog/auth/my-auth").unwrap()["data"]["command"],
        "my-plugin"
    );
    assert!(!out.stdout.contains("plugin-env-secret"));
    // Upper-case digits and the unreturned env are no perpetual diff.
    assert_stable(&bao, &plan, &[]);

    // Drift behind the tool's back: shown by plan, repaired by apply.
    bao.write(
        "sys/plugins/catalog/secret/my-plugin",
        &json!({"sha256": sha, "command": "my-plugin", "version": "v1.2.0", "args": ["--other"]}),
    );
    let shown = plan_changes(&bao, &plan);
    assert!(
        shown.contains("~ update plugin sys/plugins/catalog/secret/my-plugin"),
        "{shown}"
    );
    assert!(
        shown.contains(r#"args: ["--other"] → ["--flag"]"#),
        "{shown}"
    );
    vc(&bao, &["apply", "-f", plan.to_str().unwrap()], &[]).assert_success();
    let entry = bao
        .read("sys/plugins/catalog/secret/my-plugin?version=v1.2.0")
        .unwrap();
    assert_eq!(entry["data"]["args"], json!(["--flag"]));
    assert_stable(&bao, &plan, &[]);
}

#[test]
fn a_failed_plugin_skips_only_what_uses_it() {
    let plugins = tempfile::tempdir().unwrap();
    let sha = plugin_binary(plugins.path(), "present");
    let bao = with_plugin_dir(plugins.path());
    let dir = tempfile::tempdir().unwrap();
    // `missing` is not in the plugin directory: the server refuses it.
    let plan = plan_file(
        dir.path(),
        "plan.yaml",
        &format!(
            "version: 1\nplugins:\n  secret/missing: {{ sha256: \"{sha}\", command: missing }}\nmounts:\n  custom: {{ type: missing }}\n  app: {{ type: kv }}\npolicies:\n  dev: 'path \"app/*\" {{ capabilities = [\"read\"] }}'\n"
        ),
    );
    let (out, report) = apply_json(&bao, &plan, &[]);
    out.assert_code(2);
    assert_eq!(
        action_of(&report, "sys/plugins/catalog/secret/missing"),
        "failed"
    );
    let failure = object_of(&report, "sys/plugins/catalog/secret/missing")["error"].to_string();
    assert!(failure.contains("plugin_directory"), "{failure}");
    assert_eq!(action_of(&report, "sys/mounts/custom"), "skipped");
    assert_eq!(action_of(&report, "sys/mounts/app"), "create");
    assert_eq!(action_of(&report, "sys/policies/acl/dev"), "create");
    let last = out.stderr.lines().last().unwrap_or("");
    assert!(last.contains("plan.yaml:3"), "{last}");
    assert!(bao.read("sys/policies/acl/dev").is_some());

    // A malformed digest is found offline, with its line.
    std::fs::write(
        &plan,
        "version: 1\nplugins:\n  secret/x: { sha256: not-hex, command: x }\n",
    )
    .unwrap();
    let out = vc(&bao, &["validate", "-f", plan.to_str().unwrap()], &[]);
    out.assert_code(2);
    assert!(out.stderr.contains("plan.yaml:3"), "{}", out.describe());
}

const NAMESPACED: &str = r#"version: 1
vault: { namespace: team-a }
namespaces: [team-a, team-b]
mounts:
  app: { type: kv, options: { version: "2" } }
policies:
  dev: 'path "app/data/*" { capabilities = ["read"] }'
kv:
  app:
    cfg: { data: { url: https://a.example } }
"#;

#[test]
fn namespaces_are_created_and_the_plan_converges_inside_one() {
    let (bao, _dir, plan) = dev_with_plan(NAMESPACED);
    let p = plan.to_str().unwrap();
    // Nothing exists yet: plan shows everything without failing.
    let shown = plan_changes(&bao, &plan);
    assert!(
        shown.contains("+ create namespace sys/namespaces/team-a"),
        "{shown}"
    );
    assert!(
        shown.contains("+ create policy sys/policies/acl/dev"),
        "{shown}"
    );

    vc(&bao, &["apply", "-f", p], &[]).assert_success();
    let (code, listed) = bao.api("LIST", "sys/namespaces", None);
    assert_eq!(code, 200, "{listed}");
    // OpenBao lists namespaces in creation order, and both are created concurrently.
    let mut keys: Vec<&str> = listed["data"]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k.as_str())
        .collect();
    keys.sort();
    assert_eq!(keys, ["team-a/", "team-b/"], "{listed}");
    // Everything else landed in team-a, not in the root.
    let (code, policy) = in_namespace(&bao, "team-a", "GET", "sys/policies/acl/dev", None);
    assert_eq!(code, 200, "{policy}");
    assert!(bao.read("sys/policies/acl/dev").is_none());
    let (_, data) = in_namespace(&bao, "team-a", "GET", "app/data/cfg", None);
    assert_eq!(data["data"]["data"]["url"], "https://a.example");
    assert!(bao.read("sys/mounts").unwrap()["data"]
        .get("app/")
        .is_none());
    assert_stable(&bao, &plan, &[]);

    // Drift inside the namespace: planned and repaired there.
    let (code, _) = in_namespace(&bao, "team-a", "DELETE", "sys/policies/acl/dev", None);
    assert_eq!(code, 204);
    let shown = plan_changes(&bao, &plan);
    assert!(
        shown.contains("+ create policy sys/policies/acl/dev"),
        "{shown}"
    );
    assert!(shown.contains("1 change"), "{shown}");
    vc(&bao, &["apply", "-f", p], &[]).assert_success();
    assert_eq!(
        in_namespace(&bao, "team-a", "GET", "sys/policies/acl/dev", None).0,
        200
    );

    // A namespace that neither exists nor is planned is a plan error.
    std::fs::write(
        &plan,
        NAMESPACED.replace("namespace: team-a", "namespace: team-c"),
    )
    .unwrap();
    let out = vc(&bao, &["plan", "-f", p], &[]);
    out.assert_code(2);
    assert!(
        out.stderr.contains("plan.yaml:2") && out.stderr.contains("team-c"),
        "{}",
        out.describe()
    );
    // Nested names are refused offline.
    std::fs::write(&plan, "version: 1\nnamespaces: [ok, a/b]\n").unwrap();
    let out = vc(&bao, &["validate", "-f", p], &[]);
    out.assert_code(2);
    assert!(out.stderr.contains("plan.yaml:2"), "{}", out.describe());
}

#[test]
fn a_namespace_that_cannot_be_created_skips_what_is_in_it() {
    let (bao, _dir, plan) = dev_with_plan(NAMESPACED);
    // May list namespaces and create team-b, not team-a.
    let token = token_with_policy(
        &bao,
        "half",
        "path \"sys/namespaces\" { capabilities = [\"list\"] }\n\
         path \"sys/namespaces/team-b\" { capabilities = [\"create\", \"update\", \"read\"] }\n",
    );
    let (out, report) = apply_json(&bao, &plan, &[("VAULT_TOKEN", token.as_str())]);
    out.assert_code(1);
    assert_eq!(action_of(&report, "sys/namespaces/team-a"), "failed");
    assert_eq!(action_of(&report, "sys/namespaces/team-b"), "create");
    for inside in ["sys/mounts/app", "sys/policies/acl/dev", "app/data/cfg"] {
        assert_eq!(
            action_of(&report, inside),
            "skipped",
            "{inside}: {report:#}"
        );
    }
}

/// A device the server's configuration declares, as the plan states it.
const DECLARED: &str = "audit \"file\" \"declared\" {\n  description = \"from config\"\n  options {\n    file_path = \"stdout\"\n  }\n}\n";

#[test]
fn audit_devices_the_server_refuses_fail_with_the_config_stanza() {
    let bao = Bao::start_dev_with_config(DECLARED);
    let dir = tempfile::tempdir().unwrap();
    let declared = "version: 1\naudit:\n  declared: { type: file, description: from config, options: { file_path: stdout } }\n";
    let plan = plan_file(dir.path(), "plan.yaml", declared);
    let p = plan.to_str().unwrap();
    // The device the configuration declares is found unchanged.
    let (out, report) = apply_json(&bao, &plan, &[]);
    out.assert_success();
    assert_eq!(report["requests"]["writes"], 0, "{report:#}");
    assert_eq!(action_of(&report, "sys/audit/declared"), "unchanged");

    // A new one: plan and apply fail with the stanza, nothing is written.
    let with_new = format!("{declared}  extra: {{ type: file, options: {{ file_path: /tmp/extra.log, log_raw: true }} }}\n");
    std::fs::write(&plan, with_new).unwrap();
    for command in ["plan", "apply"] {
        let out = vc(&bao, &[command, "-f", p], &[]);
        out.assert_code(2);
        for expected in [
            "audit \"file\" \"extra\" {",
            "file_path = \"/tmp/extra.log\"",
            "log_raw = \"true\"",
            "unsafe_allow_api_audit_creation",
        ] {
            assert!(
                out.stdout.contains(expected),
                "{command}: `{expected}` in {}",
                out.describe()
            );
        }
        let last = out.stderr.lines().last().unwrap_or("");
        assert!(last.contains("plan.yaml:4"), "{last}");
    }
    let devices = bao.read("sys/audit").unwrap();
    assert!(devices["data"].get("extra/").is_none(), "{devices}");

    // A token that may not read the server's configuration: plan cannot
    // tell, and the write's refusal gives the same stanza.
    let token = token_with_policy(
        &bao,
        "audit-only",
        "path \"sys/audit\" { capabilities = [\"read\", \"sudo\"] }\n\
         path \"sys/audit/*\" { capabilities = [\"create\", \"update\", \"sudo\"] }\n",
    );
    let env = [("VAULT_TOKEN", token.as_str())];
    let out = vc(&bao, &["plan", "-f", p, "--detailed-exitcode"], &env);
    out.assert_code(4);
    assert!(
        out.stdout.contains("+ create audit device sys/audit/extra"),
        "{}",
        out.describe()
    );
    let out = vc(&bao, &["apply", "-f", p], &env);
    out.assert_code(2);
    assert!(
        out.stdout.contains("audit \"file\" \"extra\" {"),
        "{}",
        out.describe()
    );

    // A declared device that differs from the plan is refused, not changed.
    std::fs::write(&plan, declared.replace("from config", "other")).unwrap();
    let out = vc(&bao, &["plan", "-f", p], &[]);
    out.assert_code(5);
    assert!(
        out.stdout.contains("description `from config` → `other`"),
        "{}",
        out.describe()
    );
}

#[test]
fn audit_devices_are_enabled_when_the_server_allows_it_and_never_changed() {
    let bao = Bao::start_dev_with_config("unsafe_allow_api_audit_creation = true\n");
    let log = bao.dir.join("audit.log");
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(
        dir.path(),
        "plan.yaml",
        &format!(
            "version: 1\naudit:\n  to-file: {{ type: file, description: all requests, options: {{ file_path: \"{}\", log_raw: false }} }}\n",
            log.display()
        ),
    );
    let p = plan.to_str().unwrap();
    let (out, report) = apply_json(&bao, &plan, &[]);
    out.assert_success();
    assert_eq!(action_of(&report, "sys/audit/to-file"), "create");
    let device = &bao.read("sys/audit").unwrap()["data"]["to-file/"];
    assert_eq!(device["type"], "file");
    assert_eq!(device["description"], "all requests");
    assert_eq!(device["options"]["log_raw"], "false");
    assert!(log.exists(), "the device writes its log");
    assert_stable(&bao, &plan, &[]);

    // Changed behind the tool's back: refused (exit 5), never re-enabled.
    bao.delete("sys/audit/to-file");
    bao.write(
        "sys/audit/to-file",
        &json!({"type": "file", "description": "changed", "options": {"file_path": log}}),
    );
    for command in ["plan", "apply"] {
        let out = vc(&bao, &[command, "-f", p], &[]);
        out.assert_code(5);
        assert!(
            out.stdout
                .contains("description `changed` → `all requests`"),
            "{}",
            out.describe()
        );
    }
    assert_eq!(
        bao.read("sys/audit").unwrap()["data"]["to-file/"]["description"],
        "changed"
    );
}

#[test]
fn audit_request_headers_converge_and_drift_is_repaired() {
    let (bao, _dir, plan) = dev_with_plan(
        "version: 1\naudit_request_headers:\n  X-Request-Id: { hmac: true }\n  X-Correlation-Id: {}\n",
    );
    let p = plan.to_str().unwrap();
    let (out, report) = apply_json(&bao, &plan, &[]);
    out.assert_success();
    assert_eq!(summary(&report, "created"), 2, "{report:#}");
    let headers = &bao.read("sys/config/auditing/request-headers").unwrap()["data"]["headers"];
    assert_eq!(headers["x-request-id"], json!({"hmac": true}));
    assert_eq!(headers["x-correlation-id"], json!({"hmac": false}));
    assert_stable(&bao, &plan, &[]);

    bao.write(
        "sys/config/auditing/request-headers/X-Request-Id",
        &json!({"hmac": false}),
    );
    let shown = plan_changes(&bao, &plan);
    assert!(shown.contains("hmac: false → true"), "{shown}");
    vc(&bao, &["apply", "-f", p], &[]).assert_success();
    let header = bao
        .read("sys/config/auditing/request-headers/X-Request-Id")
        .unwrap();
    assert_eq!(header["data"]["X-Request-Id"]["hmac"], true);
    assert_stable(&bao, &plan, &[]);

    // A typo is an unknown field, found before anything is written.
    std::fs::write(
        &plan,
        "version: 1\naudit_request_headers:\n  X-New: { hmca: true }\n",
    )
    .unwrap();
    let out = vc(&bao, &["apply", "-f", p], &[]);
    out.assert_code(2);
    assert!(
        out.stdout.contains("`hmca` (") && out.stdout.contains("plan.yaml:3)"),
        "{}",
        out.describe()
    );
    assert!(
        bao.read("sys/config/auditing/request-headers").unwrap()["data"]["headers"]
            .get("x-new")
            .is_none()
    );
}

#[test]
fn the_generated_policy_is_enough_for_the_system_sections() {
    let plugins = tempfile::tempdir().unwrap();
    let sha = plugin_binary(plugins.path(), "my-plugin");
    let bao = Bao::start_dev_with_config(&format!(
        "plugin_directory = \"{}\"\nunsafe_allow_api_audit_creation = true\n",
        plugins.path().display()
    ));
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(
        dir.path(),
        "plan.yaml",
        &format!(
            "{NAMESPACED}plugins:\n  secret/my-plugin: {{ sha256: \"{sha}\", command: my-plugin }}\naudit:\n  out: {{ type: file, options: {{ file_path: \"{}\" }} }}\naudit_request_headers:\n  X-Request-Id: {{ hmac: false }}\n",
            bao.dir.join("audit.log").display()
        ),
    );
    let p = plan.to_str().unwrap();
    let policy = vc(&bao, &["policy", "-f", p], &[]);
    policy.assert_success();
    let token = token_with_policy(&bao, "converge", &policy.stdout);
    let env = [("VAULT_TOKEN", token.as_str())];
    let (out, report) = apply_json(&bao, &plan, &env);
    out.assert_success();
    assert_eq!(summary(&report, "created"), 8, "{report:#}");
    assert_stable(&bao, &plan, &env);
}
