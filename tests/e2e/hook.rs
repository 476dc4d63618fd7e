//! Running as a Kubernetes hook: logging in with a service-account JWT,
//! revoking the login token, the minimal policy and RBAC, the token drift
//! guard and waiting for Vault to become ready.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::*;
use crate::support::bao::Bao;
use crate::support::cli::{self, assert_no_secrets};
use crate::support::kube_api::KubeApi;
use crate::support::ports::free_port_pair;

const PLAN: &str = r#"
version: 1
mounts:
  app: { type: kv, options: { version: "2" } }
  transit: { type: transit }
auth:
  ci:
    type: approle
    roles:
      deployer: { token_policies: [deployer], token_ttl: 20m }
policies:
  deployer: 'path "app/data/deploy/*" { capabilities = ["read"] }'
kv:
  app:
    deploy/settings: { mode: merge, data: { REGION: eu-west-1 } }
writes:
  - path: transit/keys/deploy
    data: { type: aes256-gcm96 }
verify:
  - kv_keys: { mount: app, path: deploy/settings, keys: [REGION] }
  - capabilities: { policy: deployer, path: app/data/deploy/x, expect: [read] }
"#;

fn accessors(bao: &Bao) -> Vec<Value> {
    let (code, body) = bao.api("LIST", "auth/token/accessors", None);
    assert_eq!(code, 200, "{body}");
    body["data"]["keys"].as_array().unwrap().clone()
}

/// Kubernetes auth at `auth/kubernetes` trusting the stand-in, with a role for the job.
fn trust_job_service_account(bao: &Bao, kube: &KubeApi, policy: &str) {
    bao.write("sys/auth/kubernetes", &json!({"type": "kubernetes"}));
    bao.write("auth/kubernetes/config", &kube.openbao_auth_config());
    bao.write(
        "auth/kubernetes/role/vault-converge",
        &json!({"bound_service_account_names": ["vault-converge"],
                "bound_service_account_namespaces": ["vault-converge"],
                "token_policies": [policy], "token_ttl": "10m"}),
    );
}

#[test]
fn kubernetes_login_with_the_minimal_policy_applies_and_revokes_its_token() {
    let bao = Bao::start_dev();
    let kube = KubeApi::start();
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), "plan.yaml", PLAN);
    let p = plan.to_str().unwrap();

    let policy = cli::run(&["policy", "-f", p], &[]);
    policy.assert_success();
    assert!(
        policy.stdout.contains("path \"sys/auth/ci\""),
        "{}",
        policy.stdout
    );
    bao.write(
        "sys/policies/acl/vault-converge",
        &json!({"policy": policy.stdout}),
    );
    trust_job_service_account(&bao, &kube, "vault-converge");
    let jwt = kube.issue_service_account_jwt("vault-converge", "vault-converge");
    let jwt_file = dir.path().join("token");
    std::fs::write(&jwt_file, &jwt).unwrap();

    let before = accessors(&bao);
    let login_env = [
        ("VAULT_ADDR", bao.addr.as_str()),
        ("VAULT_CONVERGE_AUTH_METHOD", "kubernetes"),
        ("VAULT_CONVERGE_AUTH_ROLE", "vault-converge"),
        ("VAULT_CONVERGE_JWT_PATH", jwt_file.to_str().unwrap()),
        ("VAULT_CONVERGE_TERMINATION_LOG", "/dev/null"),
    ];
    let out = cli::run(&["apply", "-f", p, "--log-level", "debug"], &login_env);
    out.assert_success();
    assert!(
        out.stdout.contains("2 checks (2 passed, 0 failed)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("revoked the login token"),
        "{}",
        out.stderr
    );
    assert_no_secrets(&out, &[&jwt, &bao.root_token]);
    assert_eq!(
        accessors(&bao).len(),
        before.len(),
        "the login token (and the verify tokens) were revoked"
    );
    assert!(kube.requests().iter().any(|r| r.contains("tokenreviews")));

    // The rerun with the same minimal policy changes nothing.
    let out = cli::run(&["apply", "-f", p], &login_env);
    out.assert_success();
    assert!(out.stdout.contains("0 changes"), "{}", out.stdout);

    // A token without that policy cannot converge the plan.
    let fresh = Bao::start_dev();
    let weak = token_with_policy(
        &fresh,
        "nothing",
        "path \"sys/health\" { capabilities = [\"read\"] }",
    );
    let out = cli::run(
        &["apply", "-f", p],
        &[("VAULT_ADDR", &fresh.addr), ("VAULT_TOKEN", &weak)],
    );
    out.assert_code(1);
    assert!(out.stdout.contains("permission denied"), "{}", out.stdout);
}

