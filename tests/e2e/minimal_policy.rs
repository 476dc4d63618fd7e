//! `vault-converge policy` grants exactly what a run needs: a run with a
//! token holding only the generated policy makes the same requests as a
//! root run, cold and rerun (a missing LIST grant would cost a read per
//! object; a missing write grant would fail).

use serde_json::Value;

use crate::common::{plan_file, token_with_policy};
use crate::support::bao::Bao;
use crate::support::cli;

const PLAN: &str = r#"version: 1
mounts:
  app: {type: kv, options: {version: "2"}}
  legacy: {type: kv}
  transit: {type: transit}
auth:
  userpass:
    type: userpass
    tune: {listing_visibility: unauth}
    users:
      alice: {password: alice-pw-1234, token_policies: [dev]}
  approle:
    type: approle
    roles:
      deployer: {token_policies: [deploy], token_ttl: 1h}
  token:
    roles:
      ci: {allowed_policies: [ci], orphan: true}
policies:
  dev: 'path "app/data/dev/*" { capabilities = ["read"] }'
  deploy: 'path "app/data/deploy/*" { capabilities = ["read"] }'
password_policies:
  alnum-20:
    policy: |
      length = 20
      rule "charset" { charset = "abcdefghijklmnopqrstuvwxyz0123456789" }
kv:
  app:
    team/one: {data: {b: "2"}}
    team/deeper/two: {data: {c: "3"}}
    svc/generated: {mode: create, data: {pw: {generate: {policy: alnum-20}}}}
  legacy:
    nested/old: {data: {e: "5"}}
writes:
  - {path: transit/keys/signing, data: {type: ed25519}}
verify:
  - kv_keys: {mount: app, path: team/one, keys: [b]}
"#;

/// Cold and rerun request counts of the plan with `token` (root when `None`).
fn counts(policy: Option<&str>) -> (Value, Value) {
    let bao = Bao::start_dev();
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), "plan.yaml", PLAN);
    let token = match policy {
        Some(hcl) => token_with_policy(&bao, "vault-converge", hcl),
        None => bao.root_token.clone(),
    };
    let run = || {
        let out = cli::run(
            &["apply", "-f", plan.to_str().unwrap(), "--output", "json"],
            &[
                ("VAULT_ADDR", bao.addr.as_str()),
                ("VAULT_TOKEN", token.as_str()),
                ("VAULT_CONVERGE_TERMINATION_LOG", "/dev/null"),
            ],
        );
        out.assert_success();
        crate::common::parse_report(&out)["requests"].clone()
    };
    let cold = run();
    let rerun = run();
    (cold, rerun)
}

#[test]
fn a_run_with_the_generated_policy_makes_the_same_requests_as_a_root_run() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), "plan.yaml", PLAN);
    let policy = cli::run(&["policy", "-f", plan.to_str().unwrap()], &[]);
    policy.assert_success();

    let (root_cold, root_rerun) = counts(None);
    let (cold, rerun) = counts(Some(&policy.stdout));
    assert_eq!(cold, root_cold, "cold run\n{}", policy.stdout);
    assert_eq!(rerun, root_rerun, "rerun\n{}", policy.stdout);
    assert_eq!(rerun["writes"], 0);
}
