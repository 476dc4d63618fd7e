//! A progress line on a terminal — objects done of the total, and the
//! stage running — redrawn in place on stderr and cleared at the end.
//! Nothing at all when stderr is not a terminal (pods, CI logs).

use std::io::{IsTerminal, Write};

pub struct Progress {
    enabled: bool,
    total: usize,
    done: usize,
}

impl Progress {
    pub fn new(total: usize) -> Progress {
        Progress {
            enabled: std::io::stderr().is_terminal(),
            total,
            done: 0,
        }
    }

    /// `done` more objects are finished; `stage` is running.
    pub fn advance(&mut self, done: usize, stage: &str) {
        self.done += done;
        if self.enabled {
            let mut err = std::io::stderr().lock();
            let _ = write!(
                err,
                "\r\x1b[2K{}/{} objects · {stage}",
                self.done, self.total
            );
            let _ = err.flush();
        }
    }

    pub fn finish(&self) {
        if self.enabled {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}
