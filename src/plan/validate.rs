//! Semantic checks that need no network: what serde cannot express.

use super::error::PlanError;
use super::load::LoadedPlan;
use super::model::{sync_setting, AuthMethod, Fields, SyncPolicy, WriteMode, SYNC_FIELD};
use super::node::{dotted, Loc, Node, PathSegment, Value};
pub use super::warnings::warnings;
use crate::paths::auth::{role_collection, TOKEN_METHOD};

/// Mount types whose fixtures `kv:` can write (`generic` is KV v1's old name).
const KV_TYPES: [&str; 4] = ["kv", "kv-v1", "kv-v2", "generic"];

pub fn validate(loaded: &LoadedPlan) -> Result<(), PlanError> {
    let checks = Checks { loaded };
    checks.version()?;
    checks.mounts()?;
    checks.auth()?;
    checks.databases()?;
    checks.kv()?;
    checks.writes()?;
    super::model::validate_identity(loaded)?;
    super::model::validate_pki(loaded)?;
    super::model::validate_system(loaded)?;
    super::model::validate_tokens(loaded)?;
    super::model::validate_prune(loaded)?;
    super::model::validate_external_secrets(loaded)?;
    if let Some((loc, path)) = &loaded.findings.generate_outside_kv {
        return Err(PlanError::Field {
            loc: loc.clone(),
            path: path.clone(),
            message: "`generate` is only allowed in kv fixture data, where the generated value is kept in Vault; \
                      store it in a kv fixture and read it from there, or use env, file or secretKeyRef"
                .into(),
        });
    }
    super::policies::check_policies(loaded)
}

struct Checks<'a> {
    loaded: &'a LoadedPlan,
}

