//! The report for people: colour and a progress line only on a terminal
//! (a real pseudo-terminal from `script`), never with NO_COLOR; unchanged
//! objects only with --verbose; singular and plural; the server named.

use std::process::Command;

use crate::common::{dev_with_plan, vc};
use crate::support::bao::Bao;
use crate::support::cli::BIN;

const PLAN: &str = "version: 1\npolicies:\n  one: 'path \"a/*\" { capabilities = [\"read\"] }'\n";

/// Runs the binary under a pseudo-terminal (util-linux `script`): what a
/// person at a terminal sees, stdout and stderr together.
fn at_terminal(bao: &Bao, args: &str, no_color: bool) -> String {
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &format!("{BIN} {args}"), "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TERM", "xterm")
        .env("VAULT_ADDR", &bao.addr)
        .env("VAULT_TOKEN", &bao.root_token)
        .env("VAULT_CONVERGE_TERMINATION_LOG", "/dev/null");
    if no_color {
        cmd.env("NO_COLOR", "1");
    }
    let out = cmd.output().expect("script runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn colour_and_progress_only_on_a_terminal_and_never_with_no_color() {
    let (bao, _dir, plan) = dev_with_plan(PLAN);
    let args = format!("plan -f {}", plan.display());
    let coloured = at_terminal(&bao, &args, false);
    assert!(coloured.contains("\x1b[32m+ create"), "{coloured:?}");
    assert!(
        coloured.contains("objects · "),
        "a progress line: {coloured:?}"
    );
    let plain = at_terminal(&bao, &args, true);
    assert!(!plain.contains("\x1b[3"), "NO_COLOR: {plain:?}");
    assert!(
        plain.contains("+ create policy sys/policies/acl/one"),
        "{plain:?}"
    );
    // Piped (a pod, CI): neither colour nor progress.
    let piped = vc(&bao, &["plan", "-f", plan.to_str().unwrap()], &[]);
    assert!(
        !piped.stdout.contains('\x1b') && !piped.stderr.contains('\x1b'),
        "{}",
        piped.describe()
    );
    assert!(!piped.stderr.contains("objects · "), "{}", piped.describe());
}

#[test]
fn unchanged_objects_only_with_verbose_and_counts_read_right() {
    let (bao, _dir, plan) = dev_with_plan(PLAN);
    let p = plan.to_str().unwrap();
    let first = vc(&bao, &["apply", "-f", p], &[]);
    first.assert_success();
    assert!(
        first.stdout.contains("1 change (1 created"),
        "{}",
        first.stdout
    );
    assert!(first.stdout.contains("0 checks"), "{}", first.stdout);
    assert!(
        first.stdout.contains(&format!("on {}", bao.addr)),
        "names the server: {}",
        first.stdout
    );
    let quiet = vc(&bao, &["apply", "-f", p], &[]);
    assert!(!quiet.stdout.contains("= unchanged"), "{}", quiet.stdout);
    assert!(
        quiet
            .stdout
            .contains("0 changes (0 created, 0 updated, 1 unchanged"),
        "{}",
        quiet.stdout
    );
    let verbose = vc(&bao, &["apply", "-f", p, "--verbose"], &[]);
    assert!(
        verbose
            .stdout
            .contains("= unchanged policy sys/policies/acl/one"),
        "{}",
        verbose.stdout
    );
    let json = vc(&bao, &["apply", "-f", p, "--output", "json"], &[]);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(report["vault_addr"], bao.addr.as_str());
}

#[test]
fn json_output_covers_policy_rbac_validate_and_their_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = crate::common::plan_file(dir.path(), "good.yaml", PLAN);
    let bad = crate::common::plan_file(dir.path(), "bad.yaml", "version: 1\nmountz: {}\n");
    let json = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--output", "json"]);
        let out = crate::support::cli::run(&all, &[]);
        let doc: serde_json::Value = serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", out.describe()));
        (out, doc)
    };
    let (out, doc) = json(&["policy", "-f", good.to_str().unwrap()]);
    out.assert_success();
    assert_eq!(doc["command"], "policy");
    assert!(
        doc["text"]
            .as_str()
            .unwrap()
            .contains("sys/policies/acl/one"),
        "{doc}"
    );
    let (out, doc) = json(&[
        "rbac",
        "-f",
        good.to_str().unwrap(),
        "--namespace",
        "ns",
        "--service-account",
        "sa",
    ]);
    out.assert_success();
    assert_eq!(doc["command"], "rbac");
    let (out, doc) = json(&["validate", "-f", good.to_str().unwrap()]);
    out.assert_success();
    assert_eq!(doc["plan"]["objects"], 1, "{doc}");
    let (out, doc) = json(&["validate", "-f", bad.to_str().unwrap()]);
    out.assert_code(2);
    assert_eq!(doc["error"]["exit_code"], 2, "{doc}");
    assert!(
        doc["error"]["message"].as_str().unwrap().contains("mountz"),
        "{doc}"
    );
}

#[test]
fn network_flags_only_on_commands_that_reach_vault() {
    let help = |command: &str| crate::support::cli::run(&[command, "--help"], &[]).stdout;
    for command in ["plan", "apply", "verify", "export", "bootstrap"] {
        assert!(help(command).contains("--wait-timeout"), "{command}");
    }
    for command in ["validate", "policy", "rbac", "schema"] {
        let text = help(command);
        assert!(
            !text.contains("--addr") && !text.contains("--wait-timeout"),
            "{command}: {text}"
        );
        assert!(text.contains("--output"), "{command}: {text}");
    }
    let out = crate::support::cli::run(&["validate", "--addr", "http://x", "-f", "p.yaml"], &[]);
    out.assert_code(2);
}
