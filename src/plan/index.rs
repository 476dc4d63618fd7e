//! Where each key and sequence item of the merged plan was written, at any
//! depth, by key path.
//!
//! A path is hashed segment by segment into 64 bits, so the table holds no
//! names and no part of the tree: the tree can be dropped once the plan has
//! been checked, and a plan of tens of thousands of objects costs a few
//! bytes of locations per node.

use std::sync::Arc;

use super::node::{Loc, Node, Value};

pub struct Index {
    files: Vec<Arc<str>>,
    root: Loc,
    /// Path hashes in ascending order; `at[i]` is where `keys[i]` was
    /// written. Two exact-size arrays: a hash table would hold a third of
    /// its slots empty, and a pair would pad each entry to 24 bytes.
    keys: Box<[u64]>,
    at: Box<[Packed]>,
    /// Where each run of keys with the same top `bits` bits starts in
    /// `keys` (one more entry for the end): a lookup reads a few adjacent
    /// keys instead of binary-searching them all (18 cache misses at
    /// 190,000 entries, a third of building a large plan's stages).
    buckets: Box<[u32]>,
    bits: u32,
}

#[derive(Clone, Copy)]
struct Packed {
    file: u32,
    line: u32,
    column: u32,
}

impl Index {
    pub fn build(root: &Node) -> Index {
        // Sized once: growing would hold the old and the new array at once,
        // at the moment the whole plan is in memory.
        let mut builder = Builder {
            files: Vec::new(),
            entries: Vec::with_capacity(count(root)),
        };
        builder.add(root, ROOT);
        let mut entries = builder.entries;
        entries.sort_unstable_by_key(|&(hash, _)| hash);
        // A path written twice (a hash collision, in practice never) keeps one place.
        entries.dedup_by_key(|&mut (hash, _)| hash);
        let keys: Box<[u64]> = entries.iter().map(|&(hash, _)| hash).collect();
        let (buckets, bits) = buckets(&keys);
        Index {
            files: builder.files,
            root: root.loc.clone(),
            keys,
            at: entries.into_iter().map(|(_, packed)| packed).collect(),
            buckets,
            bits,
        }
    }

    /// Where the document starts (for errors about the plan as a whole).
    pub fn root(&self) -> &Loc {
        &self.root
    }

    /// The location of the key at `path` (or of the item, in a sequence).
    pub fn loc(&self, path: &[&str]) -> Option<Loc> {
        if path.is_empty() {
            return Some(self.root.clone());
        }
        self.loc_of(PathKey::of(path))
    }

    /// The location of the key a `PathKey` names.
    pub fn loc_of(&self, key: PathKey) -> Option<Loc> {
        let bucket = bucket_of(key.0, self.bits);
        let start = *self.buckets.get(bucket)? as usize;
        let end = *self.buckets.get(bucket + 1)? as usize;
        let found = self.keys.get(start..end)?.binary_search(&key.0).ok()?;
        let packed = &self.at[start + found];
        Some(Loc {
            file: self.files.get(packed.file as usize)?.clone(),
            line: packed.line,
            column: packed.column,
        })
    }
}

/// A plan path as the index knows it: eight bytes instead of its segments,
/// for objects that may need a location only when something fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathKey(u64);

impl PathKey {
    pub fn of(path: &[&str]) -> PathKey {
        PathKey(
            path.iter()
                .fold(ROOT, |parent, segment| step(parent, segment)),
        )
    }

    /// The key one segment below this one.
    pub fn child(self, segment: &str) -> PathKey {
        PathKey(step(self.0, segment))
    }
}

/// Collects every key's and item's location before they are sorted.
struct Builder {
    files: Vec<Arc<str>>,
    entries: Vec<(u64, Packed)>,
}

impl Builder {
    fn add(&mut self, node: &Node, hash: u64) {
        match &node.value {
            Value::Map(entries) => {
                for (key, child) in entries {
                    let child_hash = step(hash, &key.name);
                    self.insert(child_hash, &key.loc);
                    self.add(child, child_hash);
                }
            }
            Value::Seq(items) => {
                for (i, child) in items.iter().enumerate() {
                    let child_hash = step(hash, &i.to_string());
                    self.insert(child_hash, &child.loc);
                    self.add(child, child_hash);
                }
            }
            _ => {}
        }
    }

