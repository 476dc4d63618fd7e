//! Ownership and prune (README "Ownership and prune"): what this instance
//! created and the plan no longer lists is deleted — never anything else,
//! never more than allowed — against real OpenBao dev servers.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::{apply_json, dev_with_plan, plan_file, summary, vc, workload};
use crate::support::bao::Bao;
use crate::support::cli::BIN;

const POLICY: &str = "'path \"a\" { capabilities = [\"read\"] }'";
const PW_RULES: &str =
    r#""length = 20\nrule \"charset\" { charset = \"abcdefghijklmnopqrstuvwxyz\" }""#;

fn policies_plan(names: &[&str], extra: &str) -> String {
    let mut plan = format!("version: 1\n{extra}policies:\n");
    for name in names {
        plan.push_str(&format!("  {name}: {POLICY}\n"));
    }
    if names.is_empty() {
        plan = format!("version: 1\n{extra}");
    }
    plan
}

/// The paths the registry of `instance` says it owns.
fn owned(bao: &Bao, instance: &str) -> Vec<String> {
    bao.read(&format!("vault-converge/data/{instance}"))
        .and_then(|b| b["data"]["data"]["owned"].as_str().map(str::to_owned))
        .map(|text| {
            text.lines()
                .filter_map(|l| l.split('\t').nth(1).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn exists(bao: &Bao, path: &str) -> bool {
    bao.read(path).is_some()
}

fn plan_out(bao: &Bao, plan: &Path, extra: &[&str]) -> crate::support::cli::CliOutput {
    let mut args = vec!["plan", "-f", plan.to_str().unwrap(), "--detailed-exitcode"];
    args.extend_from_slice(extra);
    vc(bao, &args, &[])
}

fn full_plan(keep_all: bool) -> String {
    let mut plan = String::from(
        "version: 1\nprune: {kinds: all}\nmounts:\n  app: {type: kv, options: {version: \"2\"}}\n\
         auth:\n  up:\n    type: userpass\n    users:\n      alice: {password: pw-a, token_policies: [p1]}\n",
    );
    if keep_all {
        plan.push_str("      bob: {password: pw-b, token_policies: [p2]}\n");
    }
    plan.push_str(&format!("policies:\n  p1: {POLICY}\n"));
    if keep_all {
        plan.push_str(&format!("  p2: {POLICY}\n"));
    }
    plan.push_str(&format!(
        "password_policies:\n  pw1: {{policy: {PW_RULES}}}\n"
    ));
    if keep_all {
        plan.push_str(&format!("  pw2: {{policy: {PW_RULES}}}\n"));
    }
    plan.push_str("kv:\n  app:\n    x: {data: {k: v}}\n");
    if keep_all {
        plan.push_str("    y: {data: {k: v}}\n");
    }
    plan
}

#[test]
fn removed_objects_are_deleted_and_a_hand_made_one_is_untouched() {
    let (bao, dir, plan) = dev_with_plan(&full_plan(true));
    let (out, report) = apply_json(&bao, &plan, &[]);
    out.assert_success();
    assert_eq!(summary(&report, "created"), 10, "{report:#}");
    // Created by hand with a name the plan's pattern would give: never ours.
    bao.write(
        "sys/policies/acl/p3",
        &json!({"policy": "path \"b\" { capabilities = [\"read\"] }"}),
    );
    bao.write("app/data/z", &json!({"data": {"k": "v"}}));

    let smaller = plan_file(dir.path(), "smaller.yaml", &full_plan(false));
    let shown = plan_out(&bao, &smaller, &[]);
    shown.assert_code(4);
    for line in [
        "- delete policy sys/policies/acl/p2",
        "- delete password policy sys/policies/password/pw2",
        "- delete auth role auth/up/users/bob",
        "- delete kv secret app/data/y",
    ] {
        assert!(
            shown.stdout.contains(line),
            "plan lacks `{line}`:\n{}",
            shown.stdout
        );
    }
    assert_eq!(
        shown.stdout.matches("- delete").count(),
        4,
        "{}",
        shown.stdout
    );
    assert!(exists(&bao, "sys/policies/acl/p2"), "plan must not delete");

    let (out, report) = apply_json(&bao, &smaller, &[]);
    out.assert_success();
    assert_eq!(summary(&report, "deleted"), 4, "{report:#}");
    assert!(!exists(&bao, "sys/policies/acl/p2"));
    assert!(!exists(&bao, "sys/policies/password/pw2"));
    assert!(!exists(&bao, "auth/up/users/bob"));
    assert!(
        !exists(&bao, "app/metadata/y"),
        "every version of y is gone"
    );
    for kept in [
        "sys/policies/acl/p1",
        "sys/policies/acl/p3",
        "sys/policies/password/pw1",
        "auth/up/users/alice",
        "app/data/x",
        "app/data/z",
    ] {
        assert!(exists(&bao, kept), "{kept} must stay");
    }
    assert!(!owned(&bao, "default").contains(&"sys/policies/acl/p2".to_owned()));
    // KV fixtures carry the ownership stamp; the hand-made one does not.
    let stamp = |path: &str| bao.read(path).unwrap()["data"]["custom_metadata"].clone();
    assert_eq!(
        stamp("app/metadata/x"),
        json!({"managed-by": "vault-converge", "instance": "default"})
    );
    assert!(
        stamp("app/metadata/z").is_null(),
        "{}",
        stamp("app/metadata/z")
    );

    let (out, rerun) = apply_json(&bao, &smaller, &[]);
    out.assert_success();
    assert_eq!(rerun["requests"]["writes"], 0, "{rerun:#}");
    plan_out(&bao, &smaller, &[]).assert_code(0);
}

#[test]
fn more_deletions_than_allowed_are_refused_and_nothing_is_deleted() {
    let names: Vec<String> = (0..12).map(|i| format!("p{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let (bao, dir, plan) = dev_with_plan(&policies_plan(&names, "prune: {kinds: [policies]}\n"));
    apply_json(&bao, &plan, &[]).0.assert_success();
    let empty = plan_file(
        dir.path(),
        "empty.yaml",
        &policies_plan(&[], "prune: {kinds: [policies]}\n"),
    );

    let refused = vc(&bao, &["apply", "-f", empty.to_str().unwrap()], &[]);
    refused.assert_code(5);
    assert!(
        refused.stderr.contains("12 objects") && refused.stderr.contains("and 2 more"),
        "{}",
        refused.stderr
    );
    for name in &names {
        assert!(
            exists(&bao, &format!("sys/policies/acl/{name}")),
            "{name} was deleted"
        );
    }
    plan_out(&bao, &empty, &[]).assert_code(5);

    let allowed = vc(
        &bao,
        &[
            "apply",
            "-f",
            empty.to_str().unwrap(),
            "--max-deletes",
            "100%",
        ],
        &[],
    );
    allowed.assert_success();
    for name in &names {
        assert!(
            !exists(&bao, &format!("sys/policies/acl/{name}")),
            "{name} stayed"
        );
    }
}

#[test]
fn two_instances_prune_only_their_own_and_never_a_shared_object() {
    let bao = Bao::start_dev();
    let dir = tempfile::tempdir().unwrap();
    let instance =
        |name: &str| format!("prune: {{kinds: all}}\nvault: {{registry: {{instance: {name}}}}}\n");
    let a = plan_file(
        dir.path(),
        "a.yaml",
        &policies_plan(&["a1", "a2", "shared"], &instance("team-a")),
    );
    let b = plan_file(
        dir.path(),
        "b.yaml",
        &policies_plan(&["b1", "b2", "shared"], &instance("team-b")),
    );
    apply_json(&bao, &a, &[]).0.assert_success();
    apply_json(&bao, &b, &[]).0.assert_success();
    // b found `shared` as planned, created by a: not b's without --adopt.
    assert!(!owned(&bao, "team-b").contains(&"sys/policies/acl/shared".to_owned()));
    apply_json(&bao, &b, &[]).0.assert_success();
    vc(&bao, &["apply", "-f", b.to_str().unwrap(), "--adopt"], &[]).assert_success();
    assert!(owned(&bao, "team-b").contains(&"sys/policies/acl/shared".to_owned()));

    // a drops a2 and shared: a2 goes, shared stays (b owns it too), b's are untouched.
    let a_small = plan_file(
        dir.path(),
        "a2.yaml",
        &policies_plan(&["a1"], &instance("team-a")),
    );
    let (out, report) = apply_json(&bao, &a_small, &[]);
    out.assert_success();
    assert_eq!(summary(&report, "deleted"), 1, "{report:#}");
    assert!(!exists(&bao, "sys/policies/acl/a2"));
    for kept in ["a1", "shared", "b1", "b2"] {
        assert!(
            exists(&bao, &format!("sys/policies/acl/{kept}")),
            "{kept} must stay"
        );
    }
    assert!(!owned(&bao, "team-a").contains(&"sys/policies/acl/shared".to_owned()));

    // b drops b2 and shared: now b alone owns shared, so it goes.
    let b_small = plan_file(
        dir.path(),
        "b2.yaml",
        &policies_plan(&["b1"], &instance("team-b")),
    );
    apply_json(&bao, &b_small, &[]).0.assert_success();
    assert!(!exists(&bao, "sys/policies/acl/b2"));
    assert!(!exists(&bao, "sys/policies/acl/shared"));
    assert!(exists(&bao, "sys/policies/acl/a1") && exists(&bao, "sys/policies/acl/b1"));
}

#[test]
fn mounts_are_pruned_only_when_named() {
    let two = "mounts:\n  m1: {type: kv, options: {version: \"2\"}}\n  m2: {type: kv, options: {version: \"2\"}}\n";
    let one = "mounts:\n  m1: {type: kv, options: {version: \"2\"}}\n";
    let (bao, dir, plan) = dev_with_plan(&format!("version: 1\nprune: {{kinds: all}}\n{two}"));
    apply_json(&bao, &plan, &[]).0.assert_success();
    let by_all = plan_file(
        dir.path(),
        "all.yaml",
        &format!("version: 1\nprune: {{kinds: all}}\n{one}"),
    );
    let (out, report) = apply_json(&bao, &by_all, &[]);
    out.assert_success();
    assert_eq!(summary(&report, "deleted"), 0, "{report:#}");
    assert!(
        bao.read("sys/mounts").unwrap()["data"].get("m2/").is_some(),
        "`all` never deletes a mount"
    );
    // `--prune` alone means `all` too.
    vc(
        &bao,
        &["apply", "-f", by_all.to_str().unwrap(), "--prune"],
        &[],
    )
    .assert_success();
    assert!(bao.read("sys/mounts").unwrap()["data"].get("m2/").is_some());

    let named = plan_file(
        dir.path(),
        "named.yaml",
        &format!("version: 1\nprune: {{kinds: [mounts]}}\n{one}"),
    );
    let shown = plan_out(&bao, &named, &[]);
    shown.assert_code(4);
    assert!(
        shown.stdout.contains("- delete mount sys/mounts/m2"),
        "{}",
        shown.stdout
    );
    apply_json(&bao, &named, &[]).0.assert_success();
    let mounts = bao.read("sys/mounts").unwrap();
    assert!(
        mounts["data"].get("m2/").is_none() && mounts["data"].get("m1/").is_some(),
        "{mounts:#}"
    );
}

#[test]
fn existing_objects_are_owned_only_with_adopt() {
    let (bao, dir, plan) = dev_with_plan(&policies_plan(&["old", "new"], "prune: {kinds: all}\n"));
    bao.write(
        "sys/policies/acl/old",
        &json!({"policy": "path \"a\" { capabilities = [\"read\"] }"}),
    );
    let out = vc(&bao, &["plan", "-f", plan.to_str().unwrap()], &[]);
    assert_eq!(
        out.stdout.matches("not owned").count(),
        1,
        "said once:\n{}",
        out.stdout
    );
    let (out, report) = apply_json(&bao, &plan, &[]);
    out.assert_success();
    assert_eq!(report["unowned"], 1, "{report:#}");
    assert_eq!(
        owned(&bao, "default"),
        vec!["sys/policies/acl/new".to_owned()]
    );

    let none = plan_file(
        dir.path(),
        "none.yaml",
        &policies_plan(&[], "prune: {kinds: all}\n"),
    );
    let (out, report) = apply_json(&bao, &none, &[]);
    out.assert_success();
    assert_eq!(summary(&report, "deleted"), 1, "{report:#}");
    assert!(
        exists(&bao, "sys/policies/acl/old"),
        "not owned, never deleted"
    );
    assert!(!exists(&bao, "sys/policies/acl/new"));

    vc(
        &bao,
        &["apply", "-f", plan.to_str().unwrap(), "--adopt"],
        &[],
    )
    .assert_success();
    assert!(owned(&bao, "default").contains(&"sys/policies/acl/old".to_owned()));
    apply_json(&bao, &none, &[]).0.assert_success();
    assert!(
        !exists(&bao, "sys/policies/acl/old"),
        "adopted, then pruned"
    );
}

/// `workload(n)` without the services `from..n`.
fn without_services(plan: &str, from: usize) -> String {
    plan.lines()
        .filter(|line| {
            let Some(at) = line.find("svc-") else {
                return true;
            };
            let digits: String = line[at + 4..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse::<usize>().map_or(true, |i| i < from)
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The objects of service `i` in `workload(n)`, at the paths that read them.
fn service_objects(i: usize) -> [String; 3] {
    [
        format!("sys/policies/acl/svc-{i}"),
        format!("auth/kubernetes/role/svc-{i}"),
        format!("app/metadata/svc-{i}/config"),
    ]
}

#[test]
fn a_killed_apply_then_prune_deletes_exactly_the_removed_half() {
    const N: usize = 2000;
    let settings = "prune: {kinds: all, max_deletes: 100%}\n";
    let full = format!("{settings}{}", workload(N).replacen("version: 1\n", "", 1));
    let (bao, dir, plan) = dev_with_plan(&format!("version: 1\n{full}"));
    let mut child = std::process::Command::new(BIN)
        .args(["apply", "-f", plan.to_str().unwrap(), "--no-verify"])
        .env_clear()
        .env("VAULT_ADDR", &bao.addr)
        .env("VAULT_TOKEN", &bao.root_token)
        .env("VAULT_CONVERGE_TERMINATION_LOG", "/dev/null")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Killed in the middle of the services' writes: some of the policies
    // exist, not all of them.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(
            child.try_wait().unwrap().is_none(),
            "apply finished before it could be killed"
        );
        let policies = bao
            .api("LIST", "sys/policies/acl", None)
            .1
            .pointer("/data/keys")
            .and_then(|k| k.as_array().map(Vec::len))
            .unwrap_or(0);
        if policies > 200 {
            break;
        }
        assert!(Instant::now() < deadline, "no policies after 120s");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let created: Vec<bool> = (0..N)
        .map(|i| service_objects(i).iter().any(|p| exists(&bao, p)))
        .collect();
    let left_behind: usize = (N / 2..N)
        .flat_map(service_objects)
        .filter(|p| exists(&bao, p))
        .count();
    assert!(left_behind > 0, "the kill left nothing of the removed half");
    assert!(
        created.iter().any(|c| !c),
        "the kill came after every service was written"
    );

    let half = plan_file(
        dir.path(),
        "half.yaml",
        &without_services(&format!("version: 1\n{full}"), N / 2),
    );
    let (out, report) = apply_json(&bao, &half, &[]);
    out.assert_success();
    for i in 0..N {
        for path in service_objects(i) {
            assert_eq!(
                exists(&bao, &path),
                i < N / 2,
                "{path}: the kept half exists, the removed half is gone"
            );
        }
    }
    assert_eq!(
        summary(&report, "deleted") as usize,
        left_behind,
        "exactly what the killed run left of the removed half"
    );
    assert!(exists(&bao, "sys/mounts/app/tune") && exists(&bao, "auth/kubernetes/config"));
    // Every kept object is owned: recorded, created now, or re-adopted
    // (in flight when the run was killed, found exactly as planned).
    let kept_owned: std::collections::HashSet<String> =
        owned(&bao, "default").into_iter().collect();
    for i in 0..N / 2 {
        let path = format!("sys/policies/acl/svc-{i}");
        assert!(kept_owned.contains(&path), "{path} is owned");
    }
    assert!(
        !kept_owned
            .iter()
            .any(|p| p.ends_with(&format!("svc-{}", N - 1))),
        "nothing of the removed half stays recorded"
    );
    let (out, rerun) = apply_json(&bao, &half, &[]);
    out.assert_success();
    assert_eq!(rerun["requests"]["writes"], 0, "{rerun:#}");
}

#[test]
fn prune_request_counts_at_w200() {
    const N: usize = 200;
    let settings = "prune: {kinds: all, max_deletes: 100%}\n";
    let full = format!(
        "version: 1\n{settings}{}",
        workload(N).replacen("version: 1\n", "", 1)
    );
    let (bao, dir, plan) = dev_with_plan(&full);
    apply_json(&bao, &plan, &[]).0.assert_success();
    let half = plan_file(dir.path(), "half.yaml", &without_services(&full, N / 2));
    let (out, pruning) = apply_json(&bao, &half, &[]);
    out.assert_success();
    let (out, rerun) = apply_json(&bao, &half, &[]);
    out.assert_success();
    assert_eq!(summary(&pruning, "deleted"), 300, "{pruning:#}");
    assert_eq!(rerun["requests"]["writes"], 0, "{rerun:#}");
    // The prune adds 300 DELETEs and one registry write; reads: the other
    // instances' LIST (the registry read is one per run either way).
    let writes = pruning["requests"]["writes"].as_u64().unwrap();
    let lists = pruning["requests"]["lists"].as_u64().unwrap()
        - rerun["requests"]["lists"].as_u64().unwrap();
    let reads = pruning["requests"]["reads"].as_i64().unwrap()
        - rerun["requests"]["reads"].as_i64().unwrap();
    eprintln!(
        "W(200) minus 100 services, prune run: {}; rerun: {}",
        pruning["requests"], rerun["requests"]
    );
    assert_eq!(writes, 301, "{}", pruning["requests"]);
    assert!(lists <= 1, "{}", pruning["requests"]);
    assert!(reads <= 1, "{}", pruning["requests"]);
}

#[test]
fn the_job_policy_grants_registry_and_delete_only_when_the_plan_prunes() {
    let dir = tempfile::tempdir().unwrap();
    let plain = plan_file(dir.path(), "plain.yaml", &policies_plan(&["p"], ""));
    let pruning = plan_file(
        dir.path(),
        "prune.yaml",
        &policies_plan(&["p"], "prune: {kinds: [policies]}\n"),
    );
    let run =
        |plan: &Path| crate::support::cli::run(&["policy", "-f", plan.to_str().unwrap()], &[]);
    let without = run(&plain);
    without.assert_success();
    assert!(
        !without.stdout.contains("vault-converge/") && !without.stdout.contains("delete"),
        "{}",
        without.stdout
    );
    let with = run(&pruning);
    with.assert_success();
    for expected in [
        "path \"vault-converge/data/default\"",
        "path \"vault-converge/metadata\"",
        "path \"sys/policies/acl/*\"",
        "\"delete\"",
    ] {
        assert!(
            with.stdout.contains(expected),
            "lacks {expected}:\n{}",
            with.stdout
        );
    }
}

#[test]
fn an_unknown_prune_kind_is_a_plan_error_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(
        dir.path(),
        "plan.yaml",
        "version: 1\nprune: {kinds: [policys]}\n",
    );
    let out = crate::support::cli::run(&["validate", "-f", plan.to_str().unwrap()], &[]);
    out.assert_code(2);
    assert!(
        out.stderr.contains("plan.yaml:2") && out.stderr.contains("policys"),
        "{}",
        out.stderr
    );
}

fn identity_plan(with_bob: bool) -> String {
    let mut plan = String::from(
        "version: 1\nprune: {kinds: [identity]}\nauth:\n  up: {type: userpass}\nidentity:\n  entities:\n    alice: {policies: [dev], aliases: [{auth: up, name: alice}]}\n",
    );
    if with_bob {
        plan.push_str("    bob: {policies: [dev], aliases: [{auth: up, name: bob}]}\n");
    }
    plan.push_str("  groups:\n    team: {member_entities: [alice]}\n");
    if with_bob {
        plan.push_str("    payments: {member_entities: [bob]}\n");
    }
    plan
}

#[test]
fn removed_identity_entities_and_groups_are_deleted_with_the_generated_policy() {
    let (bao, dir, plan) = dev_with_plan(&identity_plan(true));
    // A hand-made entity with a name like the planned ones is never touched.
    bao.write("identity/entity/name/bobby", &json!({"policies": ["dev"]}));
    let token = job_token(&bao, &plan);
    let as_job = |plan: &Path, command: &str| run_as(&bao, &token, plan, command);
    as_job(&plan, "apply").assert_success();
    assert!(exists(&bao, "identity/entity/name/bob"));

    let smaller = plan_file(dir.path(), "smaller.yaml", &identity_plan(false));
    let shown = as_job(&smaller, "plan");
    shown.assert_code(4);
    for line in [
        "- delete identity entity identity/entity/name/bob",
        "- delete identity group identity/group/name/payments",
    ] {
        assert!(shown.stdout.contains(line), "{line}: {}", shown.describe());
    }
    as_job(&smaller, "apply").assert_success();
    assert!(!exists(&bao, "identity/entity/name/bob"));
    assert!(!exists(&bao, "identity/group/name/payments"));
    assert!(exists(&bao, "identity/entity/name/alice"));
    assert!(exists(&bao, "identity/group/name/team"));
    assert!(exists(&bao, "identity/entity/name/bobby"));
    as_job(&smaller, "plan").assert_code(0);
}

#[test]
fn a_removed_database_role_is_deleted_and_its_connection_kept() {
    let pg = crate::support::postgres::Postgres::start();
    let plan_of = |with_reader: bool| {
        let mut plan = format!(
            r#"version: 1
prune: {{kinds: [database_roles, database_connections]}}
mounts:
  database: {{type: database}}
databases:
  database:
    connections:
      pg:
        plugin_name: postgresql-database-plugin
        allowed_roles: ["*"]
        config:
          connection_url: "postgresql://{{{{username}}}}:{{{{password}}}}@127.0.0.1:{}/{}?sslmode=disable"
          username: {}
          password: {{env: PG_PASSWORD}}
    roles:
      writer:
        db_name: pg
        creation_statements: ["CREATE ROLE \"{{{{name}}}}\" WITH LOGIN PASSWORD '{{{{password}}}}' VALID UNTIL '{{{{expiration}}}}';"]
"#,
            pg.port, pg.database, pg.superuser
        );
        if with_reader {
            plan.push_str("      reader:\n        db_name: pg\n        creation_statements: [\"CREATE ROLE \\\"{{name}}\\\" WITH LOGIN PASSWORD '{{password}}';\"]\n");
        }
        plan
    };
    let (bao, dir, plan) = dev_with_plan(&plan_of(true));
    let env = [("PG_PASSWORD", pg.password.as_str())];
    apply_json(&bao, &plan, &env).0.assert_success();
    assert!(exists(&bao, "database/roles/reader"));
    let smaller = plan_file(dir.path(), "smaller.yaml", &plan_of(false));
    let (out, report) = apply_json(&bao, &smaller, &env);
    out.assert_success();
    assert_eq!(summary(&report, "deleted"), 1, "{report:#}");
    assert!(
        !exists(&bao, "database/roles/reader"),
        "removed from the plan: deleted"
    );
    assert!(exists(&bao, "database/roles/writer") && exists(&bao, "database/config/pg"));
    let (out, rerun) = apply_json(&bao, &smaller, &env);
    out.assert_success();
    assert_eq!(rerun["requests"]["writes"], 0, "{rerun:#}");
}

/// A token holding only the job policy `vault-converge policy` generates for `plan`.
fn job_token(bao: &Bao, plan: &Path) -> String {
    let policy = crate::support::cli::run(&["policy", "-f", plan.to_str().unwrap()], &[]);
    policy.assert_success();
    crate::common::token_with_policy(bao, "vault-converge", &policy.stdout)
}

/// Runs `command` (`plan` with `--detailed-exitcode`) with `token`.
fn run_as(bao: &Bao, token: &str, plan: &Path, command: &str) -> crate::support::cli::CliOutput {
    let mut args = vec![command, "-f", plan.to_str().unwrap()];
    if command == "plan" {
        args.push("--detailed-exitcode");
    }
    crate::support::cli::run(
        &args,
        &[
            ("VAULT_ADDR", bao.addr.as_str()),
            ("VAULT_TOKEN", token),
            ("VAULT_CONVERGE_TERMINATION_LOG", "/dev/null"),
        ],
    )
}

#[test]
fn the_generated_job_policy_is_enough_to_stamp_and_prune() {
    let (bao, dir, plan) = dev_with_plan(&full_plan(true));
    let token = job_token(&bao, &plan);
    run_as(&bao, &token, &plan, "apply").assert_success();
    assert_eq!(
        bao.read("app/metadata/y").unwrap()["data"]["custom_metadata"]["managed-by"],
        "vault-converge"
    );
    // The policy is generated again from the plan that drops objects.
    let smaller = plan_file(dir.path(), "smaller.yaml", &full_plan(false));
    let token = job_token(&bao, &smaller);
    run_as(&bao, &token, &smaller, "plan").assert_code(4);
    let out = run_as(&bao, &token, &smaller, "apply");
    out.assert_success();
    for gone in [
        "sys/policies/acl/p2",
        "sys/policies/password/pw2",
        "auth/up/users/bob",
        "app/metadata/y",
    ] {
        assert!(!exists(&bao, gone), "{gone}: {}", out.describe());
    }
    run_as(&bao, &token, &smaller, "plan").assert_code(0);
}

#[test]
fn audit_devices_are_pruned_only_when_named() {
    let bao = Bao::start_dev_with_config("unsafe_allow_api_audit_creation = true\n");
    let dir = tempfile::tempdir().unwrap();
    let device = |name: &str| {
        format!(
            "  {name}: {{type: file, options: {{file_path: \"{}\"}}}}\n",
            bao.dir.join(format!("{name}.log")).display()
        )
    };
    let plan_with = |kinds: &str, names: &[&str]| {
        let devices: String = names.iter().map(|n| device(n)).collect();
        format!("version: 1\nprune: {{kinds: {kinds}}}\naudit:\n{devices}")
    };
    let both = plan_file(dir.path(), "both.yaml", &plan_with("all", &["a1", "a2"]));
    apply_json(&bao, &both, &[]).0.assert_success();
    let devices = || bao.read("sys/audit").unwrap()["data"].clone();
    assert!(devices().get("a2/").is_some(), "{}", devices());

    let by_all = plan_file(dir.path(), "all.yaml", &plan_with("all", &["a1"]));
    let (out, report) = apply_json(&bao, &by_all, &[]);
    out.assert_success();
    assert_eq!(summary(&report, "deleted"), 0, "{report:#}");
    assert!(
        devices().get("a2/").is_some(),
        "`all` never removes an audit device"
    );

    let named = plan_file(
        dir.path(),
        "named.yaml",
        &plan_with("[audit_devices]", &["a1"]),
    );
    let shown = plan_out(&bao, &named, &[]);
    shown.assert_code(4);
    assert!(
        shown.stdout.contains("- delete audit device sys/audit/a2"),
        "{}",
        shown.stdout
    );
    let (out, report) = apply_json(&bao, &named, &[]);
    out.assert_success();
    assert_eq!(summary(&report, "deleted"), 1, "{report:#}");
    assert!(
        devices().get("a2/").is_none() && devices().get("a1/").is_some(),
        "{}",
        devices()
    );
}
