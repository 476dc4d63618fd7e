//! The tree read by serde: the typed plan is deserialized straight from
//! the nodes, without a JSON copy of the whole plan in between. The tree is
//! consumed: strings move into the typed plan and each part of the tree is
//! freed once read, so a large plan is never held twice.
//!
//! Answers exactly like `serde_json::Value` would for `Node::to_json()`
//! (the error type is serde_json's, so messages stay the same).

use serde::de::{self, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;

use super::node::{Key, Node, Value};
use super::numbers::{float_out, FloatOut};

type Error = serde_json::Error;

impl<'de> de::Deserializer<'de> for Node {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Int(i) => match u64::try_from(i) {
                Ok(u) => visitor.visit_u64(u),
                Err(_) => visitor.visit_i64(i),
            },
            Value::Float(f) => visit_float(f, visitor),
            Value::Str(s) => visitor.visit_string(s),
            Value::Seq(items) => {
                let len = items.len();
                let mut seq = Items(items.into_iter());
                let value = visitor.visit_seq(&mut seq)?;
                match seq.0.len() {
                    0 => Ok(value),
                    _ => Err(de::Error::invalid_length(len, &"fewer elements in array")),
                }
            }
            Value::Map(entries) => {
                let len = entries.len();
                let mut map = Entries {
                    iter: entries.into_iter(),
                    value: None,
                };
                let value = visitor.visit_map(&mut map)?;
                match map.iter.len() {
                    0 => Ok(value),
                    _ => Err(de::Error::invalid_length(len, &"fewer elements in map")),
                }
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    /// `mode: merge` (a unit variant) or `{http: {...}}` (a variant with data).
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.value {
            Value::Str(s) => visitor.visit_enum(s.into_deserializer()),
            Value::Map(mut entries) if entries.len() == 1 => {
                let (key, value) = entries.swap_remove(0);
                visitor.visit_enum(Tagged {
                    variant: key.name,
                    value,
                })
            }
            Value::Map(_) => Err(de::Error::invalid_value(
                de::Unexpected::Map,
                &"map with a single key",
            )),
            _ => Err(de::Error::invalid_type(unexpected(&self), &"string or map")),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

impl<'de> IntoDeserializer<'de, Error> for Node {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

/// As `numbers::float_json` turns it into JSON.
fn visit_float<'de, V: Visitor<'de>>(f: f64, visitor: V) -> Result<V::Value, Error> {
    match float_out(f) {
        FloatOut::Int(i) => match u64::try_from(i) {
            Ok(u) => visitor.visit_u64(u),
            Err(_) => visitor.visit_i64(i),
        },
        FloatOut::Float(f) => visitor.visit_f64(f),
        FloatOut::Null => visitor.visit_unit(),
    }
}

fn unexpected(node: &Node) -> de::Unexpected<'_> {
    match &node.value {
        Value::Null => de::Unexpected::Unit,
        Value::Bool(b) => de::Unexpected::Bool(*b),
        Value::Int(i) => de::Unexpected::Signed(*i),
        Value::Float(f) => de::Unexpected::Float(*f),
        Value::Str(s) => de::Unexpected::Str(s),
        Value::Seq(_) => de::Unexpected::Seq,
        Value::Map(_) => de::Unexpected::Map,
    }
}

struct Items(std::vec::IntoIter<Node>);

impl<'de> de::SeqAccess<'de> for Items {
    type Error = Error;

    fn next_element_seed<S: de::DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Error> {
        self.0.next().map(|node| seed.deserialize(node)).transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Entries {
    iter: std::vec::IntoIter<(Key, Node)>,
    /// The value of the key just handed out.
    value: Option<Node>,
}

impl<'de> de::MapAccess<'de> for Entries {
    type Error = Error;

    fn next_key_seed<S: de::DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Error> {
        let Some((key, value)) = self.iter.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        let key: de::value::StringDeserializer<Error> = key.name.into_deserializer();
        seed.deserialize(key).map(Some)
    }

    fn next_value_seed<S: de::DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, Error> {
        match self.value.take() {
            Some(value) => seed.deserialize(value),
            None => Err(de::Error::custom("value is missing")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// An externally tagged enum variant with its data.
struct Tagged {
    variant: String,
    value: Node,
}

impl<'de> de::EnumAccess<'de> for Tagged {
    type Error = Error;
    type Variant = Node;

    fn variant_seed<S: de::DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, Node), Error> {
        let variant = seed.deserialize(self.variant.into_deserializer())?;
        Ok((variant, self.value))
    }
}

impl<'de> de::VariantAccess<'de> for Node {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        match self.value {
            Value::Null => Ok(()),
            _ => Err(de::Error::invalid_type(unexpected(&self), &"unit variant")),
        }
    }

    fn newtype_variant_seed<S: de::DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, Error> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_any(self, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_any(self, visitor)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde::Deserialize;

    use super::super::node::parse;

    /// Whatever the tree deserializes into equals what its JSON copy does.
    fn same_as_json<T>(yaml: &str)
    where
        T: for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug,
    {
        let node = parse(&Arc::from("t.yaml"), yaml).unwrap();
        let via_json = serde_json::from_value::<T>(node.to_json()).map_err(|e| e.to_string());
        let direct = T::deserialize(node).map_err(|e| e.to_string());
        assert_eq!(direct, via_json, "{yaml}");
    }

    #[derive(Deserialize, PartialEq, Debug)]
    #[serde(deny_unknown_fields)]
    struct Role {
        ttl: Option<u64>,
        name: String,
        mode: Option<Mode>,
        check: Option<Check>,
        extra: Option<serde_json::Value>,
    }

    #[derive(Deserialize, PartialEq, Debug)]
    #[serde(rename_all = "lowercase")]
    enum Mode {
        Merge,
        Once,
    }

    #[derive(Deserialize, PartialEq, Debug)]
    #[serde(rename_all = "lowercase")]
    enum Check {
        Login { role: String },
        Read(String),
    }

    #[test]
    fn values_and_errors_match_the_json_route() {
        same_as_json::<Role>("name: a\nttl: 3600\nmode: merge\n");
        same_as_json::<Role>("name: a\nttl: 1.0e3\n");
        same_as_json::<Role>("name: a\ncheck: {login: {role: r}}\n");
        same_as_json::<Role>("name: a\ncheck: {read: kv/x}\n");
        same_as_json::<Role>("name: a\nextra: {n: -5, f: 1.5, big: 2.0, l: [1, null, true]}\n");
        same_as_json::<Role>("name: a\nttl: -1\n");
        same_as_json::<Role>("name: a\nmode: sometimes\n");
        same_as_json::<Role>("name: a\ncheck: {login: {role: r}, read: x}\n");
        same_as_json::<Role>("name: a\ndescripton: typo\n");
        same_as_json::<Role>("name: [a]\n");
        same_as_json::<Role>("ttl: 1\n");
        same_as_json::<Vec<Mode>>("[merge, once]\n");
        same_as_json::<(u8, String)>("[1, x]\n");
        same_as_json::<(u8, String)>("[1, x, 3]\n");
    }
}
