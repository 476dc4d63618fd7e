//! Secret engines (`sys/mounts/<path>`) and auth methods (`sys/auth/<path>`):
//! enabled when absent, tuned when a planned setting differs, and never
//! remounted: a type mismatch is an error, because remounting destroys data.

use serde_json::{json, Value as Json};

use super::compare::{self, FieldChange};
use super::context::table_entry;
use super::{Action, Change, Context, Diff, ObjectError, ObjectId, Request, Resource};
use crate::plan::model::Fields;

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
}

impl MountResource {
    pub fn new(
        id: ObjectId,
        table: Table,
        path: &str,
        kind: &str,
        description: Option<String>,
        options: Fields,
        config: Fields,
    ) -> MountResource {
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
        }
    }

    fn create(&self) -> Change {
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
            body["options"] = json!(self.options);
            fields.push(changed("options", None, &json!(self.options)));
        }
        if !self.config.is_empty() {
            body["config"] = json!(self.config);
            fields.push(changed("config", None, &json!(self.config)));
        }
        Change {
            action: Action::Create,
            fields,
            requests: vec![Request::post(
                format!("{}/{}", self.table.prefix(), self.path),
                body,
            )],
        }
    }

    fn compare(&self, entry: &Json) -> Result<Change, ObjectError> {
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
        let current_options = entry.get("options").cloned().unwrap_or(Json::Null);
        if !self.options.is_empty()
            && !compare::equivalent("options", &json!(self.options), &current_options)
        {
            fields.push(changed(
                "options",
                Some(&current_options),
                &json!(self.options),
            ));
            tune.insert("options".into(), json!(self.options));
        }
        let current_config = entry.get("config").cloned().unwrap_or(Json::Null);
        for (name, want) in &self.config {
            let have = current_config.get(name).cloned().unwrap_or(Json::Null);
            if !compare::equivalent(name, want, &have) {
                fields.push(changed(&format!("config.{name}"), Some(&have), want));
                tune.insert(name.clone(), want.clone());
            }
        }
        if tune.is_empty() {
            return Ok(Change::unchanged());
        }
        Ok(Change {
            action: Action::Update,
            fields,
            requests: vec![Request::post(
                format!("{}/{}/tune", self.table.prefix(), self.path),
                Json::Object(tune),
            )],
        })
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

    fn diff<'a>(&'a self, ctx: &'a Context) -> Diff<'a> {
        Box::pin(async move {
            let table = match self.table {
                Table::SecretEngines => ctx.mount_table().await?,
                Table::AuthMethods => ctx.auth_table().await?,
            };
            match table_entry(table, &self.path) {
                None => Ok(self.create()),
                Some(entry) => self.compare(entry),
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
