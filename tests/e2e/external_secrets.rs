//! `external_secrets`: the keys the External Secrets Operator's
//! ExternalSecrets read must exist in Vault (incident 5). Manifests from a
//! Kustomize-style tree (tests/fixtures/eso, copied next to the plan), or
//! listed from the Kubernetes stand-in; `verify --against-plan` checks them
//! against the plan's fixtures without Vault.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::common::*;
use crate::support::bao::Bao;
use crate::support::cli::{self, assert_no_secrets, CliOutput};
use crate::support::kube_api::KubeApi;
use crate::support::random_hex;

/// The KV fixtures every ExternalSecret of `vault-backend` reads;
/// `full: false` leaves out `web/db`'s password and the whole `worker/queue`.
fn plan_yaml(check: &str, full: bool) -> String {
    let password = if full {
        ", password: {env: WEB_DB_PASSWORD}"
    } else {
        ""
    };
    let queue = if full {
        "    worker/queue: {data: {token: {env: QUEUE_TOKEN}}}\n"
    } else {
        ""
    };
    format!(
        "version: 1\n\
         mounts:\n  apps: {{type: kv, options: {{version: \"2\"}}}}\n\
         kv:\n  apps:\n\
         \x20   web/db: {{data: {{username: shop{password}, connection: {{host: db, port: \"5432\"}}}}}}\n\
         \x20   web/session: {{data: {{key: {{env: SESSION_KEY}}}}}}\n\
         \x20   worker/env: {{data: {{LOG_LEVEL: info, REGION: eu-west-1}}}}\n\
         {queue}\
         verify:\n  - external_secrets: {check}\n"
    )
}

const FILES_CHECK: &str = "{manifests: gitops/, store: vault-backend}";

struct Secrets {
    password: String,
    session: String,
    queue: String,
}

impl Secrets {
    fn new() -> Secrets {
        Secrets {
            password: format!("pw-{}", random_hex(12)),
            session: format!("sk-{}", random_hex(12)),
            queue: format!("qt-{}", random_hex(12)),
        }
    }

    fn env(&self) -> [(&str, &str); 3] {
        [
            ("WEB_DB_PASSWORD", self.password.as_str()),
            ("SESSION_KEY", self.session.as_str()),
            ("QUEUE_TOKEN", self.queue.as_str()),
        ]
    }

    fn all(&self) -> [&str; 3] {
        [&self.password, &self.session, &self.queue]
    }
}

fn fixtures() -> PathBuf {
    repo_root().join("tests/fixtures/eso")
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A plan in a temporary directory with the fixtures copied to `gitops/`.
fn world(check: &str, full: bool) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixtures(), &dir.path().join("gitops"));
    let plan = plan_file(dir.path(), "plan.yaml", &plan_yaml(check, full));
    (dir, plan)
}

/// The 1-based line of the `nth` line of fixture `file` containing `needle`.
fn line_of(file: &str, needle: &str, nth: usize) -> usize {
    let text = std::fs::read_to_string(fixtures().join(file)).unwrap();
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .nth(nth)
        .unwrap_or_else(|| panic!("{file} has no {needle:?} #{nth}"))
        .0
        + 1
}

fn checks(report: &Value) -> Vec<&Value> {
    report["verify"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["check"] == "external_secrets")
        .collect()
}

fn check_of<'a>(report: &'a Value, target: &str) -> &'a Value {
    checks(report)
        .into_iter()
        .find(|c| c["target"] == target)
        .unwrap_or_else(|| panic!("no check for {target}: {report:#}"))
}

/// The two messages a run against the reduced fixtures must carry.
fn assert_both_missing_named(out: &CliOutput, dir: &str) {
    let password = format!(
        "{dir}web/external-secrets.yaml:{} data[1]: apps/data/web/db property `password` is missing",
        line_of("web/external-secrets.yaml", "key: web/db", 1)
    );
    let queue = format!(
        "{dir}worker/external-secret.yml:{} data[0]: apps/data/worker/queue ",
        line_of(
            "worker/external-secret.yml",
            "key: apps/data/worker/queue",
            0
        )
    );
    for expected in [&password, &queue] {
        assert!(
            out.stdout.contains(expected.as_str()),
            "expected {expected:?}\n{}",
            out.describe()
        );
    }
    assert!(
        out.stdout.contains("ExternalSecret shop/web-db"),
        "{}",
        out.describe()
    );
    assert!(
        out.stdout.contains("ExternalSecret shop/worker-env"),
        "{}",
        out.describe()
    );
    assert!(
        !out.stdout.contains("billing"),
        "another store's ExternalSecret is ignored\n{}",
        out.describe()
    );
}

