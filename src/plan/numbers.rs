//! Numbers must reach Vault with the value they were written with.
//!
//! Vault decodes JSON numbers into 64-bit floats in many places: OpenBao's
//! KV v2 reads `1152921504606846977` (2^60+1) back as `1152921504606847000`,
//! so the value a consumer gets differs from the plan and every rerun
//! rewrites it. Integers beyond ±(2^53 − 1), and decimals whose digits a
//! 64-bit float cannot hold, are refused at load; quoting sends a string.

use serde_json::Value as Json;

/// The largest integer a 64-bit float holds exactly (2^53 − 1).
pub const MAX_EXACT_INT: i64 = (1 << 53) - 1;

/// `value` as written, or why it cannot be sent exactly. `shown` is the
/// literal to quote in the message (`None` under a secret-named key).
pub fn exact_int(value: i128, shown: Option<&str>) -> Result<i64, String> {
    match i64::try_from(value) {
        Ok(v) if v.unsigned_abs() <= MAX_EXACT_INT as u64 => Ok(v),
        _ => Err(too_large(shown)),
    }
}

/// Checks a float against its literal `raw` (when the parser gave it):
/// every written digit must survive the conversion to a 64-bit float.
pub fn exact_float(value: f64, raw: Option<&str>, shown: Option<&str>) -> Result<(), String> {
    let Some(written) = raw.and_then(Decimal::parse) else {
        return Ok(());
    };
    if is_integer_literal(raw.unwrap_or_default()) {
        // Digits only, yet too long for a 64-bit integer: the parser fell back to a float.
        return Err(too_large(shown));
    }
    match Decimal::parse(&format!("{value:e}")) {
        Some(sent) if sent == written => Ok(()),
        _ => Err(format!(
            "{} has more digits than a 64-bit float holds (Vault would store {value}); \
             quote it to send a string, or write fewer digits",
            shown.unwrap_or("this number")
        )),
    }
}

/// A number as the plan wrote it, before the checks above.
pub enum Written {
    Int(i128),
    Float(f64),
}

/// The checks above for one written number; `literal` is its source text,
/// quoted in the message unless `secret` (under a secret-named key).
pub fn checked(number: Written, literal: Option<&str>, secret: bool) -> Result<Exact, String> {
    let shown = if secret { None } else { literal.map(str::trim) };
    match number {
        Written::Int(i) => exact_int(i, shown).map(Exact::Int),
        Written::Float(f) => exact_float(f, literal, shown).map(|()| Exact::Float(f)),
    }
}

/// A number that reaches Vault exactly.
pub enum Exact {
    Int(i64),
    Float(f64),
}

/// How a float goes out as JSON: whole numbers Vault keeps exactly become
/// integers, because Vault answers `1` for `1.0` and a float would then
/// differ on every rerun; what JSON cannot hold becomes null.
pub enum FloatOut {
    Int(i64),
    Float(f64),
    Null,
}

pub fn float_out(value: f64) -> FloatOut {
    if value.fract() == 0.0 && value.abs() <= MAX_EXACT_INT as f64 {
        FloatOut::Int(value as i64)
    } else if value.is_finite() {
        FloatOut::Float(value)
    } else {
        FloatOut::Null
    }
}

pub fn float_json(value: f64) -> Json {
    match float_out(value) {
        FloatOut::Int(i) => Json::from(i),
        FloatOut::Float(f) => serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number),
        FloatOut::Null => Json::Null,
    }
}

fn too_large(shown: Option<&str>) -> String {
    format!(
        "{} is beyond ±{MAX_EXACT_INT}, the largest integer Vault keeps exactly \
         (it stores JSON numbers as 64-bit floats); quote it to send a string",
        shown.map_or_else(|| "this integer".to_owned(), |s| format!("integer {s}"))
    )
}

fn is_integer_literal(raw: &str) -> bool {
    let t = raw.trim();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// A decimal literal as `digits × 10^exponent`, with no leading or trailing
/// zeros in `digits`, so equal values compare equal however they are written.
#[derive(Debug, PartialEq, Eq)]
struct Decimal {
    negative: bool,
    digits: String,
    exponent: i64,
}

impl Decimal {
    /// `None` for anything but `[+-]digits[.digits][e[+-]digits]`.
    fn parse(text: &str) -> Option<Decimal> {
        let t = text.trim();
        let negative = t.starts_with('-');
        let t = t.strip_prefix(['+', '-']).unwrap_or(t);
        let (mantissa, exponent) = match t.split_once(['e', 'E']) {
            Some((m, e)) => (m, e.parse::<i64>().ok()?),
            None => (t, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int.len() + frac.len() == 0 || !all_digits(int) || !all_digits(frac) {
            return None;
        }
        let joined = format!("{int}{frac}");
        let significant = joined.trim_start_matches('0');
        let digits = significant.trim_end_matches('0');
        let trailing = i64::try_from(significant.len() - digits.len()).ok()?;
        let frac_len = i64::try_from(frac.len()).ok()?;
        let exponent = exponent.checked_sub(frac_len)?.checked_add(trailing)?;
        Some(Decimal {
            negative: negative && !digits.is_empty(),
            digits: digits.to_owned(),
            exponent: if digits.is_empty() { 0 } else { exponent },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_within_2_pow_53_pass_and_larger_ones_are_refused() {
        assert_eq!(exact_int(MAX_EXACT_INT.into(), None), Ok(MAX_EXACT_INT));
        assert_eq!(exact_int((-MAX_EXACT_INT).into(), None), Ok(-MAX_EXACT_INT));
        let err = exact_int(1_152_921_504_606_846_977, Some("1152921504606846977")).unwrap_err();
        assert!(err.contains("integer 1152921504606846977"), "{err}");
        assert!(err.contains("quote it"), "{err}");
        assert!(exact_int(u64::MAX.into(), None)
            .unwrap_err()
            .contains("this integer"));
    }

    #[test]
    fn floats_keep_their_written_digits() {
        for (value, raw) in [
            (0.5, "0.5"),
            (0.1, "0.1"),
            (1500.0, "1.5e3"),
            (1e-7, "1.0E-7"),
            (-2.25, "-2.250"),
            (0.0, "-0.0"),
            (0.5, ".5"),
            (1e20, "1e20"),
        ] {
            assert_eq!(exact_float(value, Some(raw), Some(raw)), Ok(()), "{raw}");
        }
        let pi = "3.14159265358979323846";
        let err = exact_float(pi.parse().unwrap(), Some(pi), Some(pi)).unwrap_err();
        assert!(err.contains("more digits"), "{err}");
        let big = "12345678901234567890123";
        let err = exact_float(big.parse().unwrap(), Some(big), Some(big)).unwrap_err();
        assert!(err.contains("beyond"), "{err}");
        // No literal to compare with: accepted as parsed.
        assert_eq!(exact_float(0.3, None, None), Ok(()));
    }

    #[test]
    fn whole_floats_become_integers_in_json() {
        assert_eq!(float_json(1.0), serde_json::json!(1));
        assert_eq!(float_json(-3.0), serde_json::json!(-3));
        assert_eq!(float_json(0.5), serde_json::json!(0.5));
        assert_eq!(float_json(1e20), serde_json::json!(1e20));
    }
}