#[test]
fn a_refused_login_exits_2_and_says_why() {
    let bao = Bao::start_dev();
    let kube = KubeApi::start();
    trust_job_service_account(&bao, &kube, "default");
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), "plan.yaml", PLAN);
    let jwt_file = dir.path().join("token");
    let jwt = kube.issue_service_account_jwt("other-namespace", "vault-converge");
    std::fs::write(&jwt_file, &jwt).unwrap();
    let out = cli::run(
        &["plan", "-f", plan.to_str().unwrap()],
        &[
            ("VAULT_ADDR", bao.addr.as_str()),
            ("VAULT_CONVERGE_AUTH_METHOD", "kubernetes"),
            ("VAULT_CONVERGE_AUTH_ROLE", "vault-converge"),
            ("VAULT_CONVERGE_JWT_PATH", jwt_file.to_str().unwrap()),
        ],
    );
    // Credentials Vault refuses are not fixed by a retry.
    out.assert_code(2);
    let last = out.stderr.lines().last().unwrap();
    assert!(
        last.contains("login failed") && last.contains("auth/kubernetes/login"),
        "{last}"
    );
    assert_no_secrets(&out, &[&jwt]);
}

#[test]
fn approle_login_works_and_its_token_is_revoked() {
    let bao = Bao::start_dev();
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), "plan.yaml", PLAN);
    let policy = cli::run(&["policy", "-f", plan.to_str().unwrap()], &[]);
    bao.write(
        "sys/policies/acl/vault-converge",
        &json!({"policy": policy.stdout}),
    );
    bao.write("sys/auth/approle", &json!({"type": "approle"}));
    bao.write(
        "auth/approle/role/job",
        &json!({"token_policies": ["vault-converge"]}),
    );
    let role_id = bao.read("auth/approle/role/job/role-id").unwrap()["data"]["role_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let secret_id = bao.write("auth/approle/role/job/secret-id", &json!({}))["data"]["secret_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let secret_file = dir.path().join("secret-id");
    std::fs::write(&secret_file, &secret_id).unwrap();
    let before = accessors(&bao).len();
    let out = cli::run(
        &["apply", "-f", plan.to_str().unwrap()],
        &[
            ("VAULT_ADDR", bao.addr.as_str()),
            ("VAULT_CONVERGE_AUTH_METHOD", "approle"),
            ("VAULT_CONVERGE_ROLE_ID", role_id.as_str()),
            (
                "VAULT_CONVERGE_SECRET_ID_FILE",
                secret_file.to_str().unwrap(),
            ),
        ],
    );
    out.assert_success();
    assert_no_secrets(&out, &[&secret_id]);
    assert_eq!(accessors(&bao).len(), before);
}

