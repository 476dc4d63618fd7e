//! Failing right: bounded failure time with one message, concurrent runs,
//! and a token that never follows a redirect to another host.

use std::io::Read;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::common::*;
use crate::support::bao::Bao;
use crate::support::cli;

/// Error lines and retry lines a failed run printed.
fn count(text: &str, needle: &str) -> usize {
    text.lines().filter(|l| l.contains(needle)).count()
}

#[test]
fn a_server_killed_mid_run_fails_within_the_wait_budget_with_one_message() {
    let mut bao = Bao::start_dev();
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), "plan.yaml", &workload(2000));
    let addr = bao.addr.clone();
    let token = bao.root_token.clone();
    let runner = run_in_background(
        &[
            "apply",
            "-f",
            plan.to_str().unwrap(),
            "--wait-timeout",
            "4s",
        ],
        &[
            ("VAULT_ADDR", &addr),
            ("VAULT_TOKEN", &token),
            ("VAULT_CONVERGE_REQUEST_TIMEOUT", "2s"),
            ("VAULT_CONVERGE_TERMINATION_LOG", "/dev/null"),
        ],
    );
    let started_writing =
        crate::support::wait_for(Duration::from_secs(30), Duration::from_millis(20), || {
            let (code, body) = bao.api("LIST", "sys/policies/acl", None);
            (code == 200
                && body["data"]["keys"]
                    .as_array()
                    .is_some_and(|k| k.len() > 50))
            .then_some(())
        });
    assert!(started_writing.is_some(), "the apply never started writing");
    let killed = Instant::now();
    bao.stop();
    let out = runner.join().unwrap();
    let took = killed.elapsed();
    out.assert_code(1);
    assert!(
        took < Duration::from_secs(4 + 2 + 3),
        "gave up {took:?} after the kill; the budget is 4s plus one 2s request"
    );
    assert_eq!(count(&out.stderr, "error:"), 1, "{}", out.stderr);
    assert!(
        count(&out.stderr, "Vault unavailable; retrying") <= 10,
        "one line per backoff wave, not per object: {}",
        out.stderr
    );
    assert_eq!(count(&out.stderr, "object failed"), 0, "{}", out.stderr);
    let last = out.stderr.lines().last().unwrap_or("");
    assert!(
        last.contains(&addr) && last.contains("--wait-timeout"),
        "{last}"
    );
}

/// Accepts connections and never answers, like a hung process.
fn hanging_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for mut stream in listener.incoming().flatten() {
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf);
            held.push(stream);
        }
    });
    addr
}

#[test]
fn a_server_that_never_answers_fails_within_the_wait_budget() {
    let addr = hanging_server();
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(
        dir.path(),
        "plan.yaml",
        "version: 1\npolicies: {p: 'path \"a\" { capabilities = [\"read\"] }'}\n",
    );
    let started = Instant::now();
    let out = cli::run(
        &["plan", "-f", plan.to_str().unwrap(), "--wait-timeout", "3s"],
        &[
            ("VAULT_ADDR", &addr),
            ("VAULT_TOKEN", "any"),
            ("VAULT_CONVERGE_REQUEST_TIMEOUT", "30s"),
            ("VAULT_CONVERGE_TERMINATION_LOG", "/dev/null"),
        ],
    );
    out.assert_code(1);
    assert!(
        started.elapsed() < Duration::from_secs(3 + 3),
        "took {:?} for a 3s budget",
        started.elapsed()
    );
    assert!(out.stderr.contains("not ready within 3s"), "{}", out.stderr);
}

#[test]
fn four_concurrent_applies_all_converge() {
    let bao = Bao::start_dev();
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), "plan.yaml", &workload(500));
    let p = plan.to_str().unwrap();
    let env = [
        ("VAULT_ADDR", bao.addr.as_str()),
        ("VAULT_TOKEN", bao.root_token.as_str()),
        ("VAULT_CONVERGE_TERMINATION_LOG", "/dev/null"),
    ];
    let runners: Vec<_> = (0..4)
        .map(|_| run_in_background(&["apply", "-f", p], &env))
        .collect();
    for runner in runners {
        runner.join().unwrap().assert_success();
    }
    vc(&bao, &["plan", "-f", p, "--detailed-exitcode"], &[]).assert_code(0);
    assert_eq!(kv_data(&bao, "app", "svc-499/config")["api_key"], "key-499");
}

