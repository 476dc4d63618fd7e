//! The automata that find registered secrets in a text: one per block of
//! `SHARD` secrets in the order they were registered.
//!
//! Building one automaton over every secret costs time quadratic in their
//! number (aho-corasick 1.1 reorders its states after building: 45 ms for
//! 10,000 short values, 175 ms for 20,000), and a run that registers one
//! more secret after a scrub built it would build it again. Blocks keep
//! both bounded: a block once full is never rebuilt, only the last one is
//! when secrets arrive, and each scan costs one pass per block.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

/// Secrets per automaton: builds stay near a few milliseconds, and a plan
/// of 10,000 secrets is five passes over a text.
const SHARD: usize = 2048;

pub(super) struct Shards {
    built: Vec<Shard>,
}

struct Shard {
    /// How many of its block's secrets it was built from: fewer than the
    /// block now holds means it is out of date.
    covers: usize,
    /// `None` when the block has nothing the automaton could hold.
    automaton: Option<AhoCorasick>,
}

impl Shards {
    pub const fn new() -> Shards {
        Shards { built: Vec::new() }
    }

    /// Whether a secret registered since the last `refresh` is missing.
    pub fn stale(&self, secrets: &[String]) -> bool {
        let blocks = secrets.len().div_ceil(SHARD);
        self.built.len() != blocks
            || self
                .built
                .last()
                .is_some_and(|last| last.covers != secrets.len() - (blocks - 1) * SHARD)
    }

    /// Builds the automata of the blocks that changed (returns how many);
    /// `held` says which secrets an automaton takes (the others are found
    /// another way).
    pub fn refresh(&mut self, secrets: &[String], held: impl Fn(&str) -> bool) -> usize {
        let mut builds = 0;
        for (i, block) in secrets.chunks(SHARD).enumerate() {
            if self.built.get(i).is_some_and(|s| s.covers == block.len()) {
                continue;
            }
            let shard = Shard {
                covers: block.len(),
                automaton: build(block.iter().filter(|s| held(s))),
            };
            builds += 1;
            match self.built.get_mut(i) {
                Some(old) => *old = shard,
                None => self.built.push(shard),
            }
        }
        builds
    }

    /// Every range of `text` that some secret covers, overlapping ranges
    /// merged, in order.
    pub fn find(&self, text: &str) -> Vec<(usize, usize)> {
        let mut found: Vec<(usize, usize)> = Vec::new();
        for automaton in self.built.iter().filter_map(|s| s.automaton.as_ref()) {
            found.extend(automaton.find_iter(text).map(|m| (m.start(), m.end())));
        }
        if self.built.len() > 1 {
            // Matches of two blocks may overlap: each range is masked once,
            // whole (a secret is never left half-shown by another's match).
            found.sort_unstable();
            found.dedup_by(|next, kept| {
                let overlaps = next.0 < kept.1;
                if overlaps {
                    kept.1 = kept.1.max(next.1);
                }
                overlaps
            });
        }
        found
    }
}

/// Leftmost-longest, so a secret that contains another is masked whole. A
/// contiguous NFA: a DFA costs time and memory quadratic in a long,
/// repetitive secret.
fn build<'a>(secrets: impl Iterator<Item = &'a String>) -> Option<AhoCorasick> {
    AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostLongest)
        .kind(Some(AhoCorasickKind::ContiguousNFA))
        .build(secrets)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(shards: &Shards, text: &str) -> String {
        let mut out = String::new();
        let mut at = 0;
        for (start, end) in shards.find(text) {
            out.push_str(&text[at..start]);
            out.push('#');
            at = end;
        }
        out + &text[at..]
    }

    #[test]
    fn only_the_last_block_is_rebuilt_and_blocks_are_searched_together() {
        let mut secrets: Vec<String> = (0..SHARD + 10).map(|i| format!("value-{i:05}")).collect();
        let mut shards = Shards::new();
        assert!(shards.stale(&secrets));
        assert_eq!(shards.refresh(&secrets, |_| true), 2);
        assert!(!shards.stale(&secrets));
        assert_eq!(shards.refresh(&secrets, |_| true), 0);
        secrets.push("overlap-value-00001-tail".into());
        assert!(shards.stale(&secrets));
        assert_eq!(shards.refresh(&secrets, |_| true), 1, "the last block only");
        assert_eq!(shards.built[1].covers, 11);
        // A match in each block, and two that overlap across blocks.
        assert_eq!(
            masked(
                &shards,
                "a value-00000 b value-02050 c overlap-value-00001-tail d"
            ),
            "a # b # c # d"
        );
        assert_eq!(masked(&shards, "nothing"), "nothing");
    }

    #[test]
    fn held_decides_what_an_automaton_takes() {
        let secrets = vec!["short-one".to_owned(), "x".repeat(50)];
        let mut shards = Shards::new();
        shards.refresh(&secrets, |s| s.len() < 20);
        assert_eq!(
            masked(&shards, &format!("short-one {}", "x".repeat(50))),
            format!("# {}", "x".repeat(50))
        );
    }
}