#[test]
fn token_drift_guard_refuses_before_any_write() {
    let bao = Bao::start_dev();
    bao.write("sys/policies/acl/someone-else", &json!({"policy": "path \"*\" { capabilities = [\"sudo\", \"read\", \"create\", \"update\", \"list\"] }"}));
    let other = bao.write(
        "auth/token/create",
        &json!({"policies": ["someone-else"], "display_name": "alice"}),
    );
    let other = other["auth"]["client_token"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let guarded = PLAN.replace(
        "version: 1\n",
        "version: 1\nvault:\n  expect_token: { display_name: token-vault-converge, policies: [vault-converge] }\n",
    );
    let plan = plan_file(dir.path(), "plan.yaml", &guarded);
    let snapshot = |bao: &Bao| {
        (
            bao.read("sys/mounts").unwrap()["data"].clone(),
            bao.read("sys/auth").unwrap()["data"].clone(),
            bao.api("LIST", "sys/policies/acl", None).1["data"].clone(),
        )
    };
    let before = snapshot(&bao);
    let out = cli::run(
        &["apply", "-f", plan.to_str().unwrap()],
        &[("VAULT_ADDR", &bao.addr), ("VAULT_TOKEN", other)],
    );
    out.assert_code(5);
    let last = out.stderr.lines().last().unwrap();
    assert!(last.contains("display name is `token-alice`"), "{last}");
    assert!(
        last.contains("policies are [someone-else], expected [vault-converge]"),
        "{last}"
    );
    assert_no_secrets(&out, &[other]);
    assert_eq!(snapshot(&bao), before, "nothing was written");
}

#[test]
fn waits_for_vault_to_come_up_then_applies() {
    let port = free_port_pair();
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), "plan.yaml", PLAN);
    let addr = format!("http://127.0.0.1:{port}");
    let token = format!("late-{}", crate::support::random_hex(8));
    let started = Instant::now();
    let runner = run_in_background(
        &[
            "apply",
            "-f",
            plan.to_str().unwrap(),
            "--wait-timeout",
            "60s",
        ],
        &[("VAULT_ADDR", &addr), ("VAULT_TOKEN", &token)],
    );
    std::thread::sleep(Duration::from_millis(1500));
    let bao = Bao::start_dev_on(port, &token);
    let out = runner.join().unwrap();
    assert!(started.elapsed() >= Duration::from_millis(1500));
    out.assert_success();
    assert!(out.stderr.contains("waiting for Vault"), "{}", out.stderr);
    assert!(out.stderr.contains("not reachable"), "{}", out.stderr);
    assert!(bao.read("sys/policies/acl/deployer").is_some());
}

/// The token file is read once Vault is ready, so one written late is used.
#[test]
fn a_token_file_written_while_waiting_is_used() {
    let mut bao = Bao::start_file_storage();
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), "plan.yaml", PLAN);
    let token_file = dir.path().join("token");
    let runner = run_in_background(
        &[
            "apply",
            "-f",
            plan.to_str().unwrap(),
            "--wait-timeout",
            "60s",
        ],
        &[
            ("VAULT_ADDR", &bao.addr),
            ("VAULT_CONVERGE_TOKEN_FILE", token_file.to_str().unwrap()),
        ],
    );
    // Initialize and write the token while the job waits on the sealed server; unseal last.
    let (code, init) = bao.api(
        "POST",
        "sys/init",
        Some(&json!({"secret_shares": 1, "secret_threshold": 1})),
    );
    assert_eq!(code, 200, "{init}");
    let root = init["root_token"].as_str().unwrap().to_owned();
    std::fs::write(&token_file, &root).unwrap();
    let key = init["keys_base64"][0].as_str().unwrap();
    let (code, _) = bao.api("POST", "sys/unseal", Some(&json!({"key": key})));
    assert_eq!(code, 200);
    bao.root_token = root;
    let out = runner.join().unwrap();
    out.assert_success();
    assert!(
        out.stderr.contains("sealed") || out.stderr.contains("not initialized"),
        "{}",
        out.stderr
    );
    assert!(bao.read("sys/policies/acl/deployer").is_some());
}

#[test]
fn a_sealed_server_times_out_with_the_reason() {
    let bao = Bao::start_file_storage();
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), "plan.yaml", PLAN);
    let env = [("VAULT_ADDR", bao.addr.as_str()), ("VAULT_TOKEN", "unused")];
    let out = cli::run(
        &["plan", "-f", plan.to_str().unwrap(), "--wait-timeout", "2s"],
        &env,
    );
    out.assert_code(1);
    assert!(
        out.stderr
            .lines()
            .last()
            .unwrap()
            .contains("not initialized"),
        "{}",
        out.stderr
    );

    let (code, init) = bao.api(
        "POST",
        "sys/init",
        Some(&json!({"secret_shares": 1, "secret_threshold": 1})),
    );
    assert_eq!(code, 200, "{init}");
    // Initialized, and sealed until someone unseals it.
    let out = cli::run(
        &["plan", "-f", plan.to_str().unwrap(), "--wait-timeout", "2s"],
        &env,
    );
    out.assert_code(1);
    let last = out.stderr.lines().last().unwrap();
    assert!(last.contains("not ready within 2s: sealed"), "{last}");
    assert!(last.contains("unsealed"), "says what to do: {last}");
}

