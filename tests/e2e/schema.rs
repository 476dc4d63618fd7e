//! `vault-converge schema` and `completions`: the printed JSON Schema is
//! checked with a real validator (PyPI `check-jsonschema`, installed by
//! scripts/test.sh) against every plan the project ships, partial files,
//! and typos, each time next to what the tool's own loader (`validate`)
//! says about the same file; the completion scripts are real shell scripts.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::{plan_file, repo_root};
use crate::support::cli::{self, CliOutput};

const VALIDATOR: &str = "check-jsonschema";

/// The schema as printed, parsed.
fn printed_schema() -> (CliOutput, Value) {
    let out = cli::run(&["schema"], &[]);
    out.assert_success();
    let schema = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("schema is not JSON ({e})\n{}", out.describe()));
    (out, schema)
}

/// The printed schema in `dir`, where an editor would keep it.
fn schema_file(dir: &Path) -> PathBuf {
    let (out, _) = printed_schema();
    let path = dir.join("vault-converge.schema.json");
    std::fs::write(&path, &out.stdout).unwrap();
    path
}

/// Whether the validator runs here; tests skip (saying so) only when it does not.
fn validator_present() -> bool {
    let runs = Command::new(VALIDATOR)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !runs {
        eprintln!(
            "SKIPPED: `{VALIDATOR}` (PyPI check-jsonschema) is not on PATH; scripts/test.sh installs it"
        );
    }
    runs
}

