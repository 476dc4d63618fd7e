//! `vault-converge schema`: the JSON Schema (draft 2020-12) of one plan
//! file, for editors. It is generated from the typed model (`plan::model`,
//! whose doc comments are its descriptions), so it follows what the loader
//! accepts: unknown fields are refused (`deny_unknown_fields`), Vault's own
//! fields stay open, value sources are checked where they are allowed, and
//! a file may be a partial plan (`partial`).

mod partial;
mod values;

use schemars::generate::SchemaSettings;
use serde_json::Value;

pub use values::{
    DurationText, FieldValue, KvFields, MaxDeletesValue, PruneKindNames, VaultFields,
};

use super::model::Plan;

/// The schema, with `$schema` naming draft 2020-12.
pub fn plan_schema() -> Value {
    let schema = SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator()
        .into_root_schema_for::<Plan>();
    let mut schema = schema.to_value();
    if let Some(root) = schema.as_object_mut() {
        root.insert("title".into(), "vault-converge plan".into());
    }
    partial::allow_partial_files(&mut schema);
    schema
}

/// [`plan_schema`] as pretty JSON, ending with a newline.
pub fn plan_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&plan_schema()).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