#[test]
fn requests_answered_503_are_retried() {
    let bao = Bao::start_dev();
    // Health polls pass through the same proxy: 5 failures span readiness and requests.
    let proxy = crate::support::flaky_proxy::FlakyProxy::start(bao.port, 5);
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), "plan.yaml", PLAN);
    let out = cli::run(
        &[
            "apply",
            "-f",
            plan.to_str().unwrap(),
            "--log-level",
            "debug",
        ],
        &[
            ("VAULT_ADDR", &proxy.addr),
            ("VAULT_TOKEN", &bao.root_token),
        ],
    );
    out.assert_success();
    assert!(proxy.requests() > 5);
    assert!(bao.read("sys/policies/acl/deployer").is_some());
}

#[test]
fn a_server_answering_503_to_everything_fails_within_the_wait_budget() {
    let bao = Bao::start_dev();
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), "plan.yaml", PLAN);
    // Healthy for the readiness check, then 503 for everything.
    let (code, _) = bao.api("GET", "sys/health", None);
    assert_eq!(code, 200);
    let proxy = crate::support::flaky_proxy::FlakyProxy::start(bao.port, usize::MAX);
    let started = Instant::now();
    let out = cli::run(
        &["plan", "-f", plan.to_str().unwrap(), "--wait-timeout", "1s"],
        &[
            ("VAULT_ADDR", &proxy.addr),
            ("VAULT_TOKEN", &bao.root_token),
        ],
    );
    out.assert_code(1);
    assert!(started.elapsed() < Duration::from_secs(30), "bounded");
    assert!(
        out.stderr.lines().last().unwrap().contains("503"),
        "{}",
        out.stderr
    );
}

#[test]
fn bootstrap_dev_initializes_unseals_and_keeps_the_keys_in_a_secret() {
    let mut bao = Bao::start_file_storage();
    let kube = KubeApi::start();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = kube.write_kubeconfig(dir.path());
    let addr = bao.addr.clone();
    let env = [
        ("VAULT_ADDR", addr.as_str()),
        ("KUBECONFIG", kubeconfig.to_str().unwrap()),
        ("VAULT_CONVERGE_TERMINATION_LOG", "/dev/null"),
    ];
    let out = cli::run(&["bootstrap"], &env);
    out.assert_code(5);
    assert!(out.stderr.contains("--dev"), "{}", out.stderr);
    assert_eq!(
        bao.health_status(),
        501,
        "refused without touching the server"
    );

    let out = cli::run(&["bootstrap", "--dev", "--secret-namespace", "vault"], &env);
    out.assert_success();
    assert!(
        out.stdout.contains("initialized and unsealed"),
        "{}",
        out.stdout
    );
    let stored = kube
        .secret_data("vault", "vault-bootstrap")
        .expect("keys stored");
    let (key, root) = (stored["unseal-key"].clone(), stored["root-token"].clone());
    let (key, root) = (key.as_str(), root.as_str());
    assert_no_secrets(&out, &[key, root]);
    let healthy =
        crate::support::wait_for(Duration::from_secs(20), Duration::from_millis(200), || {
            (bao.health_status() == 200).then_some(())
        });
    assert!(
        healthy.is_some(),
        "unsealed and active: {}",
        bao.health_status()
    );
    let (code, _) = bao.api_with_token(root, "GET", "auth/token/lookup-self", None);
    assert_eq!(code, 200, "the stored root token works");

    let out = cli::run(&["bootstrap", "--dev"], &env);
    out.assert_success();
    assert!(out.stdout.contains("nothing to do"), "{}", out.stdout);

    // After a restart the server is sealed again; the stored key unseals it.
    bao.restart();
    assert_eq!(bao.health_status(), 503);
    let out = cli::run(&["bootstrap", "--dev"], &env);
    out.assert_success();
    assert!(
        out.stdout.contains("unsealed with the key"),
        "{}",
        out.stdout
    );
    assert_no_secrets(&out, &[key, root]);

    // An initialized server whose keys we do not hold is left alone.
    kube.remove_secret("vault", "vault-bootstrap");
    let out = cli::run(&["bootstrap", "--dev"], &env);
    out.assert_code(5);
    assert!(
        out.stderr.contains("does not hold its keys"),
        "{}",
        out.stderr
    );
}

