//! Semantic checks that need no network: what serde cannot express.

use super::error::PlanError;
use super::load::LoadedPlan;
use super::model::SyncPolicy;
use super::node::Loc;
use crate::sources::{source_of, Source};

pub fn validate(loaded: &LoadedPlan) -> Result<(), PlanError> {
    let plan = &loaded.plan;
    let at = |path: &[&str]| {
        loaded.loc(path).unwrap_or(Loc {
            file: "plan".into(),
            line: 0,
            column: 0,
        })
    };
    let invalid = |path: &[&str], message: String| PlanError::Field {
        loc: at(path),
        path: path.join("."),
        message,
    };

    if plan.version != 1 {
        return Err(invalid(
            &["version"],
            format!(
                "unsupported plan version {}; this release reads version 1",
                plan.version
            ),
        ));
    }
    for (name, mount) in &plan.mounts {
        check_path(name).map_err(|m| invalid(&["mounts", name], m))?;
        if mount.kind.trim().is_empty() {
            return Err(invalid(
                &["mounts", name, "type"],
                "mount type is empty".into(),
            ));
        }
    }
    for (name, method) in &plan.auth {
        check_path(name).map_err(|m| invalid(&["auth", name], m))?;
        if method.kind.trim().is_empty() {
            return Err(invalid(
                &["auth", name, "type"],
                "auth type is empty".into(),
            ));
        }
        for (role, fields) in &method.roles {
            no_generate(fields.values()).map_err(|m| invalid(&["auth", name, "roles", role], m))?;
        }
        if let Some(config) = &method.config {
            no_generate(config.values()).map_err(|m| invalid(&["auth", name, "config"], m))?;
        }
    }
    for (mount, db) in &plan.databases {
        check_path(mount).map_err(|m| invalid(&["databases", mount], m))?;
        for (name, conn) in &db.connections {
            let path = ["databases", mount, "connections", name];
            no_generate(conn.config.values()).map_err(|m| invalid(&path, m))?;
            if conn.rotate_root && conn.sync == SyncPolicy::Always {
                return Err(PlanError::Unsafe {
                    loc: at(&path),
                    path: path.join("."),
                    message: "rotate_root: true cannot be combined with sync: always: the next run would \
                              write the source's old password over the rotated one and break the connection; \
                              use sync: if-missing with rotate_root, or drop rotate_root"
                        .into(),
                });
            }
        }
        for (name, fields) in db.roles.iter().chain(&db.static_roles) {
            no_generate(fields.values())
                .map_err(|m| invalid(&["databases", mount, "roles", name], m))?;
        }
    }
    for (mount, fixtures) in &plan.kv {
        check_path(mount).map_err(|m| invalid(&["kv", mount], m))?;
        for secret in fixtures.keys() {
            check_path(secret).map_err(|m| invalid(&["kv", mount, secret], m))?;
        }
    }
    for (i, write) in plan.writes.iter().enumerate() {
        let index = i.to_string();
        check_path(&write.path).map_err(|m| invalid(&["writes", &index, "path"], m))?;
        no_generate(write.data.values()).map_err(|m| invalid(&["writes", &index], m))?;
    }
    Ok(())
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

/// `generate` only makes sense where the value is persisted: KV data.
fn no_generate<'a>(values: impl Iterator<Item = &'a serde_json::Value>) -> Result<(), String> {
    for value in values {
        if let Ok(Some(Source::Generate(_))) = source_of(value) {
            return Err("`generate` is only allowed in kv fixture data, where the generated value is kept in Vault".into());
        }
    }
    Ok(())
}
