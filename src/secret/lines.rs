//! A writer that scrubs what passes through it one line at a time, so a
//! large output is never held whole (for text whose lines never split a
//! secret: pretty JSON, where a newline inside a string is escaped).

use std::io::{self, Write};

use super::scrub;

pub struct ScrubLines<W: Write> {
    out: W,
    /// The bytes after the last newline written so far.
    partial: Vec<u8>,
}

impl<W: Write> ScrubLines<W> {
    pub fn new(out: W) -> ScrubLines<W> {
        ScrubLines {
            out,
            partial: Vec::new(),
        }
    }

    /// Scrubs and writes the unfinished last line, and flushes.
    pub fn finish(mut self) -> io::Result<W> {
        let rest = std::mem::take(&mut self.partial);
        self.emit(&rest)?;
        self.out.flush()?;
        Ok(self.out)
    }

    fn emit(&mut self, line: &[u8]) -> io::Result<()> {
        // Lines end at a newline byte, which is never inside a UTF-8
        // sequence; anything else (never produced by serde_json) is
        // written through the lossy form rather than unscrubbed.
        let text = String::from_utf8_lossy(line);
        self.out.write_all(scrub(&text).as_bytes())
    }
}

impl<W: Write> Write for ScrubLines<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            let (line, after) = rest.split_at(end + 1);
            if self.partial.is_empty() {
                self.emit(line)?;
            } else {
                let mut whole = std::mem::take(&mut self.partial);
                whole.extend_from_slice(line);
                self.emit(&whole)?;
            }
            rest = after;
        }
        self.partial.extend_from_slice(rest);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        // A partial line waits for its end: flushing it now could split a secret.
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_split_across_writes_are_scrubbed() {
        let secret = "lines-writer-secret-4f1c";
        super::super::register(secret);
        let mut lines = ScrubLines::new(Vec::new());
        let text = format!("{{\n  \"a\": \"{secret}\",\n  \"b\": \"x{secret}y\"\n}}");
        for chunk in text.as_bytes().chunks(5) {
            lines.write_all(chunk).unwrap();
        }
        let out = String::from_utf8(lines.finish().unwrap()).unwrap();
        assert!(!out.contains(secret), "{out}");
        assert_eq!(out, scrub(&text));
        assert_eq!(out.lines().count(), 4);
    }
}