/// The validator's exit code and everything it printed.
fn validate_against(schema: &Path, files: &[PathBuf]) -> (i32, String) {
    let out = Command::new(VALIDATOR)
        .arg("--schemafile")
        .arg(schema)
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {VALIDATOR}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// The tool's own verdict on `files` (merged, as `-f` does).
fn loader_verdict(files: &[&Path]) -> CliOutput {
    let mut args = vec!["validate"];
    for f in files {
        args.extend(["-f", f.to_str().unwrap()]);
    }
    cli::run(&args, &[])
}

/// The plans under config/examples/ and manifests/, the ArgoCD one taken
/// out of its ConfigMap into `dir`.
fn shipped_plans(dir: &Path) -> Vec<PathBuf> {
    let root = repo_root();
    let mut plans: Vec<PathBuf> = std::fs::read_dir(root.join("config/examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    plans.sort();
    assert!(plans.len() >= 3, "examples: {plans:?}");
    plans.push(root.join("manifests/flux/plan.yaml"));
    plans.push(root.join("manifests/cronjob/plan.yaml"));
    let configmap = std::fs::read_to_string(root.join("manifests/argocd/configmap.yaml")).unwrap();
    let configmap: Value = serde_saphyr::from_str(&configmap).unwrap();
    let plan = configmap["data"]["plan.yaml"]
        .as_str()
        .expect("the ArgoCD ConfigMap holds data.plan.yaml");
    plans.push(plan_file(dir, "argocd-plan.yaml", plan));
    plans
}

#[test]
fn every_shipped_plan_is_valid_under_the_schema() {
    if !validator_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let schema = schema_file(dir.path());
    // (Their own tests apply them; some need variables to load.)
    let plans = shipped_plans(dir.path());
    let (code, text) = validate_against(&schema, &plans);
    assert_eq!(code, 0, "{plans:?}\n{text}");
}

#[test]
fn drop_in_and_overlay_files_are_valid_parts_of_a_plan() {
    if !validator_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let schema = schema_file(dir.path());
    let plans = dir.path().join("plan.d");
    let base = plan_file(
        &plans,
        "10-base.yaml",
        "version: 1\nmounts:\n  app: { type: kv }\n  old: { type: kv }\n\
         kv:\n  app:\n    db: { data: { password: { generate: { length: 24 } } } }\n",
    );
    // No version, a mount without its type, a fixture without its data,
    // and `null` removing what the base set: all fine once merged.
    let overlay = plan_file(
        &plans,
        "20-prod.yaml",
        "mounts:\n  app: { description: prod }\n  old: null\n\
         kv:\n  app:\n    db: { mode: overwrite }\n\
         tokens:\n  ci: { policies: [ci], period: 3600, store: { path: /run/ci-token } }\n",
    );
    loader_verdict(&[&plans]).assert_success();
    let (code, text) = validate_against(&schema, &[base, overlay]);
    assert_eq!(code, 0, "{text}");
}

#[test]
fn typos_and_misplaced_sources_are_flagged_like_the_loader_does() {
    if !validator_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let schema = schema_file(dir.path());
    for (name, yaml, field) in [
        ("field", "version: 1\nmounts: {app: {tpye: kv}}\n", "tpye"),
        ("section", "version: 1\nmountz: {app: {type: kv}}\n", "mountz"),
        (
            "source",
            "version: 1\nwrites:\n  - path: transit/keys/k\n    data: {seed: {generate: {length: 8}}}\n",
            "generate",
        ),
        ("version", "version: 2\n", "version"),
    ] {
        let plan = plan_file(dir.path(), &format!("{name}.yaml"), yaml);
        let (code, text) = validate_against(&schema, std::slice::from_ref(&plan));
        assert_ne!(code, 0, "{name}: the validator accepted\n{yaml}");
        assert!(text.contains(field), "{name}: no `{field}` in\n{text}");
        let loader = loader_verdict(&[&plan]);
        loader.assert_code(2);
        assert!(loader.stderr.contains(field), "{}", loader.describe());
    }
}

#[test]
fn the_schema_is_draft_2020_12_with_described_sections() {
    let (out, schema) = printed_schema();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(schema["additionalProperties"], false);
    let sections = schema["properties"].as_object().unwrap();
    for section in [
        "version", "vault", "mounts", "auth", "policies", "kv", "writes", "verify",
    ] {
        let description = sections[section]["description"].as_str().unwrap_or("");
        assert!(!description.is_empty(), "`{section}` has no description");
    }
    for (section, property) in sections {
        assert!(
            property["description"].is_string(),
            "`{section}` has no description"
        );
    }
    let json = cli::run(&["schema", "--output", "json"], &[]);
    json.assert_success();
    assert_eq!(json.stdout, out.stdout, "--output json changes nothing");
    if validator_present() {
        let dir = tempfile::tempdir().unwrap();
        let schema = schema_file(dir.path());
        let out = Command::new(VALIDATOR)
            .arg("--check-metaschema")
            .arg(&schema)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "not a valid draft 2020-12 schema:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn completion_scripts_cover_the_command_tree() {
    let bash = cli::run(&["completions", "bash"], &[]);
    bash.assert_success();
    for command in [
        "validate",
        "plan",
        "apply",
        "verify",
        "policy",
        "rbac",
        "schema",
        "completions",
    ] {
        let case = format!("vault__converge__subcmd__{command}");
        assert!(
            bash.stdout.contains(&case),
            "no {command} in\n{}",
            bash.stdout
        );
    }
    assert!(bash.stdout.contains("--detailed-exitcode"));
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("vault-converge.bash");
    std::fs::write(&script, &bash.stdout).unwrap();
    let syntax = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        syntax.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&syntax.stderr)
    );

    let zsh = cli::run(&["completions", "zsh"], &[]);
    zsh.assert_success();
    assert!(
        zsh.stdout.starts_with("#compdef vault-converge"),
        "{}",
        zsh.stdout
    );
    let fish = cli::run(&["completions", "fish"], &[]);
    fish.assert_success();
    assert!(
        fish.stdout.contains("complete -c vault-converge"),
        "{}",
        fish.stdout
    );

    let unknown = cli::run(&["completions", "tcsh"], &[]);
    unknown.assert_code(2);
    assert!(
        unknown.stderr.contains("bash, zsh, fish"),
        "{}",
        unknown.describe()
    );
}
