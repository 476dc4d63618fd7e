//! The common plan built straight from serde-saphyr's own parser events.
//!
//! Going through serde with a location on every node costs about three
//! times what the parser does (0.33 of 0.43 CPU-s on a 4.3 MB plan). Plans
//! are mostly untagged mappings of plain strings, so those are built here
//! directly; anything this module is not certain to read exactly as
//! serde-saphyr would — tags, anchors, aliases, merge keys, duplicate or
//! non-string keys, several documents, numbers other than plain decimals
//! or ones Vault cannot keep exactly, a parse error — answers `None`, and
//! the caller parses the document the full way (which also words every
//! error). So this path never fails: it builds the tree or declines.

use std::collections::HashSet;
use std::sync::Arc;

use serde_saphyr::granit_parser::{Event, Options, Parser, ScalarStyle, Span};

use super::node::{Key, Loc, Node, Value};
use super::numbers::{self, Written};

/// Far deeper than any plan; deeper documents take the full path.
const MAX_DEPTH: usize = 64;
/// The same bound the full path's budget puts on parser events.
const MAX_EVENTS: usize = 20_000_000;
/// Maps with more keys than this check duplicates with a set.
const LINEAR_KEY_CHECK: usize = 16;

/// The document as a tree, or `None` when it needs the full path. `text`
/// may be a part of the file that starts after `lines_before` lines: its
/// locations are those of the whole file.
pub(super) fn parse_part(file: &Arc<str>, text: &str, lines_before: usize) -> Option<Node> {
    let mut options = Options::default();
    options.set_emit_comments(false);
    let mut builder = Builder {
        parser: Parser::new_from_str_with_options(text, options),
        file,
        events: 0,
        lines_before,
    };
    builder.document()
}

struct Builder<'a> {
    parser: Parser<'a, serde_saphyr::granit_parser::StrInput<'a>>,
    file: &'a Arc<str>,
    events: usize,
    lines_before: usize,
}

impl<'a> Builder<'a> {
    fn next(&mut self) -> Option<(Event<'a>, Span)> {
        self.events += 1;
        if self.events > MAX_EVENTS {
            return None;
        }
        self.parser.next()?.ok()
    }

    fn document(&mut self) -> Option<Node> {
        if !matches!(self.next()?.0, Event::StreamStart) {
            return None;
        }
        if !matches!(self.next()?.0, Event::DocumentStart(..)) {
            return None;
        }
        let (event, span) = self.next()?;
        let root = self.node(event, span, 0)?;
        if !matches!(self.next()?.0, Event::DocumentEnd) {
            return None;
        }
        // A second document: the full path decides what that means.
        match self.next()?.0 {
            Event::StreamEnd => Some(root),
            _ => None,
        }
    }

    fn loc(&self, span: &Span) -> Loc {
        let narrow = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Loc {
            file: self.file.clone(),
            line: narrow(span.start.line().saturating_add(self.lines_before)),
            column: narrow(span.start.col().saturating_add(1)),
        }
    }

    fn node(&mut self, event: Event<'a>, span: Span, depth: usize) -> Option<Node> {
        if depth > MAX_DEPTH {
            return None;
        }
        let loc = self.loc(&span);
        let value = match event {
            Event::Scalar(text, style, 0, None) => match scalar(&text, style) {
                Scalar::Value(value) => value,
                // A number Vault cannot keep exactly: the full path words
                // the error, after any syntax error later in the document.
                Scalar::Number(written) => numbers::checked(written, Some(&text), false)
                    .ok()
                    .map(Value::from)?,
                Scalar::Unsure => return None,
            },
            Event::SequenceStart(_, 0, None) => {
                let mut items = Vec::new();
                loop {
                    let (event, span) = self.next()?;
                    if matches!(event, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(event, span, depth + 1)?);
                }
                Value::Seq(items)
            }
            Event::MappingStart(_, 0, None) => {
                let mut entries: Vec<(Key, Node)> = Vec::new();
                let mut names: HashSet<u64> = HashSet::new();
                loop {
                    let (event, span) = self.next()?;
                    let name = match event {
                        Event::MappingEnd => break,
                        Event::Scalar(name, style, 0, None) if is_plain_key(&name, style) => name,
                        _ => return None,
                    };
                    let key = Key {
                        loc: self.loc(&span),
                        name: name.into_owned(),
                    };
                    let (event, span) = self.next()?;
                    let value = self.node(event, span, depth + 1)?;
                    entries.push((key, value));
                    if duplicate(&entries, &mut names) {
                        return None;
                    }
                }
                Value::Map(entries)
            }
            _ => return None,
        };
        Some(Node { value, loc })
    }
}

