//! What a KV secret holds now, borrowed from Vault's raw answer instead of
//! parsed into `Json`: a rerun compares a large value (a file source) where
//! it lies, so the run holds it twice (the answer and the plan), not three
//! times. A value is parsed only where it is needed: when its bytes differ
//! from the planned value's (Vault's encoder escapes `<`, `>` and `&`, so
//! it may still be the same value), for a `generate` source, and for the
//! keys a merge keeps.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value as Json};

use super::Key;
use crate::resources::compare::{self, FieldChange};
use crate::resources::ObjectError;
use crate::secret;
use crate::vault::answer::Name;
use crate::vault::{Method, VaultError};

/// A secret's keys and their values as Vault sent them.
type Fields<'a> = BTreeMap<Cow<'a, str>, &'a RawValue>;

pub(super) struct Current<'a> {
    /// `None`: absent, or no data (a deleted or destroyed latest v2 version).
    data: Option<Fields<'a>>,
    /// v2: the version's metadata, the parts a run uses.
    metadata: Option<Metadata>,
    /// The path read, for errors.
    path: &'a str,
}

/// KV v1: `{"data": {key: value}}`.
#[derive(Deserialize)]
struct V1<'a> {
    #[serde(borrow, default)]
    data: Option<BTreeMap<Name<'a>, &'a RawValue>>,
}

/// KV v2: `{"data": {"data": {key: value} | null, "metadata": {...}}}`.
#[derive(Deserialize)]
struct V2<'a> {
    #[serde(borrow, default)]
    data: Option<V2Data<'a>>,
}

#[derive(Deserialize)]
struct V2Data<'a> {
    #[serde(borrow, default)]
    data: Option<BTreeMap<Name<'a>, &'a RawValue>>,
    #[serde(default)]
    metadata: Option<Metadata>,
}

/// What a run uses of a v2 version's metadata (the times it skips).
#[derive(Deserialize)]
struct Metadata {
    #[serde(default)]
    version: Option<u64>,
    #[serde(default)]
    custom_metadata: Option<Map<String, Json>>,
}

impl<'a> Current<'a> {
    /// The answer `raw` of a read of `path` (`None`: absent) on a KV mount of `version`.
    pub fn parse(raw: Option<&'a [u8]>, version: u8, path: &'a str) -> Result<Self, ObjectError> {
        let unreadable = |e: serde_json::Error| unreadable(path, e);
        let (data, metadata) = match raw {
            None | Some([]) => (None, None),
            Some(raw) if version == 2 => {
                let v2: V2 = serde_json::from_slice(raw).map_err(unreadable)?;
                v2.data.map_or((None, None), |d| (d.data, d.metadata))
            }
            Some(raw) => {
                let v1: V1 = serde_json::from_slice(raw).map_err(unreadable)?;
                (v1.data, None)
            }
        };
        let data = data.map(|d| d.into_iter().map(|(k, v)| (k.0, v)).collect());
        Ok(Current {
            data,
            metadata,
            path,
        })
    }

    /// Whether the secret holds data.
    pub fn exists(&self) -> bool {
        self.data.is_some()
    }

    /// v2: the version a check-and-set write must name (0: none yet).
    pub fn cas(&self) -> u64 {
        self.metadata.as_ref().and_then(|m| m.version).unwrap_or(0)
    }

    /// v2: the version's `custom_metadata`.
    pub fn custom_metadata(&self) -> Option<&Map<String, Json>> {
        self.metadata.as_ref()?.custom_metadata.as_ref()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.data.iter().flat_map(|d| d.keys().map(|k| k.as_ref()))
    }

    /// The value of key `name`, parsed.
    pub fn value(&self, name: &str) -> Result<Option<Json>, ObjectError> {
        let raw = self.data.as_ref().and_then(|d| d.get(name));
        raw.map(|raw| self.parsed(raw)).transpose()
    }

