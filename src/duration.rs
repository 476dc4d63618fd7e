//! Durations as Vault writes and reads them.

/// Seconds in a Go-style duration (`90`, `1h`, `1h30m`, `45s`, `2d` is not Go but Vault accepts it).
pub fn duration_secs(text: &str) -> Option<u64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(n) = text.parse::<u64>() {
        return Some(n);
    }
    let mut total: f64 = 0.0;
    let mut number = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            number.push(c);
            continue;
        }
        let mut unit = c.to_string();
        if c == 'm' && chars.peek() == Some(&'s') {
            unit.push(chars.next()?);
        }
        let value: f64 = number.parse().ok()?;
        number.clear();
        let factor = match unit.as_str() {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            _ => return None,
        };
        total += value * factor;
    }
    if !number.is_empty() {
        return None;
    }
    Some(total.round() as u64)
}

/// Deserializes an optional duration written as text (`768h`) or as whole
/// seconds (`3600`, which YAML reads as a number); kept as text.
pub fn duration_text<'de, D>(deserializer: D) -> Result<Option<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct Text;

    impl serde::de::Visitor<'_> for Text {
        type Value = Option<String>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a duration (768h, 30m) or a number of seconds")
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_owned()))
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
    }

    deserializer.deserialize_any(Text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_style_durations() {
        assert_eq!(duration_secs("24h"), Some(86400));
        assert_eq!(duration_secs("1h30m"), Some(5400));
        assert_eq!(duration_secs("90"), Some(90));
        assert_eq!(duration_secs("500ms"), Some(1));
        assert_eq!(duration_secs("abc"), None);
        assert_eq!(duration_secs("5x"), None);
    }

    #[test]
    fn durations_deserialize_from_text_or_seconds() {
        #[derive(serde::Deserialize)]
        struct T {
            #[serde(default, deserialize_with = "duration_text")]
            d: Option<String>,
        }
        let d = |json: serde_json::Value| serde_json::from_value::<T>(json).map(|t| t.d);
        assert_eq!(
            d(serde_json::json!({"d": "768h"})).unwrap().as_deref(),
            Some("768h")
        );
        assert_eq!(
            d(serde_json::json!({"d": 3600})).unwrap().as_deref(),
            Some("3600")
        );
        assert_eq!(d(serde_json::json!({"d": null})).unwrap(), None);
        assert_eq!(d(serde_json::json!({})).unwrap(), None);
        let err = d(serde_json::json!({"d": -1})).unwrap_err().to_string();
        assert!(
            err.contains("a duration (768h, 30m) or a number of seconds"),
            "{err}"
        );
    }
}