#[test]
fn sigterm_stops_the_job_at_once_with_a_termination_message() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), "plan.yaml", PLAN);
    let termination_log = dir.path().join("termination-log");
    let port = crate::support::ports::free_port();
    let mut child = std::process::Command::new(cli::BIN)
        .args([
            "apply",
            "-f",
            plan.to_str().unwrap(),
            "--wait-timeout",
            "120s",
        ])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("VAULT_ADDR", format!("http://127.0.0.1:{port}"))
        .env("VAULT_TOKEN", "unused")
        .env("VAULT_CONVERGE_TERMINATION_LOG", &termination_log)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    let sent = Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let code = child.wait().unwrap().code();
    assert!(sent.elapsed() < Duration::from_secs(5), "stopped promptly");
    assert_eq!(code, Some(1));
    let message = std::fs::read_to_string(&termination_log).unwrap();
    assert!(message.contains("interrupted (SIGTERM"), "{message}");
}

#[test]
fn pod_only_sources_pass_validate_but_must_exist_to_apply() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(
        dir.path(),
        "plan.yaml",
        "version: 1\nkv:\n  app:\n    x: { data: { PASSWORD: { env: VC_E2E_POD_ONLY } } }\nverify:\n  - login: { auth: kubernetes, role: r, jwt: { file: /var/run/secrets/tokens/vc-e2e-absent } }\n",
    );
    let p = plan.to_str().unwrap();
    cli::run(&["validate", "-f", p], &[]).assert_success();
    cli::run(&["policy", "-f", p], &[]).assert_success();
    let out = cli::run(&["apply", "-f", p], &[("VAULT_TOKEN", "x")]);
    out.assert_code(2);
    assert!(out.stderr.contains("VC_E2E_POD_ONLY"), "{}", out.stderr);
}

/// A real TLS listener (`bao server -dev -dev-tls`): its CA is trusted through
/// VAULT_CACERT, an unknown issuer is refused, and VAULT_SKIP_VERIFY is warned about.
#[test]
fn tls_with_a_private_ca() {
    let server = crate::support::tls::DevTls::start();
    let dir = tempfile::tempdir().unwrap();
    let ca = server.ca.clone();
    let plan = plan_file(dir.path(), "plan.yaml", PLAN);
    let addr = server.addr.clone();
    let p = plan.to_str().unwrap();
    let base = [("VAULT_ADDR", addr.as_str()), ("VAULT_TOKEN", "tls-root")];

    let mut trusted = base.to_vec();
    trusted.push(("VAULT_CACERT", ca.to_str().unwrap()));
    let out = cli::run(&["apply", "-f", p, "--wait-timeout", "20s"], &trusted);
    out.assert_success();

    // An unknown issuer is a setting to fix, not a wait: exit 2 at once.
    let started = std::time::Instant::now();
    let out = cli::run(&["plan", "-f", p, "--wait-timeout", "30s"], &base);
    out.assert_code(2);
    assert!(out.stderr.contains("UnknownIssuer"), "{}", out.stderr);
    assert!(out.stderr.contains("VAULT_CACERT"), "{}", out.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "not retried for the wait budget"
    );

    let mut skip = base.to_vec();
    skip.push(("VAULT_SKIP_VERIFY", "1"));
    let out = cli::run(&["plan", "-f", p, "--detailed-exitcode"], &skip);
    out.assert_code(0);
    assert!(
        out.stderr.contains("TLS certificate verification is off"),
        "{}",
        out.stderr
    );
}

/// VAULT_NAMESPACE (OpenBao namespaces, Vault Enterprise's): everything lands
/// in the namespace, nothing in the root; readiness is asked of the root.
#[test]
fn namespaces_scope_every_object() {
    let bao = Bao::start_dev();
    bao.write("sys/namespaces/team-a", &json!({}));
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), "plan.yaml", PLAN);
    let p = plan.to_str().unwrap();
    let env = [
        ("VAULT_ADDR", bao.addr.as_str()),
        ("VAULT_TOKEN", bao.root_token.as_str()),
        ("VAULT_NAMESPACE", "team-a"),
    ];
    cli::run(&["apply", "-f", p], &env).assert_success();
    let out = cli::run(&["plan", "-f", p, "--detailed-exitcode"], &env);
    out.assert_code(0);
    assert!(
        bao.read("sys/policies/acl/deployer").is_none(),
        "not in the root namespace"
    );
    let (code, body) = bao.api("LIST", "team-a/sys/policies/acl", None);
    assert_eq!(code, 200, "{body}");
    assert!(body["data"]["keys"]
        .as_array()
        .unwrap()
        .contains(&json!("deployer")));
}

