//! A TCP proxy in front of a raft cluster that behaves like a Kubernetes
//! Service selecting the active pod (`vault-active`): every NEW client
//! connection is forwarded, as a raw byte stream in both directions, to the
//! node whose `GET /v1/sys/health` answers 200 at that moment. When no node
//! is active (mid-failover) it keeps looking for up to [`FIND_ACTIVE_FOR`]
//! and then closes the client connection without a byte. Connections already
//! forwarded to a node that dies simply break, as they would through a real
//! Service.

use super::bao::http_request_timeout;
use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a new connection waits for an active node before it is closed.
pub const FIND_ACTIVE_FOR: Duration = Duration::from_secs(5);
const PROBE: Duration = Duration::from_millis(300);

#[derive(Default)]
struct Stats {
    /// Connections forwarded, per upstream API port.
    routed: BTreeMap<u16, usize>,
    /// Connections closed because no node was active.
    dropped: usize,
    /// The upstream port last found active (probed first next time).
    last_active: Option<u16>,
}

pub struct ActiveProxy {
    /// `http://127.0.0.1:PORT`
    pub addr: String,
    pub port: u16,
    stats: Arc<Mutex<Stats>>,
    stop: Arc<AtomicBool>,
}

impl ActiveProxy {
    /// Listens on a free loopback port and forwards each new connection to
    /// whichever of the nodes on `ports` (API ports on 127.0.0.1) is active.
    pub fn start(ports: Vec<u16>) -> ActiveProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("active proxy: bind 127.0.0.1:0");
        let port = listener
            .local_addr()
            .expect("active proxy: local_addr")
            .port();
        let stats = Arc::new(Mutex::new(Stats::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (stats2, stop2) = (stats.clone(), stop.clone());
        std::thread::Builder::new()
            .name(format!("active-proxy-{port}"))
            .spawn(move || {
                for client in listener.incoming() {
                    if stop2.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(client) = client else { continue };
                    let (ports, stats) = (ports.clone(), stats2.clone());
                    std::thread::spawn(move || serve(client, &ports, &stats));
                }
            })
            .expect("active proxy: spawn accept thread");
        ActiveProxy {
            addr: format!("http://127.0.0.1:{port}"),
            port,
            stats,
            stop,
        }
    }

    /// How many connections went to each upstream port so far.
    pub fn routed(&self) -> BTreeMap<u16, usize> {
        self.lock().routed.clone()
    }

    /// How many client connections were closed because no node was active.
    pub fn dropped(&self) -> usize {
        self.lock().dropped
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Stats> {
        self.stats.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for ActiveProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn is_active(port: u16) -> bool {
    let host = format!("127.0.0.1:{port}");
    matches!(
        http_request_timeout(&host, "GET", "/v1/sys/health", &[], None, PROBE),
        Ok((200, _))
    )
}

/// The active node's port, probing the last known active one first.
fn find_active(ports: &[u16], stats: &Mutex<Stats>) -> Option<u16> {
    let deadline = Instant::now() + FIND_ACTIVE_FOR;
    loop {
        let last = stats.lock().unwrap_or_else(|e| e.into_inner()).last_active;
        let order = last
            .into_iter()
            .chain(ports.iter().copied().filter(|p| Some(*p) != last));
        for port in order {
            if is_active(port) {
                stats.lock().unwrap_or_else(|e| e.into_inner()).last_active = Some(port);
                return Some(port);
            }
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn serve(client: TcpStream, ports: &[u16], stats: &Mutex<Stats>) {
    let upstream = find_active(ports, stats).and_then(|port| {
        TcpStream::connect(("127.0.0.1", port))
            .ok()
            .map(|s| (port, s))
    });
    let Some((port, upstream)) = upstream else {
        stats.lock().unwrap_or_else(|e| e.into_inner()).dropped += 1;
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    *stats
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .routed
        .entry(port)
        .or_default() += 1;
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let (Ok(client_r), Ok(upstream_w)) = (client.try_clone(), upstream.try_clone()) else {
        return;
    };
    // Client → node in its own thread; node → client here.
    let up = std::thread::spawn(move || {
        let _ = pump(client_r, &upstream_w);
        let _ = upstream_w.shutdown(Shutdown::Write);
    });
    let _ = pump(upstream, &client);
    // The node closed (or died): the client connection breaks with it, and
    // the other direction unblocks.
    let _ = client.shutdown(Shutdown::Both);
    let _ = up.join();
}

fn pump(mut from: TcpStream, mut to: &TcpStream) -> io::Result<()> {
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = from.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        to.write_all(&buf[..n])?;
    }
}
