//! The `pki:` section against real OpenBao: a root and an intermediate
//! generated once (never again on rerun, refused when the planned subject
//! differs), URLs, CRL settings and roles converged like any field map, the
//! exported root key kept in KV and out of all output, and the `pki_issue`
//! check verifying an issued certificate's chain up to the planned root.

use serde_json::{json, Value};
use x509_parser::prelude::{parse_x509_certificate, X509Certificate};

use crate::common::*;
use crate::support::bao::Bao;
use crate::support::cli::{self, assert_no_secrets};

const ROOT_CN: &str = "Example Root CA";
const INT_CN: &str = "Example Intermediate";

/// Two pki mounts: a root and an intermediate it signs, URLs, CRL
/// settings, a role and a check; `extra_root` goes into the root's fields.
fn pki_plan(int_cn: &str, extra_root: &str, check_cn: &str) -> String {
    format!(
        r#"version: 1
mounts:
  secret: {{type: kv, options: {{version: "2"}}}}
  pki-root: {{type: pki, config: {{max_lease_ttl: 87600h}}}}
  pki-int: {{type: pki, config: {{max_lease_ttl: 43800h}}}}
pki:
  pki-root:
    root: {{common_name: {ROOT_CN}, organization: Acme, key_type: ec, ttl: 87600h, issuer_name: root-2026{extra_root}}}
    urls: {{issuing_certificates: ["http://127.0.0.1:8200/v1/pki-root/ca"]}}
  pki-int:
    intermediate: {{common_name: {int_cn}, signed_by: pki-root, key_type: ec, ttl: 43800h, issuer_name: int-2026}}
    urls:
      issuing_certificates: ["http://127.0.0.1:8200/v1/pki-int/ca"]
      crl_distribution_points: ["http://127.0.0.1:8200/v1/pki-int/crl"]
    crl: {{expiry: 72h}}
    roles:
      web: {{allowed_domains: [example.com], allow_subdomains: true, max_ttl: 72h}}
verify:
  - pki_issue: {{mount: pki-int, role: web, common_name: {check_cn}}}
"#
    )
}

fn plain_plan() -> String {
    pki_plan(INT_CN, "", "www.example.com")
}

/// The DER of the default issuer's certificate of `mount`.
fn ca_der(bao: &Bao, mount: &str) -> Vec<u8> {
    let body = bao
        .read(&format!("{mount}/cert/ca"))
        .unwrap_or_else(|| panic!("{mount} holds no CA"));
    let pem = body["data"]["certificate"].as_str().unwrap();
    let (_, block) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).unwrap();
    block.contents
}

fn parse(der: &[u8]) -> X509Certificate<'_> {
    parse_x509_certificate(der).unwrap().1
}

