//! The listening side: an accept loop on its own thread, a thread per
//! connection serving keep-alive requests one after another, and a stop that
//! closes the listener and every open connection.

use std::collections::HashMap;
use std::io::BufReader;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use super::http::{read_request, write_response, Response};
use super::router::handle;
use super::state::{lock, State};
use super::status::status_failure;

/// An idle keep-alive connection is closed after this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// A running accept loop over `127.0.0.1:<ephemeral port>` and the state its
/// connections serve.
pub(super) struct Server {
    shared: Arc<Shared>,
    addr: SocketAddr,
    acceptor: Option<JoinHandle<()>>,
}

struct Shared {
    state: Mutex<State>,
    stop: AtomicBool,
    next_conn: AtomicU64,
    /// Open connections (a clone of each stream, to shut them down on stop).
    conns: Mutex<HashMap<u64, TcpStream>>,
    handles: Mutex<Vec<JoinHandle<()>>>,
}

impl Server {
    /// Bind 127.0.0.1:0 and serve `state` from a background thread.
    pub fn start(state: State) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("kube_api: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("kube_api: local_addr");
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            stop: AtomicBool::new(false),
            next_conn: AtomicU64::new(0),
            conns: Mutex::new(HashMap::new()),
            handles: Mutex::new(Vec::new()),
        });
        let acceptor = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(format!("kube-api-accept-{}", addr.port()))
                .spawn(move || accept_loop(listener, shared))
                .expect("kube_api: spawn accept thread")
        };
        Server {
            shared,
            addr,
            acceptor: Some(acceptor),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.shared.state)
    }

    /// Stop accepting, close every open connection and join their threads.
    /// Idempotent.
    pub fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let Some(acceptor) = self.acceptor.take() else {
            return;
        };
        // Wake the blocking accept() so it sees the stop flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        let _ = acceptor.join();
        for (_, s) in lock(&self.shared.conns).drain() {
            let _ = s.shutdown(Shutdown::Both);
        }
        let handles: Vec<_> = lock(&self.shared.handles).drain(..).collect();
        for h in handles {
            let _ = h.join();
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for conn in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let stream = match conn {
            Ok(s) => s,
            Err(_) => {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let id = shared.next_conn.fetch_add(1, Ordering::SeqCst);
        if let Ok(clone) = stream.try_clone() {
            lock(&shared.conns).insert(id, clone);
        }
        let sh = Arc::clone(&shared);
        let spawned = std::thread::Builder::new()
            .name(format!("kube-api-conn-{id}"))
            .spawn(move || {
                serve_connection(stream, &sh);
                lock(&sh.conns).remove(&id);
            });
        if let Ok(h) = spawned {
            let mut handles = lock(&shared.handles);
            handles.retain(|h| !h.is_finished());
            handles.push(h);
        }
    }
}

fn serve_connection(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(IDLE_TIMEOUT));
    let _ = stream.set_nodelay(true);
    let mut writer = match stream.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut reader = BufReader::new(stream);
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let req = match read_request(&mut reader, &mut writer) {
            Ok(Some(r)) => r,
            Ok(None) => return, // clean EOF between requests
            Err(msg) => {
                let resp = Response {
                    code: 400,
                    body: status_failure(400, "BadRequest", &msg, None),
                };
                let _ = write_response(&mut writer, &resp, false);
                return;
            }
        };
        let resp = handle(&shared.state, &req);
        if write_response(&mut writer, &resp, req.keep_alive).is_err() || !req.keep_alive {
            let _ = writer.shutdown(Shutdown::Both);
            return;
        }
    }
}
