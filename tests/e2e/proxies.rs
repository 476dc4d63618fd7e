//! Egress proxies: `HTTP_PROXY`/`HTTPS_PROXY` carry the run to Vault
//! (absolute-form requests to an http Vault, a CONNECT tunnel to an https
//! one), `NO_PROXY` exempts a host, and the proxy's password stays out of
//! every output.

use crate::common::*;
use crate::support::cli::{self, assert_no_secrets};
use crate::support::forward_proxy::ForwardProxy;

const PROXY_PASSWORD: &str = "egress-pass-7f3a";

/// `Basic` and base64 of `egress:egress-pass-7f3a`.
const BASIC_CREDENTIALS: &str = "Basic ZWdyZXNzOmVncmVzcy1wYXNzLTdmM2E=";

#[test]
fn an_http_vault_is_reached_through_http_proxy_unless_no_proxy_names_it() {
    let (bao, _dir, plan) = dev_with_plan(ONE_POLICY);
    let proxy = ForwardProxy::start();
    let proxy_url = proxy
        .url
        .replace("http://", &format!("http://egress:{PROXY_PASSWORD}@"));
    let out = vc(
        &bao,
        &["apply", "-f", plan.to_str().unwrap(), "--verbose"],
        &[("HTTP_PROXY", &proxy_url)],
    );
    out.assert_success();
    assert!(
        bao.read("sys/policies/acl/p").is_some(),
        "written through the proxy"
    );
    let opened = proxy.opened();
    assert!(!opened.is_empty(), "nothing went through the proxy");
    for o in &opened {
        assert!(
            o.request_line.contains(&format!(" {}/v1/", bao.addr)),
            "not in absolute form: {o:?}"
        );
        assert_eq!(o.proxy_authorization.as_deref(), Some(BASIC_CREDENTIALS));
    }
    assert_no_secrets(&out, &[PROXY_PASSWORD]);

    bao.delete("sys/policies/acl/p");
    let out = vc(
        &bao,
        &["apply", "-f", plan.to_str().unwrap()],
        &[("HTTP_PROXY", &proxy_url), ("NO_PROXY", "127.0.0.1")],
    );
    out.assert_success();
    assert!(bao.read("sys/policies/acl/p").is_some());
    assert_eq!(proxy.opened().len(), opened.len(), "NO_PROXY was ignored");
}

#[test]
fn an_https_vault_is_reached_through_the_proxy_tunnel() {
    let server = crate::support::tls::DevTls::start();
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), "plan.yaml", ONE_POLICY);
    let proxy = ForwardProxy::start();
    let mut through_proxy = server.env();
    through_proxy.push(("HTTPS_PROXY", &proxy.url));
    let apply = [
        "apply",
        "-f",
        plan.to_str().unwrap(),
        "--wait-timeout",
        "20s",
    ];
    let out = cli::run(&apply, &through_proxy);
    out.assert_success();
    let opened = proxy.opened();
    let target = server.addr.trim_start_matches("https://");
    assert!(!opened.is_empty(), "nothing went through the proxy");
    for o in &opened {
        assert_eq!(
            o.request_line,
            format!("CONNECT {target} HTTP/1.1"),
            "{o:?}"
        );
    }
    // The policy is there: a direct plan finds nothing to change.
    let check = cli::run(
        &["plan", "-f", plan.to_str().unwrap(), "--detailed-exitcode"],
        &server.env(),
    );
    check.assert_code(0);
}
