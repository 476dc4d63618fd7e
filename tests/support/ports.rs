//! Free TCP ports on 127.0.0.1.
//!
//! A port is "free" when it can be bound right now; another process may still
//! take it before the server we start binds it, so the server starters retry
//! with a new port when their process exits early. Within this test process,
//! ports already handed out are never handed out again, so parallel tests do
//! not race each other.

use std::collections::HashSet;
use std::net::TcpListener;
use std::sync::{Mutex, OnceLock};

fn handed_out() -> &'static Mutex<HashSet<u16>> {
    static SET: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    SET.get_or_init(|| Mutex::new(HashSet::new()))
}

fn ephemeral() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0 to find a free port");
    let port = l.local_addr().expect("local_addr of probe listener").port();
    (l, port)
}

fn can_bind(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// A port on 127.0.0.1 that can be bound right now and that this process has
/// not handed out before.
pub fn free_port() -> u16 {
    for _ in 0..200 {
        let (probe, port) = ephemeral();
        drop(probe);
        let mut taken = handed_out().lock().unwrap_or_else(|e| e.into_inner());
        if taken.insert(port) {
            return port;
        }
    }
    panic!("free_port: no free port on 127.0.0.1 after 200 tries");
}

/// A port `p` on 127.0.0.1 such that both `p` and `p + 1` can be bound right
/// now (a bao/vault server binds `p + 1` for its cluster listener). Neither
/// has been handed out before by this process.
pub fn free_port_pair() -> u16 {
    for _ in 0..500 {
        let (probe, port) = ephemeral();
        if port == u16::MAX {
            continue;
        }
        let next_ok = can_bind(port + 1);
        drop(probe);
        if !next_ok {
            continue;
        }
        let mut taken = handed_out().lock().unwrap_or_else(|e| e.into_inner());
        if taken.contains(&port) || taken.contains(&(port + 1)) {
            continue;
        }
        taken.insert(port);
        taken.insert(port + 1);
        return port;
    }
    panic!("free_port_pair: no pair of free adjacent ports on 127.0.0.1 after 500 tries");
}