#[test]
fn every_key_the_manifests_read_is_in_vault_and_each_path_is_read_once() {
    let s = Secrets::new();
    let bao = Bao::start_dev();
    let (dir, _plan) = world(FILES_CHECK, true);
    let out = cli::run_in(
        dir.path(),
        &["apply", "-f", "plan.yaml", "--output", "json"],
        &[
            ("VAULT_ADDR", bao.addr.as_str()),
            ("VAULT_TOKEN", bao.root_token.as_str()),
            ("VAULT_CONVERGE_TERMINATION_LOG", "/dev/null"),
            ("WEB_DB_PASSWORD", &s.password),
            ("SESSION_KEY", &s.session),
            ("QUEUE_TOKEN", &s.queue),
        ],
    );
    out.assert_success();
    let report = parse_report(&out);
    assert_eq!(
        kv_data(&bao, "apps", "web/db")["connection"]["port"],
        "5432"
    );
    let found = checks(&report);
    assert_eq!(
        found.len(),
        3,
        "web-db, web-session, worker-env: {report:#}"
    );
    assert!(found.iter().all(|c| c["passed"] == true), "{report:#}");
    let web = check_of(&report, "ExternalSecret shop/web-db");
    assert_eq!(web["location"], "gitops/web/external-secrets.yaml:2");
    // Four distinct paths, though web/db is referenced three times in two forms.
    assert_eq!(report["verify_requests"]["reads"], 4, "{report:#}");
    assert!(
        out.stderr.contains("Helm templates are not rendered"),
        "{}",
        out.describe()
    );
    assert_no_secrets(&out, &s.all());
}

#[test]
fn a_missing_key_and_a_missing_property_fail_with_exit_3_naming_file_line_and_path() {
    let s = Secrets::new();
    let bao = Bao::start_dev();
    let (dir, plan) = world(FILES_CHECK, false);
    let out = vc(&bao, &["apply", "-f", plan.to_str().unwrap()], &s.env());
    out.assert_code(3);
    let gitops = format!("{}/gitops/", dir.path().display());
    assert_both_missing_named(&out, &gitops);
    assert!(
        out.stdout
            .contains("✓ verify external_secrets ExternalSecret shop/web-session"),
        "{}",
        out.describe()
    );
    assert!(
        out.stderr
            .contains("verification failed: 2 of 3 checks failed"),
        "{}",
        out.describe()
    );

    // Repaired behind the tool's back: verify alone passes.
    bao.write(
        "apps/data/worker/queue",
        &json!({"data": {"token": s.queue}}),
    );
    bao.write("apps/data/web/db", &json!({"data": {"username": "shop", "password": s.password, "connection": {"port": "5432"}}}));
    let out = vc(&bao, &["verify", "-f", plan.to_str().unwrap()], &s.env());
    out.assert_success();
    assert_no_secrets(&out, &s.all());
}

#[test]
fn an_empty_value_fails_and_a_typo_in_the_store_name_is_no_silent_pass() {
    let s = Secrets::new();
    let bao = Bao::start_dev();
    let (dir, plan) = world(FILES_CHECK, false);
    vc(
        &bao,
        &["apply", "-f", plan.to_str().unwrap(), "--no-verify"],
        &s.env(),
    )
    .assert_success();
    bao.write("apps/data/worker/queue", &json!({"data": {"token": ""}}));
    bao.write(
        "apps/data/web/db",
        &json!({"data": {"username": "shop", "password": "x", "connection": {"port": "5432"}}}),
    );
    let out = vc(&bao, &["verify", "-f", plan.to_str().unwrap()], &s.env());
    out.assert_code(3);
    assert!(
        out.stdout
            .contains("apps/data/worker/queue property `token` is empty"),
        "{}",
        out.describe()
    );

    let typo = plan_file(
        dir.path(),
        "typo.yaml",
        &plan_yaml("{manifests: gitops/, store: vault-backnd}", false),
    );
    let out = vc(&bao, &["verify", "-f", typo.to_str().unwrap()], &s.env());
    out.assert_code(3);
    assert!(
        out.stdout.contains("no ExternalSecret in"),
        "{}",
        out.describe()
    );
    assert!(
        out.stdout.contains("using aws-backend, vault-backend"),
        "{}",
        out.describe()
    );
}

