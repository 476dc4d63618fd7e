//! A forward HTTP proxy on loopback, as a corporate egress proxy behaves:
//! `CONNECT host:port` opens a tunnel (https targets), and a request in
//! absolute form (`GET http://host:port/path`) is passed on to that host
//! (http targets). It records the first request line and the
//! `Proxy-Authorization` header of every connection, then splices bytes
//! both ways until either side closes (later requests on a kept-alive
//! connection go to the same host; servers accept the absolute form).

use std::io::{self, BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

/// What one client connection opened with.
#[derive(Debug, Clone)]
pub struct Opened {
    /// `CONNECT 127.0.0.1:8200 HTTP/1.1`, `GET http://…/v1/… HTTP/1.1`.
    pub request_line: String,
    pub proxy_authorization: Option<String>,
}

pub struct ForwardProxy {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    opened: Arc<Mutex<Vec<Opened>>>,
}

impl ForwardProxy {
    pub fn start() -> ForwardProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("forward proxy: bind");
        let port = listener.local_addr().expect("forward proxy: addr").port();
        let opened = Arc::new(Mutex::new(Vec::new()));
        let seen = opened.clone();
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let seen = seen.clone();
                thread::spawn(move || {
                    let _ = serve(client, &seen);
                });
            }
        });
        ForwardProxy {
            url: format!("http://127.0.0.1:{port}"),
            opened,
        }
    }

    /// The connections opened through the proxy so far.
    pub fn opened(&self) -> Vec<Opened> {
        self.opened.lock().unwrap().clone()
    }
}

fn serve(client: TcpStream, seen: &Mutex<Vec<Opened>>) -> io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let end = line == "\r\n";
        head.push(line);
        if end {
            break;
        }
    }
    let request_line = head[0].trim_end().to_owned();
    let proxy_authorization = head.iter().find_map(|h| {
        let (name, value) = h.split_once(':')?;
        name.eq_ignore_ascii_case("proxy-authorization")
            .then(|| value.trim().to_owned())
    });
    seen.lock().unwrap().push(Opened {
        request_line: request_line.clone(),
        proxy_authorization,
    });
    let mut parts = request_line.split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let mut client_out = client.try_clone()?;
    let upstream = if method == "CONNECT" {
        let upstream = TcpStream::connect(target)?;
        client_out.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
        upstream
    } else {
        let Some(host) = target
            .strip_prefix("http://")
            .and_then(|rest| rest.split('/').next())
        else {
            client_out.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")?;
            return Ok(());
        };
        let mut upstream = TcpStream::connect(host)?;
        // The request as sent, without the proxy's own header.
        for line in &head {
            if !line
                .to_ascii_lowercase()
                .starts_with("proxy-authorization:")
            {
                upstream.write_all(line.as_bytes())?;
            }
        }
        upstream
    };
    // Whatever the client sent after the head is already in `reader`.
    let buffered = reader.buffer().to_vec();
    let mut upstream_in = upstream.try_clone()?;
    upstream_in.write_all(&buffered)?;
    let mut upstream_out = upstream.try_clone()?;
    let mut client_in = reader.into_inner();
    let to_upstream = thread::spawn(move || {
        let _ = io::copy(&mut client_in, &mut upstream_in);
        let _ = upstream_in.shutdown(Shutdown::Write);
    });
    let _ = io::copy(&mut upstream_out, &mut client_out);
    let _ = client_out.shutdown(Shutdown::Both);
    let _ = to_upstream.join();
    Ok(())
}
