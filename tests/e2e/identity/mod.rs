//! Identity entities, groups and aliases against a real OpenBao dev server:
//! names resolved to IDs and accessors by the tool, reruns without writes,
//! drift repaired, aliases updated in place, bad members refused with the
//! plan line, and an external group that really maps a JWT login.

mod jwt;

use std::path::Path;

use serde_json::{json, Value};

use crate::common::*;
use crate::support::bao::Bao;
use crate::support::cli;

const PLAN: &str = r#"
version: 1
auth:
  userpass: { type: userpass }
policies:
  admin: 'path "secret/*" { capabilities = ["read"] }'
identity:
  entities:
    alice:
      policies: [Dev, ops]
      metadata: { team: platform }
      aliases: [ { auth: userpass, name: alice } ]
    bob: { disabled: false, aliases: [ { auth: userpass, name: bob } ] }
  groups:
    inner: { member_entities: [bob] }
    platform: { type: internal, policies: [admin], member_entities: [alice], member_groups: [inner] }
"#;

fn data(bao: &Bao, path: &str) -> Value {
    bao.read(path).unwrap_or_else(|| panic!("{path} is absent"))["data"].clone()
}

fn id(bao: &Bao, path: &str) -> String {
    data(bao, path)["id"].as_str().unwrap().to_owned()
}

