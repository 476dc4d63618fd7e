//! Secrets too large to keep a second copy of (a file source of a
//! megabyte) are remembered by their length and a rolling hash, and found
//! in a text with one pass over it.

use std::ops::Range;

/// An odd 64-bit multiplier (FNV's prime); arithmetic wraps modulo 2^64.
const BASE: u64 = 0x0000_0100_0000_01b3;

#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    len: usize,
    hash: u64,
}

fn hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0u64, |h, &b| {
        h.wrapping_mul(BASE).wrapping_add(u64::from(b))
    })
}

impl Fingerprint {
    pub fn of(value: &str) -> Fingerprint {
        Fingerprint {
            len: value.len(),
            hash: hash(value.as_bytes()),
        }
    }

    /// Non-overlapping byte ranges of `text` that hash like the secret.
    fn find_in(&self, text: &str) -> Vec<Range<usize>> {
        let bytes = text.as_bytes();
        let mut found = Vec::new();
        if bytes.len() < self.len || self.len == 0 {
            return found;
        }
        // BASE^(len-1), to take the byte leaving the window out.
        let top = (1..self.len).fold(1u64, |p, _| p.wrapping_mul(BASE));
        let mut h = hash(&bytes[..self.len]);
        let mut start = 0;
        loop {
            let end = start + self.len;
            let fits = found.last().is_none_or(|r: &Range<usize>| r.end <= start);
            if h == self.hash && fits && text.is_char_boundary(start) && text.is_char_boundary(end)
            {
                found.push(start..end);
            }
            if end == bytes.len() {
                return found;
            }
            h = h
                .wrapping_sub(u64::from(bytes[start]).wrapping_mul(top))
                .wrapping_mul(BASE)
                .wrapping_add(u64::from(bytes[end]));
            start += 1;
        }
    }
}

/// `text` with every occurrence of a fingerprinted secret replaced.
pub fn mask(text: String, fingerprints: &[Fingerprint], redacted: &str) -> String {
    let mut text = text;
    for fingerprint in fingerprints {
        let found = fingerprint.find_in(&text);
        if found.is_empty() {
            continue;
        }
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for range in found {
            out.push_str(&text[last..range.start]);
            out.push_str(redacted);
            last = range.end;
        }
        out.push_str(&text[last..]);
        text = out;
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_occurrence_and_nothing_else() {
        let secret = "s3cret-".repeat(20);
        let fp = Fingerprint::of(&secret);
        let text = format!("a {secret} b {secret}{secret} c é");
        assert_eq!(
            mask(text, &[fp], "<redacted>"),
            "a <redacted> b <redacted><redacted> c é"
        );
        assert_eq!(mask("short".into(), &[fp], "X"), "short");
        let near = format!("a {}x b", &secret[..secret.len() - 1]);
        assert_eq!(mask(near.clone(), &[fp], "X"), near);
    }
}
