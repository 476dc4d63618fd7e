//! Unknown fields are found before anything is written (DESIGN.md "Unknown
//! parameters"): every planned field is checked against the server's own API
//! description, read once per run. Objects under a mount the run creates are
//! checked against another mount of the same type, or, when the server has
//! none, right after the mounts stage created it (before anything under it).

use std::collections::HashMap;

use super::build::Stage;
use crate::plan::node::Loc;
use crate::resources::Context;
use crate::vault::schema::{mount_types, ApiSchema, FieldCheck};
use crate::vault::VaultError;

/// The fields an object writes, for the check.
pub struct FieldSet {
    /// The Vault path the fields are written to.
    pub path: String,
    /// Each field and where the plan sets it.
    pub fields: Vec<(String, Option<Loc>)>,
    /// The planned mount it lives under (`auth/k8s` or `app`) and its type,
    /// for a check before that mount exists.
    pub mount: Option<(String, String)>,
}

/// Objects by (stage, index in stage).
type At = (usize, usize);

pub struct FieldsGate {
    schema: ApiSchema,
    /// Unknown fields found so far: the error text per object.
    errors: HashMap<At, String>,
    /// Objects whose mount does not exist yet and that no other mount of its
    /// type could vouch for: checked again after the mounts stage.
    deferred: Vec<At>,
}

impl FieldsGate {
    /// Reads the API description and checks every object it can.
    pub async fn check(ctx: &Context, stages: &[Stage]) -> Result<FieldsGate, VaultError> {
        let mut gate = FieldsGate {
            schema: fetch(ctx).await?,
            errors: HashMap::new(),
            deferred: Vec::new(),
        };
        let all = stages.iter().enumerate().flat_map(|(s, stage)| {
            (0..stage.resources.len()).map(move |i| (s, i))
        });
        gate.run(stages, all.collect());
        Ok(gate)
    }

    /// After the mounts stage wrote: the new mounts are in the description now.
    pub async fn recheck(&mut self, ctx: &Context, stages: &[Stage]) -> Result<(), VaultError> {
        if self.deferred.is_empty() {
            return Ok(());
        }
        self.schema = fetch(ctx).await?;
        let deferred = std::mem::take(&mut self.deferred);
        self.run(stages, deferred);
        // Still unknown after its mount exists: nothing can be checked.
        self.deferred.clear();
        Ok(())
    }

    /// Whether any unknown field was found.
    pub fn found_any(&self) -> bool {
        !self.errors.is_empty()
    }

    /// The error for the object at (stage, index), if one of its fields is unknown.
    pub fn error_for(&self, stage: usize, index: usize) -> Option<&String> {
        self.errors.get(&(stage, index))
    }

    fn run(&mut self, stages: &[Stage], objects: Vec<At>) {
        for (s, i) in objects {
            let Some(set) = stages[s].resources[i].fields_to_check() else {
                continue;
            };
            let names: Vec<&str> = set.fields.iter().map(|(n, _)| n.as_str()).collect();
            if names.is_empty() {
                continue;
            }
            let mut result = self.schema.check(&set.path, &names);
            if let (FieldCheck::Unchecked(_), Some((mount, kind))) = (&result, &set.mount) {
                result = self.schema.check_like(&set.path, mount, kind, &names);
                if matches!(result, FieldCheck::Unchecked(_)) {
                    self.deferred.push((s, i));
                }
            }
            match result {
                FieldCheck::Unknown(unknown) => {
                    self.errors.insert((s, i), describe(set, &unknown));
                }
                FieldCheck::Unchecked(why) => {
                    tracing::debug!(path = %set.path, %why, "fields not checked");
                }
                FieldCheck::Known => {}
            }
        }
    }
}

async fn fetch(ctx: &Context) -> Result<ApiSchema, VaultError> {
    let schema = ApiSchema::fetch(&ctx.vault).await?;
    // A token that may not read a table only loses the checks that borrow
    // another mount's description; the objects themselves report the 403.
    let table = |answer: Result<std::sync::Arc<serde_json::Value>, VaultError>| match answer {
        Ok(table) => Ok(table),
        Err(e) if e.code() == Some(403) => Ok(Default::default()),
        Err(e) => Err(e),
    };
    let mounts = table(ctx.mount_table().await)?;
    let auth = table(ctx.auth_table().await)?;
    Ok(schema.with_mounts(mount_types(&mounts, &auth)))
}

fn describe(set: &FieldSet, unknown: &[String]) -> String {
    let named: Vec<String> = unknown
        .iter()
        .map(|name| {
            let at = set
                .fields
                .iter()
                .find(|(n, _)| n == name)
                .and_then(|(_, loc)| loc.as_ref())
                .map(|l| format!(" ({}:{})", l.file, l.line))
                .unwrap_or_default();
            format!("`{name}`{at}")
        })
        .collect();
    format!(
        "the server does not know field(s) {} at {}: a typo, or a field of another method type; \
         fix or remove them (nothing was written)",
        named.join(", "),
        set.path
    )
}
