//! Every YAML document the fast path declines (`fast_parse`), read through
//! serde-saphyr's deserializer with a location on every node: anchors, tags,
//! merge keys, several documents, and every invalid document, whose errors
//! are worded here.

use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::node::{Key, Loc, Node, ParseError, Value};
use super::numbers;
use crate::secret::is_secret_name;

/// Every YAML document, through serde-saphyr's deserializer with a location
/// on every node; the errors of invalid documents are worded here.
pub(super) fn parse_through_serde(file: &Arc<str>, text: &str) -> Result<Node, ParseError> {
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_nodes: 5_000_000,
            max_events: 20_000_000,
        },
    };
    let raw: Spanned<RawValue> = serde_saphyr::from_str_with_options(text, options)?;
    attach(&Source { file, text }, raw, false)
}

/// The document being attached: its name and text (for number literals).
struct Source<'a> {
    file: &'a Arc<str>,
    text: &'a str,
}

impl Source<'_> {
    fn loc(&self, location: &serde_saphyr::Location) -> Loc {
        let narrow = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        Loc {
            file: self.file.clone(),
            line: narrow(location.line()),
            column: narrow(location.column()),
        }
    }

    /// The literal text at `location`, when the parser kept byte offsets.
    fn literal(&self, location: &serde_saphyr::Location) -> Option<&str> {
        let span = location.span();
        let start = usize::try_from(span.byte_offset()?).ok()?;
        let len = usize::try_from(span.byte_len()?).ok()?;
        self.text.get(start..start.checked_add(len)?)
    }
}

/// `secret`: under a key named like a secret, so its value is never quoted.
fn attach(src: &Source, raw: Spanned<RawValue>, secret: bool) -> Result<Node, ParseError> {
    let loc = src.loc(&raw.referenced);
    let literal = src.literal(&raw.defined);
    let number = |written| number_value(written, literal, secret, &loc);
    let value = match raw.value {
        RawValue::Null => Value::Null,
        RawValue::Bool(b) => Value::Bool(b),
        RawValue::Int(i) => number(numbers::Written::Int(i))?,
        RawValue::Float(f) => number(numbers::Written::Float(f))?,
        RawValue::Str(s) => Value::Str(s),
        RawValue::Seq(items) => Value::Seq(
            items
                .into_iter()
                .map(|i| attach(src, i, secret))
                .collect::<Result<_, _>>()?,
        ),
        RawValue::Map(entries) => Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| {
                    let hidden = secret || is_secret_name(&k.value);
                    let key = Key {
                        loc: src.loc(&k.referenced),
                        name: k.value,
                    };
                    Ok((key, attach(src, v, hidden)?))
                })
                .collect::<Result<_, ParseError>>()?,
        ),
    };
    Ok(Node { value, loc })
}

/// A number of the plan as a node value, held to what Vault keeps exactly
/// (`numbers`).
fn number_value(
    written: numbers::Written,
    literal: Option<&str>,
    secret: bool,
    loc: &Loc,
) -> Result<Value, ParseError> {
    numbers::checked(written, literal, secret)
        .map(Value::from)
        .map_err(|message| ParseError::Number {
            loc: loc.clone(),
            message,
        })
}

/// The shape serde-saphyr fills in; each child carries its own span.
enum RawValue {
    Null,
    Bool(bool),
    /// Wide enough for any integer the parser hands over; range-checked in `attach`.
    Int(i128),
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
        Ok(RawValue::Int(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawValue, E> {
        Ok(RawValue::Int(v.into()))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<RawValue, E> {
        Ok(RawValue::Int(v))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<RawValue, E> {
        // Out of range either way; `attach` refuses it.
        Ok(RawValue::Int(i128::try_from(v).unwrap_or(i128::MAX)))
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
