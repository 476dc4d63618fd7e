//! A YAML document as a tree of nodes that remember where they were written.
//!
//! Overlays are merged and `${VAR}`s are expanded on this tree, before it is
//! turned into the typed model, so every later error can still name the file,
//! line and column the offending value came from.

use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_saphyr::Spanned;

/// Where a node was written: file, 1-based line and column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loc {
    pub file: Arc<str>,
    pub line: u64,
    pub column: u64,
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

#[derive(Clone, Debug)]
pub struct Node {
    pub value: Value,
    pub loc: Loc,
}

#[derive(Clone, Debug)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Keys keep their own location so duplicate or unknown keys can be pointed at.
    Map(Vec<(Key, Node)>),
}

#[derive(Clone, Debug)]
pub struct Key {
    pub name: String,
    pub loc: Loc,
}

/// The keys that make a one-key map a value source (`crate::sources`).
pub const SOURCE_KINDS: [&str; 4] = ["env", "file", "secretKeyRef", "generate"];

impl Node {
    /// The kind of value source this node is, if any: a map with exactly one
    /// key, and that key a source kind. Same test as `sources::source_of`,
    /// without converting the subtree to JSON.
    pub fn source_kind(&self) -> Option<&'static str> {
        match &self.value {
            Value::Map(entries) if entries.len() == 1 => SOURCE_KINDS
                .iter()
                .copied()
                .find(|kind| *kind == entries[0].0.name),
            _ => None,
        }
    }

    /// The child reached by following `path` (map keys and sequence indexes).
    pub fn find(&self, path: &[PathSegment]) -> Option<&Node> {
        let mut node = self;
        for segment in path {
            node = match (&node.value, segment) {
                (Value::Map(entries), PathSegment::Key(k)) => {
                    &entries.iter().find(|(key, _)| &key.name == k)?.1
                }
                (Value::Seq(items), PathSegment::Index(i)) => items.get(*i)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// The location of the key `name` inside this map node, if present.
    pub fn key_loc(&self, name: &str) -> Option<&Loc> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(key, _)| key.name == name)
                .map(|(k, _)| &k.loc),
            _ => None,
        }
    }

    /// Converts to JSON for typed deserialization (locations are dropped).
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => (*b).into(),
            Value::Int(i) => (*i).into(),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::Str(s) => s.clone().into(),
            Value::Seq(items) => items.iter().map(Node::to_json).collect(),
            Value::Map(entries) => entries
                .iter()
                .map(|(k, v)| (k.name.clone(), v.to_json()))
                .collect::<serde_json::Map<_, _>>()
                .into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathSegment {
    Key(String),
    Index(usize),
}

/// Parses one YAML document; duplicate keys are errors (serde-saphyr's default
/// policy). The budget allows plans of tens of thousands of objects while
/// still bounding what a hostile file can make the parser do.
pub fn parse(file: &Arc<str>, text: &str) -> Result<Node, serde_saphyr::Error> {
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_nodes: 5_000_000,
            max_events: 20_000_000,
        },
    };
    let raw: Spanned<RawValue> = serde_saphyr::from_str_with_options(text, options)?;
    Ok(attach(file, raw))
}

fn loc_of(file: &Arc<str>, location: &serde_saphyr::Location) -> Loc {
    Loc {
        file: file.clone(),
        line: location.line(),
        column: location.column(),
    }
}

fn attach(file: &Arc<str>, raw: Spanned<RawValue>) -> Node {
    let loc = loc_of(file, &raw.referenced);
    let value = match raw.value {
        RawValue::Null => Value::Null,
        RawValue::Bool(b) => Value::Bool(b),
        RawValue::Int(i) => Value::Int(i),
        RawValue::Float(f) => Value::Float(f),
        RawValue::Str(s) => Value::Str(s),
        RawValue::Seq(items) => Value::Seq(items.into_iter().map(|i| attach(file, i)).collect()),
        RawValue::Map(entries) => Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| {
                    let key = Key {
                        name: k.value,
                        loc: loc_of(file, &k.referenced),
                    };
                    (key, attach(file, v))
                })
                .collect(),
        ),
    };
    Node { value, loc }
}

/// The shape serde-saphyr fills in; each child carries its own span.
enum RawValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<RawValue>>),
    Map(Vec<(Spanned<String>, Spanned<RawValue>)>),
}

impl<'de> Deserialize<'de> for RawValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = RawValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<RawValue, E> {
        Ok(RawValue::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<RawValue, E> {
        Ok(RawValue::Null)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawValue, E> {
        Ok(RawValue::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawValue, E> {
        Ok(RawValue::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawValue, E> {
        i64::try_from(v)
            .map(RawValue::Int)
            .or(Ok(RawValue::Float(v as f64)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawValue, E> {
        Ok(RawValue::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawValue, E> {
        Ok(RawValue::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<RawValue, E> {
        Ok(RawValue::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(RawValue::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawValue, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let value = map.next_value()?;
            entries.push((key, value));
        }
        Ok(RawValue::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> Arc<str> {
        Arc::from("plan.yaml")
    }

    #[test]
    fn nodes_carry_line_and_column() {
        let node = parse(&file(), "a:\n  b: [1, two]\n  c: {d: true}\n").unwrap();
        let b = node
            .find(&[PathSegment::Key("a".into()), PathSegment::Key("b".into())])
            .unwrap();
        assert_eq!((b.loc.line, b.loc.column), (2, 6));
        let two = node
            .find(&[
                PathSegment::Key("a".into()),
                PathSegment::Key("b".into()),
                PathSegment::Index(1),
            ])
            .unwrap();
        assert!(matches!(&two.value, Value::Str(s) if s == "two"));
        assert_eq!(two.loc.line, 2);
        let a = node.find(&[PathSegment::Key("a".into())]).unwrap();
        assert_eq!(a.key_loc("c").unwrap().line, 3);
        assert_eq!(
            node.to_json(),
            serde_json::json!({"a": {"b": [1, "two"], "c": {"d": true}}})
        );
    }

    #[test]
    fn duplicate_keys_are_rejected_with_location() {
        let err = parse(&file(), "a: 1\nb: 2\na: 3\n").unwrap_err();
        let loc = err.location().expect("duplicate key error has a location");
        assert_eq!(loc.line(), 3);
    }

    #[test]
    fn source_kind_needs_exactly_one_source_key() {
        let node = parse(
            &file(),
            "a: {env: X}\nb: {env: X, other: 1}\nc: {version: 2}\nd: [1]\n",
        )
        .unwrap();
        let kind = |k: &str| {
            node.find(&[PathSegment::Key(k.into())])
                .unwrap()
                .source_kind()
        };
        assert_eq!(kind("a"), Some("env"));
        assert_eq!(kind("b"), None);
        assert_eq!(kind("c"), None);
        assert_eq!(kind("d"), None);
    }

    #[test]
    fn quoted_numbers_stay_strings() {
        let node = parse(&file(), "v: \"2\"\nw: 2\n").unwrap();
        assert_eq!(node.to_json(), serde_json::json!({"v": "2", "w": 2}));
    }
}
