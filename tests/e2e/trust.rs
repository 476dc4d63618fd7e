//! Trust: the token never follows a redirect to another host unless asked,
//! a token the server does not know stops the run before any write, and a
//! check that could not run is told apart from one that failed.

use crate::common::*;
use crate::support::bao::Bao;
use crate::support::cli;

/// A redirect to another host is never followed by default: the token and
/// the request body never reach it, and the run says where it was sent.
#[test]
fn redirects_to_another_host_never_carry_the_token() {
    use crate::support::redirector::{Capture, Redirector};
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), "plan.yaml", ONE_POLICY);
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
    let (bao, _dir, plan) = dev_with_plan(ONE_POLICY);
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

/// mTLS and `VAULT_TLS_SERVER_NAME` against a real TLS listener that
/// requires a client certificate and whose certificate names only
/// `vault.test`: each missing piece is exit 2 at once saying what to set.
#[test]
fn client_certificates_and_the_server_name_are_used() {
    use crate::support::tls::{TlsFiles, SERVER_NAME};
    let dir = tempfile::tempdir().unwrap();
    let tls = TlsFiles::generate(dir.path());
    let port = crate::support::ports::free_port();
    let bao = Bao::start_dev_with_config(&tls.mtls_listener(port));
    let plan = plan_file(dir.path(), "plan.yaml", ONE_POLICY);
    let addr = format!("https://127.0.0.1:{port}");
    let ca = tls.ca_cert.to_str().unwrap();
    let (cert, key) = (
        tls.client_cert.to_str().unwrap(),
        tls.client_key.to_str().unwrap(),
    );
    let run = |extra: &[(&str, &str)]| {
        let mut env = vec![
            ("VAULT_ADDR", addr.as_str()),
            ("VAULT_TOKEN", bao.root_token.as_str()),
            ("VAULT_CACERT", ca),
            ("VAULT_CONVERGE_TERMINATION_LOG", "/dev/null"),
        ];
        env.extend_from_slice(extra);
        cli::run(
            &[
                "apply",
                "-f",
                plan.to_str().unwrap(),
                "--wait-timeout",
                "20s",
            ],
            &env,
        )
    };
    // The certificate names vault.test, not 127.0.0.1.
    let out = run(&[("VAULT_CLIENT_CERT", cert), ("VAULT_CLIENT_KEY", key)]);
    out.assert_code(2);
    assert!(
        out.stderr.contains("VAULT_TLS_SERVER_NAME"),
        "{}",
        out.stderr
    );
    // Without a client certificate the server refuses the handshake.
    let out = run(&[("VAULT_TLS_SERVER_NAME", SERVER_NAME)]);
    out.assert_code(2);
    assert!(out.stderr.contains("TLS"), "{}", out.stderr);
    assert!(bao.read("sys/policies/acl/p").is_none());
    // Both set: the run converges through the mTLS listener.
    run(&[
        ("VAULT_CLIENT_CERT", cert),
        ("VAULT_CLIENT_KEY", key),
        ("VAULT_TLS_SERVER_NAME", SERVER_NAME),
    ])
    .assert_success();
    assert!(bao.read("sys/policies/acl/p").is_some());
}

/// Never from https to http, not even with `--follow-redirects`: the token
/// would cross the network in clear.
#[test]
fn a_redirect_from_https_to_http_is_never_followed() {
    use crate::support::redirector::Capture;
    use crate::support::tls::{TlsFiles, TlsRedirector, SERVER_NAME};
    let dir = tempfile::tempdir().unwrap();
    let tls = TlsFiles::generate(dir.path());
    let capture = Capture::start();
    let redirector = TlsRedirector::start(&tls, capture.addr.clone());
    let plan = plan_file(dir.path(), "plan.yaml", "version: 1\n");
    let out = cli::run(
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
            ("VAULT_CACERT", tls.ca_cert.to_str().unwrap()),
            ("VAULT_TLS_SERVER_NAME", SERVER_NAME),
            ("VAULT_TOKEN", "never-in-clear"),
            ("VAULT_CONVERGE_TERMINATION_LOG", "/dev/null"),
        ],
    );
    out.assert_code(1);
    assert!(out.stderr.contains(&capture.addr), "{}", out.stderr);
    assert!(capture.requests().is_empty(), "{:?}", capture.requests());
}
