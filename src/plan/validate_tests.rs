//! Tests of `validate` and `warnings`, on plans written to a temporary directory.

use std::path::PathBuf;

use super::super::load::{load_with, LocalSources};
use super::*;

struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Dir {
        Dir(tempfile::tempdir().unwrap())
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn load(&self, yaml: &str) -> LoadedPlan {
        // `version` last, so the lines of `yaml` keep their numbers.
        let plan = self.write("p.yaml", &format!("{yaml}version: 1\n"));
        load_with(&[plan], LocalSources::MayBeAbsent).unwrap()
    }

    fn check(&self, yaml: &str) -> Result<(), PlanError> {
        validate(&self.load(yaml))
    }
}

/// The error's text, which must start with `p.yaml:LINE:`.
fn error_at(result: Result<(), PlanError>, line: u64) -> (PlanError, String) {
    let err = result.expect_err("the plan must be refused");
    let text = err.to_string();
    assert!(text.contains(&format!("p.yaml:{line}:")), "{text}");
    (err, text)
}

#[test]
fn generate_is_only_allowed_in_kv_data_at_any_depth() {
    let dir = Dir::new();
    dir.check(
        "kv:\n  app:\n    s:\n      data:\n        a: {generate: {length: 8}}\n        b: {nested: [{generate: {policy: alnum}}]}\n",
    )
    .unwrap();
    let cases = [
        ("auth:\n  k:\n    type: kubernetes\n    roles:\n      r:\n        deep: {x: {generate: {length: 8}}}\n", 6),
        ("writes:\n  - path: a/b\n    data:\n      list: [1, {generate: {length: 8}}]\n", 4),
        ("mounts:\n  m:\n    type: transit\n    options:\n      o: {generate: {policy: p}}\n", 5),
        ("auth:\n  u:\n    type: userpass\n    users:\n      alice:\n        password: {generate: {length: 8}}\n", 6),
        ("databases:\n  db:\n    connections:\n      pg:\n        plugin_name: x\n        config: {password: {generate: {length: 9}}}\n", 6),
    ];
    for (yaml, line) in cases {
        let (err, text) = error_at(dir.check(yaml), line);
        assert!(matches!(err, PlanError::Field { .. }), "{text}");
        assert!(text.contains("only allowed in kv fixture data"), "{text}");
    }
}

#[test]
fn kv_fixtures_need_a_kv_mount_and_upgrade_a_kv_mount() {
    let dir = Dir::new();
    let (_, text) = error_at(
        dir.check("mounts:\n  app: {type: transit}\nkv:\n  app:\n    s: {data: {a: 1}}\n"),
        5,
    );
    assert!(text.contains("kv.app.s"), "{text}");
    assert!(text.contains("`app`") && text.contains("transit"), "{text}");
    assert!(
        text.contains("p.yaml:2:"),
        "names where the mount is declared: {text}"
    );

    dir.check("mounts:\n  app: {type: kv, options: {version: \"1\"}, upgrade: true}\nkv:\n  app:\n    s: {data: {a: 1}}\n")
        .unwrap();
    dir.check("mounts:\n  app: {type: kv-v2}\nkv:\n  app:\n    s: {data: {a: 1}}\n  elsewhere:\n    s: {data: {a: 1}}\n")
        .unwrap();
    let (_, text) = error_at(
        dir.check("mounts:\n  t:\n    type: transit\n    upgrade: true\n"),
        4,
    );
    assert!(text.contains("mounts.t.upgrade"), "{text}");
}

#[test]
fn sync_must_be_always_or_if_missing() {
    let dir = Dir::new();
    dir.check("auth:\n  k:\n    type: kubernetes\n    config: {sync: always}\n    roles: {r: {sync: if-missing}}\n")
        .unwrap();
    let cases = [
        (
            "auth:\n  k:\n    type: kubernetes\n    config:\n      sync: sometimes\n",
            5,
            "auth.k.config.sync",
        ),
        (
            "auth:\n  k:\n    type: kubernetes\n    roles:\n      r:\n        sync: true\n",
            6,
            "auth.k.roles.r.sync",
        ),
        (
            "auth:\n  u:\n    type: userpass\n    users:\n      a:\n        sync: never\n",
            6,
            "auth.u.users.a.sync",
        ),
    ];
    for (yaml, line, path) in cases {
        let (_, text) = error_at(dir.check(yaml), line);
        assert!(text.contains(path), "{text}");
        assert!(text.contains("`always` or `if-missing`"), "{text}");
    }
}

