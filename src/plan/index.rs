//! Where each object of the merged plan was declared, by key path.
//!
//! The first `INDEX_DEPTH` levels (every object of the plan sits within
//! them) are in a hash map, built in one pass; deeper paths (a field of a
//! connection's `config`, a nested KV value) start from their indexed
//! ancestor and walk the few remaining levels. Both stay linear for plans
//! of tens of thousands of objects.

use std::collections::HashMap;

use super::node::{Loc, Node, Value};

const SEP: char = '\u{1f}';
const INDEX_DEPTH: usize = 5;

pub struct Index {
    root: Node,
    entries: HashMap<String, Entry>,
}

/// A child's location and its position in its parent, to walk on from it.
struct Entry {
    loc: Loc,
    position: usize,
}

impl Index {
    pub fn build(root: Node) -> Index {
        let mut entries = HashMap::new();
        add(&root, &mut String::new(), 0, &mut entries);
        Index { root, entries }
    }

    /// The merged tree the index points into.
    pub fn root(&self) -> &Node {
        &self.root
    }

    /// The location of the key at `path` (or of the item, in a sequence).
    pub fn loc(&self, path: &[&str]) -> Option<Loc> {
        if path.is_empty() {
            return Some(self.root.loc.clone());
        }
        let indexed = path.len().min(INDEX_DEPTH);
        let mut key = String::new();
        let mut node = &self.root;
        let mut entry = None;
        for (depth, segment) in path[..indexed].iter().enumerate() {
            if depth > 0 {
                key.push(SEP);
            }
            key.push_str(segment);
            let found = self.entries.get(&key)?;
            if depth + 1 < path.len() {
                node = child_at(node, found.position)?;
            }
            entry = Some(found);
        }
        let mut loc = entry?.loc.clone();
        for segment in &path[indexed..] {
            let (child_loc, child) = find_child(node, segment)?;
            loc = child_loc.clone();
            node = child;
        }
        Some(loc)
    }
}

fn add(node: &Node, prefix: &mut String, depth: usize, out: &mut HashMap<String, Entry>) {
    if depth == INDEX_DEPTH {
        return;
    }
    let mut visit = |position: usize, name: &str, loc: &Loc, child: &Node| {
        let len = prefix.len();
        if depth > 0 {
            prefix.push(SEP);
        }
        prefix.push_str(name);
        let entry = Entry {
            loc: loc.clone(),
            position,
        };
        out.insert(prefix.clone(), entry);
        add(child, prefix, depth + 1, out);
        prefix.truncate(len);
    };
    match &node.value {
        Value::Map(entries) => {
            for (i, (key, child)) in entries.iter().enumerate() {
                visit(i, &key.name, &key.loc, child);
            }
        }
        Value::Seq(items) => {
            for (i, child) in items.iter().enumerate() {
                visit(i, &i.to_string(), &child.loc, child);
            }
        }
        _ => {}
    }
}

fn child_at(node: &Node, position: usize) -> Option<&Node> {
    match &node.value {
        Value::Map(entries) => entries.get(position).map(|(_, n)| n),
        Value::Seq(items) => items.get(position),
        _ => None,
    }
}

fn find_child<'a>(node: &'a Node, segment: &str) -> Option<(&'a Loc, &'a Node)> {
    match &node.value {
        Value::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.name == segment)
            .map(|(k, v)| (&k.loc, v)),
        Value::Seq(items) => {
            let item = items.get(segment.parse::<usize>().ok()?)?;
            Some((&item.loc, item))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    const PLAN: &str = "\
auth:
  kubernetes:
    roles:
      api:
        token_tll: 1h
        token_policies: [a, b]
databases:
  database:
    connections:
      pg:
        config:
          password: x
    static_roles:
      x:
        password_policy: p
writes:
  - path: a/b
    data:
      field: 1
      nested: {deep: [1, {deeper: 2}]}
";

    fn index() -> Index {
        Index::build(super::super::node::parse(&Arc::from("p.yaml"), PLAN).unwrap())
    }

    fn line(index: &Index, path: &[&str]) -> Option<u64> {
        index.loc(path).map(|l| l.line)
    }

    #[test]
    fn shallow_and_deep_paths_resolve() {
        let index = index();
        let i = &index;
        assert_eq!(
            line(i, &["auth", "kubernetes", "roles", "api", "token_tll"]),
            Some(5)
        );
        assert_eq!(
            line(
                i,
                &[
                    "databases",
                    "database",
                    "static_roles",
                    "x",
                    "password_policy"
                ]
            ),
            Some(15)
        );
        assert_eq!(line(i, &["writes", "0", "data", "field"]), Some(19));
        assert_eq!(line(i, &["writes", "0"]), Some(17));
        assert_eq!(
            line(
                i,
                &[
                    "databases",
                    "database",
                    "connections",
                    "pg",
                    "config",
                    "password"
                ]
            ),
            Some(12)
        );
        assert_eq!(
            line(
                i,
                &["auth", "kubernetes", "roles", "api", "token_policies", "1"]
            ),
            Some(6)
        );
        assert_eq!(
            line(i, &["writes", "0", "data", "nested", "deep", "1", "deeper"]),
            Some(20)
        );
        assert_eq!(line(i, &["auth", "kubernetes", "roles", "nope"]), None);
        assert_eq!(line(i, &["writes", "0", "data", "nested", "nope"]), None);
        assert_eq!(
            line(i, &["writes", "7", "data", "nested", "deep", "x"]),
            None
        );
    }
}