    fn insert(&mut self, hash: u64, loc: &Loc) {
        let file = match self.files.iter().rposition(|f| Arc::ptr_eq(f, &loc.file)) {
            Some(i) => i,
            None => {
                self.files.push(loc.file.clone());
                self.files.len() - 1
            }
        };
        self.entries.push((
            hash,
            Packed {
                file: u32::try_from(file).unwrap_or(u32::MAX),
                line: loc.line,
                column: loc.column,
            },
        ));
    }
}

const ROOT: u64 = 0;

/// About two keys per bucket; `bits` is how many top bits of a hash name
/// its bucket.
fn buckets(sorted: &[u64]) -> (Box<[u32]>, u32) {
    let bits = (sorted.len() / 2).max(1).ilog2().min(24);
    let count = 1usize << bits;
    let mut starts = Vec::with_capacity(count + 1);
    let mut at = 0;
    for bucket in 0..count {
        while sorted.get(at).is_some_and(|&k| bucket_of(k, bits) < bucket) {
            at += 1;
        }
        starts.push(u32::try_from(at).unwrap_or(u32::MAX));
    }
    starts.push(u32::try_from(sorted.len()).unwrap_or(u32::MAX));
    (starts.into_boxed_slice(), bits)
}

fn bucket_of(hash: u64, bits: u32) -> usize {
    if bits == 0 {
        0
    } else {
        (hash >> (64 - bits)) as usize
    }
}

/// The keys and items below `node`, at any depth.
fn count(node: &Node) -> usize {
    match &node.value {
        Value::Map(entries) => entries.iter().map(|(_, child)| 1 + count(child)).sum(),
        Value::Seq(items) => items.iter().map(|child| 1 + count(child)).sum(),
        _ => 0,
    }
}

/// The hash of a path one segment longer: FNV-1a over the parent's hash
/// and the segment, with a separator so `a`+`bc` and `ab`+`c` differ. 64
/// bits make a collision between two paths of one plan vanishingly unlikely.
fn step(parent: u64, segment: &str) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mix = |hash: u64, byte: u8| (hash ^ u64::from(byte)).wrapping_mul(PRIME);
    let hash = parent.to_le_bytes().into_iter().fold(OFFSET, mix);
    segment.bytes().chain([0xff]).fold(hash, mix)
}

/// FNV-1a's offset basis.
const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

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
        Index::build(&super::super::node::parse(&Arc::from("p.yaml"), PLAN).unwrap())
    }

    fn line(index: &Index, path: &[&str]) -> Option<u32> {
        index.loc(path).map(|l| l.line)
    }

    #[test]
    fn every_key_of_a_large_plan_is_found_through_its_bucket() {
        let text: String = (0..5000).map(|i| format!("k{i}: {{a: 1}}\n")).collect();
        let index = Index::build(&super::super::node::parse(&Arc::from("p.yaml"), &text).unwrap());
        assert!(index.bits >= 10, "{}", index.bits);
        for i in 0..5000 {
            let key = format!("k{i}");
            assert_eq!(line(&index, &[&key]), Some(i + 1));
            assert_eq!(line(&index, &[&key, "a"]), Some(i + 1));
        }
        assert_eq!(line(&index, &["k5000"]), None);
    }

    #[test]
    fn a_key_one_segment_below_is_the_longer_path() {
        let index = index();
        let role = PathKey::of(&["auth", "kubernetes", "roles", "api"]);
        assert_eq!(
            index.loc_of(role.child("token_policies")).map(|l| l.line),
            Some(6)
        );
        assert_eq!(
            role.child("token_tll"),
            PathKey::of(&["auth", "kubernetes", "roles", "api", "token_tll"])
        );
        assert!(index.loc_of(role.child("absent")).is_none());
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
