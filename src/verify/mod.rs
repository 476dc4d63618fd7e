//! The verify checks: proof that the converged server works, not just that
//! writes succeeded. Run after `apply` (unless `--no-verify`) and by `verify`.

mod checks;
mod eso;
mod pki;
mod token;

use futures::stream::{self, StreamExt};

use crate::engine::run::Failed;
use crate::engine::CheckReport;
use crate::plan::model::Check;
use crate::plan::LoadedPlan;
use crate::resources::{deps, Context};
use crate::secret::scrub;
use crate::sources::kubernetes::KubeSecrets;
use crate::vault::VaultError;

use crate::paths;
use checks::{capabilities, database_creds, kv_keys, login};
use pki::pki_issue;
use token::token;

/// Runs the checks; a check that uses an object that failed (`failed`: its
/// dependency key) is skipped, not run.
pub async fn run_checks(
    ctx: &Context,
    loaded: &LoadedPlan,
    concurrency: usize,
    failed: &Failed,
) -> Vec<CheckReport> {
    let checks = loaded.plan.verify.iter().enumerate();
    stream::iter(checks)
        .map(|(i, check)| async move {
            let (name, target) = describe(check);
            let location = loaded
                .loc(&["verify", &i.to_string()])
                .map(|l| format!("{}:{}", l.file, l.line));
            if let Some(cause) = needs(check).iter().find_map(|n| failed.get(n)) {
                return vec![CheckReport {
                    check: name.to_owned(),
                    target,
                    location,
                    passed: false,
                    skipped: true,
                    could_not_run: false,
                    message: Some(format!("not run: it uses {cause}, which failed")),
                }];
            }
            let outcome = match check {
                // One report per ExternalSecret.
                Check::ExternalSecrets(c) => {
                    let kube = ctx.resolver.kube();
                    let values = |_: &_| eso::Values::Vault(ctx);
                    return eso::check(values, kube, loaded, i, c, concurrency).await;
                }
                Check::KvKeys(c) => kv_keys(ctx, c).await,
                Check::DatabaseCreds(c) => database_creds(ctx, c).await,
                Check::Login(c) => login(ctx, c).await,
                Check::Capabilities(c) => capabilities(ctx, c).await,
                Check::PkiIssue(c) => pki_issue(ctx, &loaded.plan, c).await,
                Check::Token(c) => token(ctx, &loaded.plan, c).await,
            };
            let (message, could_not_run) = match outcome {
                Ok(()) => (None, false),
                Err(e) => (Some(scrub(&e.message)), e.could_not_run),
            };
            vec![CheckReport {
                check: name.to_owned(),
                target,
                location,
                passed: message.is_none(),
                skipped: false,
                could_not_run,
                message,
            }]
        })
        .buffered(concurrency.max(1))
        .flat_map(stream::iter)
        .collect()
        .await
}

/// `verify --against-plan`: the `external_secrets` checks against the
/// plan's `kv:` fixtures, without Vault (CI before merge).
pub async fn run_against_plan(loaded: &LoadedPlan, concurrency: usize) -> Vec<CheckReport> {
    let kube = KubeSecrets::default();
    let mut reports = Vec::new();
    for (i, check) in loaded.plan.verify.iter().enumerate() {
        if let Check::ExternalSecrets(c) = check {
            let values = |layout: &_| eso::Values::plan(&loaded.plan, layout);
            reports.extend(eso::check(values, &kube, loaded, i, c, concurrency).await);
        }
    }
    reports
}

/// The dependency keys of the objects a check uses.
fn needs(check: &Check) -> Vec<String> {
    match check {
        Check::KvKeys(c) => vec![
            deps::mount(&c.mount),
            deps::object(&paths::kv::data(&c.mount, &c.path)),
            deps::object(&format!("{}/{}", c.mount, c.path)),
        ],
        Check::DatabaseCreds(c) => vec![
            deps::mount(&c.mount),
            deps::object(&format!("{}/roles/{}", c.mount, c.role)),
        ],
        Check::Login(c) => {
            let mut keys = vec![deps::auth(&c.auth)];
            if let Some(role) = &c.role {
                keys.push(deps::object(&format!("auth/{}/role/{role}", c.auth)));
            }
            keys
        }
        Check::Capabilities(c) => vec![deps::policy(&c.policy)],
        Check::PkiIssue(c) => vec![
            deps::mount(&c.mount),
            deps::pki_ca(&c.mount),
            deps::object(&format!("{}/roles/{}", c.mount, c.role)),
        ],
        Check::Token(c) => vec![format!("token:{}", c.name)],
        Check::ExternalSecrets(c) => c.mount().map(deps::mount).into_iter().collect(),
    }
}

fn describe(check: &Check) -> (&'static str, String) {
    match check {
        Check::KvKeys(c) => ("kv_keys", format!("{}/{}", c.mount, c.path)),
        Check::DatabaseCreds(c) => ("database_creds", format!("{}/creds/{}", c.mount, c.role)),
        Check::Login(c) => (
            "login",
            format!(
                "auth/{}{}",
                c.auth,
                c.role
                    .as_ref()
                    .map(|r| format!(" role {r}"))
                    .unwrap_or_default()
            ),
        ),
        Check::Capabilities(c) => ("capabilities", format!("policy {} on {}", c.policy, c.path)),
        Check::PkiIssue(c) => ("pki_issue", format!("{}/issue/{}", c.mount, c.role)),
        Check::Token(c) => ("token", format!("tokens/{}", c.name)),
        Check::ExternalSecrets(c) => ("external_secrets", format!("store {}", c.store)),
    }
}

/// Why a check did not pass: it ran and the answer was wrong (exit 3), or
/// it could not run because Vault was unreachable, unavailable or refused
/// the job's token (exit 1: a retry can help).
struct CheckError {
    message: String,
    could_not_run: bool,
}

impl From<String> for CheckError {
    fn from(message: String) -> Self {
        CheckError {
            message,
            could_not_run: false,
        }
    }
}

impl From<&str> for CheckError {
    fn from(message: &str) -> Self {
        message.to_owned().into()
    }
}

/// A failed request of a check: an outage, or a 403 for the job's own
/// token (`forbidden_is_infrastructure`), means the check could not run.
fn request_failed(
    e: &VaultError,
    forbidden_is_infrastructure: bool,
    message: String,
) -> CheckError {
    let could_not_run = e.is_outage()
        || matches!(
            e,
            VaultError::Unavailable { .. } | VaultError::Tls { .. } | VaultError::Redirect { .. }
        )
        || (forbidden_is_infrastructure && e.code() == Some(403));
    CheckError {
        message,
        could_not_run,
    }
}
