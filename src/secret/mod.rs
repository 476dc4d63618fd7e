//! Secret values and the scrubber that keeps them out of every output.
//!
//! `Secret` cannot be printed by accident: its `Debug` says `<redacted>` and
//! it has no `Display`. Every secret the run learns is also registered with a
//! process-wide scrubber, which the log writer, the report and error messages
//! pass their text through, so a secret echoed back by Vault in an error
//! message is still masked.

mod fingerprint;
mod lines;
mod names;
mod shards;

pub use lines::write_scrubbed;
pub use names::is_secret_name;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::RwLock;

use fingerprint::Fingerprint;
use shards::Shards;

pub const REDACTED: &str = "<redacted>";

/// Values shorter than this are not scrubbed from free text: masking every
/// "1" or "ab" would garble output without protecting anything real.
const MIN_SCRUB_LEN: usize = 4;

/// The secrets seen so far and the automata that find them in a text
/// (built on first use after a change).
struct Known {
    secrets: Vec<String>,
    /// Secrets over `FRAGMENT_MAX_SECRET_LEN`, by length and hash only.
    fingerprints: Vec<Fingerprint>,
    /// Hash → indexes into `secrets`, to register each value once in
    /// logarithmic time without keeping a second copy of it.
    seen: BTreeMap<u64, Vec<usize>>,
    /// Indexes into `secrets` of those too long for the automaton, so a
    /// scrub does not walk every secret to find them.
    long: Vec<usize>,
    /// Out of date after a registration until the next scrub.
    shards: Shards,
}

static KNOWN_SECRETS: RwLock<Known> = RwLock::new(Known {
    secrets: Vec::new(),
    fingerprints: Vec::new(),
    seen: BTreeMap::new(),
    long: Vec::new(),
    shards: Shards::new(),
});

/// Runs at least this long that Vault echoes from a secret are masked too.
const FRAGMENT_LEN: usize = 8;
/// Longer secrets are masked whole only.
const FRAGMENT_MAX_SECRET_LEN: usize = 64 * 1024;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value and registers it with the scrubber.
    pub fn new(value: impl Into<String>) -> Secret {
        let value = value.into();
        register(&value);
        Secret(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The value itself, for handing it on without a copy (it stays
    /// registered with the scrubber).
    pub fn into_exposed(self) -> String {
        self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Read from settings (VAULT_TOKEN, ...) like a string.
impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret::new)
    }
}

/// Serializes as `<redacted>`: a dump of settings never shows the value.
impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(REDACTED)
    }
}

/// Remembers `value` so that `scrub` masks it from now on.
pub fn register(value: &str) {
    if value.len() < MIN_SCRUB_LEN {
        return;
    }
    if value.len() > FRAGMENT_MAX_SECRET_LEN {
        // A large source is masked whole by its fingerprint: no second copy.
        let fingerprint = Fingerprint::of(value);
        let mut known = KNOWN_SECRETS.write().unwrap_or_else(|e| e.into_inner());
        if !known.fingerprints.contains(&fingerprint) {
            known.fingerprints.push(fingerprint);
        }
        return;
    }
    let hash = {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        value.hash(&mut hasher);
        hasher.finish()
    };
    let mut known = KNOWN_SECRETS.write().unwrap_or_else(|e| e.into_inner());
    let known = &mut *known;
    let same = known.seen.get(&hash).into_iter().flatten();
    if same.into_iter().any(|&i| known.secrets[i] == value) {
        return;
    }
    known
        .seen
        .entry(hash)
        .or_default()
        .push(known.secrets.len());
    if value.len() > AUTOMATON_MAX_LEN {
        known.long.push(known.secrets.len());
    }
    known.secrets.push(value.to_owned());
}

