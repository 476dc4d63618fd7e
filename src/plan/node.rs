//! A YAML document as a tree of nodes that remember where they were written.
//!
//! Overlays are merged and `${VAR}`s are expanded on this tree, before it is
//! turned into the typed model, so every later error can still name the file,
//! line and column the offending value came from.

use std::fmt;
use std::sync::Arc;

use super::numbers;

/// Where a node was written: file, 1-based line and column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loc {
    pub file: Arc<str>,
    /// 32 bits: the tree holds two locations per map entry.
    pub line: u32,
    pub column: u32,
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
                    &entries.iter().find(|(key, _)| key.name == *k)?.1
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
            Value::Float(f) => numbers::float_json(*f),
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

/// A step of the path from the root to a node: a key, or an item's index
/// (spelled out only for a message).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathSegment<'a> {
    Key(&'a str),
    Index(usize),
}

/// `path` as `a.b.0.c`, for messages.
pub fn dotted(path: &[PathSegment]) -> String {
    let mut out = String::new();
    for (i, segment) in path.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        match segment {
            PathSegment::Key(name) => out.push_str(name),
            PathSegment::Index(index) => out.push_str(&index.to_string()),
        }
    }
    out
}

impl From<numbers::Exact> for Value {
    fn from(number: numbers::Exact) -> Value {
        match number {
            numbers::Exact::Int(i) => Value::Int(i),
            numbers::Exact::Float(f) => Value::Float(f),
        }
    }
}

/// A plan file that is not a usable YAML document.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error(transparent)]
    Yaml(#[from] serde_saphyr::Error),
    /// A number Vault would not receive or keep exactly (`numbers`).
    #[error("{loc}: {message}")]
    Number { loc: Loc, message: String },
}

/// Parses one YAML document; duplicate keys are errors (serde-saphyr's default
/// policy). The budget allows plans of tens of thousands of objects while
/// still bounding what a hostile file can make the parser do.
pub fn parse(file: &Arc<str>, text: &str) -> Result<Node, ParseError> {
    match super::halves::parse(file, text) {
        Some(tree) => Ok(tree),
        None => super::full_parse::parse_through_serde(file, text),
    }
}

#[cfg(test)]
#[path = "node_tests.rs"]
mod tests;