    /// The planned keys that differ from what Vault holds. The old value of
    /// a hidden key that differs is registered with the scrubber (an equal
    /// one already is, as the planned value), and so is every value the
    /// plan does not list.
    pub fn changes(&self, planned: &[(String, Key)]) -> Result<Vec<FieldChange>, ObjectError> {
        let data = self.data.as_ref();
        let mut fields = Vec::new();
        for (name, key) in planned {
            let old = match data.and_then(|d| d.get(name.as_str())) {
                None => None,
                Some(have) => match self.differing(&key.value, have)? {
                    None => continue,
                    Some(old) => {
                        if key.hidden {
                            secret::register_json(&old);
                        }
                        Some(compare::render(&old, key.hidden))
                    }
                },
            };
            fields.push(FieldChange {
                field: name.clone(),
                old,
                new: Some(super::render_new(key)),
            });
        }
        for (name, raw) in data.into_iter().flatten() {
            if !planned.iter().any(|(k, _)| k == name) {
                register_strings(raw).map_err(|e| unreadable(self.path, e))?;
            }
        }
        Ok(fields)
    }

    /// The keys a merge writes: those Vault holds, replaced or joined by `planned`.
    pub fn merged(&self, planned: Vec<(String, Key)>) -> Result<Map<String, Json>, ObjectError> {
        let mut target = Map::new();
        for (name, raw) in self.data.iter().flatten() {
            if !planned.iter().any(|(k, _)| k == name) {
                target.insert(name.to_string(), self.parsed(raw)?);
            }
        }
        target.extend(planned.into_iter().map(|(k, key)| (k, key.value)));
        Ok(target)
    }

    /// `None` when `have` means `want`; else the old value, parsed. The
    /// bytes are compared first, without a copy; only when they differ is
    /// the value parsed and compared as JSON.
    fn differing(&self, want: &Json, have: &RawValue) -> Result<Option<Json>, ObjectError> {
        if same_bytes(want, have.get().as_bytes()) {
            return Ok(None);
        }
        let old = self.parsed(have)?;
        let differs = old != *want;
        Ok(differs.then_some(old))
    }

    fn parsed(&self, raw: &RawValue) -> Result<Json, ObjectError> {
        serde_json::from_str(raw.get()).map_err(|e| unreadable(self.path, e))
    }
}

fn unreadable(path: &str, e: serde_json::Error) -> ObjectError {
    ObjectError::Vault(VaultError::unreadable(Method::Get, path, &e))
}

/// Whether `want` serializes to exactly `have`, without allocating: the
/// serializer writes into a [`SameAs`] that stops at the first difference.
pub(super) fn same_bytes(want: &Json, have: &[u8]) -> bool {
    let mut writer = SameAs { rest: have };
    serde_json::to_writer(&mut writer, want).is_ok() && writer.rest.is_empty()
}

/// An `io::Write` that checks what is written against the bytes still expected.
struct SameAs<'a> {
    rest: &'a [u8],
}

impl io::Write for SameAs<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.rest.strip_prefix(buf) {
            Some(rest) => {
                self.rest = rest;
                Ok(buf.len())
            }
            None => Err(io::ErrorKind::InvalidData.into()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Registers every string inside `raw` with the scrubber, as
/// `secret::register_json` does, without building a `Json` of it.
fn register_strings(raw: &RawValue) -> Result<(), serde_json::Error> {
    serde_json::from_str::<Registered>(raw.get()).map(|_| ())
}

/// A value whose strings were registered (map keys are not secrets).
struct Registered;

impl<'de> Deserialize<'de> for Registered {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Registered)
    }
}

impl<'de> Visitor<'de> for Registered {
    type Value = Registered;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Registered, E> {
        secret::register(s);
        Ok(Registered)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Registered, E> {
        Ok(Registered)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Registered, E> {
        Ok(Registered)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Registered, E> {
        Ok(Registered)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Registered, E> {
        Ok(Registered)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Registered, E> {
        Ok(Registered)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Registered, A::Error> {
        while seq.next_element::<Registered>()?.is_some() {}
        Ok(Registered)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Registered, A::Error> {
        while map.next_entry::<IgnoredAny, Registered>()?.is_some() {}
        Ok(Registered)
    }
}

#[cfg(test)]
#[path = "current_tests.rs"]
mod tests;
