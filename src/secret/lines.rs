//! Output scrubbed in batches of whole lines, so a large output is never
//! held whole (for text whose lines never split a secret: pretty JSON, where
//! a newline inside a string is escaped). The text is produced on a second
//! thread while this one scrubs and writes the batches before it: for a
//! large report the two take about as long (20–25 ms each at 30,000 objects).

use std::io::{self, Write};
use std::sync::mpsc;

use super::scrub;

/// Lines are scrubbed in batches of about this many bytes: one pass of
/// the matcher per batch rather than per line (a 12 MB report has 400,000).
const BATCH: usize = 64 * 1024;

/// Batches in flight between the two threads: bounds what is held.
const IN_FLIGHT: usize = 4;

/// Writes what `produce` writes to `out`, scrubbed, and returns what
/// `produce` returned. `produce` runs on a second thread (here, when none
/// can be started).
pub fn write_scrubbed<W: Write, R: Send>(
    out: &mut W,
    produce: impl Fn(&mut dyn Write) -> R + Sync,
) -> io::Result<R> {
    let (send, batches) = mpsc::sync_channel::<Vec<u8>>(IN_FLIGHT);
    let produce = &produce;
    std::thread::scope(|scope| {
        let producer = std::thread::Builder::new()
            .name("report".into())
            .spawn_scoped(scope, move || {
                let mut lines = Batcher::new(|batch| {
                    send.send(batch)
                        .map_err(|_| io::Error::other("the report's output is gone"))
                });
                let result = produce(&mut lines);
                (result, lines.finish())
            });
        let Ok(producer) = producer else {
            let mut lines = Batcher::new(|batch| emit(out, &batch));
            let result = produce(&mut lines);
            lines.finish()?;
            out.flush()?;
            return Ok(result);
        };
        // Every batch is taken, even after a failed write: the producer
        // must never wait on a full channel.
        let mut written = Ok(());
        for batch in batches {
            if written.is_ok() {
                written = emit(out, &batch);
            }
        }
        let (result, finished) = producer
            .join()
            .map_err(|_| io::Error::other("writing the report failed"))?;
        written?;
        finished?;
        out.flush()?;
        Ok(result)
    })
}

/// Collects what is written and hands it on in batches of whole lines.
struct Batcher<S: FnMut(Vec<u8>) -> io::Result<()>> {
    sink: S,
    /// The bytes not handed on yet: whole lines and the unfinished last one.
    partial: Vec<u8>,
    /// How much of `partial` is known to hold no newline: a line longer
    /// than a batch is searched once, not again at every write.
    searched: usize,
}

impl<S: FnMut(Vec<u8>) -> io::Result<()>> Batcher<S> {
    fn new(sink: S) -> Batcher<S> {
        Batcher {
            sink,
            partial: Vec::with_capacity(BATCH + BATCH / 4),
            searched: 0,
        }
    }

    /// Hands on the unfinished last line too.
    fn finish(mut self) -> io::Result<()> {
        let rest = std::mem::take(&mut self.partial);
        if rest.is_empty() {
            return Ok(());
        }
        (self.sink)(rest)
    }

    /// Hands on the whole lines held once a batch is full.
    #[inline(never)]
    fn hand_on_full_batch(&mut self) -> io::Result<()> {
        let fresh = &self.partial[self.searched..];
        let Some(last) = fresh.iter().rposition(|&b| b == b'\n') else {
            self.searched = self.partial.len();
            return Ok(());
        };
        let rest = self.partial[self.searched + last + 1..].to_vec();
        let mut lines = std::mem::replace(&mut self.partial, rest);
        lines.truncate(self.searched + last + 1);
        // The next batch grows from a buffer of its own size.
        self.partial.reserve(BATCH + BATCH / 4);
        self.searched = self.partial.len();
        (self.sink)(lines)
    }
}

impl<S: FnMut(Vec<u8>) -> io::Result<()>> Write for Batcher<S> {
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
        self.hand_on_full_batch()
    }

    fn flush(&mut self) -> io::Result<()> {
        // A partial line waits for its end: handing it on now could split a secret.
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `text` written in chunks of `size` bytes, scrubbed.
    fn written_in_chunks(text: &str, size: usize) -> String {
        let mut out = Vec::new();
        write_scrubbed(&mut out, |w| {
            for chunk in text.as_bytes().chunks(size) {
                w.write_all(chunk).unwrap();
            }
        })
        .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn secrets_split_across_writes_are_scrubbed() {
        let secret = "lines-writer-secret-4f1c";
        super::super::register(secret);
        let text = format!("{{\n  \"a\": \"{secret}\",\n  \"b\": \"x{secret}y\"\n}}");
        let out = written_in_chunks(&text, 5);
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
        let out = written_in_chunks(&text, 4093);
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
        let started = std::time::Instant::now();
        let out = written_in_chunks(&text, 16);
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert!(!out.contains(secret));
        assert_eq!(out, scrub(&text));
    }

    #[test]
    fn a_failed_write_ends_in_its_error_and_the_producer_still_finishes() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::from(io::ErrorKind::BrokenPipe))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let text = "line\n".repeat(100_000);
        let err = write_scrubbed(&mut Broken, |w| {
            // Every write of the producer succeeds: batches are still taken.
            for chunk in text.as_bytes().chunks(100) {
                w.write_all(chunk).unwrap();
            }
            "produced"
        })
        .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    }
}
