//! Where the check looks values up: Vault (one read per distinct path and
//! version), or, offline (`verify --against-plan`), the plan's `kv:`
//! fixtures, whose value sources count as present.

use std::collections::{BTreeSet, HashMap};

use futures::stream::{self, StreamExt};
use serde_json::Value as Json;

use super::mapping::Layout;
use crate::paths;
use crate::plan::model::{Fields, Plan};
use crate::resources::Context;
use crate::sources::source_of;
use crate::verify::{request_failed, CheckError};

/// A Vault path and the KV v2 version ESO asks for (none: the latest).
pub type Read = (String, Option<String>);

/// A secret's data (`None`: no such secret), or why it could not be read.
pub type Fetched = Result<Option<Json>, CheckError>;

pub enum Values<'a> {
    Vault(&'a Context),
    /// The plan's fixtures, keyed by the path ESO would read them at.
    Plan(HashMap<String, &'a Fields>),
}

impl<'a> Values<'a> {
    /// The fixtures of `plan` under the paths a store with `layout` reads;
    /// a mount the plan declares decides its own KV version.
    pub fn plan(plan: &'a Plan, layout: &Layout) -> Values<'a> {
        let mut fixtures = HashMap::new();
        for (mount, entries) in &plan.kv {
            let mount = mount.trim_matches('/');
            let v2 = planned_v2(plan, mount).unwrap_or(layout.v2);
            for (path, fixture) in entries {
                let path = path.trim_matches('/');
                let read = if v2 {
                    paths::kv::data(mount, path)
                } else {
                    format!("{mount}/{path}")
                };
                fixtures.insert(read, &fixture.data);
            }
        }
        Values::Plan(fixtures)
    }

    /// The data of every distinct read, `concurrency` at a time.
    pub async fn fetch_all(
        &self,
        reads: BTreeSet<Read>,
        v2: bool,
        concurrency: usize,
    ) -> HashMap<Read, Fetched> {
        stream::iter(reads)
            .map(|read| async move {
                let fetched = self.fetch(&read, v2).await;
                (read, fetched)
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await
    }

    async fn fetch(&self, (path, version): &Read, v2: bool) -> Fetched {
        let ctx = match self {
            Values::Plan(fixtures) => {
                let data = fixtures.get(path).map(|fields| {
                    Json::Object(fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                });
                return Ok(data);
            }
            Values::Vault(ctx) => ctx,
        };
        let answer = match version.as_deref().filter(|_| v2) {
            Some(version) => {
                ctx.vault
                    .read_query(path, &format!("version={version}"))
                    .await
            }
            None => ctx.vault.read(path).await,
        };
        let body = answer.map_err(|e| {
            let reason = match &e {
                crate::vault::VaultError::Status { code, message, .. } => {
                    format!("Vault answered {code}: {message}")
                }
                other => other.to_string(),
            };
            request_failed(&e, true, format!("cannot read {path}: {reason}"))
        })?;
        let pointer = if v2 { "/data/data" } else { "/data" };
        Ok(body
            .as_ref()
            .and_then(|b| b.pointer(pointer))
            .filter(|d| !d.is_null())
            .cloned())
    }

    /// Plan values that are sources (`{env: ..}`) stand for any content.
    pub fn opaque(&self) -> fn(&Json) -> bool {
        match self {
            Values::Vault(_) => |_| false,
            Values::Plan(_) => |v| matches!(source_of(v), Ok(Some(_))),
        }
    }

    /// How to say that a secret is not there.
    pub fn absent(&self) -> &'static str {
        match self {
            Values::Vault(_) => "does not exist in Vault",
            Values::Plan(_) => "has no kv fixture in the plan",
        }
    }
}

/// The KV version the plan declares for `mount`, if it declares the mount.
fn planned_v2(plan: &Plan, mount: &str) -> Option<bool> {
    let declared = plan
        .mounts
        .iter()
        .find(|(path, _)| path.trim_matches('/') == mount)?
        .1;
    let version = declared
        .options
        .get("version")
        .map(|v| v.to_string().trim_matches('"').to_owned());
    Some(match declared.kind.as_str() {
        "kv-v2" => true,
        "kv" => version.as_deref() == Some("2"),
        _ => false,
    })
}
