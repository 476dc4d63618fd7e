//! Managed tokens kept in a Kubernetes Secret key (the stand-in API server
//! answers like the real one: resourceVersion conflicts, 403 Status objects),
//! and the replayed incident behind the feature.

use serde_json::json;

use super::{accessor_count, foreign_token, lookup, recorded_accessors, token_plan};
use crate::common::{action_of, dev_with_plan, parse_report, vc};
use crate::support::bao::Bao;
use crate::support::cli::{assert_no_secrets, CliOutput};
use crate::support::kube_api::KubeApi;

const ENTRY: &str = "tokens/ci-deployer";
const STORE: &str = "{secretRef: {namespace: ci, name: vault-token, key: token}}";

struct World {
    bao: Bao,
    kube: KubeApi,
    plan: std::path::PathBuf,
    kubeconfig: String,
    _dir: tempfile::TempDir,
}

impl World {
    fn new(lifetime: &str) -> World {
        let (bao, dir, plan) = dev_with_plan(&token_plan(STORE, lifetime, ""));
        let kube = KubeApi::start();
        let kubeconfig = kube.write_kubeconfig(dir.path()).display().to_string();
        World {
            bao,
            kube,
            plan,
            kubeconfig,
            _dir: dir,
        }
    }

    fn apply(&self) -> (CliOutput, serde_json::Value) {
        let out = vc(
            &self.bao,
            &[
                "apply",
                "-f",
                self.plan.to_str().unwrap(),
                "--output",
                "json",
            ],
            &[("KUBECONFIG", &self.kubeconfig)],
        );
        let report = parse_report(&out);
        (out, report)
    }

    fn stored(&self) -> Option<String> {
        self.kube
            .secret_data("ci", "vault-token")
            .and_then(|d| d.get("token").cloned())
    }
}

#[test]
fn a_missing_secret_is_created_with_the_label_and_the_token_renewed_after() {
    let w = World::new("period: 1h");
    let (out, report) = w.apply();
    out.assert_success();
    assert_eq!(action_of(&report, ENTRY), "create", "{report:#}");
    let token = w.stored().expect("the token is stored");
    let labels = w.kube.secret_labels("ci", "vault-token").unwrap();
    assert_eq!(
        labels
            .get("app.kubernetes.io/managed-by")
            .map(String::as_str),
        Some("vault-converge")
    );
    assert_eq!(
        lookup(&w.bao, &token).unwrap()["policies"],
        json!(["ci", "default"])
    );
    assert_no_secrets(&out, &[&token]);

    let version = w.kube.secret_resource_version("ci", "vault-token");
    let (out, report) = w.apply();
    out.assert_success();
    assert_eq!(action_of(&report, ENTRY), "renewed", "{report:#}");
    assert_eq!(w.stored().as_deref(), Some(token.as_str()));
    assert_eq!(
        w.kube.secret_resource_version("ci", "vault-token"),
        version,
        "no Secret write"
    );
    assert_eq!(w.kube.secret_writes("ci", "vault-token"), 1);
}

#[test]
fn only_the_named_key_is_written_and_other_keys_and_labels_are_kept() {
    let w = World::new("period: 1h");
    w.kube.set_secret(
        "ci",
        "vault-token",
        &[("token", "s.not-a-token"), ("ca.crt", "PEM")],
    );
    let (out, report) = w.apply();
    out.assert_success();
    assert_eq!(action_of(&report, ENTRY), "update", "{report:#}");
    let data = w.kube.secret_data("ci", "vault-token").unwrap();
    assert_eq!(
        data.get("ca.crt").map(String::as_str),
        Some("PEM"),
        "other keys stay"
    );
    assert!(lookup(&w.bao, &data["token"]).is_some());
}

#[test]
fn a_concurrent_secret_update_fails_the_entry_with_exit_1_and_loses_nothing() {
    let w = World::new("period: 1h");
    w.apply().0.assert_success();
    let ours = w.stored().unwrap();
    // Make the stored token unusable, then let another writer update the
    // Secret between our read and our write.
    w.bao.write("auth/token/revoke", &json!({ "token": ours }));
    let theirs = foreign_token(&w.bao, "someone", &["ci"], "1h");
    w.kube
        .change_after_next_get("ci", "vault-token", "token", &theirs);
    let tokens_before = accessor_count(&w.bao);
    let (out, report) = w.apply();
    out.assert_code(1);
    assert!(
        out.stdout
            .contains("changed while this run replaced the token"),
        "{}",
        out.describe()
    );
    assert_eq!(action_of(&report, ENTRY), "failed", "{report:#}");
    assert_eq!(
        w.stored().as_deref(),
        Some(theirs.as_str()),
        "the other writer's value is kept"
    );
    assert_eq!(
        accessor_count(&w.bao),
        tokens_before,
        "the token minted meanwhile is revoked again"
    );
    assert!(recorded_accessors(&w.bao, "ci-deployer").len() <= 1);
    assert_no_secrets(&out, &[&ours, &theirs]);
}

