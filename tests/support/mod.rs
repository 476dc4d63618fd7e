//! Test support: start REAL servers (OpenBao/Vault dev and file-storage
//! servers, redis, postgres) on free loopback ports, talk to them with tiny
//! std-only clients, and run the `vault-converge` binary with a clean
//! environment.
//!
//! Included from the e2e test binary via
//! `#[path = "../support/mod.rs"] mod support;`. Every helper panics with a
//! message naming the server, its port and the tail of its log when
//! something goes wrong, so a failing test explains itself.
#![allow(dead_code)]

pub mod active_proxy;
pub mod bao;
pub mod cli;
pub mod flaky_proxy;
pub mod forward_proxy;
pub mod ports;
pub mod postgres;
pub mod raft;
pub mod redirector;
pub mod redis;
pub mod tls;

// Written separately (fake Kubernetes API server); kept last on purpose.
pub mod kube_api;

use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

/// `n` random bytes from /dev/urandom, hex-encoded (so `2 * n` characters).
pub fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .expect("read /dev/urandom");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// The last `lines` lines of `text`.
pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    all[start..].join("\n")
}

/// The last `lines` lines of the file at `path` (lossy UTF-8), or a note
/// saying why it could not be read.
pub fn file_tail(path: &Path, lines: usize) -> String {
    match std::fs::read(path) {
        Ok(bytes) => tail(&String::from_utf8_lossy(&bytes), lines),
        Err(e) => format!("<could not read {}: {e}>", path.display()),
    }
}

/// The whole file at `path` (lossy UTF-8), or a note saying why it could not be read.
pub fn file_text(path: &Path) -> String {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_else(|e| format!("<cannot read {}: {e}>", path.display()))
}

/// Polls `f` every `every` until it returns `Some`, or `None` after `timeout`.
pub fn wait_for<T>(
    timeout: Duration,
    every: Duration,
    mut f: impl FnMut() -> Option<T>,
) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(every);
    }
}

/// True when this process runs as root (uid 0), read from /proc/self/status.
pub fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}
