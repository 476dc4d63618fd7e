//! KV fixtures, on KV v2 (`<mount>/data/<path>`, every write carries a
//! check-and-set version so a concurrent writer is never clobbered, and an
//! unchanged secret gets no new version) and KV v1 (`<mount>/<path>`,
//! read-compare-write). Three modes: create (only when absent), merge
//! (listed keys added or replaced, others kept) and overwrite (exactly the
//! listed keys). Sources work at any depth of the data; `generate` values are
//! created once and then read back, never replaced.

use serde_json::{json, Map, Value as Json};

mod current;
mod stamp;

use current::Current;
use stamp::stamp_only;

use super::compare::{self, FieldChange};
use super::context::table_entry;
use super::field_list::FieldList;
use super::mount::kv_version;
use super::{Action, Change, Context, Diff, ObjectError, ObjectId, Request, Resource};
use crate::paths;
use crate::plan::model::KvMode;
use crate::secret::{self, is_secret_name};
use crate::sources::generate::Generate;
use crate::sources::resolve::SourceError;
use crate::sources::{source_of, Source};

pub struct KvResource {
    pub id: ObjectId,
    pub mount: String,
    pub path: String,
    pub mode: KvMode,
    pub data: FieldList,
    /// The KV version the plan declares for this mount when it enables it
    /// (then the mount may not exist yet in plan mode); `None` otherwise.
    pub declared_version: Option<u8>,
}

/// The planned value of one top-level key after resolution.
struct Key {
    value: Json,
    /// Shown as `<redacted>` and scrubbed from all output.
    hidden: bool,
    generated: bool,
}

impl KvResource {
    /// The mount's KV version: the server's, or the plan's for a mount the plan creates.
    async fn version(&self, ctx: &Context) -> Result<u8, ObjectError> {
        let mut table = ctx.mount_table().await?;
        let planned_other = |table: &serde_json::Value| {
            let have = table_entry(table, &self.mount).and_then(kv_version);
            self.declared_version
                .is_some_and(|v| have.is_some_and(|h| h != v.to_string()))
        };
        if planned_other(&table) {
            // The mounts stage may just have upgraded it (`upgrade: true`).
            table = ctx.fresh_mount_table().await?;
        }
        let Some(entry) = table_entry(&table, &self.mount) else {
            return self.declared_version.ok_or_else(|| {
                ObjectError::Invalid(format!(
                    "KV mount `{}` does not exist and the plan does not enable it; add it under `mounts:`",
                    self.mount
                ))
            });
        };
        let kind = entry.get("type").and_then(Json::as_str).unwrap_or("");
        match (kind, kv_version(entry).as_deref()) {
            ("kv", Some("2")) => Ok(2),
            ("kv", _) | ("generic", _) => Ok(1),
            _ => Err(ObjectError::Invalid(format!(
                "mount `{}` is of type `{kind}`, not a KV engine; kv fixtures need a KV v1 or v2 mount",
                self.mount
            ))),
        }
    }

    async fn planned(
        &self,
        ctx: &Context,
        current: &Current<'_>,
    ) -> Result<Vec<(String, Key)>, ObjectError> {
        let mut keys = Vec::with_capacity(self.data.len());
        for (name, spec) in &self.data {
            let mut key = Key {
                value: Json::Null,
                hidden: is_secret_name(name),
                generated: false,
            };
            // Parsed only for a `generate` source, which keeps it.
            let have = if generates(spec) {
                current.value(name)?
            } else {
                None
            };
            key.value = resolve(ctx, spec, have.as_ref(), &mut key).await?;
            if key.hidden {
                secret::register_json(&key.value);
            }
            keys.push((name.clone(), key));
        }
        Ok(keys)
    }
}

/// Whether `spec` holds a `generate` source at any depth (a malformed
/// source fails in `resolve`).
fn generates(spec: &Json) -> bool {
    match source_of(spec) {
        Ok(Some(source)) => matches!(source, Source::Generate(_)),
        Err(_) => false,
        Ok(None) => match spec {
            Json::Object(map) => map.values().any(generates),
            Json::Array(items) => items.iter().any(generates),
            _ => false,
        },
    }
}

/// Resolves sources at any depth of `spec`. A `generate` keeps the value
/// Vault holds at the same place (`have`), and generates one only when absent.
fn resolve<'a>(
    ctx: &'a Context,
    spec: &'a Json,
    have: Option<&'a Json>,
    key: &'a mut Key,
) -> futures::future::BoxFuture<'a, Result<Json, ObjectError>> {
    Box::pin(async move {
        match source_of(spec).map_err(|m| ObjectError::Source(SourceError::Malformed(m)))? {
            Some(Source::Generate(generate)) => {
                key.hidden = true;
                match have {
                    // Kept forever: Vault is the source of truth once it holds a value.
                    Some(existing) if !existing.is_null() => Ok(existing.clone()),
                    _ => {
                        key.generated = true;
                        Ok(Json::String(generated_value(ctx, &generate).await?))
                    }
                }
            }
            Some(_) => {
                key.hidden = true;
                Ok(ctx.resolver.resolve(spec).await?.value)
            }
            None => match spec {
                Json::Object(map) => {
                    let mut out = Map::with_capacity(map.len());
                    for (name, child) in map {
                        if is_secret_name(name) {
                            key.hidden = true;
                        }
                        let have = have.and_then(|h| h.get(name));
                        out.insert(name.clone(), resolve(ctx, child, have, key).await?);
                    }
                    Ok(Json::Object(out))
                }
                Json::Array(items) => {
                    let mut out = Vec::with_capacity(items.len());
                    for (i, child) in items.iter().enumerate() {
                        let have = have.and_then(|h| h.get(i));
                        out.push(resolve(ctx, child, have, key).await?);
                    }
                    Ok(Json::Array(out))
                }
                other => Ok(other.clone()),
            },
        }
    })
}

