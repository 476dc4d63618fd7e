//! Hostile redirects: a server that answers every request with a redirect to
//! another origin ([`Redirector`]), and one that records whatever reaches it
//! ([`Capture`]) so a test can prove that no token, header or body followed
//! the redirect there.
//!
//! Both speak plain HTTP/1.1, one request per connection, answer with
//! `Connection: close` and a correct `Content-Length`, and record every
//! request (method, target with query, headers in order, body; a chunked
//! body is de-chunked).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request as received.
#[derive(Clone, PartialEq, Eq)]
pub struct CapturedRequest {
    pub method: String,
    /// The request target: path and query, e.g. `/v1/sys/mounts?list=true`.
    pub path: String,
    /// Header names and values in the order received (names as sent).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl CapturedRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as (lossy) UTF-8.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The whole request as text (request line, headers, body), for
    /// searching it for a secret.
    pub fn to_text(&self) -> String {
        let mut s = format!("{} {}\n", self.method, self.path);
        for (k, v) in &self.headers {
            s.push_str(&format!("{k}: {v}\n"));
        }
        s.push('\n');
        s.push_str(&self.body_text());
        s
    }
}

impl std::fmt::Debug for CapturedRequest {
    /// Like a derived Debug, with the body shown as (lossy) text.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CapturedRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("headers", &self.headers)
            .field("body", &self.body_text())
            .finish()
    }
}

/// What the server answers.
#[derive(Clone)]
enum Answer {
    /// 200 with `{}`.
    Ok,
    /// `status` with `Location: {base}{target}`.
    Redirect { status: u16, location_base: String },
}

struct Server {
    addr: String,
    port: u16,
    requests: Arc<Mutex<Vec<CapturedRequest>>>,
    stop: Arc<AtomicBool>,
}

impl Server {
    fn start(what: &'static str, answer: Answer) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("{what}: bind 127.0.0.1:0: {e}"));
        let port = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("{what}: local_addr: {e}"))
            .port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (requests2, stop2) = (requests.clone(), stop.clone());
        std::thread::Builder::new()
            .name(format!("{what}-{port}"))
            .spawn(move || {
                for stream in listener.incoming() {
                    if stop2.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (answer, requests) = (answer.clone(), requests2.clone());
                    std::thread::spawn(move || {
                        let _ = handle(stream, &answer, &requests);
                    });
                }
            })
            .unwrap_or_else(|e| panic!("{what}: spawn accept thread: {e}"));
        Server {
            addr: format!("http://127.0.0.1:{port}"),
            port,
            requests,
            stop,
        }
    }

    fn requests(&self) -> Vec<CapturedRequest> {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Records every request and answers 200 `{}`.
pub struct Capture {
    /// `http://127.0.0.1:PORT`
    pub addr: String,
    pub port: u16,
    server: Server,
}

impl Capture {
    pub fn start() -> Capture {
        let server = Server::start("capture", Answer::Ok);
        Capture {
            addr: server.addr.clone(),
            port: server.port,
            server,
        }
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<CapturedRequest> {
        self.server.requests()
    }
}

/// Answers every request with a redirect to another origin, and records it.
pub struct Redirector {
    /// `http://127.0.0.1:PORT`
    pub addr: String,
    pub port: u16,
    pub status: u16,
    server: Server,
}

impl Redirector {
    /// Answers every request with `status` (e.g. 302 or 307) and
    /// `Location: {location_base}{path and query of the request}`, so a
    /// `location_base` of a [`Capture`]'s `addr` sends a follower there with
    /// the same path.
    pub fn start(status: u16, location_base: String) -> Redirector {
        let server = Server::start(
            "redirector",
            Answer::Redirect {
                status,
                location_base,
            },
        );
        Redirector {
            addr: server.addr.clone(),
            port: server.port,
            status,
            server,
        }
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<CapturedRequest> {
        self.server.requests()
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        _ => "Redirect",
    }
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

fn read_line(reader: &mut impl BufRead) -> io::Result<String> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(bad("connection closed mid-request"));
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn read_request(stream: &TcpStream) -> io::Result<CapturedRequest> {
    let mut reader = BufReader::new(stream);
    let request_line = read_line(&mut reader)?;
    let mut parts = request_line.split_whitespace();
    let (Some(method), Some(path)) = (parts.next(), parts.next()) else {
        return Err(bad(format!("bad request line {request_line:?}")));
    };
    let (method, path) = (method.to_owned(), path.to_owned());
    let mut headers = Vec::new();
    loop {
        let line = read_line(&mut reader)?;
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let value = |name: &str| {
        headers
            .iter()
            .find(|(k, _): &&(String, String)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.to_ascii_lowercase())
    };
    let mut body = Vec::new();
    if value("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        loop {
            let size_line = read_line(&mut reader)?;
            let size_hex = size_line.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size_hex, 16)
                .map_err(|_| bad(format!("bad chunk size {size_hex:?}")))?;
            if size == 0 {
                // Trailers, up to the blank line.
                while !read_line(&mut reader)?.is_empty() {}
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..])?;
            read_line(&mut reader)?;
        }
    } else if let Some(n) = value("content-length").and_then(|v| v.trim().parse::<usize>().ok()) {
        body.resize(n, 0);
        reader.read_exact(&mut body)?;
    }
    Ok(CapturedRequest {
        method,
        path,
        headers,
        body,
    })
}

fn handle(
    mut stream: TcpStream,
    answer: &Answer,
    requests: &Mutex<Vec<CapturedRequest>>,
) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    let request = read_request(&stream)?;
    let target = request.path.clone();
    requests
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(request);
    let response = match answer {
        Answer::Ok => {
            let body = "{}";
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
        }
        Answer::Redirect {
            status,
            location_base,
        } => format!(
            "HTTP/1.1 {status} {}\r\nLocation: {location_base}{target}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            reason(*status)
        ),
    };
    stream.write_all(response.as_bytes())?;
    stream.flush()
}
