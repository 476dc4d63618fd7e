//! Request bodies as bytes, serialized once into a buffer of about the
//! right size: a body may hold a large secret (a file source), and a
//! growing buffer would hold up to twice its size while it doubles.

use bytes::Bytes;
use serde_json::Value as Json;

/// `value` as JSON bytes.
pub fn json_bytes(value: &Json) -> Bytes {
    let mut buf = Vec::with_capacity(estimate(value));
    // Serializing a `Value` into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut buf, value);
    Bytes::from(buf)
}

/// At least the serialized length (one pass over the strings, which is
/// cheap next to serializing them).
fn estimate(value: &Json) -> usize {
    match value {
        Json::Null | Json::Bool(_) => 5,
        Json::Number(_) => 24,
        Json::String(s) => quoted_len(s),
        Json::Array(items) => 2 + items.iter().map(|v| estimate(v) + 1).sum::<usize>(),
        Json::Object(map) => {
            2 + map
                .iter()
                .map(|(k, v)| quoted_len(k) + 1 + estimate(v) + 1)
                .sum::<usize>()
        }
    }
}

/// `"…"` with escapes: `\"`, `\\` and short escapes take 2 bytes, other
/// control characters 6 (`\u00XX`).
fn quoted_len(s: &str) -> usize {
    2 + s
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' => 2,
            0..=0x1f => 6,
            _ => 1,
        })
        .sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_estimate_covers_the_serialized_length_without_doubling() {
        let big = "x\"y".repeat(100_000);
        for value in [
            json!({"data": {"cert": big}}),
            json!([1, "a", null, {"k": true}]),
        ] {
            let bytes = json_bytes(&value);
            assert_eq!(bytes, serde_json::to_vec(&value).unwrap());
            let estimate = estimate(&value);
            assert!(estimate >= bytes.len(), "{estimate} < {}", bytes.len());
        }
    }
}
