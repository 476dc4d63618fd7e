//! Exit codes and the one-sentence failure message (DESIGN.md "Exit codes"):
//! bad settings, usage errors, plans Vault could not receive exactly, file
//! sources, logins — each ends with a code, the last stderr line and the
//! termination-message file saying the same thing.

use std::path::Path;

use serde_json::json;

use crate::common::*;
use crate::support::bao::Bao;
use crate::support::cli::{self, CliOutput};

// The binary's own failure reporting, compiled here to test the panic hook's
// sentence without a test-only trigger in the product.
#[allow(dead_code)]
#[path = "../../src/cli/failure.rs"]
mod failure;

/// A port nothing listens on: reaching it would fail, so an answer that
/// comes back at once was decided before any request.
const NOWHERE: &str = "http://127.0.0.1:9";
/// With NOWHERE: should a check regress, fail in a second, not a minute.
const SHORT_WAIT: (&str, &str) = ("VAULT_CONVERGE_WAIT_TIMEOUT", "1s");

/// Runs the binary with a fresh termination-message file; returns the run
/// and what the file holds afterwards ("" when it was not written).
fn run_told(args: &[&str], env: &[(&str, &str)]) -> (CliOutput, String) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("termination-log");
    let mut all = vec![("VAULT_CONVERGE_TERMINATION_LOG", log.to_str().unwrap())];
    all.extend_from_slice(env);
    let out = cli::run(args, &all);
    let told = std::fs::read_to_string(&log).unwrap_or_default();
    (out, told)
}

/// The exit code is `code`, the last stderr line is `error: ` + the
/// termination message, and the message holds every one of `parts`.
fn assert_told(out: &CliOutput, told: &str, code: i32, parts: &[&str]) {
    out.assert_code(code);
    let last = out.stderr.lines().last().unwrap_or_default();
    assert_eq!(
        last,
        format!("error: {}", told.trim_end()),
        "{}",
        out.describe()
    );
    assert_eq!(told.lines().count(), 1, "one sentence: {told:?}");
    for part in parts {
        assert!(told.contains(part), "{part:?} not in {told:?}");
    }
}

fn plan_in(dir: &Path, yaml: &str) -> String {
    plan_file(dir, "plan.yaml", yaml).display().to_string()
}

#[test]
fn an_invalid_vault_addr_exits_2_with_an_example_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_in(dir.path(), "version: 1\n");
    for (addr, problem) in [
        ("127.0.0.1:8200", "`127.0.0.1:8200` (VAULT_ADDR"),
        ("", "is empty"),
        ("garbage", "has no scheme"),
        ("ftp://vault:8200", "has scheme `ftp`"),
    ] {
        let env = [("VAULT_ADDR", addr), ("VAULT_TOKEN", "root")];
        let (out, told) = run_told(&["plan", "-f", &plan], &env);
        assert_told(&out, &told, 2, &[problem, "like http://127.0.0.1:8200"]);
        assert!(!out.stderr.contains("panicked"), "{}", out.describe());
    }
}

#[test]
fn usage_errors_exit_2_with_the_sentence_and_help_exits_0_without_one() {
    for (args, parts) in [
        (
            &["plan", "--bogus", "-f", "p.yaml"][..],
            &[
                "unexpected argument '--bogus'",
                "see `vault-converge plan --help`",
            ][..],
        ),
        (&["apply"], &["--file <FILES>", "not provided"]),
        (&[], &["no command given"]),
        (
            &["validate", "-f", "p.yaml", "--output", "xml"],
            &["invalid value 'xml'"],
        ),
    ] {
        let (out, told) = run_told(args, &[]);
        assert_told(&out, &told, 2, parts);
    }
    for args in [&["--help"][..], &["--version"], &["apply", "--help"]] {
        let (out, told) = run_told(args, &[]);
        out.assert_success();
        assert_eq!(told, "", "{args:?} is no failure");
    }
}