fn cluster_spec(store: &str, data: Value) -> Value {
    json!({
        "refreshInterval": "1h",
        "secretStoreRef": {"name": store, "kind": "ClusterSecretStore"},
        "target": {"name": "app"},
        "data": data,
    })
}

#[test]
fn cluster_mode_lists_external_secrets_and_falls_back_to_v1beta1() {
    let s = Secrets::new();
    let (dir, plan) = world("{cluster: true, store: vault-backend, mount: apps}", true);
    let bao = Bao::start_dev();
    let kube = KubeApi::start();
    let kubeconfig = kube.write_kubeconfig(dir.path()).display().to_string();
    kube.add_external_secret(
        "shop",
        "web-db",
        cluster_spec("vault-backend", json!([
            {"secretKey": "password", "remoteRef": {"key": "web/db", "property": "password"}},
            {"secretKey": "port", "remoteRef": {"key": "web/db", "property": "connection.port"}},
        ])),
    );
    kube.add_external_secret(
        "billing",
        "stripe",
        cluster_spec(
            "aws-backend",
            json!([{"secretKey": "k", "remoteRef": {"key": "nope"}}]),
        ),
    );
    let mut env = s.env().to_vec();
    env.push(("KUBECONFIG", &kubeconfig));
    let (out, report) = apply_json(&bao, &plan, &env);
    out.assert_success();
    assert_eq!(checks(&report).len(), 1, "{report:#}");
    assert_eq!(
        check_of(&report, "ExternalSecret shop/web-db")["passed"],
        true
    );
    assert!(kube
        .requests()
        .contains(&"GET /apis/external-secrets.io/v1/externalsecrets".to_string()));

    // A key nobody put in Vault, on an operator that serves only v1beta1.
    kube.add_external_secret(
        "shop",
        "mailer",
        cluster_spec("vault-backend", json!([{"secretKey": "smtp", "remoteRef": {"key": "mailer/smtp", "property": "password"}}])),
    );
    kube.serve_external_secrets(&["v1beta1"]);
    let out = vc(&bao, &["verify", "-f", plan.to_str().unwrap()], &env);
    out.assert_code(3);
    assert!(
        out.stdout.contains("ExternalSecret shop/mailer"),
        "{}",
        out.describe()
    );
    assert!(
        out.stdout
            .contains("spec.data[0]: apps/data/mailer/smtp does not exist in Vault"),
        "{}",
        out.describe()
    );
    assert!(kube
        .requests()
        .contains(&"GET /apis/external-secrets.io/v1beta1/externalsecrets".to_string()));
    assert_no_secrets(&out, &s.all());

    // The generated RBAC grants the list; the generated policy the reads.
    let rbac = cli::run(
        &[
            "rbac",
            "-f",
            plan.to_str().unwrap(),
            "--namespace",
            "ops",
            "--service-account",
            "vc",
        ],
        &[],
    );
    rbac.assert_success();
    assert!(
        rbac.stdout.contains("kind: ClusterRole\n"),
        "{}",
        rbac.stdout
    );
    assert!(
        rbac.stdout
            .contains("resources: [\"externalsecrets\"]\n    verbs: [\"list\"]"),
        "{}",
        rbac.stdout
    );
    let policy = cli::run(&["policy", "-f", plan.to_str().unwrap()], &[]);
    policy.assert_success();
    let token = token_with_policy(&bao, "vc-verify", &policy.stdout);
    bao.write("apps/data/mailer/smtp", &json!({"data": {"password": "p"}}));
    let mut with_token = env.clone();
    with_token.push(("VAULT_TOKEN", &token));
    vc(&bao, &["verify", "-f", plan.to_str().unwrap()], &with_token).assert_success();
}