/// A redirect to another host is never followed by default: the token and
/// the request body never reach it, and the run says where it was sent.
#[test]
fn redirects_to_another_host_never_carry_the_token() {
    use crate::support::redirector::{Capture, Redirector};
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(
        dir.path(),
        "plan.yaml",
        "version: 1\npolicies: {p: 'path \"a\" { capabilities = [\"read\"] }'}\n",
    );
    let token = format!("s.{}", crate::support::random_hex(12));
    for status in [302, 307] {
        let capture = Capture::start();
        let redirector = Redirector::start(status, capture.addr.clone());
        let out = cli::run(
            &[
                "apply",
                "-f",
                plan.to_str().unwrap(),
                "--wait-timeout",
                "2s",
            ],
            &[
                ("VAULT_ADDR", &redirector.addr),
                ("VAULT_TOKEN", &token),
                ("VAULT_CONVERGE_TERMINATION_LOG", "/dev/null"),
            ],
        );
        out.assert_code(1);
        assert!(
            out.stderr.contains(&capture.addr) && out.stderr.contains("--follow-redirects"),
            "{status}: {}",
            out.stderr
        );
        let seen = capture.requests();
        assert!(
            seen.is_empty(),
            "{status}: followed to another host: {seen:?}"
        );
        assert!(
            !redirector.requests().is_empty(),
            "the redirector was asked"
        );
    }
}

/// Large and repetitive sources cost time and memory in proportion to their
/// size (once: 1 MB took minutes and half a gigabyte, 50 KB of one character 24 s).
#[test]
fn a_large_and_a_repetitive_source_stay_fast() {
    let dir = tempfile::tempdir().unwrap();
    let large: String = (0..1024 * 1024 / 32)
        .map(|_| crate::support::random_hex(16))
        .collect();
    let repetitive = "a".repeat(50_000);
    std::fs::write(dir.path().join("large.txt"), &large).unwrap();
    std::fs::write(dir.path().join("repetitive.txt"), &repetitive).unwrap();
    let (bao, _plan_dir, plan) = dev_with_plan(
        "version: 1\nmounts:\n  app: { type: kv-v2 }\nkv:\n  app:\n    big: { data: { large: { file: LARGE }, repetitive: { file: REPETITIVE } } }\n"
            .replace("LARGE", dir.path().join("large.txt").to_str().unwrap())
            .replace("REPETITIVE", dir.path().join("repetitive.txt").to_str().unwrap())
            .as_str(),
    );
    let started = Instant::now();
    let (out, _) = apply_json(&bao, &plan, &[]);
    out.assert_success();
    let (out, rerun) = apply_json(&bao, &plan, &[]);
    out.assert_success();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(rerun["requests"]["writes"], 0);
    let data = kv_data(&bao, "app", "big");
    assert_eq!(data["large"].as_str().map(str::len), Some(large.len()));
    assert_eq!(data["repetitive"], repetitive.as_str());
    cli::assert_no_secrets(&out, &[&large[..64], &repetitive[..64]]);
}

/// A password interpolated into a connection URL is never printed, and
/// Vault's masked copy (`xxxxx`) compares equal: no write on every run.
#[test]
fn a_password_inside_a_connection_url_is_hidden_and_settles() {
    let pg = crate::support::postgres::Postgres::start();
    let password = format!("url-{}", crate::support::random_hex(8));
    pg.psql(&format!("CREATE ROLE vault LOGIN PASSWORD '{password}';"));
    let (bao, _dir, plan) = dev_with_plan(&format!(
        "version: 1\nmounts:\n  database: {{ type: database }}\ndatabases:\n  database:\n    connections:\n      pg:\n        plugin_name: postgresql-database-plugin\n        allowed_roles: [\"*\"]\n        config:\n          connection_url: \"postgresql://vault:${{PG_PASSWORD}}@127.0.0.1:{}/{}?sslmode=disable\"\n",
        pg.port, pg.database
    ));
    let env = [("PG_PASSWORD", password.as_str())];
    let p = plan.to_str().unwrap();
    for command in ["plan", "apply"] {
        let out = vc(&bao, &[command, "-f", p], &env);
        out.assert_success();
        cli::assert_no_secrets(&out, &[&password]);
    }
    let (out, rerun) = apply_json(&bao, &plan, &env);
    out.assert_success();
    cli::assert_no_secrets(&out, &[&password]);
    assert_eq!(rerun["requests"]["writes"], 0, "{rerun:#}");
    vc(&bao, &["plan", "-f", p, "--detailed-exitcode"], &env).assert_code(0);
}

/// Answers `sys/health` as a healthy server, then hangs on everything else.
fn healthy_then_hanging_server() -> String {
    use std::io::Write;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for mut stream in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let n = stream.read(&mut buf).unwrap_or(0);
            if String::from_utf8_lossy(&buf[..n]).contains("/v1/sys/health") {
                let body = r#"{"initialized":true,"sealed":false,"standby":false}"#;
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            } else {
                held.push(stream);
            }
        }
    });
    addr
}

