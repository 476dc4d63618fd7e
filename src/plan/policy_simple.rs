//! The shape nearly every ACL policy has, recognized without the HCL
//! parser: `path "<glob>" { capabilities = ["read", ...] }` blocks, on one
//! line or as
//!
//! ```hcl
//! path "<glob>" {
//!   capabilities = ["read", ...]
//! }
//! ```
//!
//! and blank space between them. Parsing HCL costs about 5 µs a policy
//! (48 ms of CPU for 10,000); this is one pass over the text. Anything
//! else (comments, other keys, escapes, templates, JSON, lists over
//! several lines) is left to the full check: this only ever says "valid"
//! for text the full check accepts.

use super::policy_hcl::CAPABILITIES;

/// Whether `text` is one or more such blocks and nothing else.
pub fn is_simple_acl(text: &str) -> bool {
    let mut s = Scanner {
        rest: text.as_bytes(),
    };
    let mut blocks = 0;
    loop {
        // Blocks are separated by at least one line break.
        let newlines = s.blanks();
        if s.rest.is_empty() {
            return blocks > 0;
        }
        if blocks > 0 && newlines == 0 {
            return false;
        }
        if !s.block() {
            return false;
        }
        blocks += 1;
    }
}

struct Scanner<'a> {
    rest: &'a [u8],
}

impl Scanner<'_> {
    /// Skips spaces, tabs and line breaks (a carriage return only before a
    /// line feed); returns how many line breaks.
    fn blanks(&mut self) -> usize {
        let mut newlines = 0;
        loop {
            if self.line_break() {
                newlines += 1;
            } else if matches!(self.rest.first(), Some(b' ' | b'\t')) {
                self.rest = &self.rest[1..];
            } else {
                return newlines;
            }
        }
    }

    /// Skips spaces and tabs within a line.
    fn spaces(&mut self) {
        while matches!(self.rest.first(), Some(b' ' | b'\t')) {
            self.rest = &self.rest[1..];
        }
    }

    fn eat(&mut self, word: &[u8]) -> bool {
        match self.rest.strip_prefix(word) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    /// `path "<glob>" { capabilities = [...] }`, on one line or three.
    fn block(&mut self) -> bool {
        if !self.eat(b"path") || !matches!(self.rest.first(), Some(b' ' | b'\t')) {
            return false;
        }
        self.spaces();
        if !self.glob() {
            return false;
        }
        self.spaces();
        if !self.eat(b"{") {
            return false;
        }
        self.spaces();
        let multi_line = self.line_break();
        if multi_line {
            self.blanks();
        }
        if !self.capabilities() {
            return false;
        }
        self.spaces();
        if multi_line {
            if !self.line_break() {
                return false;
            }
            self.blanks();
        }
        self.eat(b"}")
    }

    fn line_break(&mut self) -> bool {
        self.eat(b"\n") || self.eat(b"\r\n")
    }

    /// A quoted glob of plain printable characters: no escapes, no
    /// template or interpolation signs, no braces.
    fn glob(&mut self) -> bool {
        if !self.eat(b"\"") {
            return false;
        }
        let len = self
            .rest
            .iter()
            .take_while(|&&b| {
                b.is_ascii_graphic() && !matches!(b, b'"' | b'\\' | b'$' | b'%' | b'{' | b'}')
            })
            .count();
        if len == 0 {
            return false;
        }
        self.rest = &self.rest[len..];
        self.eat(b"\"")
    }

    /// `capabilities = ["read", "list"]` on one line, each a known word.
    fn capabilities(&mut self) -> bool {
        if !self.eat(b"capabilities") {
            return false;
        }
        self.spaces();
        if !self.eat(b"=") {
            return false;
        }
        self.spaces();
        if !self.eat(b"[") {
            return false;
        }
        let mut words = 0;
        loop {
            self.spaces();
            if self.eat(b"]") {
                return words > 0;
            }
            if words > 0 && !self.eat(b",") {
                return false;
            }
            self.spaces();
            if words > 0 && self.eat(b"]") {
                // A trailing comma.
                return true;
            }
            if !self.capability() {
                return false;
            }
            words += 1;
        }
    }

    fn capability(&mut self) -> bool {
        if !self.eat(b"\"") {
            return false;
        }
        let len = self
            .rest
            .iter()
            .take_while(|b| b.is_ascii_lowercase())
            .count();
        let word = &self.rest[..len];
        if !CAPABILITIES.iter().any(|c| c.as_bytes() == word) {
            return false;
        }
        self.rest = &self.rest[len..];
        self.eat(b"\"")
    }
}

#[cfg(test)]
#[path = "policy_simple_tests.rs"]
mod tests;
