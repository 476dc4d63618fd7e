//! Database secret engine connections (`<mount>/config/<name>`); its roles
//! and static roles are plain `FieldsResource`s.
//!
//! A connection with `sync: always` is written on every run with the current
//! password from its source (a Helm chart may have regenerated it). With
//! `sync: if-missing` it is created once (and its root rotated once when
//! asked); afterwards only non-secret fields are compared and written, so the
//! password Vault holds (perhaps rotated) is never replaced.

use std::collections::BTreeMap;

use serde_json::{json, Value as Json};

use super::compare::{self, Planned};
use super::{resolve_fields, Action, Change, Context, Diff, ObjectId, Request, Resource};
use crate::plan::model::{Connection, Fields, SyncPolicy};
use crate::secret::is_secret_name;

pub struct ConnectionResource {
    pub id: ObjectId,
    pub mount: String,
    pub name: String,
    pub spec: ConnectionSpec,
}

pub struct ConnectionSpec {
    pub plugin_name: String,
    pub sync: SyncPolicy,
    pub verify_connection: bool,
    pub allowed_roles: Vec<String>,
    pub rotate_root: bool,
    pub config: Fields,
}

impl From<&Connection> for ConnectionSpec {
    fn from(c: &Connection) -> Self {
        ConnectionSpec {
            plugin_name: c.plugin_name.clone(),
            sync: c.sync,
            verify_connection: c.verify_connection,
            allowed_roles: c.allowed_roles.clone(),
            rotate_root: c.rotate_root,
            config: c.config.clone(),
        }
    }
}

impl ConnectionResource {
    fn body(&self, config: &BTreeMap<String, Planned>, with_secrets: bool) -> Json {
        let mut body = json!({
            "plugin_name": self.spec.plugin_name,
            "verify_connection": self.spec.verify_connection,
            "allowed_roles": self.spec.allowed_roles,
        });
        for (name, planned) in config {
            if with_secrets || !(planned.sensitive || is_secret_name(name)) {
                body[name.as_str()] = planned.value.clone();
            }
        }
        body
    }

    /// Non-secret planned fields, to compare with what Vault shows.
    fn visible(&self, config: &BTreeMap<String, Planned>) -> BTreeMap<String, Planned> {
        let mut visible: BTreeMap<String, Planned> = config
            .iter()
            .filter(|(name, p)| !(p.sensitive || is_secret_name(name)))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let plain = |value: Json| Planned {
            value,
            sensitive: false,
        };
        visible.insert("plugin_name".into(), plain(json!(self.spec.plugin_name)));
        visible.insert(
            "allowed_roles".into(),
            plain(json!(self.spec.allowed_roles)),
        );
        visible
    }
}

/// Vault shows plugin settings under `connection_details`, the rest at the top.
fn flatten(current: &Json) -> Json {
    let mut flat = current.get("data").cloned().unwrap_or(Json::Null);
    if let Some(details) = flat
        .get("connection_details")
        .and_then(Json::as_object)
        .cloned()
    {
        for (k, v) in details {
            flat[k.as_str()] = v;
        }
    }
    flat
}

impl Resource for ConnectionResource {
    fn id(&self) -> &ObjectId {
        &self.id
    }

    fn diff<'a>(&'a self, ctx: &'a Context) -> Diff<'a> {
        Box::pin(async move {
            let config = resolve_fields(ctx, &self.spec.config).await?;
            let exists = ctx
                .listed(&format!("{}/config", self.mount), &self.name)
                .await?;
            let current = match exists {
                Some(false) => None,
                _ => ctx.vault.read(&self.id.path).await?,
            };
            let write_all = Request::post(self.id.path.clone(), self.body(&config, true));
            let Some(current) = current else {
                let mut requests = vec![write_all];
                if self.spec.rotate_root {
                    requests.push(Request::post(
                        format!("{}/rotate-root/{}", self.mount, self.name),
                        json!({}),
                    ));
                }
                let mut shown = config.clone();
                shown.extend(self.visible(&config));
                return Ok(Change {
                    action: Action::Create,
                    fields: compare::created_fields(&shown),
                    requests,
                });
            };
            let fields = compare::diff_fields(&self.visible(&config), &flatten(&current));
            match self.spec.sync {
                SyncPolicy::Always => Ok(Change {
                    action: Action::Synced,
                    fields,
                    requests: vec![write_all],
                }),
                SyncPolicy::IfMissing if fields.is_empty() => Ok(Change::unchanged()),
                SyncPolicy::IfMissing => Ok(Change {
                    action: Action::Update,
                    fields,
                    // Without the password: Vault keeps the one it holds.
                    requests: vec![Request::post(
                        self.id.path.clone(),
                        self.body(&config, false),
                    )],
                }),
            }
        })
    }
}
