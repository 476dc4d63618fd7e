//! Kubernetes manifests as trees that remember the line each value was
//! written on: multi-document YAML through serde-saphyr, or JSON objects
//! from the Kubernetes API (no lines).

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_saphyr::Spanned;

/// A value and its 1-based line (0: unknown, from JSON).
#[derive(Debug, Clone, PartialEq)]
pub struct Tree {
    pub line: u64,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Null, or a scalar that is not text (numbers, booleans) kept as text.
    Null,
    Text(String),
    Seq(Vec<Tree>),
    Map(Vec<(String, Tree)>),
}

impl Tree {
    pub fn get(&self, key: &str) -> Option<&Tree> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The child at `path` of map keys.
    pub fn at(&self, path: &[&str]) -> Option<&Tree> {
        path.iter().try_fold(self, |node, key| node.get(key))
    }

    /// The text at `path`, when it is non-empty text.
    pub fn text(&self, path: &[&str]) -> Option<&str> {
        match &self.at(path)?.value {
            Value::Text(s) if !s.is_empty() => Some(s),
            _ => None,
        }
    }

    pub fn items(&self) -> &[Tree] {
        match &self.value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }

    /// A JSON value without lines (what the Kubernetes API answers).
    pub fn from_json(json: &serde_json::Value) -> Tree {
        use serde_json::Value as J;
        let value = match json {
            J::Null => Value::Null,
            J::String(s) => Value::Text(s.clone()),
            J::Bool(_) | J::Number(_) => Value::Text(json.to_string()),
            J::Array(items) => Value::Seq(items.iter().map(Tree::from_json).collect()),
            J::Object(map) => Value::Map(
                map.iter()
                    .map(|(k, v)| (k.clone(), Tree::from_json(v)))
                    .collect(),
            ),
        };
        Tree { line: 0, value }
    }
}

/// Every document of a YAML stream (empty documents are left out).
/// Duplicate keys are errors, as for kubectl. The budget bounds what a
/// hostile file can make the parser do.
pub fn documents(text: &str) -> Result<Vec<Tree>, serde_saphyr::Error> {
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_nodes: 1_000_000,
            max_events: 4_000_000,
        },
    };
    let docs: Vec<Spanned<Raw>> = serde_saphyr::from_multiple_with_options(text, options)?;
    Ok(docs.into_iter().map(tree).collect())
}

fn tree(raw: Spanned<Raw>) -> Tree {
    let line = raw.referenced.line();
    let value = match raw.value {
        Raw::Null => Value::Null,
        Raw::Text(s) => Value::Text(s),
        Raw::Seq(items) => Value::Seq(items.into_iter().map(tree).collect()),
        Raw::Map(entries) => Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (k.value.0, tree(v)))
                .collect(),
        ),
    };
    Tree { line, value }
}

/// The shape serde-saphyr fills in; each child carries its own span.
enum Raw {
    Null,
    Text(String),
    Seq(Vec<Spanned<Raw>>),
    Map(Vec<(Spanned<Key>, Spanned<Raw>)>),
}

/// A map key: any scalar, as text (`200: ok` is a valid manifest key).
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Raw::deserialize(deserializer)? {
            Raw::Text(s) => Ok(Key(s)),
            Raw::Null => Ok(Key(String::new())),
            // A complex key cannot name anything we look for.
            Raw::Seq(_) | Raw::Map(_) => Ok(Key(String::new())),
        }
    }
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Raw, E> {
        Ok(Raw::Text(v.to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Raw, E> {
        Ok(Raw::Text(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Raw, E> {
        Ok(Raw::Text(v.to_string()))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Raw, E> {
        Ok(Raw::Text(v.to_string()))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Raw, E> {
        Ok(Raw::Text(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Raw, E> {
        Ok(Raw::Text(v.to_string()))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Raw, E> {
        Ok(Raw::Text(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Raw, E> {
        Ok(Raw::Text(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Raw::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<Key>>()? {
            let value = map.next_value()?;
            entries.push((key, value));
        }
        Ok(Raw::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_keep_the_lines_of_the_whole_stream() {
        let text = "# a comment\napiVersion: v1\nkind: ConfigMap\n---\n---\nkind: ExternalSecret\nspec:\n  data:\n    - secretKey: a\n      remoteRef: {key: app/db, version: 2}\n";
        let docs = documents(text).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].text(&["kind"]), Some("ConfigMap"));
        let entry = &docs[1].at(&["spec", "data"]).unwrap().items()[0];
        assert_eq!(entry.line, 9);
        assert_eq!(entry.text(&["remoteRef", "version"]), Some("2"));
        assert_eq!(entry.at(&["remoteRef", "key"]).unwrap().line, 10);
    }

    #[test]
    fn anchors_odd_keys_and_json_are_read() {
        let text = "base: &b {key: x}\n200: ok\nref: *b\n? [a]\n: complex\n";
        let doc = &documents(text).unwrap()[0];
        assert_eq!(doc.text(&["ref", "key"]), Some("x"));
        assert_eq!(doc.text(&["200"]), Some("ok"));
        let json = Tree::from_json(&serde_json::json!({"spec": {"n": 1, "t": true}}));
        assert_eq!(json.text(&["spec", "n"]), Some("1"));
        assert_eq!(json.at(&["spec"]).unwrap().line, 0);
    }
}