/// `rbac`: one Role + RoleBinding per namespace the plan reads secrets from,
/// `get` only, on exactly the named secrets.
#[test]
fn rbac_grants_get_on_exactly_the_referenced_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(
        dir.path(),
        "plan.yaml",
        r#"
version: 1
databases:
  database:
    connections:
      redis:
        plugin_name: redis-database-plugin
        sync: always
        config:
          host: redis
          password: { secretKeyRef: { namespace: redis, name: redis, key: redis-password } }
      pg:
        plugin_name: postgresql-database-plugin
        config:
          connection_url: "postgresql://{{username}}:{{password}}@pg:5432/app"
          username: vault
          password: { secretKeyRef: { namespace: data, name: pg-admin, key: password } }
kv:
  app:
    api: { data: { TOKEN: { secretKeyRef: { namespace: data, name: api-token, key: token } }, URL: x } }
"#,
    );
    let out = cli::run(
        &[
            "rbac",
            "-f",
            plan.to_str().unwrap(),
            "--namespace",
            "ops",
            "--service-account",
            "converge",
        ],
        &[],
    );
    out.assert_success();
    let docs: Vec<Value> = out
        .stdout
        .split("---\n")
        .filter(|d| !d.trim().is_empty())
        .map(|d| serde_saphyr::from_str(d).unwrap_or_else(|e| panic!("{e}\n{d}")))
        .collect();
    assert_eq!(docs.len(), 4, "{}", out.stdout);
    let role_in = |ns: &str| {
        docs.iter()
            .find(|d| d["kind"] == "Role" && d["metadata"]["namespace"] == ns)
            .unwrap_or_else(|| panic!("no Role in {ns}: {}", out.stdout))
    };
    assert_eq!(
        role_in("data")["rules"],
        json!([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"], "resourceNames": ["api-token", "pg-admin"]}])
    );
    assert_eq!(
        role_in("redis")["rules"][0]["resourceNames"],
        json!(["redis"])
    );
    for binding in docs.iter().filter(|d| d["kind"] == "RoleBinding") {
        assert_eq!(
            binding["subjects"],
            json!([{"kind": "ServiceAccount", "name": "converge", "namespace": "ops"}])
        );
        assert_eq!(binding["roleRef"]["name"], "vault-converge-read-secrets");
    }
}

/// SIGTERM mid-run after a Kubernetes login: the run stops and the token
/// from its login is revoked, not left to live out its TTL.
#[test]
fn sigterm_after_a_kubernetes_login_revokes_its_token() {
    let bao = Bao::start_dev();
    let kube = KubeApi::start();
    bao.write(
        "sys/policies/acl/everything",
        &json!({"policy": "path \"*\" { capabilities = [\"create\", \"read\", \"update\", \"delete\", \"list\", \"sudo\"] }"}),
    );
    trust_job_service_account(&bao, &kube, "everything");
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), "plan.yaml", &workload(3000));
    let jwt_file = dir.path().join("token");
    std::fs::write(
        &jwt_file,
        kube.issue_service_account_jwt("vault-converge", "vault-converge"),
    )
    .unwrap();
    let before = accessors(&bao);
    let mut child = std::process::Command::new(cli::BIN)
        .args(["apply", "-f", plan.to_str().unwrap()])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("VAULT_ADDR", &bao.addr)
        .env("VAULT_CONVERGE_AUTH_METHOD", "kubernetes")
        .env("VAULT_CONVERGE_AUTH_ROLE", "vault-converge")
        .env("VAULT_CONVERGE_JWT_PATH", &jwt_file)
        .env("VAULT_CONVERGE_TERMINATION_LOG", "/dev/null")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let logged_in =
        crate::support::wait_for(Duration::from_secs(20), Duration::from_millis(10), || {
            let (code, body) = bao.api("LIST", "sys/policies/acl", None);
            (code == 200
                && body["data"]["keys"]
                    .as_array()
                    .is_some_and(|k| k.len() > 20))
            .then_some(())
        });
    assert!(logged_in.is_some(), "the job never started writing");
    assert!(accessors(&bao).len() > before.len(), "the job logged in");
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let sent = Instant::now();
    assert_eq!(child.wait().unwrap().code(), Some(1));
    assert!(
        sent.elapsed() < Duration::from_secs(4),
        "revoked within 2s and stopped"
    );
    assert_eq!(accessors(&bao), before, "the login token was revoked");
}