#[test]
fn a_large_cluster_is_listed_page_by_page() {
    let s = Secrets::new();
    let (dir, plan) = world("{cluster: true, store: vault-backend, mount: apps}", true);
    let bao = Bao::start_dev();
    let kube = KubeApi::start();
    let kubeconfig = kube.write_kubeconfig(dir.path()).display().to_string();
    let reads_username =
        json!([{"secretKey": "u", "remoteRef": {"key": "web/db", "property": "username"}}]);
    for i in 0..1100 {
        kube.add_external_secret(
            "shop",
            &format!("app-{i:04}"),
            cluster_spec("vault-backend", reads_username.clone()),
        );
    }
    let missing = json!([{"secretKey": "u", "remoteRef": {"key": "zz/none"}}]);
    kube.add_external_secret("zz", "last", cluster_spec("vault-backend", missing));
    let mut env = s.env().to_vec();
    env.push(("KUBECONFIG", &kubeconfig));
    let (out, report) = apply_json(&bao, &plan, &env);
    out.assert_code(3);
    assert_eq!(checks(&report).len(), 1101);
    assert_eq!(check_of(&report, "ExternalSecret zz/last")["passed"], false);
    let lists = kube
        .requests()
        .iter()
        .filter(|r| *r == "GET /apis/external-secrets.io/v1/externalsecrets")
        .count();
    assert_eq!(lists, 3, "pages of 500");
    assert_eq!(
        report["verify_requests"]["reads"], 2,
        "one read per distinct path"
    );
}

#[test]
fn a_forbidden_list_is_exit_1_with_the_rbac_hint() {
    let (dir, plan) = world("{cluster: true, store: vault-backend, mount: apps}", true);
    let bao = Bao::start_dev();
    let kube = KubeApi::start();
    let other = kube.issue_service_account_jwt("default", "someone-else");
    let path = kube.write_kubeconfig(dir.path());
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace(&kube.reader_token, &other);
    std::fs::write(&path, text).unwrap();
    let s = Secrets::new();
    let mut env = s.env().to_vec();
    env.push(("KUBECONFIG", path.to_str().unwrap()));
    let out = vc(&bao, &["verify", "-f", plan.to_str().unwrap()], &env);
    out.assert_code(1);
    assert!(
        out.stderr
            .contains("grant `list` on externalsecrets.external-secrets.io"),
        "{}",
        out.describe()
    );
}

/// An address nothing listens on: the offline mode must not need Vault.
fn closed_addr() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

#[test]
fn against_plan_checks_the_manifests_against_the_fixtures_without_vault() {
    let addr = closed_addr();
    let env = [
        ("VAULT_ADDR", addr.as_str()),
        ("VAULT_TOKEN", "unused"),
        ("VAULT_CONVERGE_WAIT_TIMEOUT", "1m"),
        ("VAULT_CONVERGE_TERMINATION_LOG", "/dev/null"),
    ];
    let (dir, _) = world(FILES_CHECK, true);
    let started = std::time::Instant::now();
    let out = cli::run_in(
        dir.path(),
        &[
            "verify",
            "-f",
            "plan.yaml",
            "--against-plan",
            "--output",
            "json",
        ],
        &env,
    );
    out.assert_success();
    assert!(started.elapsed().as_secs() < 20, "it waited for Vault");
    let report = parse_report(&out);
    assert_eq!(checks(&report).len(), 3, "{report:#}");
    assert_eq!(report["requests"]["reads"], 0);

    let (dir, _) = world(FILES_CHECK, false);
    let out = cli::run_in(
        dir.path(),
        &["verify", "-f", "plan.yaml", "--against-plan"],
        &env,
    );
    out.assert_code(3);
    assert_both_missing_named(&out, "gitops/");
    assert!(
        out.stdout
            .contains("apps/data/worker/queue has no kv fixture in the plan"),
        "{}",
        out.describe()
    );
}
