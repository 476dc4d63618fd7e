//! Request counters for the report: reads, writes and lists made by one
//! client, counted as they are sent.

use std::sync::atomic::{AtomicU64, Ordering};

use super::endpoint::Method;

#[derive(Debug, Default, Clone, Copy, serde::Serialize, PartialEq, Eq)]
pub struct RequestCounts {
    pub reads: u64,
    pub writes: u64,
    pub lists: u64,
}

impl RequestCounts {
    /// The requests made after `earlier` was taken.
    pub fn since(self, earlier: RequestCounts) -> RequestCounts {
        RequestCounts {
            reads: self.reads - earlier.reads,
            writes: self.writes - earlier.writes,
            lists: self.lists - earlier.lists,
        }
    }
}

/// The live counters behind [`RequestCounts`], shared by concurrent requests.
#[derive(Default)]
pub(super) struct Counters {
    reads: AtomicU64,
    writes: AtomicU64,
    lists: AtomicU64,
}

impl Counters {
    /// Counts one request by its method.
    pub(super) fn record(&self, method: Method) {
        let counter = match method {
            Method::Get => &self.reads,
            Method::List => &self.lists,
            Method::Post | Method::Delete => &self.writes,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The requests counted so far.
    pub(super) fn snapshot(&self) -> RequestCounts {
        RequestCounts {
            reads: self.reads.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
            lists: self.lists.load(Ordering::Relaxed),
        }
    }
}