impl Checks<'_> {
    fn at(&self, path: &[&str]) -> Loc {
        self.loaded
            .loc(path)
            .unwrap_or_else(|| self.loaded.root_loc())
    }

    fn invalid(&self, path: &[&str], message: impl Into<String>) -> PlanError {
        PlanError::Field {
            loc: self.at(path),
            path: path.join("."),
            message: message.into(),
        }
    }

    fn version(&self) -> Result<(), PlanError> {
        let version = self.loaded.plan.version;
        if version != 1 {
            let message =
                format!("unsupported plan version {version}; this release reads version 1");
            return Err(self.invalid(&["version"], message));
        }
        Ok(())
    }

    fn mounts(&self) -> Result<(), PlanError> {
        for (name, mount) in &self.loaded.plan.mounts {
            check_path(name).map_err(|m| self.invalid(&["mounts", name], m))?;
            if mount.kind.trim().is_empty() {
                return Err(self.invalid(&["mounts", name, "type"], "mount type is empty"));
            }
            if mount.upgrade && !KV_TYPES.contains(&mount.kind.as_str()) {
                return Err(self.invalid(
                    &["mounts", name, "upgrade"],
                    format!(
                        "upgrade only applies to KV mounts (the v1 → v2 upgrade), not to type `{}`; drop it",
                        mount.kind
                    ),
                ));
            }
        }
        Ok(())
    }

    fn auth(&self) -> Result<(), PlanError> {
        for (name, method) in &self.loaded.plan.auth {
            check_path(name).map_err(|m| self.invalid(&["auth", name], m))?;
            let kind = method.kind.trim();
            if kind.is_empty() {
                return Err(self.invalid(
                    &["auth", name],
                    "auth type is empty: set `type:` (only the builtin `token` method needs none)",
                ));
            }
            if kind == TOKEN_METHOD {
                self.token_method(name, method)?;
            }
            if !method.roles.is_empty() && role_collection(kind).is_none() {
                return Err(self.invalid(
                    &["auth", name, "roles"],
                    format!("`{kind}` auth methods have no roles; declare their objects under users:, groups: or paths:"),
                ));
            }
            if let Some(config) = &method.config {
                self.sync(&["auth", name, "config"], config)?;
            }
            let sections = [
                ("roles", &method.roles),
                ("users", &method.users),
                ("groups", &method.groups),
                ("certs", &method.certs),
                ("paths", &method.paths),
            ];
            for (section, objects) in sections {
                for (object, fields) in objects {
                    check_path(object)
                        .map_err(|m| self.invalid(&["auth", name, section, object], m))?;
                    self.sync(&["auth", name, section, object], fields)?;
                }
            }
        }
        Ok(())
    }

    /// The builtin token method is never enabled: it only has roles and tune.
    fn token_method(&self, name: &str, method: &AuthMethod) -> Result<(), PlanError> {
        if name.trim_matches('/') != TOKEN_METHOD {
            return Err(self.invalid(
                &["auth", name, "type"],
                "the builtin token method lives at `token` and cannot be enabled elsewhere; \
                 declare its roles under `auth: {token: {roles: ...}}`",
            ));
        }
        let unsupported = [
            ("config", method.config.is_some()),
            ("users", !method.users.is_empty()),
            ("groups", !method.groups.is_empty()),
            ("certs", !method.certs.is_empty()),
            ("paths", !method.paths.is_empty()),
            ("description", method.description.is_some()),
        ];
        if let Some((key, _)) = unsupported.iter().find(|(_, set)| *set) {
            return Err(self.invalid(
                &["auth", name, key],
                format!("the builtin token method takes only roles: and tune:, not {key}:"),
            ));
        }
        Ok(())
    }

    /// Our `sync` field, where it sits among the fields sent to Vault.
    fn sync(&self, path: &[&str], fields: &Fields) -> Result<(), PlanError> {
        sync_setting(fields).map(drop).map_err(|message| {
            let mut at = path.to_vec();
            at.push(SYNC_FIELD);
            self.invalid(&at, message)
        })
    }

    fn databases(&self) -> Result<(), PlanError> {
        for (mount, db) in &self.loaded.plan.databases {
            check_path(mount).map_err(|m| self.invalid(&["databases", mount], m))?;
            for (name, conn) in &db.connections {
                let path = ["databases", mount, "connections", name];
                if conn.rotate_root && conn.sync == SyncPolicy::Always {
                    return Err(PlanError::Unsafe {
                        loc: self.at(&path),
                        path: path.join("."),
                        message: "rotate_root: true cannot be combined with sync: always: the next run would \
                                  write the source's old password over the rotated one and break the connection; \
                                  use sync: if-missing with rotate_root, or drop rotate_root"
                            .into(),
                    });
                }
            }
        }
        Ok(())
    }

    fn kv(&self) -> Result<(), PlanError> {
        let plan = &self.loaded.plan;
        for (mount, fixtures) in &plan.kv {
            check_path(mount).map_err(|m| self.invalid(&["kv", mount], m))?;
            for secret in fixtures.keys() {
                check_path(secret).map_err(|m| self.invalid(&["kv", mount, secret], m))?;
            }
            let declared = plan
                .mounts
                .iter()
                .find(|(name, _)| name.trim_matches('/') == mount.trim_matches('/'));
            let (Some((name, declared)), Some(fixture)) = (declared, fixtures.keys().next()) else {
                continue;
            };
            if !KV_TYPES.contains(&declared.kind.as_str()) {
                let mount_loc = self.at(&["mounts", name]);
                return Err(self.invalid(
                    &["kv", mount, fixture],
                    format!(
                        "KV fixtures need a KV mount, but mount `{name}` is declared with type `{}` at {mount_loc}; \
                         put the fixture under a kv mount",
                        declared.kind
                    ),
                ));
            }
        }
        Ok(())
    }

    fn writes(&self) -> Result<(), PlanError> {
        for (i, write) in self.loaded.plan.writes.iter().enumerate() {
            let index = i.to_string();
            check_path(&write.path).map_err(|m| self.invalid(&["writes", &index, "path"], m))?;
            if write.mode == WriteMode::Once && write.sync == Some(SyncPolicy::Always) {
                return Err(self.invalid(
                    &["writes", &index, "sync"],
                    "once writes are never repeated, so sync: always cannot apply; drop sync",
                ));
            }
        }
        Ok(())
    }
}

fn check_path(path: &str) -> Result<(), String> {
    let trimmed = path.trim_matches('/');
    if trimmed.is_empty() {
        return Err("path is empty".into());
    }
    if trimmed
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err(format!("path `{path}` has an empty, `.` or `..` segment"));
    }
    Ok(())
}

/// `generate` only makes sense where the value is persisted: KV fixture
/// data (`kv.<mount>.<secret>.data`), at any depth there.
/// The first `generate` source outside kv fixture data: where, and its path.
pub(crate) fn generate_outside_kv(root: &Node) -> Option<(Loc, String)> {
    find_generate(root, &mut Vec::new())
}

fn find_generate<'a>(node: &'a Node, path: &mut Vec<PathSegment<'a>>) -> Option<(Loc, String)> {
    if let [PathSegment::Key("kv"), _, _, PathSegment::Key("data"), ..] = path.as_slice() {
        return None;
    }
    if node.source_kind() == Some("generate") {
        return Some((node.loc.clone(), dotted(path)));
    }
    match &node.value {
        Value::Map(entries) => entries.iter().find_map(|(key, child)| {
            path.push(PathSegment::Key(&key.name));
            let found = find_generate(child, path);
            path.pop();
            found
        }),
        Value::Seq(items) => items.iter().enumerate().find_map(|(i, child)| {
            path.push(PathSegment::Index(i));
            let found = find_generate(child, path);
            path.pop();
            found
        }),
        _ => None,
    }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
