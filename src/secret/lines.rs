//! A writer that scrubs what passes through it in batches of whole lines,
//! so a large output is never held whole (for text whose lines never split a
//! secret: pretty JSON, where a newline inside a string is escaped).

use std::io::{self, Write};

use super::scrub;

pub struct ScrubLines<W: Write> {
    out: W,
    /// The bytes not scrubbed yet: whole lines and the unfinished last one.
    /// Keeps its capacity from batch to batch.
    partial: Vec<u8>,
    /// How much of `partial` is known to hold no newline: a line longer
    /// than a batch is searched once, not again at every write.
    searched: usize,
}

impl<W: Write> ScrubLines<W> {
    pub fn new(out: W) -> ScrubLines<W> {
        ScrubLines {
            out,
            partial: Vec::new(),
            searched: 0,
        }
    }

    /// Scrubs and writes the unfinished last line, and flushes.
    pub fn finish(mut self) -> io::Result<W> {
        emit(&mut self.out, &self.partial)?;
        self.out.flush()?;
        Ok(self.out)
    }

    /// Scrubs and writes the whole lines held once a batch is full.
    #[inline(never)]
    fn emit_full_batch(&mut self) -> io::Result<()> {
        let fresh = &self.partial[self.searched..];
        let Some(last) = fresh.iter().rposition(|&b| b == b'\n') else {
            self.searched = self.partial.len();
            return Ok(());
        };
        let last = self.searched + last;
        emit(&mut self.out, &self.partial[..=last])?;
        self.partial.drain(..=last);
        self.searched = self.partial.len();
        Ok(())
    }
}

fn emit(out: &mut impl Write, lines: &[u8]) -> io::Result<()> {
    // Lines end at a newline byte, which is never inside a UTF-8
    // sequence; anything else (never produced by serde_json) is
    // written through the lossy form rather than unscrubbed.
    let scrubbed = match std::str::from_utf8(lines) {
        Ok(text) => scrub(text),
        Err(_) => scrub(&String::from_utf8_lossy(lines)),
    };
    out.write_all(scrubbed.as_bytes())
}

/// Lines are scrubbed in batches of about this many bytes: one pass of
/// the matcher per batch rather than per line (a 12 MB report has 400,000).
const BATCH: usize = 64 * 1024;

impl<W: Write> Write for ScrubLines<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf).map(|()| buf.len())
    }

    /// The serializer writes a token at a time: one append each, and a
    /// batch is cut only when full.
    #[inline]
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.partial.extend_from_slice(buf);
        if self.partial.len() < BATCH {
            return Ok(());
        }
        self.emit_full_batch()
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

    #[test]
    fn batches_end_at_line_ends_and_miss_no_secret() {
        let secret = "lines-batch-secret-9d27";
        super::super::register(secret);
        // Several batches, a secret on every line, written in odd chunks
        // so batches end anywhere a line does.
        let text: String = (0..6000)
            .map(|i| format!("  \"k{i}\": \"{}{secret}\",\n", "x".repeat(i % 17)))
            .collect();
        assert!(text.len() > 3 * BATCH);
        let mut lines = ScrubLines::new(Vec::new());
        for chunk in text.as_bytes().chunks(4093) {
            lines.write_all(chunk).unwrap();
        }
        let out = String::from_utf8(lines.finish().unwrap()).unwrap();
        assert!(!out.contains(secret));
        assert_eq!(out, scrub(&text));
    }

    #[test]
    fn lines_longer_than_a_batch_are_searched_once() {
        let secret = "lines-long-secret-7e03";
        super::super::register(secret);
        // A 1 MB line written 16 bytes at a time, between short lines: a
        // search of the whole held line at every write takes tens of seconds.
        let long = format!("{}{secret}", "y".repeat(1 << 20));
        let text = format!("a\n{long}\nb {secret}\n");
        let mut lines = ScrubLines::new(Vec::new());
        let started = std::time::Instant::now();
        for chunk in text.as_bytes().chunks(16) {
            lines.write_all(chunk).unwrap();
        }
        let out = String::from_utf8(lines.finish().unwrap()).unwrap();
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert!(!out.contains(secret));
        assert_eq!(out, scrub(&text));
    }
}
