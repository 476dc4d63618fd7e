//! Audit devices (`sys/audit/<path>`), in the token's own namespace (the
//! root: audit devices are server-wide). Enabled when absent; a device that
//! differs from the plan is refused, never disabled and re-enabled (that
//! would lose its audit trail and salt). OpenBao 2.x refuses API-created
//! devices unless its configuration sets `unsafe_allow_api_audit_creation`:
//! then the plan fails with the equivalent configuration stanza.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value as Json};

use super::checked_fields::FieldSet;
use super::compare::{self, FieldChange};
use super::home::data_of;
use super::{
    resolve_fields, Action, Change, Context, Diff, ObjectError, ObjectId, Request, Resource,
};
use crate::plan::model::Fields;
use crate::secret::REDACTED;
use crate::vault::VaultError;

/// The device table, read once per run.
pub const TABLE: &str = "sys/audit";
/// The server's configuration, which tells whether API creation is allowed.
pub const SANITIZED_CONFIG: &str = "sys/config/state/sanitized";
const API_CREATION: &str = "unsafe_allow_api_audit_creation";
/// OpenBao's answer when API creation is disabled.
const REFUSED: &str = "cannot enable audit device via API";

/// A device as planned; option values may be sources.
pub struct AuditSpec {
    pub kind: String,
    pub description: Option<String>,
    pub options: Fields,
    pub local: bool,
}

pub struct AuditDeviceResource {
    pub id: ObjectId,
    /// Without slashes (`stdout`).
    pub path: String,
    pub spec: AuditSpec,
    pub check: Option<FieldSet>,
}

impl AuditDeviceResource {
    /// Options as Vault keeps them (strings), and which ones came from sources.
    async fn options(&self, ctx: &Context) -> Result<(Map<String, Json>, Hidden), ObjectError> {
        let resolved = resolve_fields(ctx, &self.spec.options).await?;
        let mut hidden = Hidden::new();
        let mut options = Map::new();
        for (name, planned) in resolved {
            if compare::hidden(&name, &planned) {
                hidden.insert(name.clone());
            }
            let text = match planned.value {
                Json::String(s) => s,
                other => other.to_string(),
            };
            options.insert(name, Json::String(text));
        }
        Ok((options, hidden))
    }

    fn create(&self, options: &Map<String, Json>, hidden: &Hidden) -> Change {
        let mut body =
            json!({ "type": self.spec.kind, "options": options, "local": self.spec.local });
        let mut fields = vec![changed("type", None, &self.spec.kind)];
        if let Some(description) = &self.spec.description {
            body["description"] = json!(description);
            fields.push(changed("description", None, description));
        }
        if !options.is_empty() {
            fields.push(changed(
                "options",
                None,
                &Json::Object(shown(options, hidden)).to_string(),
            ));
        }
        if self.spec.local {
            fields.push(changed("local", None, "true"));
        }
        let request = Request::post(format!("{TABLE}/{}", self.path), body).in_home();
        Change::new(Action::Create, fields, vec![request])
    }

    /// What differs between the planned device and `entry`: only planned
    /// options are compared, like every other planned field.
    fn differences(
        &self,
        entry: &Json,
        options: &Map<String, Json>,
        hidden: &Hidden,
    ) -> Vec<String> {
        let text = |v: Option<&Json>| v.map(|v| compare::render(v, false)).unwrap_or_default();
        let mut out = Vec::new();
        let kind = text(entry.get("type"));
        if kind != self.spec.kind {
            out.push(format!("type `{kind}` → `{}`", self.spec.kind));
        }
        if let Some(want) = &self.spec.description {
            let have = text(entry.get("description"));
            if &have != want {
                out.push(format!("description `{have}` → `{want}`"));
            }
        }
        for (name, want) in options {
            let have = entry.pointer(&format!("/options/{name}"));
            if !have.is_some_and(|h| compare::equivalent(name, want, h)) {
                let (have, want) = match hidden.contains(name) {
                    true => (REDACTED.to_owned(), REDACTED.to_owned()),
                    false => (text(have), text(Some(want))),
                };
                out.push(format!("options.{name} `{have}` → `{want}`"));
            }
        }
        let local = entry.get("local").and_then(Json::as_bool).unwrap_or(false);
        if local != self.spec.local {
            out.push(format!("local `{local}` → `{}`", self.spec.local));
        }
        out
    }

    /// The `audit` stanza of the server's configuration that declares this device.
    pub fn stanza(&self, options: &Map<String, Json>, hidden: &Hidden) -> String {
        let mut out = format!(
            "audit {} {} {{\n",
            hcl_string(&self.spec.kind),
            hcl_string(&self.path)
        );
        if let Some(description) = &self.spec.description {
            out.push_str(&format!("  description = {}\n", hcl_string(description)));
        }
        if self.spec.local {
            out.push_str("  local = true\n");
        }
        if !options.is_empty() {
            out.push_str("  options {\n");
            for (name, value) in shown(options, hidden) {
                let value = match value {
                    Json::String(s) => s,
                    other => other.to_string(),
                };
                out.push_str(&format!("    {name} = {}\n", hcl_string(&value)));
            }
            out.push_str("  }\n");
        }
        out.push('}');
        out
    }

    fn refused(&self, stanza: &str) -> ObjectError {
        ObjectError::Invalid(format!(
            "the server refuses to enable audit device `{}` through its API (OpenBao 2.x allows it only \
             with `{API_CREATION} = true` in its configuration, which is unsafe); declare it in the \
             server's configuration file instead, then this plan finds it unchanged:\n{stanza}",
            self.path
        ))
    }
}

