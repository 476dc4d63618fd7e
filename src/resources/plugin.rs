//! Plugin catalog entries (`sys/plugins/catalog/<type>/<name>`), registered
//! in the token's own namespace before any mount uses them. Vault returns
//! every field but `env`, which is sent with any other change.

use serde_json::{json, Value as Json};

use super::checked_fields::FieldSet;
use super::compare::FieldChange;
use super::home::data_of;
use super::{Action, Change, Context, Diff, ObjectError, ObjectId, Request, Resource};
use crate::secret::REDACTED;
use crate::vault::VaultError;

/// Where catalog entries live: `<CATALOG>/<type>/<name>`.
pub const CATALOG: &str = "sys/plugins/catalog";

/// A catalog entry as planned.
pub struct PluginSpec {
    pub sha256: String,
    pub command: String,
    pub version: Option<String>,
    pub args: Vec<String>,
    /// `NAME=value` pairs; may hold secrets, never shown.
    pub env: Vec<String>,
}

pub struct PluginResource {
    pub id: ObjectId,
    pub spec: PluginSpec,
    pub check: Option<FieldSet>,
}

impl PluginSpec {
    /// What Vault stores: the command's first word, the rest of it ahead of
    /// `args`; the SHA-256 in lower case; a version with its `v`.
    fn stored(&self) -> Json {
        let mut words = self.command.split_whitespace();
        let command = words.next().unwrap_or_default();
        let args: Vec<&str> = words.chain(self.args.iter().map(String::as_str)).collect();
        json!({
            "sha256": self.sha256.to_lowercase(),
            "command": command,
            "args": args,
            "version": self.version.as_deref().map(with_v).unwrap_or_default(),
        })
    }

    fn body(&self) -> Json {
        let mut body = json!({
            "sha256": self.sha256,
            "command": self.command,
            "args": self.args,
            "env": self.env,
        });
        if let Some(version) = &self.version {
            body["version"] = json!(version);
        }
        body
    }
}

fn with_v(version: &str) -> String {
    if version.starts_with('v') {
        version.to_owned()
    } else {
        format!("v{version}")
    }
}

/// A version for a query string (`+` in build metadata is a space there).
fn query_value(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

fn shown(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl PluginResource {
    fn created(&self) -> Change {
        let stored = self.spec.stored();
        let mut fields: Vec<FieldChange> = ["sha256", "command", "args", "version"]
            .iter()
            .filter(|f| !(*f == &"version" && self.spec.version.is_none()))
            .map(|f| FieldChange {
                field: (*f).into(),
                old: None,
                new: Some(shown(&stored[*f])),
            })
            .collect();
        if !self.spec.env.is_empty() {
            fields.push(FieldChange {
                field: "env".into(),
                old: None,
                new: Some(REDACTED.into()),
            });
        }
        Change::new(Action::Create, fields, vec![self.write()])
    }

    fn write(&self) -> Request {
        Request::post(self.id.path.clone(), self.spec.body()).in_home()
    }

    fn compare(&self, current: &Json) -> Change {
        let want = self.spec.stored();
        let mut fields = Vec::new();
        for field in ["sha256", "command", "args", "version"] {
            let have = match (field, current.get(field)) {
                ("sha256", Some(Json::String(s))) => json!(s.to_lowercase()),
                (_, Some(value)) => value.clone(),
                (_, None) => Json::Null,
            };
            let same = match field {
                "args" => want[field] == have || (have.is_null() && want[field] == json!([])),
                _ => want[field] == have,
            };
            if !same {
                fields.push(FieldChange {
                    field: field.into(),
                    old: Some(shown(&have)),
                    new: Some(shown(&want[field])),
                });
            }
        }
        // Vault never returns `env`: it goes with any other change.
        let write_only = if self.spec.env.is_empty() {
            Vec::new()
        } else {
            vec!["env".to_owned()]
        };
        if fields.is_empty() {
            return Change::unchanged().with_write_only(write_only);
        }
        Change::new(Action::Update, fields, vec![self.write()]).with_write_only(write_only)
    }
}

impl Resource for PluginResource {
    fn id(&self) -> &ObjectId {
        &self.id
    }

    fn fields_to_check(&self) -> Option<super::CheckedFields<'_>> {
        self.check.as_ref().map(FieldSet::view)
    }

    fn diff<'a>(&'a self, ctx: &'a Context) -> Diff<'a> {
        Box::pin(async move {
            let vault = ctx.home_vault();
            let current = match &self.spec.version {
                Some(v) => {
                    let query = format!("version={}", query_value(v));
                    vault.read_query(&self.id.path, &query).await?
                }
                None => vault.read(&self.id.path).await?,
            };
            Ok(match current {
                None => self.created(),
                Some(answer) => self.compare(data_of(&answer)),
            })
        })
    }

    fn explain(&self, error: ObjectError) -> ObjectError {
        let ObjectError::Vault(VaultError::Status { message, .. }) = &error else {
            return error;
        };
        let hint = if message.contains("plugin directory is not configured") {
            "the server has no `plugin_directory`: set it in the server's configuration file, \
             put the plugin binary there, and rerun"
        } else if message.contains("validating the command path") {
            "the plugin binary is not in the server's `plugin_directory` (or cannot be read there): \
             copy it there or fix `command`, and rerun"
        } else {
            return error;
        };
        ObjectError::Invalid(format!("{error}; {hint}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(command: &str, args: &[&str], version: Option<&str>) -> PluginSpec {
        PluginSpec {
            sha256: "ABCD".into(),
            command: command.into(),
            version: version.map(str::to_owned),
            args: args.iter().map(|a| a.to_string()).collect(),
            env: Vec::new(),
        }
    }

    #[test]
    fn stored_form_matches_what_vault_keeps() {
        let stored = spec("my-plugin --flag", &["-x"], Some("1.2.0")).stored();
        assert_eq!(stored["command"], "my-plugin");
        assert_eq!(stored["args"], json!(["--flag", "-x"]));
        assert_eq!(stored["version"], "v1.2.0");
        assert_eq!(stored["sha256"], "abcd");
    }

    #[test]
    fn versions_are_encoded_for_the_query() {
        assert_eq!(query_value("v1.0.0+abc"), "v1.0.0%2Babc");
    }
}
