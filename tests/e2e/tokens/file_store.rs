//! Managed tokens kept in a file (CI runners).

use std::os::unix::fs::PermissionsExt;

use serde_json::json;

use super::{accessor_count, foreign_token, lookup, read_file, recorded_accessors, token_plan};
use crate::common::{
    action_of, apply_json, dev_with_plan, plan_file, summary, token_with_policy, vc,
};
use crate::support::cli::assert_no_secrets;

const ENTRY: &str = "tokens/ci-deployer";

#[test]
fn a_fresh_token_is_minted_stored_then_renewed_and_verified() {
    let store_dir = tempfile::tempdir().unwrap();
    let file = store_dir.path().join("ci-token");
    let store = format!("{{path: \"{}\"}}", file.display());
    let plan_text = token_plan(
        &store,
        "period: 1h",
        "verify:\n  - token: {name: ci-deployer}\n",
    );
    let (bao, _dir, plan) = dev_with_plan(&plan_text);
    let (out, report) = apply_json(&bao, &plan, &[]);
    out.assert_success();
    assert_eq!(action_of(&report, ENTRY), "create", "{report:#}");
    assert_eq!(summary(&report, "verify_passed"), 1, "{report:#}");
    let token = read_file(&file);
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the token file is private");
    let data = lookup(&bao, &token).expect("the stored token is valid");
    assert_eq!(data["display_name"], "token-ci-deployer");
    assert_eq!(data["policies"], json!(["ci", "default"]));
    assert_eq!(data["period"], 3600);
    assert_eq!(data["orphan"], true);
    assert_eq!(
        recorded_accessors(&bao, "ci-deployer"),
        [data["accessor"].as_str().unwrap()]
    );
    assert_no_secrets(&out, &[&token]);

    let tokens_before = accessor_count(&bao);
    let (out, rerun) = apply_json(&bao, &plan, &[]);
    out.assert_success();
    assert_eq!(action_of(&rerun, ENTRY), "renewed", "{rerun:#}");
    assert_eq!(read_file(&file), token, "the same token stays stored");
    assert_eq!(accessor_count(&bao), tokens_before, "no new token");
    assert_no_secrets(&out, &[&token]);
    // Renewal is upkeep, not drift.
    vc(
        &bao,
        &["plan", "-f", plan.to_str().unwrap(), "--detailed-exitcode"],
        &[],
    )
    .assert_code(0);
}

#[test]
fn a_foreign_token_is_replaced_stored_and_left_valid() {
    let store_dir = tempfile::tempdir().unwrap();
    let file = store_dir.path().join("ci-token");
    let store = format!("{{path: \"{}\"}}", file.display());
    let (bao, _dir, plan) = dev_with_plan(&token_plan(&store, "period: 1h", ""));
    apply_json(&bao, &plan, &[]).0.assert_success();
    let ours = read_file(&file);
    // Someone stores a read-only token of their own in its place.
    let foreign = foreign_token(&bao, "stray-login", &["read-only"], "1h");
    std::fs::write(&file, &foreign).unwrap();

    let (out, report) = apply_json(&bao, &plan, &[]);
    out.assert_success();
    assert_eq!(action_of(&report, ENTRY), "update", "{report:#}");
    assert!(
        out.stdout
            .contains("display name token-stray-login, policies [read-only]"),
        "the report says whose token it was: {}",
        out.stdout
    );
    let healed = read_file(&file);
    assert_ne!(healed, foreign);
    let data = lookup(&bao, &healed).expect("the new token is valid");
    assert_eq!(data["policies"], json!(["ci", "default"]));
    assert!(
        lookup(&bao, &foreign).is_some(),
        "the foreign token is not revoked"
    );
    assert!(
        lookup(&bao, &ours).is_none(),
        "our earlier token is revoked"
    );
    assert_eq!(recorded_accessors(&bao, "ci-deployer").len(), 1);
    assert_no_secrets(&out, &[&healed, &foreign, &ours]);
}