fn changed(field: &str, old: Option<&str>, new: &str) -> FieldChange {
    FieldChange {
        field: field.into(),
        old: old.map(str::to_owned),
        new: Some(new.to_owned()),
    }
}

/// Option names whose values must not be shown.
type Hidden = BTreeSet<String>;

/// Options with the hidden ones redacted.
fn shown(options: &Map<String, Json>, hidden: &Hidden) -> Map<String, Json> {
    options
        .iter()
        .map(|(k, v)| match hidden.contains(k) {
            true => (k.clone(), json!(REDACTED)),
            false => (k.clone(), v.clone()),
        })
        .collect()
}

/// A quoted HCL string: JSON escapes, and template sequences kept literal.
fn hcl_string(text: &str) -> String {
    Json::String(text.to_owned())
        .to_string()
        .replace("${", "$${")
        .replace("%{", "%%{")
}

/// Whether the server accepts audit devices through its API: `Some(false)`
/// when its configuration says no, `None` when it cannot be read (then the
/// write's answer tells).
async fn api_creation_allowed(ctx: &Context) -> Result<Option<bool>, ObjectError> {
    match ctx.home_read(SANITIZED_CONFIG).await {
        Ok(Some(config)) => Ok(Some(
            data_of(&config)
                .get(API_CREATION)
                .and_then(Json::as_bool)
                // Servers without the setting (Vault, older OpenBao) allow it.
                .unwrap_or(true),
        )),
        Ok(None) => Ok(None),
        Err(e) if matches!(e.code(), Some(400..=499)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

impl Resource for AuditDeviceResource {
    fn id(&self) -> &ObjectId {
        &self.id
    }

    fn fields_to_check(&self) -> Option<super::CheckedFields<'_>> {
        self.check.as_ref().map(FieldSet::view)
    }

    fn ownership(&self) -> Option<super::owned::Owned> {
        Some(super::owned::Owned::new(
            super::owned::PruneKind::AuditDevices,
            self.id.path.clone(),
        ))
    }

    fn diff<'a>(&'a self, ctx: &'a Context) -> Diff<'a> {
        Box::pin(async move {
            let (options, hidden) = self.options(ctx).await?;
            let table = ctx.home_read(TABLE).await?;
            let entry = table
                .as_deref()
                .map(data_of)
                .and_then(|t| t.get(format!("{}/", self.path)));
            let Some(entry) = entry else {
                if api_creation_allowed(ctx).await? == Some(false) {
                    return Err(self.refused(&self.stanza(&options, &hidden)));
                }
                return Ok(self.create(&options, &hidden));
            };
            let differences = self.differences(entry, &options, &hidden);
            if differences.is_empty() {
                return Ok(Change::unchanged());
            }
            Err(ObjectError::Conflict(format!(
                "audit device `{}` differs from the plan ({}); changing it means disabling and \
                 re-enabling it, which loses its audit trail's continuity and salt, so vault-converge \
                 never does it: change the device by hand (or in the server's configuration), or the plan",
                self.path,
                differences.join(", ")
            )))
        })
    }

    fn explain(&self, error: ObjectError) -> ObjectError {
        match &error {
            ObjectError::Vault(VaultError::Status { message, .. }) if message.contains(REFUSED) => {
                // Options from sources are not at hand here: the stanza shows them redacted.
                let options = self
                    .spec
                    .options
                    .iter()
                    .map(|(k, v)| match v {
                        Json::String(_) | Json::Bool(_) | Json::Number(_) => (k.clone(), v.clone()),
                        _ => (k.clone(), json!(REDACTED)),
                    })
                    .collect();
                self.refused(&self.stanza(&options, &Hidden::new()))
            }
            _ => error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::Kind;

    fn device() -> AuditDeviceResource {
        let mut options = Fields::new();
        options.insert("file_path".into(), json!("/var/log/bao ${x}.log"));
        AuditDeviceResource {
            id: ObjectId {
                kind: Kind::AuditDevice,
                path: "sys/audit/file".into(),
                loc: None,
                provides: None,
                needs: Vec::new(),
            },
            path: "file".into(),
            spec: AuditSpec {
                kind: "file".into(),
                description: Some("all \"requests\"".into()),
                options,
                local: true,
            },
            check: None,
        }
    }

    #[test]
    fn the_stanza_is_hcl_for_the_server_configuration() {
        let d = device();
        let options = d.spec.options.clone().into_iter().collect();
        assert_eq!(
            d.stanza(&options, &Hidden::new()),
            "audit \"file\" \"file\" {\n  description = \"all \\\"requests\\\"\"\n  local = true\n  \
             options {\n    file_path = \"/var/log/bao $${x}.log\"\n  }\n}"
        );
        let hidden = Hidden::from(["file_path".to_owned()]);
        assert!(d.stanza(&options, &hidden).contains(REDACTED));
    }

    #[test]
    fn only_planned_options_are_compared() {
        let d = device();
        let options: Map<String, Json> = d.spec.options.clone().into_iter().collect();
        let entry = json!({"type": "file", "description": "all \"requests\"", "local": true,
            "options": {"file_path": "/var/log/bao ${x}.log", "log_raw": "true"}});
        assert!(d.differences(&entry, &options, &Hidden::new()).is_empty());
        let other = json!({"type": "socket", "local": false, "options": {}});
        assert_eq!(d.differences(&other, &options, &Hidden::new()).len(), 4);
    }
}
