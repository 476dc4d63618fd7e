//! Database connections, Kubernetes-sourced secrets, generated values and
//! verification, against real OpenBao, Redis and PostgreSQL and the
//! Kubernetes API stand-in — including replays of the incidents in DESIGN.md.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::*;
use crate::support::bao::Bao;
use crate::support::cli::{assert_no_secrets, CliOutput};
use crate::support::kube_api::{KubeApi, CA_CERT_PEM};
use crate::support::postgres::Postgres;
use crate::support::random_hex;
use crate::support::redis::Redis;

/// A Vault, a Kubernetes API and a Redis, wired together through env vars.
struct World {
    bao: Bao,
    kube: KubeApi,
    redis: Redis,
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl World {
    fn new(redis_password: &str) -> World {
        let bao = Bao::start_dev();
        let kube = KubeApi::start();
        let redis = Redis::start(redis_password);
        kube.set_secret("redis", "redis", &[("redis-password", redis_password)]);
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = kube.write_kubeconfig(dir.path());
        let ca = dir.path().join("ca.crt");
        std::fs::write(&ca, CA_CERT_PEM).unwrap();
        let jwt = dir.path().join("whispr-api.jwt");
        std::fs::write(&jwt, kube.issue_service_account_jwt("whispr", "whispr-api")).unwrap();
        let env = vec![
            ("KUBECONFIG", kubeconfig.display().to_string()),
            ("KUBERNETES_HOST", kube.url.clone()),
            ("KUBERNETES_CA_FILE", ca.display().to_string()),
            ("TOKEN_REVIEWER_JWT", kube.reviewer_token.clone()),
            ("WHISPR_API_JWT_FILE", jwt.display().to_string()),
            ("REDIS_HOST", "127.0.0.1".to_owned()),
            ("REDIS_PORT", redis.port.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        World {
            bao,
            kube,
            redis,
            dir,
            env,
        }
    }

    fn set(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_owned(), value.to_owned()));
    }

    fn run(&self, args: &[&str]) -> CliOutput {
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        vc(&self.bao, args, &env)
    }

    fn apply(&self, plan: &Path) -> (CliOutput, Value) {
        let out = self.run(&["apply", "-f", plan.to_str().unwrap(), "--output", "json"]);
        let report = parse_report(&out);
        (out, report)
    }

    fn plan(&self, name: &str, yaml: &str) -> PathBuf {
        plan_file(self.dir.path(), name, yaml)
    }

    /// Every secret value this world handed out.
    fn secrets(&self) -> Vec<String> {
        let mut secrets = vec![
            self.redis.password.clone(),
            self.kube.reviewer_token.clone(),
            self.kube.reader_token.clone(),
            self.bao.root_token.clone(),
        ];
        secrets.push(std::fs::read_to_string(self.dir.path().join("whispr-api.jwt")).unwrap());
        secrets.extend(
            self.env
                .iter()
                .filter(|(k, _)| k.contains("PASSWORD"))
                .map(|(_, v)| v.clone()),
        );
        secrets
    }
}

fn check_passed(report: &Value, check: &str, target: &str) -> bool {
    report["verify"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == check && c["target"] == target)
        .unwrap_or_else(|| panic!("no check {check} {target} in {report:#}"))["passed"]
        .as_bool()
        .unwrap()
}

fn redis_plan(sync: &str) -> String {
    format!(
        r#"
version: 1
mounts:
  database: {{ type: database }}
databases:
  database:
    connections:
      redis:
        plugin_name: redis-database-plugin
        sync: {sync}
        allowed_roles: [cache]
        config:
          host: ${{REDIS_HOST}}
          port: ${{REDIS_PORT}}
          username: default
          password: {{ secretKeyRef: {{ namespace: redis, name: redis, key: redis-password }} }}
    roles:
      cache:
        db_name: redis
        creation_statements: ['["~*", "+@read"]']
        default_ttl: 5m
verify:
  - database_creds: {{ mount: database, role: cache }}
"#
    )
}

/// Incident 1: the chart regenerated the Redis password; `sync: always`
/// pushes the new one on the next run and the creds check proves it.
#[test]
fn redis_password_regenerated_by_the_chart_is_resynced() {
    let password_a = format!("redis-a-{}", random_hex(8));
    let password_b = format!("redis-b-{}", random_hex(8));
    let mut world = World::new(&password_a);
    let plan = world.plan("redis.yaml", &redis_plan("always"));

    let (out, report) = world.apply(&plan);
    out.assert_success();
    assert_eq!(action_of(&report, "database/config/redis"), "create");
    assert!(check_passed(
        &report,
        "database_creds",
        "database/creds/cache"
    ));

    world.redis.restart_with_password(&password_b);
    world
        .kube
        .set_secret("redis", "redis", &[("redis-password", &password_b)]);
    assert!(!world.redis.ping(&password_a) && world.redis.ping(&password_b));

    let (out, report) = world.apply(&plan);
    out.assert_success();
    assert_eq!(action_of(&report, "database/config/redis"), "synced");
    assert_eq!(
        summary(&report, "changes"),
        0,
        "a sync is not drift: {report:#}"
    );
    assert!(check_passed(
        &report,
        "database_creds",
        "database/creds/cache"
    ));
    assert!(out.stdout.contains("\"synced\": 1"), "{}", out.stdout);
    assert_no_secrets(&out, &[&password_a, &password_b, &world.kube.reader_token]);
}

/// The same incident with the old behaviour (`if-missing`): the stale
/// password stays in Vault, and verification now fails loudly (exit 3),
/// naming the connection, where the old job reported success.
#[test]
fn redis_password_regenerated_with_if_missing_fails_verification() {
    let password_a = format!("redis-a-{}", random_hex(8));
    let password_b = format!("redis-b-{}", random_hex(8));
    let mut world = World::new(&password_a);
    let plan = world.plan("redis.yaml", &redis_plan("if-missing"));
    world.apply(&plan).0.assert_success();

    world.redis.restart_with_password(&password_b);
    world
        .kube
        .set_secret("redis", "redis", &[("redis-password", &password_b)]);
    let out = world.run(&["apply", "-f", plan.to_str().unwrap(), "--verbose"]);
    out.assert_code(3);
    assert!(
        out.stdout
            .contains("= unchanged database connection database/config/redis"),
        "{}",
        out.stdout
    );
    let last = out.stderr.lines().last().unwrap();
    assert!(
        last.contains("database_creds database/creds/cache"),
        "{last}"
    );
    assert!(last.contains("connection database/config/redis"), "{last}");
    assert_no_secrets(&out, &[&password_a, &password_b]);
}

#[test]
fn unreadable_kubernetes_secrets_fail_only_their_objects() {
    let password = format!("redis-{}", random_hex(8));
    let world = World::new(&password);
    world.kube.set_secret("redis", "nokey", &[("other", "x")]);
    world
        .kube
        .set_secret("redis", "locked", &[("redis-password", &password)]);
    world.kube.forbid("redis", "locked");
    let connection = |name: &str, secret: &str| {
        format!(
            r#"      {name}:
        plugin_name: redis-database-plugin
        sync: always
        allowed_roles: ["*"]
        config:
          host: ${{REDIS_HOST}}
          port: ${{REDIS_PORT}}
          username: default
          password: {{ secretKeyRef: {{ namespace: redis, name: {secret}, key: redis-password }} }}
"#
        )
    };
    let plan = world.plan(
        "plan.yaml",
        &format!(
            "version: 1\nmounts:\n  database: {{ type: database }}\ndatabases:\n  database:\n    connections:\n{}{}{}{}",
            connection("good", "redis"),
            connection("missing", "absent"),
            connection("nokey", "nokey"),
            connection("forbidden", "locked"),
        ),
    );
    let (out, report) = world.apply(&plan);
    out.assert_code(1);
    assert_eq!(action_of(&report, "database/config/good"), "create");
    for (name, expect) in [
        ("missing", "Kubernetes secret redis/absent not found"),
        (
            "nokey",
            "Kubernetes secret redis/nokey has no key `redis-password`",
        ),
        (
            "forbidden",
            "reading Kubernetes secret redis/locked is forbidden",
        ),
    ] {
        let path = format!("database/config/{name}");
        assert_eq!(action_of(&report, &path), "failed");
        let object = object_of(&report, &path);
        assert!(
            object["error"].as_str().unwrap().contains(expect),
            "{object:#}"
        );
        assert!(
            world.bao.read(&path).is_none(),
            "nothing written for {path}"
        );
    }
    assert!(world.bao.read("database/config/good").is_some());
    assert_eq!(
        world.kube.secret_gets("redis", "redis"),
        1,
        "each secret fetched once"
    );
    let last = out.stderr.lines().last().unwrap();
    assert!(last.contains("3 of 5 objects failed"), "{last}");
    assert_no_secrets(&out, &[&password]);
}

/// The full example: Redis from a Kubernetes secret, PostgreSQL created once
/// with its root rotated, a generated session key, roles, policies and every
/// kind of check.
#[test]
fn whispr_example_converges_verifies_and_stays_stable() {
    let redis_password = format!("redis-{}", random_hex(8));
    let mut world = World::new(&redis_password);
    let pg = Postgres::start();
    let bootstrap = format!("boot-{}", random_hex(8));
    pg.psql(&format!(
        "CREATE ROLE vault LOGIN CREATEROLE PASSWORD '{bootstrap}'; CREATE DATABASE whispr OWNER vault; \
         CREATE ROLE whispr_report LOGIN PASSWORD 'set-by-hand';"
    ));
    world.set("PG_HOST", "127.0.0.1");
    world.set("PG_PORT", &pg.port.to_string());
    world.set("PG_BOOTSTRAP_PASSWORD", &bootstrap);
    let plan = repo_root().join("config/examples/whispr.yaml");

    let (out, cold) = world.apply(&plan);
    out.assert_success();
    assert_eq!(summary(&cold, "verify_passed"), 5, "{cold:#}");
    assert_eq!(action_of(&cold, "database/config/postgres"), "create");
    assert!(
        !pg.can_login_db("vault", &bootstrap, "whispr"),
        "rotate_root replaced the bootstrap password"
    );
    let session_key = kv_data(&world.bao, "app", "whispr/config")["SESSION_KEY"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(session_key.len(), 48);
    let mut secrets = world.secrets();
    secrets.push(session_key.clone());
    let secret_refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    assert_no_secrets(&out, &secret_refs);

    for run in 1..=5 {
        let (out, rerun) = world.apply(&plan);
        out.assert_success();
        assert_no_secrets(&out, &secret_refs);
        assert_eq!(summary(&rerun, "changes"), 0, "run {run}: {rerun:#}");
        assert_eq!(
            summary(&rerun, "synced"),
            1,
            "only the redis connection is re-synced"
        );
        assert_eq!(
            rerun["requests"]["writes"], 1,
            "run {run}: only the sync writes"
        );
        assert_eq!(action_of(&rerun, "database/config/postgres"), "unchanged");
        assert_eq!(summary(&rerun, "verify_passed"), 5);
        assert_eq!(
            kv_data(&world.bao, "app", "whispr/config")["SESSION_KEY"],
            session_key.as_str(),
            "run {run}: a generated value is never regenerated"
        );
        assert_eq!(kv_version(&world.bao, "app", "whispr/config"), 1);
    }
    assert_eq!(
        world.kube.secret_gets("redis", "redis"),
        6,
        "one fetch per run"
    );

    // Dynamic PostgreSQL credentials issued by the rotated connection log in for real.
    let creds = world.bao.read("database/creds/whispr-app").unwrap();
    let (user, pass) = (
        creds["data"]["username"].as_str().unwrap(),
        creds["data"]["password"].as_str().unwrap(),
    );
    assert!(
        pg.can_login_db(user, pass, "whispr"),
        "dynamic creds log in to PostgreSQL"
    );

    // A plan with a different session key source still keeps the stored value.
    let overwrite = std::fs::read_to_string(&plan)
        .unwrap()
        .replace("mode: merge", "mode: overwrite")
        .replace("length: 48", "length: 64");
    let overwrite = world.plan("overwrite.yaml", &overwrite);
    let (out, _) = world.apply(&overwrite);
    out.assert_success();
    assert_eq!(
        kv_data(&world.bao, "app", "whispr/config")["SESSION_KEY"],
        session_key.as_str()
    );
}

#[test]
fn an_unreachable_kubernetes_api_fails_the_objects_that_need_it() {
    let bao = Bao::start_dev();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = {
        let kube = KubeApi::start();
        kube.write_kubeconfig(dir.path())
    }; // the stand-in is gone: its port refuses connections
    let plan = plan_file(
        dir.path(),
        "plan.yaml",
        r#"
version: 1
mounts:
  app: { type: kv, options: { version: "2" } }
kv:
  app:
    from-cluster: { data: { TOKEN: { secretKeyRef: { namespace: ops, name: api, key: token } } } }
    literal: { data: { MODE: plain } }
"#,
    );
    let out = vc(
        &bao,
        &["apply", "-f", plan.to_str().unwrap(), "--output", "json"],
        &[("KUBECONFIG", kubeconfig.to_str().unwrap())],
    );
    out.assert_code(1);
    let report = parse_report(&out);
    assert_eq!(action_of(&report, "app/data/from-cluster"), "failed");
    assert_eq!(action_of(&report, "app/data/literal"), "create");
    let object = object_of(&report, "app/data/from-cluster");
    assert!(
        object["error"]
            .as_str()
            .unwrap()
            .contains("cannot read Kubernetes secret ops/api"),
        "{object:#}"
    );
    assert!(bao.read("app/data/from-cluster").is_none());
}