#[test]
fn a_server_that_answers_health_then_hangs_fails_within_the_budget() {
    let addr = healthy_then_hanging_server();
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(
        dir.path(),
        "plan.yaml",
        "version: 1\npolicies: {p: 'path \"a\" { capabilities = [\"read\"] }'}\n",
    );
    let started = Instant::now();
    let out = cli::run(
        &[
            "apply",
            "-f",
            plan.to_str().unwrap(),
            "--wait-timeout",
            "3s",
            "--request-timeout",
            "2s",
        ],
        &[
            ("VAULT_ADDR", &addr),
            ("VAULT_TOKEN", "any"),
            ("VAULT_CONVERGE_TERMINATION_LOG", "/dev/null"),
        ],
    );
    out.assert_code(1);
    assert!(
        started.elapsed() < Duration::from_secs(3 + 2 + 2),
        "took {:?} for a 3s budget and 2s requests",
        started.elapsed()
    );
    assert_eq!(count(&out.stderr, "error:"), 1, "{}", out.stderr);
    assert!(out.stderr.contains("no answer within 2s"), "{}", out.stderr);
}

/// `--follow-redirects` is the explicit opt-in for standbys without request
/// forwarding: a 307 to another host is followed, with the token.
#[test]
fn follow_redirects_follows_a_307_to_another_host() {
    use crate::support::redirector::{Capture, Redirector};
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), "plan.yaml", "version: 1\n");
    let capture = Capture::start();
    let redirector = Redirector::start(307, capture.addr.clone());
    let _ = cli::run(
        &[
            "plan",
            "-f",
            plan.to_str().unwrap(),
            "--wait-timeout",
            "2s",
            "--follow-redirects",
        ],
        &[
            ("VAULT_ADDR", &redirector.addr),
            ("VAULT_TOKEN", "opted-in-token"),
            ("VAULT_CONVERGE_TERMINATION_LOG", "/dev/null"),
        ],
    );
    let seen = capture.requests();
    assert!(
        seen.iter().any(|r| r.path.contains("lookup-self")
            && r.header("x-vault-token") == Some("opted-in-token")),
        "{seen:?}"
    );
}

/// A token the server does not know is a settings error (exit 2) found
/// before anything else, not a capability hint on every object.
#[test]
fn an_unknown_token_exits_2_before_any_write() {
    let (bao, _dir, plan) =
        dev_with_plan("version: 1\npolicies: {p: 'path \"a\" { capabilities = [\"read\"] }'}\n");
    let out = cli::run(
        &["apply", "-f", plan.to_str().unwrap()],
        &[
            ("VAULT_ADDR", &bao.addr),
            ("VAULT_TOKEN", "s.not-a-token-vault-knows"),
            ("VAULT_CONVERGE_TERMINATION_LOG", "/dev/null"),
        ],
    );
    out.assert_code(2);
    let last = out.stderr.lines().last().unwrap_or("");
    assert!(last.contains("invalid or expired"), "{last}");
    assert!(!last.contains("capability"), "{last}");
    assert!(bao.read("sys/policies/acl/p").is_none());
}

/// A check that could not run (the job's token may not create the check's
/// token) exits 1, so a Job retries; a check that ran and was wrong exits 3.
#[test]
fn a_verify_check_that_could_not_run_exits_1() {
    let (bao, _dir, plan) = dev_with_plan(
        "version: 1\npolicies: {p: 'path \"a\" { capabilities = [\"read\"] }'}\nverify:\n  - capabilities: { policy: p, path: a, expect: [read] }\n",
    );
    vc(
        &bao,
        &["apply", "-f", plan.to_str().unwrap(), "--no-verify"],
        &[],
    )
    .assert_success();
    let weak = token_with_policy(
        &bao,
        "reader",
        "path \"sys/policies/acl/*\" { capabilities = [\"read\"] }",
    );
    let out = cli::run(
        &["verify", "-f", plan.to_str().unwrap()],
        &[
            ("VAULT_ADDR", &bao.addr),
            ("VAULT_TOKEN", &weak),
            ("VAULT_CONVERGE_TERMINATION_LOG", "/dev/null"),
        ],
    );
    out.assert_code(1);
    let last = out.stderr.lines().last().unwrap_or("");
    assert!(
        last.contains("could not run") && last.contains("403"),
        "{last}"
    );
    // The same check with the right token runs and passes.
    vc(&bao, &["verify", "-f", plan.to_str().unwrap()], &[]).assert_success();
}
