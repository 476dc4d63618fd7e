//! Secret engines (`sys/mounts/<path>`) and auth methods (`sys/auth/<path>`):
//! enabled when absent, tuned when a planned setting differs, and never
//! remounted: a type mismatch is an error, because remounting destroys data.

use serde_json::{json, Value as Json};

use super::checked_fields::FieldSet;
use super::compare::{self, FieldChange};
use super::context::table_entry;
use super::{
    body_of, resolve_fields, Action, Change, Context, Diff, ObjectError, ObjectId, Request,
    Resource,
};
use crate::paths::auth::is_missing_plugin;
use crate::plan::model::Fields;
use crate::vault::VaultError;

/// Types Vault accepts that its catalog does not list: old names of `kv`,
/// and engines built into the core (`database` is, on Vault and OpenBao).
const NOT_IN_CATALOG: [&str; 6] = [
    "generic",
    "kv-v1",
    "database",
    "cubbyhole",
    "identity",
    "system",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    SecretEngines,
    AuthMethods,
}

impl Table {
    fn prefix(self) -> &'static str {
        match self {
            Table::SecretEngines => "sys/mounts",
            Table::AuthMethods => "sys/auth",
        }
    }
}

pub struct MountResource {
    pub id: ObjectId,
    pub table: Table,
    pub path: String,
    pub kind: String,
    pub description: Option<String>,
    pub options: Fields,
    pub config: Fields,
    /// Allows the one-way KV v1 → v2 upgrade.
    pub upgrade: bool,
    /// Checked against the server's API description before any write.
    pub check: Option<FieldSet>,
    /// `plan` asks the plugin catalog for the type; off when the plan
    /// registers the plugin itself (it is not in the catalog yet).
    pub catalog_check: bool,
}

/// Settings of a mount as planned; values may be sources.
pub struct MountSpec {
    pub kind: String,
    pub description: Option<String>,
    pub options: Fields,
    pub config: Fields,
    pub upgrade: bool,
}

impl MountResource {
    pub fn new(id: ObjectId, table: Table, path: &str, spec: MountSpec) -> MountResource {
        let MountSpec {
            kind,
            description,
            options,
            config,
            upgrade,
        } = spec;
        let kind = kind.as_str();
        // `kv-v2` is shorthand Vault stores as type `kv` with options.version 2.
        let (kind, options) = match kind {
            "kv-v2" => {
                let mut options = options;
                options.insert("version".into(), json!("2"));
                ("kv".to_owned(), options)
            }
            other => (other.to_owned(), options),
        };
        MountResource {
            id,
            table,
            path: path.trim_matches('/').to_owned(),
            kind,
            description,
            options,
            config,
            upgrade,
            check: None,
            catalog_check: true,
        }
    }