fn common_name(name: &x509_parser::x509::X509Name<'_>) -> String {
    name.iter_common_name()
        .next()
        .and_then(|a| a.as_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn issuer_count(bao: &Bao, mount: &str) -> usize {
    let (code, body) = bao.api("LIST", &format!("{mount}/issuers"), None);
    assert_eq!(code, 200, "{body}");
    body["data"]["keys"].as_array().unwrap().len()
}

fn plan_json(bao: &Bao, plan: &std::path::Path) -> (cli::CliOutput, Value) {
    let out = vc(
        bao,
        &["plan", "-f", plan.to_str().unwrap(), "--output", "json"],
        &[],
    );
    let report = parse_report(&out);
    (out, report)
}

fn check_of(report: &Value) -> &Value {
    report["verify"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "pki_issue")
        .unwrap_or_else(|| panic!("no pki_issue check in {report:#}"))
}

#[test]
fn root_and_intermediate_are_generated_once_and_issue_a_verified_chain() {
    let (bao, _dir, plan) = dev_with_plan(&plain_plan());
    let (out, planned) = plan_json(&bao, &plan);
    out.assert_success();
    assert_eq!(action_of(&planned, "pki-root/root"), "create");
    assert_eq!(action_of(&planned, "pki-int/intermediate"), "create");

    let (out, cold) = apply_json(&bao, &plan, &[]);
    out.assert_success();
    assert_eq!(check_of(&cold)["passed"], true, "{cold:#}");

    // The root: self-signed, with the planned subject and issuer name.
    let root_der = ca_der(&bao, "pki-root");
    let root = parse(&root_der);
    assert_eq!(common_name(root.subject()), ROOT_CN);
    assert_eq!(
        root.subject()
            .iter_organization()
            .next()
            .unwrap()
            .as_str()
            .unwrap(),
        "Acme"
    );
    assert_eq!(root.subject().as_raw(), root.issuer().as_raw());
    // The intermediate: issued and signed by the root.
    let int_der = ca_der(&bao, "pki-int");
    let int = parse(&int_der);
    assert_eq!(common_name(int.subject()), INT_CN);
    assert_eq!(int.issuer().as_raw(), root.subject().as_raw());
    int.verify_signature(Some(root.public_key())).unwrap();
    for (mount, name) in [("pki-root", "root-2026"), ("pki-int", "int-2026")] {
        let issuer = bao.read(&format!("{mount}/issuer/default")).unwrap();
        assert_eq!(issuer["data"]["issuer_name"], name);
    }
    let urls = bao.read("pki-int/config/urls").unwrap();
    assert_eq!(
        urls["data"]["crl_distribution_points"],
        json!(["http://127.0.0.1:8200/v1/pki-int/crl"])
    );
    assert_eq!(
        bao.read("pki-int/config/crl").unwrap()["data"]["expiry"],
        "72h"
    );
    let role = bao.read("pki-int/roles/web").unwrap();
    assert_eq!(role["data"]["allowed_domains"], json!(["example.com"]));
    assert_eq!(role["data"]["allow_subdomains"], true);
    assert_eq!(role["data"]["max_ttl"], 259200);

    // Rerun: nothing written, nothing generated, and `plan` says unchanged.
    let before = (
        issuer_count(&bao, "pki-root"),
        issuer_count(&bao, "pki-int"),
    );
    let rerun = assert_stable(&bao, &plan, &[]);
    assert_eq!(check_of(&rerun)["passed"], true, "{rerun:#}");
    assert_eq!(
        (
            issuer_count(&bao, "pki-root"),
            issuer_count(&bao, "pki-int")
        ),
        before
    );
    assert_eq!(ca_der(&bao, "pki-root"), root_der);
    assert_eq!(ca_der(&bao, "pki-int"), int_der);
    let (_, planned) = plan_json(&bao, &plan);
    assert_eq!(action_of(&planned, "pki-root/root"), "unchanged");
    assert_eq!(action_of(&planned, "pki-int/intermediate"), "unchanged");
    eprintln!(
        "pki requests: cold {} (verify {}), rerun {} (verify {})",
        cold["requests"], cold["verify_requests"], rerun["requests"], rerun["verify_requests"]
    );
}

#[test]
fn drift_in_roles_urls_and_issuer_names_is_shown_and_repaired() {
    let (bao, _dir, plan) = dev_with_plan(&plain_plan());
    apply_json(&bao, &plan, &[]).0.assert_success();
    let int_der = ca_der(&bao, "pki-int");

    bao.write(
        "pki-int/roles/web",
        &json!({ "allowed_domains": ["example.com"], "allow_subdomains": true, "max_ttl": "1h" }),
    );
    bao.write(
        "pki-int/config/urls",
        &json!({ "issuing_certificates": ["http://elsewhere/ca"] }),
    );
    let default = bao.read("pki-int/issuer/default").unwrap();
    let id = default["data"]["issuer_id"].as_str().unwrap().to_owned();
    bao.write(
        &format!("pki-int/issuer/{id}"),
        &json!({ "issuer_name": "renamed", "leaf_not_after_behavior": "truncate" }),
    );

    let p = plan.to_str().unwrap();
    vc(&bao, &["plan", "-f", p, "--detailed-exitcode"], &[]).assert_code(4);
    let (_, planned) = plan_json(&bao, &plan);
    for path in [
        "pki-int/roles/web",
        "pki-int/config/urls",
        "pki-int/intermediate",
    ] {
        assert_eq!(action_of(&planned, path), "update", "{path}: {planned:#}");
    }

    apply_json(&bao, &plan, &[]).0.assert_success();
    assert_eq!(
        bao.read("pki-int/roles/web").unwrap()["data"]["max_ttl"],
        259200
    );
    assert_eq!(
        bao.read("pki-int/config/urls").unwrap()["data"]["issuing_certificates"],
        json!(["http://127.0.0.1:8200/v1/pki-int/ca"])
    );
    let issuer = bao.read(&format!("pki-int/issuer/{id}")).unwrap();
    assert_eq!(issuer["data"]["issuer_name"], "int-2026");
    // Renaming keeps the issuer's other settings.
    assert_eq!(issuer["data"]["leaf_not_after_behavior"], "truncate");
    assert_eq!(
        ca_der(&bao, "pki-int"),
        int_der,
        "repairing drift never regenerates"
    );
    assert_stable(&bao, &plan, &[]);
}

#[test]
fn a_changed_subject_is_refused_and_the_ca_kept() {
    let (bao, dir, plan) = dev_with_plan(&plain_plan());
    apply_json(&bao, &plan, &[]).0.assert_success();
    let int_der = ca_der(&bao, "pki-int");
    let issuers = issuer_count(&bao, "pki-int");

    let changed = plan_file(
        dir.path(),
        "changed.yaml",
        &pki_plan("Other Intermediate", "", "www.example.com"),
    );
    let p = changed.to_str().unwrap();
    for args in [vec!["plan", "-f", p], vec!["apply", "-f", p]] {
        let out = vc(&bao, &args, &[]);
        out.assert_code(5);
        let text = format!("{}{}", out.stdout, out.stderr);
        assert!(
            text.contains("CN=Example Intermediate"),
            "{}",
            out.describe()
        );
        assert!(text.contains("CN=Other Intermediate"), "{}", out.describe());
        assert!(text.contains("changed.yaml:"), "{}", out.describe());
    }
    assert_eq!(ca_der(&bao, "pki-int"), int_der);
    assert_eq!(issuer_count(&bao, "pki-int"), issuers);
}

#[test]
fn an_exported_root_key_is_kept_in_kv_and_never_printed() {
    let yaml = pki_plan(
        INT_CN,
        ", export_key_to: {mount: secret, path: pki/root-key}",
        "www.example.com",
    );
    let (bao, _dir, plan) = dev_with_plan(&yaml);
    let p = plan.to_str().unwrap();
    let cold = vc(&bao, &["apply", "-f", p, "--log-level", "debug"], &[]);
    cold.assert_success();

    let kept = kv_data(&bao, "secret", "pki/root-key");
    let key = kept["private_key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("-----BEGIN"), "not a PEM key");
    assert_eq!(kept["private_key_type"], "ec");
    let root_pem = bao.read("pki-root/cert/ca").unwrap()["data"]["certificate"].clone();
    assert_eq!(
        kept["certificate"].as_str().map(str::trim),
        root_pem.as_str().map(str::trim)
    );

    // The key whole, and each line of its body, appear nowhere.
    let mut secrets = vec![key.as_str()];
    secrets.extend(
        key.lines()
            .filter(|l| !l.starts_with("-----") && l.len() >= 8),
    );
    assert_no_secrets(&cold, &secrets);
    let rerun = vc(
        &bao,
        &["apply", "-f", p, "--log-level", "debug", "--output", "json"],
        &[],
    );
    rerun.assert_success();
    assert_no_secrets(&rerun, &secrets);
    assert_eq!(parse_report(&rerun)["requests"]["writes"], 0);
}

#[test]
fn a_certificate_the_role_may_not_issue_fails_verification() {
    let (bao, _dir, plan) = dev_with_plan(&pki_plan(INT_CN, "", "www.not-allowed.org"));
    let (out, report) = apply_json(&bao, &plan, &[]);
    out.assert_code(3);
    let check = check_of(&report);
    assert_eq!(check["passed"], false, "{report:#}");
    let message = check["message"].as_str().unwrap();
    assert!(message.contains("www.not-allowed.org"), "{message}");
    // Everything else converged: only the check failed.
    assert_eq!(summary(&report, "failed"), 0, "{report:#}");
}

#[test]
fn an_intermediate_without_a_planned_signer_is_a_plan_error() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(
        dir.path(),
        "plan.yaml",
        "version: 1\npki:\n  pki-int:\n    intermediate: {common_name: I, signed_by: pki-nowhere}\n",
    );
    let out = cli::run(&["validate", "-f", plan.to_str().unwrap()], &[]);
    out.assert_code(2);
    assert!(out.stderr.contains("plan.yaml:4"), "{}", out.describe());
    assert!(out.stderr.contains("pki-nowhere"), "{}", out.describe());
}

#[test]
fn the_generated_minimal_policy_is_enough_to_converge_and_verify() {
    let yaml = pki_plan(
        INT_CN,
        ", export_key_to: {mount: secret, path: pki/root-key}",
        "www.example.com",
    );
    let (bao, _dir, plan) = dev_with_plan(&yaml);
    let p = plan.to_str().unwrap();
    let policy = cli::run(&["policy", "-f", p], &[]);
    policy.assert_success();
    let token = token_with_policy(&bao, "vault-converge", &policy.stdout);
    let env = [("VAULT_TOKEN", token.as_str())];
    vc(&bao, &["apply", "-f", p], &env).assert_success();
    let (out, rerun) = apply_json(&bao, &plan, &env);
    out.assert_success();
    assert_eq!(rerun["requests"]["writes"], 0, "{rerun:#}");
    assert_eq!(check_of(&rerun)["passed"], true, "{rerun:#}");
}
