//! Value sources: a scalar in the plan may instead be `{env: NAME}`,
//! `{file: path}`, `{secretKeyRef: {namespace, name, key}}` or
//! `{generate: {length, charset}}` (KV data only). A map with exactly one of
//! these keys is a source; any other map is plain data.

pub mod generate;
pub mod kubernetes;
pub mod resolve;

use serde_json::Value as Json;

/// The default limit of a `file:` source's size (VAULT_CONVERGE_MAX_SOURCE_BYTES):
/// far above any credential or policy, far below what could exhaust a job's memory.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecretKeyRef {
    pub namespace: String,
    pub name: String,
    pub key: String,
}

impl std::fmt::Display for SecretKeyRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{} key {}", self.namespace, self.name, self.key)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Env(String),
    File(String),
    SecretKeyRef(SecretKeyRef),
    Generate(generate::Generate),
}

/// Recognizes a value source; `Ok(None)` for plain values, `Err` for a
/// source map whose arguments are malformed.
pub fn source_of(value: &Json) -> Result<Option<Source>, String> {
    let Some(map) = value.as_object() else {
        return Ok(None);
    };
    if map.len() != 1 {
        return Ok(None);
    }
    let (kind, arg) = map.iter().next().expect("one entry");
    let source = match kind.as_str() {
        "env" => Source::Env(string_arg(arg, "env: NAME")?),
        "file" => Source::File(string_arg(arg, "file: path")?),
        "secretKeyRef" => {
            let field = |name: &str| -> Result<String, String> {
                arg.get(name).and_then(Json::as_str).map(str::to_owned).ok_or_else(|| {
                    format!("secretKeyRef needs string fields namespace, name and key (missing `{name}`)")
                })
            };
            if let Some(extra) = arg.as_object().and_then(|m| {
                m.keys()
                    .find(|k| !["namespace", "name", "key"].contains(&k.as_str()))
            }) {
                return Err(format!(
                    "secretKeyRef: unknown field `{extra}`, expected namespace, name, key"
                ));
            }
            Source::SecretKeyRef(SecretKeyRef {
                namespace: field("namespace")?,
                name: field("name")?,
                key: field("key")?,
            })
        }
        "generate" => Source::Generate(generate::Generate::from_json(arg)?),
        _ => return Ok(None),
    };
    Ok(Some(source))
}

fn string_arg(arg: &Json, usage: &str) -> Result<String, String> {
    match arg.as_str() {
        Some(s) if !s.is_empty() => Ok(s.to_owned()),
        _ => Err(format!("expected `{usage}` with a non-empty string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn recognizes_sources_and_plain_maps() {
        assert_eq!(
            source_of(&json!({"env": "X"})).unwrap(),
            Some(Source::Env("X".into()))
        );
        assert_eq!(source_of(&json!({"env": "X", "other": 1})).unwrap(), None);
        assert_eq!(source_of(&json!({"version": "2"})).unwrap(), None);
        assert!(source_of(&json!({"secretKeyRef": {"namespace": "a", "name": "b"}})).is_err());
    }
}