#[test]
fn once_writes_cannot_sync_and_rotate_root_cannot_either() {
    let dir = Dir::new();
    let (err, text) = error_at(
        dir.check("writes:\n  - path: a/b\n    mode: once\n    sync: always\n"),
        4,
    );
    assert!(
        matches!(err, PlanError::Field { .. }),
        "exit 2, not 5: {text}"
    );
    assert!(text.contains("drop sync"), "{text}");
    dir.check("writes:\n  - path: a/b\n    mode: overwrite\n    sync: always\n")
        .unwrap();

    let (err, _) = error_at(
        dir.check("databases:\n  db:\n    connections:\n      pg:\n        plugin_name: x\n        sync: always\n        rotate_root: true\n"),
        4,
    );
    assert!(matches!(err, PlanError::Unsafe { .. }), "{err}");
}

#[test]
fn inline_policy_errors_name_the_plan_line_and_the_policy_line() {
    let dir = Dir::new();
    dir.check("policies:\n  ok: |\n    path \"identity/${accessor:auth/k8s}/{{identity.entity.id}}\" {\n      capabilities = [\"read\"]\n    }\n")
        .unwrap();
    let (err, text) = error_at(
        dir.check("policies:\n  api: |\n    path \"a\" {\n      capabilities = [\"read\", \"reed\"]\n    }\n"),
        4,
    );
    assert!(matches!(err, PlanError::PolicyHcl { .. }), "{text}");
    assert!(text.contains("line 2, column"), "{text}");
    assert!(text.contains("`reed`"), "{text}");
    assert!(text.contains("policies.api"), "{text}");

    let (_, text) = error_at(
        dir.check("password_policies:\n  alnum:\n    policy: |\n      length = 20\n      rule \"charset\" {\n"),
        5,
    );
    assert!(text.contains("password_policies.alnum.policy"), "{text}");
}

#[test]
fn file_policy_errors_name_the_policy_file_and_absent_files_are_skipped() {
    let dir = Dir::new();
    let hcl = dir.write("ops.hcl", "path \"a\" {\n  capabilities = [\"read\"\n}\n");
    let (_, text) = error_at(dir.check("policies:\n  ops: {file: ops.hcl}\n"), 2);
    assert!(text.contains(&format!("{}:3:", hcl.display())), "{text}");
    dir.check("policies:\n  ops: {file: absent.hcl}\n").unwrap();
}

#[test]
fn warnings_name_upper_case_policy_names_and_short_secrets() {
    let dir = Dir::new();
    let loaded = dir.load(
        "vault:\n  expect_token: {policies: [Ops]}\npolicies:\n  secret: '#'\n  Administrator: 'path \"a\" { capabilities = [\"read\"] }'\nauth:\n  k:\n    type: kubernetes\n    roles:\n      r:\n        token_policies: \"default, Dev\"\n        secret_id_ttl: 10m\n    config:\n      token_reviewer_jwt: {env: JWT}\n      password: pw12x\n      private_key_format: der\n",
    );
    let warnings = warnings(&loaded);
    assert_eq!(warnings.len(), 4, "{warnings:#?}");
    assert!(warnings[0].contains("/p.yaml:5:3: policies.Administrator: Vault stores policy names in lower case; `Administrator` is stored as `administrator`"), "{}", warnings[0]);
    assert!(
        warnings[1].contains("/p.yaml:2:") && warnings[1].contains("`ops`"),
        "{}",
        warnings[1]
    );
    assert!(
        warnings[2].contains("/p.yaml:11:") && warnings[2].contains("`Dev`"),
        "{}",
        warnings[2]
    );
    assert!(
        warnings[3]
            .contains("/p.yaml:15:17: auth.k.config.password: this secret is 5 characters long"),
        "{}",
        warnings[3]
    );
    assert!(
        !warnings.iter().any(|w| w.contains("pw12x")),
        "never the value itself"
    );
}