#[test]
fn a_job_without_rbac_to_write_the_secret_fails_with_exit_1_and_changes_nothing() {
    let w = World::new("period: 1h");
    w.kube
        .set_secret("ci", "vault-token", &[("token", "s.stale")]);
    w.kube.forbid_writes("ci", "vault-token");
    let tokens_before = accessor_count(&w.bao);
    let (out, _) = w.apply();
    out.assert_code(1);
    assert!(
        out.stdout.contains("grant `update` on it"),
        "{}",
        out.describe()
    );
    assert_eq!(
        w.stored().as_deref(),
        Some("s.stale"),
        "the Secret is unchanged"
    );
    assert_eq!(
        accessor_count(&w.bao),
        tokens_before,
        "nothing minted is left behind"
    );
}

/// The incident: a renewer saw that the stored token had been replaced by
/// someone else's — a read-only token from a stray login, later a 7-day
/// token — and only failed; access degraded for weeks. Replayed: each run
/// heals it with the job's own authority and exits 0.
#[test]
fn replay_the_clobbered_token_incident() {
    let w = World::new("period: 768h");
    w.apply().0.assert_success();
    let first = w.stored().unwrap();

    // A stray login's read-only token lands in the Secret.
    w.bao
        .write("sys/auth/userpass", &json!({ "type": "userpass" }));
    w.bao.write(
        "auth/userpass/users/bob",
        &json!({ "password": "bob-password-1", "token_policies": ["read-only"] }),
    );
    let login = w.bao.write(
        "auth/userpass/login/bob",
        &json!({ "password": "bob-password-1" }),
    );
    let stray = login["auth"]["client_token"].as_str().unwrap().to_owned();
    w.kube.set_secret("ci", "vault-token", &[("token", &stray)]);
    let (out, report) = w.apply();
    out.assert_success();
    assert_eq!(action_of(&report, ENTRY), "update", "{report:#}");
    assert!(
        out.stdout
            .contains("display name userpass-bob, policies [read-only]"),
        "{}",
        out.stdout
    );
    let second = w.stored().unwrap();
    assert_eq!(lookup(&w.bao, &second).unwrap()["period"], 768 * 3600);
    assert!(
        lookup(&w.bao, &stray).is_some(),
        "bob's session is not revoked"
    );
    assert!(
        lookup(&w.bao, &first).is_none(),
        "our earlier token is revoked"
    );

    // Later a 7-day token with the right policies but not ours.
    let seven_day = foreign_token(&w.bao, "ci-manual", &["ci"], "168h");
    w.kube
        .set_secret("ci", "vault-token", &[("token", &seven_day)]);
    let (out, report) = w.apply();
    out.assert_success();
    assert_eq!(action_of(&report, ENTRY), "update", "{report:#}");
    let third = w.stored().unwrap();
    let data = lookup(&w.bao, &third).unwrap();
    assert_eq!(data["display_name"], "token-ci-deployer");
    assert_eq!(data["period"], 768 * 3600);
    assert!(lookup(&w.bao, &seven_day).is_some(), "not ours: left valid");
    assert!(lookup(&w.bao, &second).is_none());
    assert_eq!(recorded_accessors(&w.bao, "ci-deployer").len(), 1);
    assert_no_secrets(
        &out,
        &[
            &first,
            &second,
            &third,
            &stray,
            &seven_day,
            "bob-password-1",
        ],
    );

    // And it stays healed: the next run only renews.
    let (out, report) = w.apply();
    out.assert_success();
    assert_eq!(action_of(&report, ENTRY), "renewed", "{report:#}");
}

/// The plan shipped with manifests/cronjob, run as the CronJob runs it
/// (with only its generated policy), twice.
#[test]
fn the_shipped_cronjob_plan_mints_then_renews_with_its_generated_policy() {
    let plan = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests/cronjob/plan.yaml");
    let bao = Bao::start_dev();
    let kube = KubeApi::start();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = kube.write_kubeconfig(dir.path()).display().to_string();
    // The operator sets the job's policy up once.
    let policy = crate::support::cli::run(&["policy", "-f", plan.to_str().unwrap()], &[]);
    policy.assert_success();
    let job = crate::common::token_with_policy(&bao, "vault-converge", &policy.stdout);
    let run = || {
        let out = vc(
            &bao,
            &["apply", "-f", plan.to_str().unwrap(), "--output", "json"],
            &[
                ("KUBECONFIG", kubeconfig.as_str()),
                ("VAULT_TOKEN", job.as_str()),
            ],
        );
        let report = parse_report(&out);
        (out, report)
    };
    let (out, report) = run();
    out.assert_success();
    assert_eq!(action_of(&report, ENTRY), "create", "{report:#}");
    assert_eq!(report["summary"]["verify_passed"], 1, "{report:#}");
    let stored = kube.secret_data("ci", "vault-token").unwrap()["token"].clone();
    let data = lookup(&bao, &stored).unwrap();
    assert_eq!(data["policies"], json!(["ci", "default"]));
    assert_eq!(data["creation_ttl"], 768 * 3600);
    let (out, report) = run();
    out.assert_success();
    assert_eq!(action_of(&report, ENTRY), "renewed", "{report:#}");
    assert_no_secrets(&out, &[&stored]);
}