impl Resource for KvResource {
    fn id(&self) -> &ObjectId {
        &self.id
    }

    /// On v2 the metadata path: deleting it removes every version.
    fn ownership(&self) -> Option<super::owned::Owned> {
        let v2_data = paths::kv::data(&self.mount, &self.path);
        let delete = if self.id.path == v2_data {
            paths::kv::metadata(&self.mount, &self.path)
        } else {
            self.id.path.clone()
        };
        Some(super::owned::Owned::new(
            super::owned::PruneKind::Kv,
            delete,
        ))
    }

    fn diff<'a>(&'a self, ctx: &'a Context) -> Diff<'a> {
        Box::pin(async move {
            let version = self.version(ctx).await?;
            let (read_path, write_path, list_dir) = match version {
                2 => {
                    let data = paths::kv::data(&self.mount, &self.path);
                    (data.clone(), data, paths::kv::metadata_dir(&self.mount))
                }
                _ => {
                    let path = paths::kv::v1(&self.mount, &self.path);
                    (path.clone(), path, self.mount.clone())
                }
            };
            let exists = ctx.kv_exists(&list_dir, &self.path).await?;
            // Kept as the raw answer and borrowed from: a value may be a large file.
            let raw = match exists {
                Some(false) => None,
                _ => ctx.vault.read_raw(&read_path).await?,
            };
            let current = Current::parse(raw.as_deref(), version, &read_path)?;
            let planned = self.planned(ctx, &current).await?;
            let body = |data: Map<String, Json>| match version {
                // Check-and-set: a concurrent writer is never clobbered.
                2 => json!({ "options": { "cas": current.cas() }, "data": data }),
                _ => Json::Object(data),
            };

            if !current.exists() {
                let fields = planned
                    .iter()
                    .map(|(name, key)| FieldChange {
                        field: name.clone(),
                        old: None,
                        new: Some(render_new(key)),
                    })
                    .collect();
                // Moved, not copied: a value may be a large file source.
                let data: Map<String, Json> =
                    planned.into_iter().map(|(k, v)| (k, v.value)).collect();
                let mut requests = vec![Request::post(write_path, body(data))];
                if version == 2 && ctx.ownership.track {
                    requests.push(self.stamp_request(ctx, None));
                }
                return Ok(Change::new(Action::Create, fields, requests));
            }
            // Also registers the secrets among the current values.
            let mut fields = current.changes(&planned)?;
            let stamp = match version {
                2 => self.restamp(ctx, current.custom_metadata()).await?,
                _ => None,
            };
            if self.mode == KvMode::Create {
                return Ok(stamp_only(stamp));
            }
            if self.mode == KvMode::Overwrite {
                for name in current.names().filter(|k| !self.data.contains_key(k)) {
                    fields.push(FieldChange {
                        field: name.to_owned(),
                        old: Some(secret::REDACTED.to_owned()),
                        new: None,
                    });
                }
            }
            if fields.is_empty() {
                return Ok(stamp_only(stamp));
            }
            let target = match self.mode {
                KvMode::Merge => current.merged(planned)?,
                _ => planned.into_iter().map(|(k, v)| (k, v.value)).collect(),
            };
            let mut requests = vec![Request::post(write_path, body(target))];
            requests.extend(stamp.map(|(_, request)| request));
            Ok(Change::new(Action::Update, fields, requests))
        })
    }
}

fn render_new(key: &Key) -> String {
    if key.generated {
        format!("{} (generated)", secret::REDACTED)
    } else {
        compare::render(&key.value, key.hidden)
    }
}

/// A new value for a `generate` key: random here, or from Vault's password policy.
async fn generated_value(ctx: &Context, generate: &Generate) -> Result<String, ObjectError> {
    match generate {
        Generate::Random { length, charset } => Ok(charset.random(*length)),
        Generate::Policy(name) => {
            let path = format!("sys/policies/password/{name}/generate");
            let answer = ctx.vault.read(&path).await?;
            answer
                .as_ref()
                .and_then(|a| a.pointer("/data/password"))
                .and_then(Json::as_str)
                .map(str::to_owned)
                .ok_or_else(|| {
                    ObjectError::Invalid(format!(
                        "password policy `{name}` does not exist ({path} returned nothing); \
                         add it under `password_policies:`"
                    ))
                })
        }
    }
}
