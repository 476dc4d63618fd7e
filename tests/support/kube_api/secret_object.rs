//! The `v1` `Secret` as JSON: reading what a client sends in a POST or PUT
//! body, and rendering a stored secret the way the API server answers it.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::encoding::base64_encode;
use super::state::StoredSecret;

/// The parts of a sent `Secret` the stand-in acts on.
pub(super) struct SentSecret {
    /// `metadata.name`, `None` when absent or empty.
    pub name: Option<String>,
    /// `metadata.namespace`, `None` when absent or empty.
    pub namespace: Option<String>,
    /// `metadata.resourceVersion`, `None` when absent or empty (an
    /// unconditional update).
    pub resource_version: Option<String>,
    /// `data` (base64, kept as sent) with `stringData` merged in, encoded;
    /// `stringData` wins, as on the API server.
    pub data: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

impl SentSecret {
    /// Parse a request body. Err: the JSON error, for a 400.
    pub fn parse(body: &[u8]) -> Result<SentSecret, String> {
        let body: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
        let text = |pointer: &str| {
            body.pointer(pointer)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let mut data = strings(body.get("data"));
        for (k, v) in strings(body.get("stringData")) {
            data.insert(k, base64_encode(v.as_bytes()));
        }
        Ok(SentSecret {
            name: text("/metadata/name"),
            namespace: text("/metadata/namespace"),
            resource_version: text("/metadata/resourceVersion"),
            data,
            labels: strings(body.pointer("/metadata/labels")),
            annotations: strings(body.pointer("/metadata/annotations")),
        })
    }
}

/// The string-valued entries of a JSON object (others are left out).
fn strings(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// A secret as it appears in a `SecretList`'s `items` (no `kind` and
/// `apiVersion`).
pub(super) fn secret_json(ns: &str, name: &str, s: &StoredSecret) -> Value {
    let mut metadata = Map::new();
    metadata.insert("name".into(), json!(name));
    metadata.insert("namespace".into(), json!(ns));
    metadata.insert("uid".into(), json!(s.uid));
    metadata.insert(
        "resourceVersion".into(),
        json!(s.resource_version.to_string()),
    );
    metadata.insert("creationTimestamp".into(), json!(s.creation_timestamp));
    // The API server leaves empty maps out (`omitempty`).
    if !s.labels.is_empty() {
        metadata.insert("labels".into(), json!(s.labels));
    }
    if !s.annotations.is_empty() {
        metadata.insert("annotations".into(), json!(s.annotations));
    }
    let mut v = json!({
        "metadata": metadata,
        "type": "Opaque",
    });
    if !s.data.is_empty() {
        v["data"] = json!(s.data);
    }
    v
}

/// A secret as GET, POST and PUT answer it: a full `v1` `Secret`.
pub(super) fn secret_object(ns: &str, name: &str, s: &StoredSecret) -> Value {
    let mut obj = secret_json(ns, name, s);
    obj["apiVersion"] = json!("v1");
    obj["kind"] = json!("Secret");
    obj
}
