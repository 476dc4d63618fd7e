//! KV v2 fixtures at `<mount>/data/<path>`, in three modes:
//! create (only when absent), merge (listed keys added or replaced, others
//! kept) and overwrite (exactly the listed keys). Every write carries a
//! check-and-set version so a concurrent writer is never clobbered.
//! `generate` values are created once and then read back, never replaced.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value as Json};

use super::compare::{self, FieldChange};
use super::context::table_entry;
use super::mount::kv_version;
use super::{Action, Change, Context, Diff, ObjectError, ObjectId, Request, Resource};
use crate::plan::model::{Fields, KvMode};
use crate::secret::{self, is_secret_name};
use crate::sources::{source_of, Source};

pub struct KvResource {
    pub id: ObjectId,
    pub mount: String,
    pub path: String,
    pub mode: KvMode,
    pub data: Fields,
    /// Whether the plan itself enables this mount (then it may not exist yet in plan mode).
    pub mount_in_plan: bool,
}

/// The planned value of one key after resolution.
struct Key {
    value: Json,
    /// Shown as `<redacted>` and scrubbed from all output.
    hidden: bool,
    generated: bool,
}

impl KvResource {
    async fn check_mount(&self, ctx: &Context) -> Result<(), ObjectError> {
        let table = ctx.mount_table().await?;
        match table_entry(table, &self.mount) {
            None if self.mount_in_plan => Ok(()),
            None => Err(ObjectError::Conflict(format!(
                "KV mount `{}` does not exist and the plan does not enable it; add it under `mounts:`",
                self.mount
            ))),
            Some(entry) => {
                let kind = entry.get("type").and_then(Json::as_str).unwrap_or("");
                if kind == "kv" && kv_version(entry).as_deref() == Some("2") {
                    Ok(())
                } else {
                    Err(ObjectError::Conflict(format!(
                        "mount `{}` is not a KV version 2 engine (type `{kind}`, version {}); kv fixtures need KV v2",
                        self.mount,
                        kv_version(entry).unwrap_or_else(|| "1".into())
                    )))
                }
            }
        }
    }

    async fn planned(
        &self,
        ctx: &Context,
        current: Option<&Map<String, Json>>,
    ) -> Result<BTreeMap<String, Key>, ObjectError> {
        let mut keys = BTreeMap::new();
        for (name, spec) in &self.data {
            let source = source_of(spec).map_err(|m| {
                ObjectError::Source(crate::sources::resolve::SourceError::Malformed(m))
            })?;
            let key = match source {
                Some(Source::Generate(generate)) => match current.and_then(|c| c.get(name)) {
                    // Kept forever: Vault is the source of truth once it holds a value.
                    Some(existing) => Key {
                        value: existing.clone(),
                        hidden: true,
                        generated: false,
                    },
                    None => Key {
                        value: Json::String(generated_value(ctx, &generate).await?),
                        hidden: true,
                        generated: true,
                    },
                },
                Some(_) => {
                    let resolved = ctx.resolver.resolve(spec).await?;
                    Key {
                        value: resolved.value,
                        hidden: true,
                        generated: false,
                    }
                }
                None => Key {
                    value: spec.clone(),
                    hidden: is_secret_name(name),
                    generated: false,
                },
            };
            if key.hidden {
                secret::register_json(&key.value);
            }
            keys.insert(name.clone(), key);
        }
        Ok(keys)
    }
}

impl Resource for KvResource {
    fn id(&self) -> &ObjectId {
        &self.id
    }

    fn diff<'a>(&'a self, ctx: &'a Context) -> Diff<'a> {
        Box::pin(async move {
            self.check_mount(ctx).await?;
            let exists = ctx.kv_exists(&self.mount, &self.path).await?;
            let data_path = format!("{}/data/{}", self.mount, self.path);
            let current = match exists {
                Some(false) => None,
                _ => ctx.vault.read(&data_path).await?,
            };
            // A deleted or destroyed latest version reads back with `data: null`.
            let version = current
                .as_ref()
                .and_then(|c| c.pointer("/data/metadata/version"))
                .and_then(Json::as_u64)
                .unwrap_or(0);
            let current_data = current
                .as_ref()
                .and_then(|c| c.pointer("/data/data"))
                .and_then(Json::as_object);
            let planned = self.planned(ctx, current_data).await?;
            for (name, value) in current_data.into_iter().flatten() {
                let planned_hidden = planned.get(name).map(|k| k.hidden);
                if planned_hidden.unwrap_or(true) || is_secret_name(name) {
                    secret::register_json(value);
                }
            }

            let Some(current_data) = current_data else {
                let body: Map<String, Json> = planned
                    .iter()
                    .map(|(k, v)| (k.clone(), v.value.clone()))
                    .collect();
                let fields = planned
                    .iter()
                    .map(|(name, key)| FieldChange {
                        field: name.clone(),
                        old: None,
                        new: Some(render_new(key)),
                    })
                    .collect();
                return Ok(Change {
                    action: Action::Create,
                    fields,
                    requests: vec![Request::post(
                        data_path,
                        json!({ "options": { "cas": version }, "data": body }),
                    )],
                });
            };
            if self.mode == KvMode::Create {
                return Ok(Change::unchanged());
            }

            let mut fields = Vec::new();
            let mut target = match self.mode {
                KvMode::Merge => current_data.clone(),
                _ => Map::new(),
            };
            for (name, key) in &planned {
                match current_data.get(name) {
                    Some(have) if have == &key.value => {}
                    have => fields.push(FieldChange {
                        field: name.clone(),
                        old: have.map(|h| compare::render(h, key.hidden)),
                        new: Some(render_new(key)),
                    }),
                }
                target.insert(name.clone(), key.value.clone());
            }
            if self.mode == KvMode::Overwrite {
                for name in current_data.keys().filter(|k| !planned.contains_key(*k)) {
                    fields.push(FieldChange {
                        field: name.clone(),
                        old: Some(secret::REDACTED.to_owned()),
                        new: None,
                    });
                }
            }
            if fields.is_empty() {
                return Ok(Change::unchanged());
            }
            Ok(Change {
                action: Action::Update,
                fields,
                requests: vec![Request::post(
                    data_path,
                    json!({ "options": { "cas": version }, "data": target }),
                )],
            })
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
async fn generated_value(
    ctx: &Context,
    generate: &crate::sources::generate::Generate,
) -> Result<String, ObjectError> {
    use crate::sources::generate::Generate;
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
                    ObjectError::Conflict(format!(
                        "password policy `{name}` generated no value at {path}; does the policy exist?"
                    ))
                })
        }
    }
}
