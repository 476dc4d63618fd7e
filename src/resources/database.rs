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
        // Vault shows a password written into a URL as `xxxxx`: compare and
        // show it the same way, and keep the password out of all output.
        for planned in visible.values_mut() {
            if let Some((masked, password)) = planned.value.as_str().and_then(mask_url_password) {
                crate::secret::register(&password);
                planned.value = Json::String(masked);
            }
        }
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

/// `scheme://user:PASSWORD@host/...` → the URL with `xxxxx` as Vault shows
/// it, and the password; `None` without an inline password or for the
/// `{{password}}` template.
pub fn mask_url_password(url: &str) -> Option<(String, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let at = rest[..authority_end].rfind('@')?;
    let (user, password) = rest[..at].split_once(':')?;
    if password.is_empty() || password.contains("{{") {
        return None;
    }
    Some((
        format!("{scheme}://{user}:xxxxx{}", &rest[at..]),
        password.to_owned(),
    ))
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

/// The `Once` record of a connection's root rotation.
pub fn rotate_key(path: &str) -> String {
    format!("rotate_root:{path}")
}

impl Resource for ConnectionResource {
    fn id(&self) -> &ObjectId {
        &self.id
    }

    fn ownership(&self) -> Option<super::owned::Owned> {
        Some(super::owned::Owned::new(
            super::owned::PruneKind::DatabaseConnections,
            self.id.path.clone(),
        ))
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
            let rotate = || {
                Request::post(
                    format!("{}/rotate-root/{}", self.mount, self.name),
                    json!({}),
                )
            };
            let secret_fields: Vec<String> = config
                .iter()
                .filter(|(name, p)| p.sensitive || is_secret_name(name))
                .map(|(name, _)| name.clone())
                .collect();
            let Some(current) = current else {
                let mut shown = config.clone();
                shown.extend(self.visible(&config));
                let mut change = Change::new(
                    Action::Create,
                    compare::created_fields(&shown),
                    vec![write_all],
                );
                if self.spec.rotate_root {
                    // Creation and rotation are one step: when the rotation
                    // fails, the connection is deleted again, so the next run
                    // creates and rotates it instead of keeping the bootstrap
                    // password valid forever.
                    change.requests.push(rotate());
                    change.rollback = Some(Request::delete(self.id.path.clone()));
                    change.once = Some(rotate_key(&self.id.path));
                }
                return Ok(change);
            };
            let comparison = compare::compare_fields(&self.visible(&config), &flatten(&current));
            let mut change = match self.spec.sync {
                SyncPolicy::Always => {
                    Change::new(Action::Synced, comparison.changes, vec![write_all])
                        .with_write_only(secret_fields)
                }
                SyncPolicy::IfMissing => {
                    let never_replaced = secret_fields
                        .into_iter()
                        .map(|f| format!("{f} (never replaced with sync: if-missing)"))
                        .collect();
                    let requests = if comparison.changes.is_empty() {
                        Vec::new()
                    } else {
                        // Without the password: Vault keeps the one it holds.
                        vec![Request::post(
                            self.id.path.clone(),
                            self.body(&config, false),
                        )]
                    };
                    let action = if requests.is_empty() {
                        Action::Unchanged
                    } else {
                        Action::Update
                    };
                    Change::new(action, comparison.changes, requests)
                        .with_write_only(never_replaced)
                }
            };
            if self.spec.rotate_root {
                let key = rotate_key(&self.id.path);
                if !ctx.registry.has_once(&ctx.vault, &key).await? {
                    // Created before its rotation was recorded (or the
                    // record was lost): rotating again is harmless.
                    change.requests.push(rotate());
                    change.fields.push(compare::FieldChange {
                        field: "rotate_root".into(),
                        old: Some("not recorded".into()),
                        new: Some("rotated".into()),
                    });
                    change.once = Some(key);
                    if change.action == Action::Unchanged {
                        change.action = Action::Update;
                    }
                }
            }
            Ok(change)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_masked_as_vault_shows_them() {
        assert_eq!(
            mask_url_password("postgresql://vault:s3cr@t@db:5432/app?sslmode=disable"),
            Some((
                "postgresql://vault:xxxxx@db:5432/app?sslmode=disable".into(),
                "s3cr@t".into()
            ))
        );
        assert_eq!(
            mask_url_password("postgresql://{{username}}:{{password}}@db/app"),
            None
        );
        assert_eq!(mask_url_password("redis://db:6379"), None);
        assert_eq!(mask_url_password("not a url"), None);
    }
}