#[test]
fn request_timeout_is_a_flag_and_a_variable_with_its_default_in_help() {
    let (out, _) = run_told(&["apply", "--help"], &[]);
    let line = out.stdout.lines().find(|l| l.contains("--request-timeout"));
    let line = line.unwrap_or_else(|| panic!("{}", out.describe()));
    assert!(
        line.contains("[default: 30s] [env: VAULT_CONVERGE_REQUEST_TIMEOUT]"),
        "{line}"
    );
    let wait = out
        .stdout
        .lines()
        .find(|l| l.contains("--wait-timeout"))
        .unwrap();
    assert!(wait.contains("[default: 60s]"), "{wait}");

    let dir = tempfile::tempdir().unwrap();
    let plan = plan_in(dir.path(), "version: 1\n");
    let base = [("VAULT_ADDR", NOWHERE), ("VAULT_TOKEN", "root"), SHORT_WAIT];
    let (out, told) = run_told(&["plan", "-f", &plan, "--request-timeout", "soon"], &base);
    assert_told(
        &out,
        &told,
        2,
        &["request_timeout: `soon` is not a duration"],
    );
    let env = [
        base[0],
        base[1],
        base[2],
        ("VAULT_CONVERGE_REQUEST_TIMEOUT", "0s"),
    ];
    let (out, told) = run_told(&["plan", "-f", &plan], &env);
    assert_told(&out, &told, 2, &["request_timeout must be more than 0s"]);
}

#[test]
fn missing_or_refused_approle_credentials_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_in(dir.path(), "version: 1\n");
    let approle = ("VAULT_CONVERGE_AUTH_METHOD", "approle");
    let env = [("VAULT_ADDR", NOWHERE), approle, SHORT_WAIT];
    let (out, told) = run_told(&["plan", "-f", &plan], &env);
    assert_told(
        &out,
        &told,
        2,
        &["set VAULT_CONVERGE_ROLE_ID or VAULT_CONVERGE_ROLE_ID_FILE"],
    );

    let bao = Bao::start_dev();
    bao.write("sys/auth/approle", &json!({"type": "approle"}));
    bao.write("auth/approle/role/job", &json!({"token_ttl": "5m"}));
    let role_id = bao.read("auth/approle/role/job/role-id").unwrap()["data"]["role_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let empty = dir.path().join("secret-id");
    std::fs::write(&empty, "\n").unwrap();
    let addr = ("VAULT_ADDR", bao.addr.as_str());
    let role = ("VAULT_CONVERGE_ROLE_ID", role_id.as_str());
    let wrong = ("VAULT_CONVERGE_SECRET_ID", "not-the-secret-id");
    let (out, told) = run_told(&["plan", "-f", &plan], &[addr, approle, role, wrong]);
    assert_told(
        &out,
        &told,
        2,
        &["login failed, refused by Vault", "auth/approle/login"],
    );
    let file = ("VAULT_CONVERGE_SECRET_ID_FILE", empty.to_str().unwrap());
    let (out, told) = run_told(&["plan", "-f", &plan], &[addr, approle, role, file]);
    assert_told(&out, &told, 2, &["is empty", "secret-id"]);
}

#[test]
fn an_unclosed_reference_is_a_plan_error_with_its_place_and_text() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_in(
        dir.path(),
        "version: 1\nwrites:\n  - path: sys/x\n    data: { a: \"abc ${NAME\", b: \"kept $${NAME\" }\n",
    );
    let (out, told) = run_told(&["validate", "-f", &plan], &[("NAME", "set")]);
    assert_told(
        &out,
        &told,
        2,
        &["plan.yaml:4:16", "\"abc ${NAME\"", "`$${`"],
    );
}

