//! Schemas of the plan's values that serde types only loosely: Vault's
//! free-form fields (which may hold value sources, `crate::sources`),
//! durations, and `prune`'s settings. Each mirrors the code that reads
//! the value, named in its comment.

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde_json::{json, Map, Value};

use crate::plan::node::SOURCE_KINDS;
use crate::resources::owned::PruneKind;
use crate::sources::generate::MAX_LENGTH;

/// The charsets `generate: {length, charset}` knows (`sources::generate`).
pub(super) const CHARSETS: [&str; 4] = ["alphanumeric", "hex", "base64", "ascii-printable"];

/// Fields Vault receives as written (`model::Fields`): open, because the
/// server decides which it knows (an unknown one is refused before any write).
pub struct VaultFields;

impl JsonSchema for VaultFields {
    fn schema_name() -> Cow<'static, str> {
        "Fields".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Fields Vault receives as written; Vault decides which it knows. \
                A value may be a value source: {env: NAME}, {file: path} or \
                {secretKeyRef: {namespace, name, key}}.",
            "type": "object",
            "additionalProperties": generator.subschema_for::<FieldValue>(),
        })
    }
}

/// A KV fixture's data: like `VaultFields`, and `generate` is allowed too
/// (`validate::no_generate_outside_kv`).
pub struct KvFields;

impl JsonSchema for KvFields {
    fn schema_name() -> Cow<'static, str> {
        "KvData".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "The secret's keys and values. A value may be a value source: \
                {env: NAME}, {file: path}, {secretKeyRef: {namespace, name, key}}, or \
                {generate: {length, charset}} / {generate: {policy: NAME}} (created once, then kept).",
            "type": "object",
            "additionalProperties": generator.subschema_for::<KvFieldValue>(),
        })
    }
}

/// Any value, at any depth; a map that looks like a value source (one key,
/// a source kind) must be a well-formed one (`sources::source_of`).
pub struct FieldValue;

impl JsonSchema for FieldValue {
    fn schema_name() -> Cow<'static, str> {
        "FieldValue".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        field_value::<FieldValue, ValueSource>(generator)
    }
}

/// `FieldValue` inside KV data, where `generate` is a source too.
pub struct KvFieldValue;

impl JsonSchema for KvFieldValue {
    fn schema_name() -> Cow<'static, str> {
        "KvFieldValue".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        field_value::<KvFieldValue, KvValueSource>(generator)
    }
}

fn field_value<Value: JsonSchema, Source: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    let value = generator.subschema_for::<Value>();
    json_schema!({
        "description": "A value Vault receives as written, or a value source.",
        "if": {
            "type": "object",
            "minProperties": 1,
            "maxProperties": 1,
            "propertyNames": { "enum": SOURCE_KINDS },
        },
        "then": generator.subschema_for::<Source>(),
        "else": { "items": value, "additionalProperties": value },
    })
}

/// `env`, `file` and `secretKeyRef` sources. A source is a map with one
/// key (`FieldValue` checks that), so each kind is a property here.
pub struct ValueSource;

impl JsonSchema for ValueSource {
    fn schema_name() -> Cow<'static, str> {
        "ValueSource".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        source(
            "A value read at run time. `generate` is only allowed in kv fixture data.",
            local_sources(),
        )
    }
}

/// Every source kind, `generate` included.
pub struct KvValueSource;

impl JsonSchema for KvValueSource {
    fn schema_name() -> Cow<'static, str> {
        "KvValueSource".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let mut kinds = local_sources();
        let random = json!({
            "type": "object",
            "properties": {
                "length": { "type": "integer", "minimum": 1, "maximum": MAX_LENGTH },
                "charset": { "enum": CHARSETS, "default": "alphanumeric" },
            },
            "required": ["length"],
            "additionalProperties": false,
        });
        let policy = json!({
            "type": "object",
            "properties": { "policy": { "type": "string", "minLength": 1 } },
            "additionalProperties": false,
        });
        kinds.insert(
            "generate".into(),
            json!({
                "description": "A random value created once, when the key is absent, then kept \
                    in Vault: {length, charset}, or {policy: NAME} (Vault's password policy).",
                "if": { "type": "object", "required": ["policy"] },
                "then": policy,
                "else": random,
            }),
        );
        source("A value read at run time, or generated once.", kinds)
    }
}

fn source(description: &str, kinds: Map<String, Value>) -> Schema {
    json_schema!({
        "description": description,
        "type": "object",
        "properties": kinds,
        "minProperties": 1,
        "maxProperties": 1,
        "additionalProperties": false,
    })
}

/// The sources `sources::source_of` reads from outside Vault.
fn local_sources() -> Map<String, Value> {
    let name = json!({ "type": "string", "minLength": 1 });
    let text = json!({ "type": "string" });
    let described = |description: &str, schema: &Value| {
        let mut schema = schema.clone();
        schema["description"] = description.into();
        schema
    };
    let mut kinds = Map::new();
    kinds.insert(
        "env".into(),
        described("The environment variable NAME.", &name),
    );
    kinds.insert(
        "file".into(),
        described(
            "The file's content; a relative path is relative to the plan file.",
            &name,
        ),
    );
    kinds.insert(
        "secretKeyRef".into(),
        json!({
            "description": "A key of a Kubernetes Secret, read from the Kubernetes API.",
            "type": "object",
            "properties": { "namespace": text, "name": text, "key": text },
            "required": ["namespace", "name", "key"],
            "additionalProperties": false,
        }),
    );
    kinds
}

/// `tokens.*.period` / `ttl` (`duration::duration_secs`).
pub struct DurationText;

impl JsonSchema for DurationText {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Seconds (3600) or a Go-style duration (768h, 30m, 1h30m).",
            "type": ["string", "integer"],
            "minimum": 1,
        })
    }
}

/// `prune.max_deletes` (`model::Prune::max_deletes`).
pub struct MaxDeletesValue;

impl JsonSchema for MaxDeletesValue {
    fn schema_name() -> Cow<'static, str> {
        "MaxDeletes".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A count (10) or a percentage (\"25%\") of the objects this instance owns.",
            "anyOf": [
                { "type": "integer", "minimum": 0 },
                { "type": "string", "pattern": "^\\s*[0-9]+\\s*%?\\s*$" },
            ],
        })
    }
}

/// `prune.kinds` (`model::PruneKinds::resolve`).
pub struct PruneKindNames;

impl JsonSchema for PruneKindNames {
    fn schema_name() -> Cow<'static, str> {
        "PruneKinds".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let mut names = vec!["all", "identity"];
        names.extend(PruneKind::ALL.iter().map(|k| k.name()));
        json_schema!({
            "description": "`all` (every kind but mounts and auth methods), `identity`, \
                or a list of kinds.",
            "anyOf": [
                { "enum": names },
                { "type": "array", "items": { "enum": names } },
            ],
        })
    }
}
