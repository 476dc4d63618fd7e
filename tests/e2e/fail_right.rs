//! Failing right: bounded failure time with one message, concurrent runs,
//! large sources that stay fast, and a password in a connection URL that
//! stays hidden.

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

/// Accepts connections and never answers, like a hung process; with
/// `healthy`, answers `sys/health` as a ready server first.
fn hanging_server(healthy: bool) -> String {
    use std::io::Write;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for mut stream in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let n = stream.read(&mut buf).unwrap_or(0);
            if healthy && String::from_utf8_lossy(&buf[..n]).contains("/v1/sys/health") {
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
fn a_server_that_never_answers_fails_within_the_wait_budget() {
    let addr = hanging_server(false);
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), "plan.yaml", ONE_POLICY);
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

#[test]
fn a_server_that_answers_health_then_hangs_fails_within_the_budget() {
    let addr = hanging_server(true);
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), "plan.yaml", ONE_POLICY);
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
