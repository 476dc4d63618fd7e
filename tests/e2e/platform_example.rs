//! config/examples/platform.yaml — identity, PKI, audit, password policies,
//! auth tune and token roles together — applied with a token holding only
//! the policy `vault-converge policy` prints: the same requests as a root
//! run, cold and rerun, every verify check passing, nothing secret printed.

use serde_json::Value;

use crate::common::{parse_report, repo_root, token_with_policy};
use crate::support::bao::Bao;
use crate::support::cli::{self, assert_no_secrets, CliOutput};

const ALICE: &str = "alice-platform-pw-7f3k";
const BOB: &str = "bob-platform-pw-9q2m";

fn example() -> String {
    repo_root()
        .join("config/examples/platform.yaml")
        .to_string_lossy()
        .into_owned()
}

fn server() -> Bao {
    Bao::start_dev_with_config("unsafe_allow_api_audit_creation = true\n")
}

fn apply(bao: &Bao, token: &str) -> (CliOutput, Value) {
    let out = cli::run(
        &["apply", "-f", &example(), "--output", "json"],
        &[
            ("VAULT_ADDR", bao.addr.as_str()),
            ("VAULT_TOKEN", token),
            ("VAULT_CONVERGE_TERMINATION_LOG", "/dev/null"),
            ("ALICE_PASSWORD", ALICE),
            ("BOB_PASSWORD", BOB),
        ],
    );
    out.assert_success();
    assert_no_secrets(&out, &[ALICE, BOB]);
    let report = parse_report(&out);
    (out, report)
}

/// Cold and rerun request counts with `token` (root when `None`).
fn cold_and_rerun(bao: &Bao, token: &str) -> (Value, Value) {
    let (_, cold) = apply(bao, token);
    assert_eq!(cold["summary"]["failed"], 0, "{cold:#}");
    let checks = cold["verify"].as_array().unwrap();
    assert_eq!(checks.len(), 4, "{cold:#}");
    assert!(checks.iter().all(|c| c["passed"] == true), "{cold:#}");
    let (_, rerun) = apply(bao, token);
    assert_eq!(
        rerun["requests"]["writes"], 0,
        "a rerun must not write: {rerun:#}"
    );
    (cold["requests"].clone(), rerun["requests"].clone())
}

#[test]
fn the_platform_example_converges_with_its_minimal_policy_as_with_root() {
    let policy = cli::run(&["policy", "-f", &example()], &[]);
    policy.assert_success();

    let root_server = server();
    let root_counts = cold_and_rerun(&root_server, &root_server.root_token);

    let bao = server();
    let token = token_with_policy(&bao, "vault-converge", &policy.stdout);
    let counts = cold_and_rerun(&bao, &token);
    assert_eq!(counts, root_counts, "policy:\n{}", policy.stdout);

    // What the example declares is on the server.
    let alice = bao.read("identity/entity/name/alice").unwrap();
    let oncall = bao.read("identity/group/name/oncall").unwrap();
    let alice_id = alice["data"]["id"].as_str().unwrap();
    assert!(oncall["data"]["member_entity_ids"]
        .as_array()
        .unwrap()
        .iter()
        .any(|id| id == alice_id));
    assert!(bao.read("sys/audit").unwrap()["data"]["stdout/"].is_object());
    let issuers = bao.api("LIST", "pki-int/issuers", None).1;
    // The intermediate and the root imported with it (the signed bundle), once.
    assert_eq!(issuers["data"]["keys"].as_array().unwrap().len(), 2);
    let db = bao.read("app/data/payments/db").unwrap();
    assert_eq!(db["data"]["data"]["password"].as_str().unwrap().len(), 24);

    let plan = cli::run(
        &["plan", "-f", &example(), "--detailed-exitcode"],
        &[
            ("VAULT_ADDR", bao.addr.as_str()),
            ("VAULT_TOKEN", token.as_str()),
            ("ALICE_PASSWORD", ALICE),
            ("BOB_PASSWORD", BOB),
        ],
    );
    plan.assert_code(0);
}