    fn catalog_type(&self) -> &'static str {
        match self.table {
            Table::SecretEngines => "secret",
            Table::AuthMethods => "auth",
        }
    }

    /// `plan` says what `apply` would hit: a type missing from the catalog.
    async fn check_catalog(&self, ctx: &Context) -> Result<(), ObjectError> {
        if !ctx.planning || !self.catalog_check || NOT_IN_CATALOG.contains(&self.kind.as_str()) {
            return Ok(());
        }
        let Some(catalog) = ctx.plugin_catalog().await else {
            return Ok(());
        };
        let Some(names) = catalog.get(self.catalog_type()).and_then(Json::as_array) else {
            return Ok(());
        };
        if names.iter().any(|n| n.as_str() == Some(self.kind.as_str())) {
            return Ok(());
        }
        Err(self.missing_plugin())
    }

    fn missing_plugin(&self) -> ObjectError {
        let what = match self.table {
            Table::SecretEngines => "secrets engine",
            Table::AuthMethods => "auth method",
        };
        ObjectError::Invalid(format!(
            "{what} type `{}` is not in this server's plugin catalog (OpenBao ships no github, \
             aws, gcp, azure, ldap or okta plugins): register the plugin under `plugins:` or \
             remove `{}` from the plan; nothing under it was written",
            self.kind, self.path
        ))
    }

    fn create(&self, options: &Json, config: &Json) -> Change {
        let mut body = json!({ "type": self.kind });
        let mut fields = vec![FieldChange {
            field: "type".into(),
            old: None,
            new: Some(self.kind.clone()),
        }];
        if let Some(description) = &self.description {
            body["description"] = json!(description);
        }
        if !self.options.is_empty() {
            body["options"] = options.clone();
            fields.push(changed("options", None, options));
        }
        if !self.config.is_empty() {
            body["config"] = config.clone();
            fields.push(changed("config", None, config));
        }
        Change::new(
            Action::Create,
            fields,
            vec![Request::post(
                format!("{}/{}", self.table.prefix(), self.path),
                body,
            )],
        )
    }

    /// A KV mount's version is never changed silently: v1 → v2 is a one-way
    /// migration for every client (only with `upgrade: true`), v2 → v1 is impossible.
    fn check_kv_version(&self, entry: &Json, options: &Json) -> Result<(), ObjectError> {
        if self.kind != "kv" {
            return Ok(());
        }
        let Some(want) = options.get("version").map(|v| compare::render(v, false)) else {
            return Ok(());
        };
        let have = kv_version(entry).unwrap_or_else(|| "1".into());
        match (have.as_str(), want.as_str()) {
            (h, w) if h == w => Ok(()),
            ("1", "2") if self.upgrade => Ok(()),
            ("1", "2") => Err(ObjectError::Conflict(format!(
                "KV mount `{}` is version 1 and the plan says version 2: the upgrade rewrites every \
                 secret's path for every client and cannot be undone; set `upgrade: true` on the \
                 mount to do it, or plan version 1",
                self.path
            ))),
            _ => Err(ObjectError::Invalid(format!(
                "KV mount `{}` is version {have} and the plan says version {want}: Vault cannot \
                 downgrade a KV mount; plan version {have}",
                self.path
            ))),
        }
    }

    fn compare(&self, entry: &Json, options: &Json, config: &Json) -> Result<Change, ObjectError> {
        let actual_type = entry.get("type").and_then(Json::as_str).unwrap_or("");
        if actual_type != self.kind {
            return Err(ObjectError::Conflict(format!(
                "{} is enabled as type `{actual_type}` but the plan says `{}`; vault-converge never remounts \
                 (that would destroy its data): disable or move it by hand, or change the plan",
                self.path, self.kind
            )));
        }
        let mut fields = Vec::new();
        let mut tune = serde_json::Map::new();
        if let Some(description) = &self.description {
            let current = entry.get("description").cloned().unwrap_or(Json::Null);
            if !compare::equivalent("description", &json!(description), &current) {
                fields.push(changed("description", Some(&current), &json!(description)));
                tune.insert("description".into(), json!(description));
            }
        }
        self.check_kv_version(entry, options)?;
        let current_options = entry.get("options").cloned().unwrap_or(Json::Null);
        if !self.options.is_empty() && !compare::equivalent("options", options, &current_options) {
            fields.push(changed("options", Some(&current_options), options));
            tune.insert("options".into(), options.clone());
        }
        let current_config = entry.get("config").cloned().unwrap_or(Json::Null);
        for (name, want) in config.as_object().into_iter().flatten() {
            let have = current_config.get(name).cloned().unwrap_or(Json::Null);
            if !compare::equivalent(name, want, &have) {
                fields.push(changed(&format!("config.{name}"), Some(&have), want));
                tune.insert(name.clone(), want.clone());
            }
        }
        if tune.is_empty() {
            return Ok(Change::unchanged());
        }
        Ok(Change::new(
            Action::Update,
            fields,
            vec![Request::post(
                format!("{}/{}/tune", self.table.prefix(), self.path),
                Json::Object(tune),
            )],
        ))
    }
}

fn changed(field: &str, old: Option<&Json>, new: &Json) -> FieldChange {
    FieldChange {
        field: field.to_owned(),
        old: old.map(|v| compare::render(v, false)),
        new: Some(compare::render(new, false)),
    }
}

impl Resource for MountResource {
    fn id(&self) -> &ObjectId {
        &self.id
    }

    fn ownership(&self) -> Option<super::owned::Owned> {
        let kind = match self.table {
            Table::SecretEngines => super::owned::PruneKind::Mounts,
            Table::AuthMethods => super::owned::PruneKind::AuthMethods,
        };
        Some(super::owned::Owned::new(kind, self.id.path.clone()))
    }

    fn fields_to_check(&self) -> Option<super::CheckedFields<'_>> {
        self.check.as_ref().map(FieldSet::view)
    }

    fn explain(&self, error: ObjectError) -> ObjectError {
        match &error {
            ObjectError::Vault(VaultError::Status {
                code: 400, message, ..
            }) if is_missing_plugin(message) => self.missing_plugin(),
            _ => error,
        }
    }

    fn diff<'a>(&'a self, ctx: &'a Context) -> Diff<'a> {
        Box::pin(async move {
            let options = body_of(&resolve_fields(ctx, &self.options).await?);
            let config = body_of(&resolve_fields(ctx, &self.config).await?);
            let table = match self.table {
                Table::SecretEngines => ctx.mount_table().await?,
                Table::AuthMethods => ctx.auth_table().await?,
            };
            match table_entry(&table, &self.path) {
                None => {
                    self.check_catalog(ctx).await?;
                    Ok(self.create(&options, &config))
                }
                Some(entry) => self.compare(entry, &options, &config),
            }
        })
    }
}

/// The KV version of a secret-engine table entry (`"2"` for KV v2).
pub fn kv_version(entry: &Json) -> Option<String> {
    entry
        .pointer("/options/version")
        .map(|v| compare::render(v, false))
}
