//! `generate: {length, charset}`: a random value created with the OS CSPRNG
//! only when the KV key is absent, then kept in Vault forever.
//! `generate: {policy: NAME}` asks Vault's password policy NAME instead.

use rand::distr::{Distribution, Uniform};
use serde_json::Value as Json;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    Alphanumeric,
    Hex,
    Base64,
    AsciiPrintable,
}

impl Charset {
    fn alphabet(self) -> &'static [u8] {
        match self {
            Charset::Alphanumeric => {
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
            }
            Charset::Hex => b"0123456789abcdef",
            Charset::Base64 => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
            Charset::AsciiPrintable => {
                b"!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Generate {
    Random {
        length: usize,
        charset: Charset,
    },
    /// `sys/policies/password/<name>/generate` makes the value.
    Policy(String),
}

/// The longest value `generate` makes.
pub const MAX_LENGTH: usize = 4096;

impl Generate {
    pub fn from_json(arg: &Json) -> Result<Generate, String> {
        let map = arg
            .as_object()
            .ok_or("expected `generate: {length, charset}` or `generate: {policy: NAME}`")?;
        if let Some(policy) = map.get("policy") {
            return match (policy.as_str(), map.len()) {
                (Some(name), 1) if !name.is_empty() => Ok(Generate::Policy(name.to_owned())),
                _ => Err(
                    "generate: {policy: NAME} takes one non-empty policy name and nothing else"
                        .into(),
                ),
            };
        }
        if let Some(extra) = map
            .keys()
            .find(|k| !["length", "charset"].contains(&k.as_str()))
        {
            return Err(format!(
                "generate: unknown field `{extra}`, expected length, charset (or policy)"
            ));
        }
        let length = map
            .get("length")
            .and_then(Json::as_u64)
            .filter(|l| (1..=MAX_LENGTH as u64).contains(l))
            .ok_or(format!(
                "generate: length must be an integer from 1 to {MAX_LENGTH}"
            ))? as usize;
        let charset = match map.get("charset").and_then(Json::as_str).unwrap_or("alphanumeric") {
            "alphanumeric" => Charset::Alphanumeric,
            "hex" => Charset::Hex,
            "base64" => Charset::Base64,
            "ascii-printable" => Charset::AsciiPrintable,
            other => {
                return Err(format!(
                    "generate: unknown charset `{other}`, expected alphanumeric, hex, base64 or ascii-printable"
                ))
            }
        };
        Ok(Generate::Random { length, charset })
    }
}

impl Charset {
    /// A fresh value from the thread-local CSPRNG (ChaCha, seeded by the OS).
    pub fn random(self, length: usize) -> String {
        let alphabet = self.alphabet();
        let pick = Uniform::new(0, alphabet.len()).expect("non-empty alphabet");
        let mut rng = rand::rng();
        (0..length)
            .map(|_| alphabet[pick.sample(&mut rng)] as char)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn generates_requested_length_and_charset() {
        let g = Generate::from_json(&json!({"length": 40, "charset": "hex"})).unwrap();
        let Generate::Random { length, charset } = g else {
            panic!("{g:?}")
        };
        let v = charset.random(length);
        assert_eq!(v.len(), 40);
        assert!(v.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(v, charset.random(length), "two draws of 160 bits differ");
        assert_eq!(
            Generate::from_json(&json!({"policy": "alnum"})).unwrap(),
            Generate::Policy("alnum".into())
        );
        assert!(Generate::from_json(&json!({"policy": "alnum", "length": 3})).is_err());
    }

    #[test]
    fn rejects_bad_arguments() {
        assert!(Generate::from_json(&json!({"length": 0})).is_err());
        assert!(Generate::from_json(&json!({"length": 8, "charset": "emoji"})).is_err());
        assert!(Generate::from_json(&json!({"length": 8, "size": 1})).is_err());
    }
}