/// `scrub`, and also every run of 8 or more characters that is part of a
/// known secret: Vault echoes pieces of what it was sent in its errors (a
/// policy line with a bad capability, a truncated value).
pub fn scrub_fragments(text: &str) -> String {
    let text = scrub(text);
    let known = KNOWN_SECRETS.read().unwrap_or_else(|e| e.into_inner());
    // Fragments of very long secrets (files) are not searched: each window
    // would cost a scan of the whole secret.
    let secrets: Vec<&str> = known
        .secrets
        .iter()
        .map(String::as_str)
        .filter(|s| (FRAGMENT_LEN..=FRAGMENT_MAX_SECRET_LEN).contains(&s.len()))
        .collect();
    if secrets.is_empty() || text.len() < FRAGMENT_LEN {
        return text;
    }
    let in_a_secret = |piece: &str| secrets.iter().any(|s| s.contains(piece));
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let start_ok = text.is_char_boundary(i);
        let end = i + FRAGMENT_LEN;
        if start_ok && end <= text.len() && text.is_char_boundary(end) && in_a_secret(&text[i..end])
        {
            // Grow the run while it still is part of one secret.
            let mut j = end;
            while let Some(next) = (j + 1..=text.len()).find(|&k| text.is_char_boundary(k)) {
                if !in_a_secret(&text[i..next]) {
                    break;
                }
                j = next;
            }
            out.push_str(REDACTED);
            i = j;
            continue;
        }
        let next = (i + 1..=text.len())
            .find(|&k| text.is_char_boundary(k))
            .unwrap_or(text.len());
        out.push_str(&text[i..next]);
        i = next;
    }
    out
}

/// Registers the values of every secret-named key at any depth of `value`
/// (`{credentials: {password: …}}` inside a role's fields).
pub fn register_secret_named(value: &serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map {
                if is_secret_name(key) {
                    register_json(child);
                } else {
                    register_secret_named(child);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(register_secret_named),
        _ => {}
    }
}

/// Registers every string inside a JSON value.
pub fn register_json(value: &serde_json::Value) {
    match value {
        serde_json::Value::String(s) => register(s),
        serde_json::Value::Array(items) => items.iter().for_each(register_json),
        serde_json::Value::Object(map) => map.values().for_each(register_json),
        _ => {}
    }
}

/// Replaces every registered secret in `text` by `<redacted>`.
pub fn scrub(text: &str) -> String {
    {
        let known = KNOWN_SECRETS.read().unwrap_or_else(|e| e.into_inner());
        if !known.shards.stale(&known.secrets) {
            return replace_all(&known, text);
        }
    }
    let mut known = KNOWN_SECRETS.write().unwrap_or_else(|e| e.into_inner());
    let known = &mut *known;
    known
        .shards
        .refresh(&known.secrets, |s| s.len() <= AUTOMATON_MAX_LEN);
    replace_all(known, text)
}

/// Secrets longer than this (a certificate bundle, a file source) are found
/// with a plain substring search instead of the automaton, which keeps the
/// scrubber's memory near the size of the secrets themselves.
const AUTOMATON_MAX_LEN: usize = 4096;

/// Costs a pass over `text` per block of secrets, not a step per secret:
/// it runs once per batch of a large report's lines.
fn replace_all(known: &Known, text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in known.shards.find(text) {
        out.push_str(&text[at..start]);
        out.push_str(REDACTED);
        at = end;
    }
    out.push_str(&text[at..]);
    for long in known.long.iter().map(|&i| &known.secrets[i]) {
        if out.len() >= long.len() && out.contains(long.as_str()) {
            out = out.replace(long.as_str(), REDACTED);
        }
    }
    fingerprint::mask(out, &known.fingerprints, REDACTED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_of_secrets_echoed_back_are_masked() {
        register("path \"app/*\" { capabilities = [\"raed\"] } # frag-secret-0042");
        let echoed = "invalid capability: raed\"] } # frag-secret-00 in policy; ok: é";
        let scrubbed = scrub_fragments(echoed);
        assert!(!scrubbed.contains("frag-secret"), "{scrubbed}");
        assert!(scrubbed.ends_with(" in policy; ok: é"), "{scrubbed}");
        assert_eq!(scrub_fragments("short"), "short");
    }

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("hunter2-very-secret");
        assert_eq!(format!("{s:?}"), REDACTED);
        assert_eq!(format!("{:?}", Some(s)), format!("Some({REDACTED})"));
    }

    #[test]
    fn scrub_masks_registered_values_longest_first() {
        register("abcd-1234");
        register("abcd-1234-extended");
        assert_eq!(
            scrub("x abcd-1234-extended y abcd-1234"),
            "x <redacted> y <redacted>"
        );
        assert_eq!(scrub("nothing here"), "nothing here");
    }
}