#[test]
fn a_revoked_or_expired_token_is_reminted() {
    let store_dir = tempfile::tempdir().unwrap();
    let file = store_dir.path().join("ci-token");
    let store = format!("{{path: \"{}\"}}", file.display());
    let (bao, dir, plan) = dev_with_plan(&token_plan(&store, "period: 1h", ""));
    apply_json(&bao, &plan, &[]).0.assert_success();
    let first = read_file(&file);
    bao.write("auth/token/revoke", &json!({ "token": first }));
    let (out, report) = apply_json(&bao, &plan, &[]);
    out.assert_success();
    assert_eq!(action_of(&report, ENTRY), "update", "{report:#}");
    assert!(out.stdout.contains("expired or revoked"), "{}", out.stdout);
    let second = read_file(&file);
    assert!(lookup(&bao, &second).is_some());

    // A short fixed lifetime: minted, then found expired and minted again.
    let short = plan_file(dir.path(), "short.yaml", &token_plan(&store, "ttl: 2s", ""));
    apply_json(&bao, &short, &[]).0.assert_success();
    let brief = read_file(&file);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while lookup(&bao, &brief).is_some() {
        assert!(
            std::time::Instant::now() < deadline,
            "a 2s token outlived 20s"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let (out, report) = apply_json(&bao, &short, &[]);
    out.assert_success();
    assert_eq!(action_of(&report, ENTRY), "update", "{report:#}");
    assert!(lookup(&bao, &read_file(&file)).is_some());
}

#[test]
fn a_job_without_authority_fails_with_exit_1_and_leaves_the_store() {
    let store_dir = tempfile::tempdir().unwrap();
    let file = store_dir.path().join("ci-token");
    let store = format!("{{path: \"{}\"}}", file.display());
    let (bao, _dir, plan) = dev_with_plan(&token_plan(&store, "period: 1h", ""));
    apply_json(&bao, &plan, &[]).0.assert_success();
    let stored = read_file(&file);
    bao.write("auth/token/revoke", &json!({ "token": stored }));

    // May look up and read the registry, but not create tokens.
    let lookup_only = token_with_policy(
        &bao,
        "lookup-only",
        "path \"auth/token/lookup\" { capabilities = [\"update\"] }\n\
         path \"sys/policies/acl/*\" { capabilities = [\"read\"] }\n\
         path \"vault-converge/*\" { capabilities = [\"read\", \"create\", \"update\"] }\n\
         path \"sys/mounts\" { capabilities = [\"read\"] }",
    );
    let out = vc(
        &bao,
        &["apply", "-f", plan.to_str().unwrap(), "--no-verify"],
        &[("VAULT_TOKEN", &lookup_only)],
    );
    out.assert_code(1);
    assert!(
        out.stdout
            .contains("grant `update` on auth/token/create-orphan"),
        "{}",
        out.describe()
    );
    assert_eq!(
        read_file(&file),
        stored,
        "the stored token is left as it was"
    );

    // May create tokens, but does not hold the `ci` policy itself.
    let minter = token_with_policy(
        &bao,
        "minter",
        "path \"auth/token/*\" { capabilities = [\"update\"] }\n\
         path \"sys/policies/acl/*\" { capabilities = [\"read\"] }\n\
         path \"vault-converge/*\" { capabilities = [\"read\", \"create\", \"update\"] }\n\
         path \"sys/mounts\" { capabilities = [\"read\"] }",
    );
    let tokens_before = accessor_count(&bao);
    let out = vc(
        &bao,
        &["apply", "-f", plan.to_str().unwrap(), "--no-verify"],
        &[("VAULT_TOKEN", &minter)],
    );
    out.assert_code(1);
    assert!(
        out.stdout.contains("policies it holds itself"),
        "{}",
        out.describe()
    );
    assert_eq!(read_file(&file), stored);
    assert_eq!(accessor_count(&bao), tokens_before, "nothing minted");

    // Holds `ci` and may create tokens, but a periodic one needs sudo.
    let made = bao.write(
        "auth/token/create",
        &json!({ "policies": ["minter", "ci"] }),
    );
    let no_sudo = made["auth"]["client_token"].as_str().unwrap().to_owned();
    let tokens_before = accessor_count(&bao);
    let out = vc(
        &bao,
        &["apply", "-f", plan.to_str().unwrap(), "--no-verify"],
        &[("VAULT_TOKEN", &no_sudo)],
    );
    out.assert_code(1);
    assert!(
        out.stdout
            .contains("grant `sudo` (with `update`) on auth/token/create-orphan"),
        "{}",
        out.describe()
    );
    assert_eq!(read_file(&file), stored);
    assert_eq!(accessor_count(&bao), tokens_before, "nothing minted");
}

#[test]
fn five_heals_keep_the_number_of_tokens_bounded() {
    let store_dir = tempfile::tempdir().unwrap();
    let file = store_dir.path().join("ci-token");
    let store = format!("{{path: \"{}\"}}", file.display());
    let (bao, _dir, plan) = dev_with_plan(&token_plan(&store, "period: 1h", ""));
    apply_json(&bao, &plan, &[]).0.assert_success();
    let baseline = accessor_count(&bao);
    for round in 0..5 {
        // Alternately someone else's token and a deleted file.
        if round % 2 == 0 {
            let foreign = foreign_token(&bao, "other", &["read-only"], "1h");
            std::fs::write(&file, &foreign).unwrap();
            // Revoked by its owner later: it is not ours to revoke.
            bao.write("auth/token/revoke", &json!({ "token": foreign }));
        } else {
            std::fs::remove_file(&file).unwrap();
        }
        apply_json(&bao, &plan, &[]).0.assert_success();
        assert_eq!(
            accessor_count(&bao),
            baseline,
            "round {round}: one managed token, no sprawl"
        );
        assert_eq!(recorded_accessors(&bao, "ci-deployer").len(), 1);
    }
}

#[test]
fn the_generated_policy_suffices_and_a_dropped_entry_is_revoked_by_prune() {
    let store_dir = tempfile::tempdir().unwrap();
    let file = store_dir.path().join("ci-token");
    let store = format!("{{path: \"{}\"}}", file.display());
    let (bao, dir, plan) = dev_with_plan(&token_plan(
        &store,
        "period: 1h",
        "prune: {kinds: [tokens]}\n",
    ));
    // The policies exist before the job runs with its generated policy.
    apply_json(&bao, &plan, &[]).0.assert_success();
    std::fs::remove_file(&file).unwrap();
    let policy = crate::support::cli::run(&["policy", "-f", plan.to_str().unwrap()], &[]);
    policy.assert_success();
    for grant in [
        "auth/token/create-orphan",
        "auth/token/lookup",
        "auth/token/renew",
        "auth/token/revoke-accessor",
    ] {
        assert!(
            policy.stdout.contains(&format!("path \"{grant}\"")),
            "{grant}:\n{}",
            policy.stdout
        );
    }
    // A token mints only tokens with policies it holds: the job holds `ci` too.
    bao.write(
        "sys/policies/acl/vault-converge",
        &json!({ "policy": policy.stdout }),
    );
    let made = bao.write(
        "auth/token/create",
        &json!({ "policies": ["vault-converge", "ci"] }),
    );
    let job = made["auth"]["client_token"].as_str().unwrap().to_owned();
    let as_job = [("VAULT_TOKEN", job.as_str())];
    let out = vc(&bao, &["apply", "-f", plan.to_str().unwrap()], &as_job);
    out.assert_success();
    let minted = read_file(&file);
    assert!(lookup(&bao, &minted).is_some());
    vc(&bao, &["apply", "-f", plan.to_str().unwrap()], &as_job).assert_success();

    // Dropped from the plan: its token is revoked.
    let dropped = plan_file(
        dir.path(),
        "dropped.yaml",
        "version: 1\nprune: {kinds: [tokens]}\npolicies:\n  ci: 'path \"secret/*\" { capabilities = [\"read\"] }'\n  read-only: 'path \"sys/health\" { capabilities = [\"read\"] }'\n",
    );
    let shown = vc(
        &bao,
        &[
            "plan",
            "-f",
            dropped.to_str().unwrap(),
            "--detailed-exitcode",
        ],
        &as_job,
    );
    shown.assert_code(4);
    assert!(
        shown.stdout.contains("- delete token tokens/ci-deployer"),
        "{}",
        shown.stdout
    );
    let (out, report) = apply_json(&bao, &dropped, &[]);
    out.assert_success();
    assert_eq!(summary(&report, "deleted"), 1, "{report:#}");
    assert!(
        lookup(&bao, &minted).is_none(),
        "the dropped entry's token is revoked"
    );
    assert!(recorded_accessors(&bao, "ci-deployer").is_empty());
}

#[test]
fn a_token_role_lets_a_job_mint_without_sudo_or_the_policies() {
    let store_dir = tempfile::tempdir().unwrap();
    let file = store_dir.path().join("ci-token");
    let role = "auth:\n  token:\n    type: token\n    roles:\n      ci-deployer: {allowed_policies: [ci], orphan: true, token_period: 768h}\n";
    let plan_text = token_plan(
        &format!("{{path: \"{}\"}}", file.display()),
        "period: 768h\n    role: ci-deployer",
        role,
    );
    let (bao, _dir, plan) = dev_with_plan(&plan_text);
    apply_json(&bao, &plan, &[]).0.assert_success();
    std::fs::remove_file(&file).unwrap();
    // Only the generated policy: no sudo, and not holding `ci` itself.
    let policy = crate::support::cli::run(&["policy", "-f", plan.to_str().unwrap()], &[]);
    policy.assert_success();
    assert!(!policy.stdout.contains("sudo"), "{}", policy.stdout);
    let job = token_with_policy(&bao, "vault-converge", &policy.stdout);
    let out = vc(
        &bao,
        &["apply", "-f", plan.to_str().unwrap()],
        &[("VAULT_TOKEN", &job)],
    );
    out.assert_success();
    let data = lookup(&bao, &read_file(&file)).expect("minted through the role");
    assert_eq!(data["policies"], json!(["ci", "default"]));
    assert_eq!(data["display_name"], "token-ci-deployer");
    assert_eq!(data["creation_ttl"], 768 * 3600);
    // Stable: the role's period reads back as the planned one.
    let (out, report) = apply_json(&bao, &plan, &[("VAULT_TOKEN", &job)]);
    out.assert_success();
    assert_eq!(action_of(&report, ENTRY), "renewed", "{report:#}");
}
