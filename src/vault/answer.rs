//! Reading the part of an answer that is compared, borrowed from the raw
//! body: a role's answer has some 30 fields and a plan sets a few, so only
//! those are parsed into `Json`; the envelope and the rest are skipped.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value as Json};

/// A key of an answer, borrowed unless it holds escapes.
#[derive(Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(transparent)]
pub struct Name<'a>(#[serde(borrow)] pub Cow<'a, str>);

/// The fields of the answer's `data` that `wanted` names, as an object
/// (`Null` when the answer has no `data`, or an empty body).
pub fn data_fields(raw: &[u8], wanted: &dyn Fn(&str) -> bool) -> Result<Json, serde_json::Error> {
    if raw.is_empty() {
        return Ok(Json::Null);
    }
    let mut de = serde_json::Deserializer::from_slice(raw);
    let data = de.deserialize_map(Envelope(wanted))?;
    de.end()?;
    Ok(data)
}

/// The answer's top level: `data` kept, the rest skipped.
struct Envelope<'w>(&'w dyn Fn(&str) -> bool);

impl<'de> Visitor<'de> for Envelope<'_> {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Vault answer (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut data = Json::Null;
        while let Some(key) = map.next_key::<Name<'de>>()? {
            if key.0 == "data" {
                data = map.next_value_seed(Fields(self.0))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(data)
    }
}

/// `data`: the wanted fields, or `Null`.
struct Fields<'w>(&'w dyn Fn(&str) -> bool);

impl<'de> DeserializeSeed<'de> for Fields<'_> {
    type Value = Json;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Json, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for Fields<'_> {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the answer's data (a JSON object or null)")
    }

    fn visit_none<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Json, D::Error> {
        d.deserialize_map(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<Name<'de>>()? {
            if (self.0)(&key.0) {
                out.insert(key.0.into_owned(), map.next_value()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(Json::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(raw: &str, names: &[&str]) -> Json {
        data_fields(raw.as_bytes(), &|k| names.contains(&k)).unwrap()
    }

    #[test]
    fn only_the_wanted_fields_of_data_are_kept() {
        let raw = r#"{"request_id":"x","lease_id":"","data":{"token_ttl":3600,"bound_service_account_names":["a"],"token_policies":["p"],"audience":""},"wrap_info":null,"warnings":null,"auth":null}"#;
        assert_eq!(
            fields(raw, &["token_ttl", "token_policies", "absent"]),
            json!({"token_ttl": 3600, "token_policies": ["p"]})
        );
    }

    #[test]
    fn keys_with_escapes_and_nested_values_are_read_whole() {
        let raw = r#"{"data":{"a\"b":{"x":[1,{"y":"z"}]},"other":{"deep":[[]]}}}"#;
        assert_eq!(
            fields(raw, &["a\"b"]),
            json!({"a\"b": {"x": [1, {"y": "z"}]}})
        );
    }

    #[test]
    fn no_data_is_null() {
        assert_eq!(fields("", &["a"]), Json::Null);
        assert_eq!(fields(r#"{"data":null}"#, &["a"]), Json::Null);
        assert_eq!(fields(r#"{"request_id":"x"}"#, &["a"]), Json::Null);
    }

    #[test]
    fn a_body_that_is_not_an_answer_is_an_error() {
        for raw in [
            "[1]",
            "{\"data\":3}",
            "{\"data\":{}} x",
            "{\"data\":{\"a\":}}",
        ] {
            assert!(data_fields(raw.as_bytes(), &|_| true).is_err(), "{raw}");
        }
    }
}