#[test]
fn integers_vault_would_round_are_refused_and_exact_numbers_converge_once() {
    let kv = "version: 1\nmounts:\n  app: { type: kv, options: { version: \"2\" } }\nkv:\n  app:\n    nums:\n      data:\n";
    let dir = tempfile::tempdir().unwrap();
    // OpenBao's KV v2 reads 2^60+1 back as 1152921504606847000.
    let plan = plan_in(
        dir.path(),
        &format!("{kv}        big: 1152921504606846977\n"),
    );
    let (out, told) = run_told(&["validate", "-f", &plan], &[]);
    assert_told(
        &out,
        &told,
        2,
        &[
            "plan.yaml:8:14",
            "1152921504606846977",
            "quote it to send a string",
        ],
    );

    let bao = Bao::start_dev();
    let exact = "        max: 9007199254740991\n        min: -9007199254740991\n        half: 0.5\n        \
                 one: 1.0\n        tiny: 1.0e-7\n        quoted: \"1152921504606846977\"\n";
    let plan = plan_file(dir.path(), "exact.yaml", &format!("{kv}{exact}"));
    apply_json(&bao, &plan, &[]).0.assert_success();
    let expected = json!({"max": 9007199254740991_i64, "min": -9007199254740991_i64, "half": 0.5,
                          "one": 1, "tiny": 1.0e-7, "quoted": "1152921504606846977"});
    assert_eq!(kv_data(&bao, "app", "nums"), expected);
    let (out, report) = apply_json(&bao, &plan, &[]);
    out.assert_success();
    assert_eq!(report["requests"]["writes"], 0, "{report:#}");
    assert_eq!(kv_version(&bao, "app", "nums"), 1);
}

#[test]
fn file_sources_must_be_files_within_the_size_limit() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("certs")).unwrap();
    let big = vec![b'x'; 1024 * 1024 + 1];
    std::fs::write(dir.path().join("big.txt"), &big).unwrap();
    let mut policy = b"path \"x\" { capabilities = [\"read\"] }\n#".to_vec();
    policy.extend_from_slice(&big);
    std::fs::write(dir.path().join("big.hcl"), policy).unwrap();
    let head = "version: 1\nmounts:\n  app: { type: kv, options: { version: \"2\" } }\n";
    for (body, parts) in [
        (
            "kv:\n  app:\n    tls:\n      data: { ca: { file: certs } }\n",
            &["plan.yaml:7:", "kv.app.tls.data.ca", "certs is a directory"][..],
        ),
        (
            "kv:\n  app:\n    tls:\n      data: { ca: { file: big.txt } }\n",
            &[
                "plan.yaml:7:",
                "1048577 bytes, over the 1048576-byte limit",
                "VAULT_CONVERGE_MAX_SOURCE_BYTES",
            ],
        ),
        (
            "policies:\n  ops: { file: big.hcl }\n",
            &[
                "plan.yaml:5:",
                "policies.ops",
                "over the 1048576-byte limit",
            ],
        ),
    ] {
        let plan = plan_in(dir.path(), &format!("{head}{body}"));
        // validate too: the files exist, so they must be usable.
        for command in ["validate", "apply"] {
            let env = [("VAULT_ADDR", NOWHERE), ("VAULT_TOKEN", "root"), SHORT_WAIT];
            let (out, told) = run_told(&[command, "-f", &plan], &env);
            assert_told(&out, &told, 2, parts);
        }
    }
}

#[test]
fn a_panic_becomes_one_scrubbed_sentence() {
    let secret = vault_converge::secret::Secret::new("panic-test-secret-7f3a9c");
    let payload: Box<dyn std::any::Any + Send> = Box::new(format!(
        "called `unwrap()` on `Err(\"{}\")`",
        secret.expose()
    ));
    let text = failure::panic_sentence(payload.as_ref(), Some(("src/x.rs", 12)));
    assert!(
        text.starts_with("internal error: called `unwrap()`"),
        "{text}"
    );
    assert!(
        text.ends_with("(at src/x.rs:12); please report it"),
        "{text}"
    );
    assert_eq!(
        failure::panic_sentence(&"plain", None),
        "internal error: plain; please report it"
    );

    let dir = tempfile::tempdir().unwrap();
    let settings = vault_converge::settings::Settings {
        termination_log: Some(dir.path().join("log")),
        ..Default::default()
    };
    let told = failure::tell(Some(&settings), &text);
    let written = std::fs::read_to_string(dir.path().join("log")).unwrap();
    assert_eq!(written, format!("{told}\n"));
    assert!(!written.contains(secret.expose()), "{written}");
    assert!(written.contains("<redacted>"), "{written}");
}
