//! HTTP/1.1 on the wire: reading one request (request line, headers,
//! `Content-Length` or `Transfer-Encoding: chunked` body, answering
//! `Expect: 100-continue`) and writing one JSON response the way the API
//! server does (`Audit-Id`, `Cache-Control`, `Date`, `Content-Length`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

use serde_json::Value;

use super::encoding::{http_date, now_secs, uuid_v4};

const MAX_HEADER_BYTES: usize = 64 * 1024;
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// One parsed request; `path` has the query string and fragment cut off.
pub(super) struct Request {
    pub method: String,
    pub path: String,
    /// The query string, without `?` (empty when none).
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub keep_alive: bool,
}

impl Request {
    /// The first value of query parameter `name` (not percent-decoded).
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn bearer(&self) -> Option<&str> {
        let v = self.header("authorization")?.trim();
        let (scheme, token) = v.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    }
}

/// A status code and a JSON body (an API object or a `Status`).
pub(super) struct Response {
    pub code: u16,
    pub body: Value,
}

fn read_line(
    reader: &mut BufReader<TcpStream>,
    budget: &mut usize,
) -> Result<Option<String>, String> {
    let mut buf = Vec::new();
    let n = reader
        .by_ref()
        .take(*budget as u64 + 1)
        .read_until(b'\n', &mut buf)
        .map_err(|e| format!("read: {e}"))?;
    if n == 0 {
        return Ok(None);
    }
    if n > *budget {
        return Err("request header too large".into());
    }
    *budget -= n;
    if buf.last() != Some(&b'\n') {
        return Err("connection closed mid-line".into());
    }
    buf.pop();
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    String::from_utf8(buf)
        .map(Some)
        .map_err(|_| "header is not UTF-8".into())
}

/// Ok(None): the peer closed the connection before sending a request.
pub(super) fn read_request(
    reader: &mut BufReader<TcpStream>,
    writer: &mut TcpStream,
) -> Result<Option<Request>, String> {
    let mut budget = MAX_HEADER_BYTES;
    // Tolerate empty lines before a request line (RFC 9112 2.2). A read error
    // here (idle timeout, reset, shutdown on Drop) just ends the connection.
    let line = loop {
        match read_line(reader, &mut budget).unwrap_or(None) {
            None => return Ok(None),
            Some(l) if l.is_empty() => continue,
            Some(l) => break l,
        }
    };
    let mut parts = line.split_whitespace();
    let (method, target, version) = match (parts.next(), parts.next(), parts.next()) {
        (Some(m), Some(t), Some(v)) => (m.to_string(), t.to_string(), v.to_string()),
        _ => return Err(format!("malformed request line {line:?}")),
    };
    let mut headers = Vec::new();
    loop {
        let l = read_line(reader, &mut budget)?.ok_or("connection closed in headers")?;
        if l.is_empty() {
            break;
        }
        let (k, v) = l
            .split_once(':')
            .ok_or_else(|| format!("malformed header {l:?}"))?;
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let mut req = Request {
        method,
        path: String::new(),
        query: String::new(),
        headers,
        body: Vec::new(),
        keep_alive: true,
    };
    // origin-form, or absolute-form (http://host/path) from proxies
    let target = match target.strip_prefix("http://") {
        Some(rest) => rest
            .find('/')
            .map(|i| rest[i..].to_string())
            .unwrap_or_else(|| "/".into()),
        None => target,
    };
    req.path = target.split(['?', '#']).next().unwrap_or("/").to_string();
    req.query = target
        .split('#')
        .next()
        .and_then(|t| t.split_once('?'))
        .map(|(_, q)| q.to_string())
        .unwrap_or_default();

    let conn_tokens: Vec<String> = req
        .header("connection")
        .map(|v| {
            v.split(',')
                .map(|t| t.trim().to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default();
    req.keep_alive = if version == "HTTP/1.0" {
        conn_tokens.iter().any(|t| t == "keep-alive")
    } else {
        !conn_tokens.iter().any(|t| t == "close")
    };

    let chunked = req
        .header("transfer-encoding")
        .map(|v| v.to_ascii_lowercase().contains("chunked"))
        .unwrap_or(false);
    let length = match req.header("content-length") {
        Some(v) if !chunked => Some(
            v.parse::<usize>()
                .map_err(|_| format!("bad Content-Length {v:?}"))?,
        ),
        _ => None,
    };
    let has_body = chunked || length.unwrap_or(0) > 0;
    if has_body
        && req
            .header("expect")
            .map(|v| v.eq_ignore_ascii_case("100-continue"))
            .unwrap_or(false)
    {
        writer
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
            .map_err(|e| format!("write: {e}"))?;
    }
    if chunked {
        req.body = read_chunked(reader, &mut budget)?;
    } else if let Some(n) = length {
        if n > MAX_BODY_BYTES {
            return Err("request body too large".into());
        }
        let mut body = vec![0u8; n];
        reader
            .read_exact(&mut body)
            .map_err(|e| format!("read body: {e}"))?;
        req.body = body;
    }
    Ok(Some(req))
}

fn read_chunked(reader: &mut BufReader<TcpStream>, budget: &mut usize) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let line = read_line(reader, budget)?.ok_or("connection closed in chunked body")?;
        let size_hex = line.split(';').next().unwrap_or("").trim();
        let size =
            usize::from_str_radix(size_hex, 16).map_err(|_| format!("bad chunk size {line:?}"))?;
        if size == 0 {
            break;
        }
        if body.len() + size > MAX_BODY_BYTES {
            return Err("request body too large".into());
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader
            .read_exact(&mut body[start..])
            .map_err(|e| format!("read chunk: {e}"))?;
        let mut crlf = [0u8; 2];
        reader
            .read_exact(&mut crlf)
            .map_err(|e| format!("read chunk: {e}"))?;
        if &crlf != b"\r\n" {
            return Err("chunk not followed by CRLF".into());
        }
    }
    // trailer section, up to the empty line
    loop {
        let l = read_line(reader, budget)?.ok_or("connection closed in chunked trailer")?;
        if l.is_empty() {
            return Ok(body);
        }
    }
}

fn reason_phrase(code: u16) -> &'static str {
    match code {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        422 => "Unprocessable Entity",
        _ => "Internal Server Error",
    }
}

pub(super) fn write_response(
    w: &mut TcpStream,
    resp: &Response,
    keep_alive: bool,
) -> std::io::Result<()> {
    let body = resp.body.to_string();
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n\
         Audit-Id: {}\r\n\
         Cache-Control: no-cache, private\r\n\
         Content-Type: application/json\r\n\
         Date: {}\r\n\
         Content-Length: {}\r\n",
        resp.code,
        reason_phrase(resp.code),
        uuid_v4(),
        http_date(now_secs()),
        body.len(),
    );
    if !keep_alive {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body.as_bytes());
    w.write_all(&out)?;
    w.flush()
}