fn accessor(bao: &Bao, auth: &str) -> String {
    data(bao, "sys/auth")[format!("{auth}/")]["accessor"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn aliases(bao: &Bao, entity: &str) -> Vec<Value> {
    data(bao, &format!("identity/entity/name/{entity}"))["aliases"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn sorted(value: &Value) -> Vec<String> {
    let mut items: Vec<String> = value
        .as_array()
        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default();
    items.sort();
    items
}

/// A token with exactly the policy `vault-converge policy` prints for `plan`.
fn job_token(bao: &Bao, plan: &Path) -> String {
    let policy = cli::run(&["policy", "-f", plan.to_str().unwrap()], &[]);
    policy.assert_success();
    token_with_policy(bao, "vault-converge", &policy.stdout)
}

#[test]
fn entities_groups_and_aliases_are_created_by_name_and_a_rerun_writes_nothing() {
    let (bao, _dir, plan) = dev_with_plan(PLAN);
    let p = plan.to_str().unwrap();
    // `plan` on an empty server: aliases of entities and an auth method
    // that do not exist yet are creates, not failures.
    let out = vc(
        &bao,
        &["plan", "-f", p, "--output", "json", "--detailed-exitcode"],
        &[],
    );
    out.assert_code(4);
    let planned = parse_report(&out);
    assert_eq!(
        action_of(&planned, "identity/entity/name/alice/alias/userpass"),
        "create"
    );
    assert_eq!(
        action_of(&planned, "identity/group/name/platform"),
        "create"
    );

    // The job's own minimal policy is enough.
    let token = job_token(&bao, &plan);
    let (out, cold) = apply_json(&bao, &plan, &[("VAULT_TOKEN", token.as_str())]);
    out.assert_success();
    assert_eq!(summary(&cold, "created"), 8, "{cold:#}");
    println!("cold run requests: {}", cold["requests"]);

    let alice = data(&bao, "identity/entity/name/alice");
    assert_eq!(sorted(&alice["policies"]), ["dev", "ops"]);
    assert_eq!(alice["metadata"], json!({"team": "platform"}));
    let alias = &aliases(&bao, "alice")[0];
    assert_eq!(alias["name"], "alice");
    assert_eq!(alias["mount_accessor"], accessor(&bao, "userpass"));
    assert_eq!(alias["canonical_id"], alice["id"]);
    let platform = data(&bao, "identity/group/name/platform");
    assert_eq!(
        sorted(&platform["member_entity_ids"]),
        [alice["id"].as_str().unwrap()]
    );
    assert_eq!(
        sorted(&platform["member_group_ids"]),
        [id(&bao, "identity/group/name/inner")]
    );
    assert_eq!(
        sorted(&data(&bao, "identity/group/name/inner")["member_entity_ids"]),
        [id(&bao, "identity/entity/name/bob")]
    );

    let rerun = assert_stable(&bao, &plan, &[("VAULT_TOKEN", token.as_str())]);
    assert_eq!(summary(&rerun, "unchanged"), 8, "{rerun:#}");
    println!("rerun requests: {}", rerun["requests"]);
}

#[test]
fn drift_behind_the_tools_back_is_planned_and_repaired() {
    let (bao, _dir, plan) = dev_with_plan(PLAN);
    let p = plan.to_str().unwrap();
    vc(&bao, &["apply", "-f", p], &[]).assert_success();
    let alice = id(&bao, "identity/entity/name/alice");
    let bob = id(&bao, "identity/entity/name/bob");
    bao.write(
        "identity/entity/name/alice",
        &json!({"policies": ["other"]}),
    );
    bao.write(
        "identity/group/name/platform",
        &json!({"member_entity_ids": [alice, bob]}),
    );

    let out = vc(&bao, &["plan", "-f", p, "--detailed-exitcode"], &[]);
    out.assert_code(4);
    for line in [
        "~ update identity entity identity/entity/name/alice",
        "policies: [\"other\"] → [\"Dev\",\"ops\"]",
        "~ update identity group identity/group/name/platform",
        "member_entities: [alice, bob] → [alice]",
        "2 changes",
    ] {
        assert!(
            out.stdout.contains(line),
            "missing `{line}` in\n{}",
            out.stdout
        );
    }

    vc(&bao, &["apply", "-f", p], &[]).assert_success();
    let entity = data(&bao, "identity/entity/name/alice");
    assert_eq!(sorted(&entity["policies"]), ["dev", "ops"]);
    let group = data(&bao, "identity/group/name/platform");
    assert_eq!(sorted(&group["member_entity_ids"]), [alice]);
    vc(&bao, &["plan", "-f", p, "--detailed-exitcode"], &[]).assert_code(0);
}

#[test]
fn an_aliases_new_auth_path_or_name_updates_it_in_place() {
    let plan_with = |auth: &str, name: &str| {
        format!(
            "version: 1\nauth:\n  up1: {{ type: userpass }}\n  up2: {{ type: userpass }}\n\
             identity:\n  entities:\n    alice: {{ aliases: [ {{ auth: {auth}, name: {name} }} ] }}\n  \
             groups:\n    ext: {{ type: external, alias: {{ auth: {auth}, name: {name} }} }}\n"
        )
    };
    let (bao, dir, plan) = dev_with_plan(&plan_with("up1", "alice"));
    vc(&bao, &["apply", "-f", plan.to_str().unwrap()], &[]).assert_success();
    let entity_alias = aliases(&bao, "alice")[0]["id"].clone();
    let group_alias = data(&bao, "identity/group/name/ext")["alias"]["id"].clone();

    for (auth, name) in [("up2", "alice"), ("up2", "alice2")] {
        let plan = plan_file(dir.path(), "plan.yaml", &plan_with(auth, name));
        let (out, report) = apply_json(&bao, &plan, &[]);
        out.assert_success();
        assert_eq!(summary(&report, "updated"), 2, "{report:#}");
        assert_eq!(summary(&report, "created"), 0, "{report:#}");
        let now = aliases(&bao, "alice");
        assert_eq!(now.len(), 1, "exactly one alias: {now:#?}");
        assert_eq!(now[0]["id"], entity_alias, "the same alias, updated");
        assert_eq!(now[0]["mount_accessor"], accessor(&bao, auth));
        assert_eq!(now[0]["name"], name);
        let alias = data(&bao, "identity/group/name/ext")["alias"].clone();
        assert_eq!(alias["id"], group_alias);
        assert_eq!(alias["mount_accessor"], accessor(&bao, auth));
        assert_eq!(alias["name"], name);
        assert_stable(&bao, &plan, &[]);
    }

    // An alias someone else added is never taken over: a move creates a new one.
    let alice = id(&bao, "identity/entity/name/alice");
    bao.write(
        "identity/entity-alias",
        &json!({"name": "by-hand", "mount_accessor": accessor(&bao, "up1"), "canonical_id": alice}),
    );
    bao.write("sys/auth/up3", &json!({"type": "userpass"}));
    let plan = plan_file(dir.path(), "plan.yaml", &plan_with("up3", "alice2"));
    vc(&bao, &["apply", "-f", plan.to_str().unwrap()], &[]).assert_success();
    let mut now: Vec<(String, String)> = aliases(&bao, "alice")
        .iter()
        .map(|a| {
            (
                a["mount_path"].as_str().unwrap().to_owned(),
                a["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    now.sort();
    assert_eq!(
        now,
        [
            ("auth/up1/".into(), "by-hand".into()),
            ("auth/up3/".into(), "alice2".into())
        ]
    );
}

#[test]
fn a_member_that_exists_nowhere_fails_with_exit_2_and_its_plan_line() {
    let long = "x".repeat(600);
    let yaml = format!(
        "version: 1\nauth:\n  userpass: {{ type: userpass }}\nidentity:\n  entities:\n    \
         alice: {{ policies: [dev] }}\n    \
         broken: {{ metadata: {{ note: {long} }}, aliases: [ {{ auth: userpass, name: broken }} ] }}\n  \
         groups:\n    ghosts:\n      member_entities:\n        - alice\n        - ghost\n    \
         needs-broken: {{ member_entities: [broken] }}\n"
    );
    let (bao, _dir, plan) = dev_with_plan(&yaml);
    let (out, report) = apply_json(&bao, &plan, &[]);
    out.assert_code(2);
    let ghosts = object_of(&report, "identity/group/name/ghosts");
    assert_eq!(ghosts["action"], "failed");
    let error = ghosts["error"].as_str().unwrap();
    assert!(
        error.contains("plan.yaml:12") && error.contains("`ghost`"),
        "{error}"
    );
    let last = out.stderr.lines().last().unwrap();
    assert!(
        last.contains("plan.yaml:12") && last.contains("ghost"),
        "{last}"
    );
    // A failed entity skips its alias and the group naming it, nothing else.
    assert_eq!(action_of(&report, "identity/entity/name/broken"), "failed");
    assert_eq!(
        action_of(&report, "identity/entity/name/broken/alias/userpass"),
        "skipped"
    );
    assert_eq!(
        action_of(&report, "identity/group/name/needs-broken"),
        "skipped"
    );
    assert_eq!(action_of(&report, "identity/entity/name/alice"), "create");
    assert!(bao.read("identity/entity/name/alice").is_some());
    assert!(bao.read("identity/group/name/ghosts").is_none());

    // Offline: an alias on an internal group, members of an external one, an empty auth.
    let dir = tempfile::tempdir().unwrap();
    for (yaml, line, words) in [
        (
            "identity:\n  groups:\n    g:\n      alias: { auth: oidc, name: x }\n",
            5,
            "internal",
        ),
        (
            "identity:\n  groups:\n    g:\n      type: external\n      member_groups: [h]\n",
            6,
            "external",
        ),
        (
            "identity:\n  entities:\n    e:\n      aliases:\n        - { auth: '', name: e }\n",
            6,
            "empty",
        ),
        (
            "identity:\n  groups:\n    a: { member_groups: [b] }\n    b: { member_groups: [a] }\n",
            4,
            "each other",
        ),
    ] {
        let plan = plan_file(dir.path(), "bad.yaml", &format!("version: 1\n{yaml}"));
        let out = cli::run(&["validate", "-f", plan.to_str().unwrap()], &[]);
        out.assert_code(2);
        let at = format!("bad.yaml:{line}");
        assert!(
            out.stderr.contains(&at) && out.stderr.contains(words),
            "{at} {words}: {}",
            out.describe()
        );
    }
}
