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
}
