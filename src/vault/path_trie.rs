//! The path patterns of the API description (`auth/kubernetes/role/{name}`)
//! as a trie of segments, and the best pattern for a concrete path.

use std::collections::HashMap;

/// A trie of path segments: literal children, one `{param}` child.
#[derive(Default)]
pub(super) struct PathTrie {
    lit: HashMap<String, PathTrie>,
    param: Option<Box<PathTrie>>,
    /// The id of the pattern that ends here.
    end: Option<usize>,
}

impl PathTrie {
    /// Adds the pattern `segs` (a `{name}` segment is a parameter) as `id`;
    /// returns the names of its parameters, in order.
    pub(super) fn insert(&mut self, segs: &[&str], id: usize) -> Vec<String> {
        let mut node = self;
        let mut params = Vec::new();
        for seg in segs {
            node = match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => {
                    params.push(name.to_owned());
                    node.param.get_or_insert_with(Box::default)
                }
                None => node.lit.entry((*seg).to_owned()).or_default(),
            };
        }
        node.end = Some(id);
        params
    }

    /// Whether some pattern starts with the literal segments of `mount`.
    pub(super) fn covers(&self, mount: &str) -> bool {
        let mut node = self;
        for seg in mount.split('/').filter(|s| !s.is_empty()) {
            match node.lit.get(seg) {
                Some(next) => node = next,
                None => return false,
            }
        }
        !std::ptr::eq(node, self)
    }

    /// The id of the pattern that matches `segs` best, see [`find`].
    pub(super) fn best_match(&self, segs: &[&str]) -> Option<usize> {
        let mut best = None;
        find(self, segs, 0, 0, &mut best);
        best.map(|(_, _, id)| id)
    }
}

/// Depth-first match; best = most literal segments, then fewest segments
/// absorbed by a `{param}` beyond one (`sys/mounts/{path}/tune` matches
/// `sys/mounts/a/b/tune`, KV's trailing `{path}` matches the rest).
fn find(
    node: &PathTrie,
    segs: &[&str],
    lits: usize,
    extra: usize,
    best: &mut Option<(usize, usize, usize)>,
) {
    let Some((first, rest)) = segs.split_first() else {
        if let Some(id) = node.end {
            let better = match best {
                Some((l, e, _)) => lits > *l || (lits == *l && extra < *e),
                None => true,
            };
            if better {
                *best = Some((lits, extra, id));
            }
        }
        return;
    };
    if let Some(next) = node.lit.get(*first) {
        find(next, rest, lits + 1, extra, best);
    }
    if let Some(param) = &node.param {
        for taken in 1..=segs.len() {
            find(param, &segs[taken..], lits, extra + taken - 1, best);
        }
    }
}
