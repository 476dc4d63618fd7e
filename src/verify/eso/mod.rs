//! `external_secrets`: every value the ExternalSecrets of one Vault store
//! read exists in Vault and is not empty (DESIGN.md "External secrets
//! check"). One report per ExternalSecret, naming each missing value's
//! manifest file:line (or namespace/name), Vault path and property.

mod cluster;
mod manifests;
mod mapping;
mod refs;
mod values;
mod yaml;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use crate::engine::CheckReport;
use crate::plan::model::ExternalSecretsCheck;
use crate::plan::LoadedPlan;
use crate::sources::kubernetes::KubeSecrets;
use mapping::{read_path, select, Found, Layout};
use refs::{ExternalSecret, RemoteRef};
pub(super) use values::Values;
use values::{Fetched, Read};

const CHECK: &str = "external_secrets";

/// What the manifests or the cluster hold for the checked store.
#[derive(Debug, Default)]
struct Gathered {
    /// The ExternalSecrets that read from the store.
    secrets: Vec<ExternalSecret>,
    /// The store's layout from its SecretStore manifest, if among the manifests.
    layout: Option<Layout>,
    /// Every store any ExternalSecret names, for a "none uses it" message.
    stores: BTreeSet<String>,
    /// ExternalSecrets found, of any store.
    seen: usize,
    /// Files that could not be read or parsed.
    problems: Vec<String>,
}

impl Gathered {
    /// The store's layout: the check's fields over the SecretStore manifest's.
    pub fn layout_with(&self, mount: Option<&str>, kv_version: Option<u8>) -> Layout {
        let found = self.layout.clone();
        Layout {
            mount: mount
                .map(str::to_owned)
                .or_else(|| found.as_ref().and_then(|l| l.mount.clone())),
            v2: kv_version.map_or_else(|| found.is_none_or(|l| l.v2), |v| v == 2),
        }
    }
}

/// The check `index` of the plan, against `values`.
pub(super) async fn check<'v>(
    values: impl FnOnce(&Layout) -> Values<'v>,
    kube: &KubeSecrets,
    loaded: &LoadedPlan,
    index: usize,
    c: &ExternalSecretsCheck,
    concurrency: usize,
) -> Vec<CheckReport> {
    let plan_location = loaded
        .loc(&["verify", &index.to_string()])
        .map(|l| format!("{}:{}", l.file, l.line));
    let report = |target: String, location: Option<String>, message: Option<String>| CheckReport {
        check: CHECK.to_owned(),
        target,
        location,
        passed: message.is_none(),
        skipped: false,
        could_not_run: false,
        message,
    };
    let root = c
        .manifests
        .as_deref()
        .map(|path| manifests_root(loaded, index, path));
    let (source, gathered) = match &root {
        Some(root) => (
            root.display().to_string(),
            manifests::read(root, &c.store, loaded.max_source_bytes),
        ),
        None => (
            "the cluster".to_owned(),
            cluster::read(kube, &c.store).await,
        ),
    };
    let gathered = match gathered {
        Ok(g) => g,
        Err(message) => {
            let mut failed = report(format!("store {}", c.store), plan_location, Some(message));
            // The API refused or was unreachable: a retry (or RBAC) can fix it.
            failed.could_not_run = c.cluster;
            return vec![failed];
        }
    };
    let mut reports: Vec<CheckReport> = gathered
        .problems
        .iter()
        .map(|p| report("manifests".to_owned(), None, Some(p.clone())))
        .collect();
    if gathered.secrets.is_empty() {
        let used: Vec<&str> = gathered.stores.iter().map(String::as_str).collect();
        reports.push(report(
            format!("store {}", c.store),
            plan_location,
            Some(format!(
                "no ExternalSecret in {source} uses store `{}` ({} found{}); fix `store` or the path",
                c.store,
                gathered.seen,
                if used.is_empty() { String::new() } else { format!(", using {}", used.join(", ")) }
            )),
        ));
        return reports;
    }
    let layout = gathered.layout_with(c.mount(), c.kv_version);
    let values = values(&layout);
    let reads: BTreeSet<Read> = gathered
        .secrets
        .iter()
        .flat_map(|s| &s.refs)
        .map(|r| read_of(&layout, r))
        .collect();
    let fetched = values.fetch_all(reads, layout.v2, concurrency).await;
    for secret in &gathered.secrets {
        let mut report = judge(secret, &layout, &fetched, &values);
        report.location = secret
            .location(secret.line)
            .or_else(|| plan_location.clone());
        reports.push(report);
    }
    reports
}

/// The manifests path, relative to the plan file that declares it.
fn manifests_root(loaded: &LoadedPlan, index: usize, path: &str) -> PathBuf {
    let path = Path::new(path);
    if path.is_absolute() {
        return path.to_owned();
    }
    let at = [
        "verify",
        &index.to_string(),
        "external_secrets",
        "manifests",
    ];
    let declared_in = loaded.loc(&at).map(|l| PathBuf::from(&*l.file));
    match declared_in.as_deref().and_then(Path::parent) {
        Some(dir) => dir.join(path),
        None => path.to_owned(),
    }
}

fn read_of(layout: &Layout, r: &RemoteRef) -> Read {
    (read_path(layout, &r.key), r.version.clone())
}

/// One ExternalSecret's report: every value it reads, found or not.
fn judge(
    secret: &ExternalSecret,
    layout: &Layout,
    fetched: &HashMap<Read, Fetched>,
    values: &Values,
) -> CheckReport {
    let mut failures = Vec::new();
    let mut could_not_run = false;
    for r in &secret.refs {
        let read = read_of(layout, r);
        let place = match secret.location(r.line) {
            Some(at) => format!("{at} {}", r.field),
            None => format!("spec.{}", r.field),
        };
        let shown = match &read.1 {
            Some(v) => format!("{} (version {v})", read.0),
            None => read.0.clone(),
        };
        let property = r.property.as_deref().filter(|p| !p.is_empty());
        let why = match fetched.get(&read) {
            Some(Ok(Some(data))) => match select(data, property, r.extract, &values.opaque()) {
                Found::Present => continue,
                Found::Absent => "is missing".to_owned(),
                Found::Empty => "is empty".to_owned(),
                Found::NotAnObject => {
                    "is not a JSON object (dataFrom.extract needs one)".to_owned()
                }
            },
            Some(Ok(None)) | None => {
                failures.push(format!("{place}: {shown} {}", values.absent()));
                continue;
            }
            Some(Err(e)) => {
                could_not_run |= e.could_not_run;
                failures.push(format!("{place}: {}", e.message));
                continue;
            }
        };
        let what = match property {
            Some(p) => format!("{shown} property `{p}`"),
            None => shown,
        };
        failures.push(format!("{place}: {what} {why}"));
    }
    let message = (!failures.is_empty()).then(|| {
        format!(
            "{} of its {} values missing or unreadable: {}",
            failures.len(),
            secret.refs.len(),
            failures.join("; ")
        )
    });
    CheckReport {
        check: CHECK.to_owned(),
        target: secret.title(),
        location: None,
        passed: message.is_none(),
        skipped: false,
        could_not_run,
        message,
    }
}