/// A key the full path reads as the same string: not a merge key, not
/// null-like or empty (those have their own meaning there).
fn is_plain_key(name: &str, style: ScalarStyle) -> bool {
    match style {
        ScalarStyle::Plain => !matches!(name, "" | "~" | "null" | "Null" | "NULL" | "<<"),
        _ => name != "<<",
    }
}

/// Whether the last key of `entries` repeats an earlier one. Small maps
/// compare directly; large ones keep the keys' hashes in `hashes` and
/// compare only on a hash seen before.
fn duplicate(entries: &[(Key, Node)], hashes: &mut HashSet<u64>) -> bool {
    let Some(((last, _), earlier)) = entries.split_last() else {
        return false;
    };
    let same = || earlier.iter().any(|(k, _)| k.name == last.name);
    if entries.len() <= LINEAR_KEY_CHECK {
        return same();
    }
    if hashes.is_empty() {
        hashes.extend(earlier.iter().map(|(k, _)| hash(&k.name)));
    }
    !hashes.insert(hash(&last.name)) && same()
}

fn hash(name: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    name.hash(&mut hasher);
    hasher.finish()
}

enum Scalar {
    Value(Value),
    Number(Written),
    /// Not certain how the full path reads it.
    Unsure,
}

/// How serde-saphyr's untyped reading (`deserialize_any`, default options)
/// resolves an untagged scalar, for the shapes plans use: null words, YAML
/// 1.1 booleans, plain decimal integers and decimal fractions, and plain
/// text that starts with a letter or `/`. Quoted and block scalars are
/// always strings.
fn scalar(text: &str, style: ScalarStyle) -> Scalar {
    if style != ScalarStyle::Plain {
        return Scalar::Value(Value::Str(text.to_owned()));
    }
    if matches!(text, "" | "~" | "null" | "Null" | "NULL") {
        return Scalar::Value(Value::Null);
    }
    const TRUE: [&str; 4] = ["true", "yes", "y", "on"];
    const FALSE: [&str; 4] = ["false", "no", "n", "off"];
    if TRUE.iter().any(|w| text.eq_ignore_ascii_case(w)) {
        return Scalar::Value(Value::Bool(true));
    }
    if FALSE.iter().any(|w| text.eq_ignore_ascii_case(w)) {
        return Scalar::Value(Value::Bool(false));
    }
    let bytes = text.as_bytes();
    match bytes.first() {
        Some(b) if b.is_ascii_alphabetic() || *b == b'/' => {
            // Trailing blanks would be trimmed before typing: leave those.
            if text.ends_with([' ', '\t']) {
                Scalar::Unsure
            } else {
                Scalar::Value(Value::Str(text.to_owned()))
            }
        }
        Some(_) => decimal(text),
        None => Scalar::Unsure,
    }
}

/// `-?[1-9][0-9]*|0` as an integer, `-?[0-9]+\.[0-9]+` as a float;
/// text like `1h` or `10.0.0.0/8` that no number reading could accept is a
/// string; anything else is left to the full path.
fn decimal(text: &str) -> Scalar {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if all_digits(digits) {
        if digits.len() > 1 && digits.starts_with('0') {
            return Scalar::Unsure;
        }
        // Within u64 (i64 when negative), as the full path reads integers;
        // wider ones it reads as floats.
        let int = if text.starts_with('-') {
            text.parse::<i64>().ok().map(i128::from)
        } else {
            text.parse::<u64>().ok().map(i128::from)
        };
        return int.map_or(Scalar::Unsure, |i| Scalar::Number(Written::Int(i)));
    }
    if let Some((whole, fraction)) = digits.split_once('.') {
        if all_digits(whole) && all_digits(fraction) {
            return match text.parse::<f64>() {
                Ok(f) if f.is_finite() => Scalar::Number(Written::Float(f)),
                _ => Scalar::Unsure,
            };
        }
    }
    // A letter no number spelling uses (digits, signs, `.`, `_`, `:`,
    // `e`, `x`, `o`, `b`, hex digits, `inf`, `nan`) or a `/`: plain text.
    let numeric = |c: char| {
        c.is_ascii_hexdigit()
            || matches!(
                c.to_ascii_lowercase(),
                '+' | '-' | '.' | '_' | ':' | 'x' | 'o' | 'i' | 'n'
            )
    };
    if text.chars().any(|c| !numeric(c)) && !text.ends_with([' ', '\t']) {
        Scalar::Value(Value::Str(text.to_owned()))
    } else {
        Scalar::Unsure
    }
}

#[cfg(test)]
#[path = "fast_parse_tests.rs"]
pub(super) mod tests;
