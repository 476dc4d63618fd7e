//! A loopback HTTP proxy in front of a real server that answers the first
//! `failures` requests with 503 (as a standby or a server mid-failover does)
//! and forwards the rest, one request per connection.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

pub struct FlakyProxy {
    pub addr: String,
    served: Arc<AtomicUsize>,
}

impl FlakyProxy {
    pub fn start(upstream_port: u16, failures: usize) -> FlakyProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind flaky proxy");
        let port = listener.local_addr().unwrap().port();
        let served = Arc::new(AtomicUsize::new(0));
        let counter = served.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let n = counter.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || {
                    let _ = serve(stream, upstream_port, n < failures);
                });
            }
        });
        FlakyProxy {
            addr: format!("http://127.0.0.1:{port}"),
            served,
        }
    }

    /// Requests seen so far, failed ones included.
    pub fn requests(&self) -> usize {
        self.served.load(Ordering::SeqCst)
    }
}

fn serve(mut client: TcpStream, upstream_port: u16, fail: bool) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head = Vec::new();
    let mut content_length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            content_length = v.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("connection:") {
            continue;
        }
        if line == "\r\n" {
            head.extend_from_slice(b"Connection: close\r\n\r\n");
            break;
        }
        head.extend_from_slice(line.as_bytes());
    }
    let mut body = vec![0u8; content_length];
    reader.read_exact(&mut body)?;
    if fail {
        let payload = br#"{"errors":["Vault is sealed"]}"#;
        write!(
            client,
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            payload.len()
        )?;
        client.write_all(payload)?;
        return Ok(());
    }
    let mut upstream = TcpStream::connect(("127.0.0.1", upstream_port))?;
    upstream.write_all(&head)?;
    upstream.write_all(&body)?;
    let mut response = Vec::new();
    upstream.read_to_end(&mut response)?;
    client.write_all(&response)
}
