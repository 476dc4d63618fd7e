//! A real redis-server for integration tests, with a raw RESP client.

use super::ports::free_port;
use super::{file_tail, file_text, wait_for};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const START_ATTEMPTS: u32 = 5;
const READY_TIMEOUT: Duration = Duration::from_secs(10);
const LOG_TAIL_LINES: usize = 30;

/// A running redis-server on 127.0.0.1 whose `default` user needs a
/// password; killed when dropped.
pub struct Redis {
    pub port: u16,
    /// The current password of the `default` user.
    pub password: String,
    /// The temp dir (working dir and logs).
    pub dir: PathBuf,
    child: Option<Child>,
    log_path: PathBuf,
    starts: u32,
    _tmp: tempfile::TempDir,
}

impl Redis {
    /// Starts `redis-server` on a free port with `password` for the
    /// `default` user (`--requirepass`), no persistence, and waits until it
    /// answers PING after AUTH. Retries on a new port when it exits early.
    pub fn start(password: &str) -> Redis {
        let tmp = tempfile::Builder::new()
            .prefix("redis-")
            .tempdir()
            .unwrap_or_else(|e| panic!("redis: cannot create temp dir: {e}"));
        let mut redis = Redis {
            port: 0,
            password: password.to_string(),
            dir: tmp.path().to_path_buf(),
            child: None,
            log_path: tmp.path().join("redis.log"),
            starts: 0,
            _tmp: tmp,
        };
        redis.launch(None);
        redis
    }

    /// Stops the server and starts it again on the SAME port with `new` as
    /// the `default` user's password.
    pub fn restart_with_password(&mut self, new: &str) {
        self.stop();
        self.password = new.to_string();
        let port = self.port;
        self.launch(Some(port));
    }

    /// Kills the server process (if running) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn launch(&mut self, fixed_port: Option<u16>) {
        let mut failures = Vec::new();
        for _ in 0..START_ATTEMPTS {
            self.starts += 1;
            let port = fixed_port.unwrap_or_else(free_port);
            self.port = port;
            self.log_path = self.dir.join(format!("redis-{}.log", self.starts));
            let log = File::create(&self.log_path)
                .unwrap_or_else(|e| panic!("redis: create {}: {e}", self.log_path.display()));
            let log2 = log.try_clone().expect("redis: clone log handle");
            let mut cmd = Command::new("redis-server");
            cmd.arg("--port")
                .arg(port.to_string())
                .args(["--bind", "127.0.0.1"])
                .args(["--save", ""])
                .args(["--appendonly", "no"])
                .args(["--daemonize", "no"])
                .args(["--logfile", ""])
                .arg("--dir")
                .arg(&self.dir)
                .arg("--requirepass")
                .arg(&self.password)
                .current_dir(&self.dir)
                .stdin(Stdio::null())
                .stdout(Stdio::from(log))
                .stderr(Stdio::from(log2));
            let mut child = cmd.spawn().unwrap_or_else(|e| {
                panic!(
                    "redis on port {port}: cannot run redis-server: {e}. Is it installed? \
                     Run scripts/test.sh or `apt-get install redis-server`."
                )
            });
            let password = self.password.clone();
            let ready = wait_for(READY_TIMEOUT, Duration::from_millis(25), || {
                if let Ok(Some(status)) = child.try_wait() {
                    return Some(Err(status));
                }
                ping_port_timeout(port, None, &password, Duration::from_secs(1)).then_some(Ok(()))
            });
            // It may have died while a probe was waiting on someone else's socket.
            let ready = match (ready, child.try_wait()) {
                (None, Ok(Some(status))) => Some(Err(status)),
                (ready, _) => ready,
            };
            match ready {
                Some(Ok(())) => {
                    self.child = Some(child);
                    return;
                }
                Some(Err(status)) => {
                    failures.push(format!(
                        "--- port {port}: exited with {status}; log tail:\n{}",
                        file_tail(&self.log_path, LOG_TAIL_LINES)
                    ));
                    if fixed_port.is_some() {
                        std::thread::sleep(Duration::from_millis(300));
                    }
                }
                None => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "redis on port {port} did not answer PING (after AUTH with the \
                         configured password) within {READY_TIMEOUT:?}; log tail:\n{}",
                        file_tail(&self.log_path, LOG_TAIL_LINES)
                    );
                }
            }
        }
        panic!(
            "redis: server exited before becoming ready, {START_ATTEMPTS} times:\n{}",
            failures.join("\n")
        );
    }

    /// True when `AUTH <password>` (the `default` user) then `PING` succeed.
    pub fn ping(&self, password: &str) -> bool {
        ping_port(self.port, None, password)
    }

    /// True when `AUTH <user> <password>` then `PING` succeed.
    pub fn ping_as(&self, user: &str, password: &str) -> bool {
        ping_port(self.port, Some(user), password)
    }

    /// Authenticates as the `default` user with the current password, runs
    /// one command and returns its reply rendered as text (arrays one
    /// element per line, nil as `(nil)`); `Err` with the error reply.
    /// Panics when the server cannot be reached or AUTH fails.
    pub fn command(&self, args: &[&str]) -> Result<String, String> {
        self.command_as(None, &self.password, args)
    }

    /// Like [`Redis::command`] authenticating as `user` (or `default` when
    /// `None`) with `password`.
    pub fn command_as(
        &self,
        user: Option<&str>,
        password: &str,
        args: &[&str],
    ) -> Result<String, String> {
        let result = (|| -> io::Result<Result<String, String>> {
            let mut conn = Conn::open(self.port, Duration::from_secs(30))?;
            if let Err(e) = conn.auth(user, password)? {
                return Ok(Err(format!("AUTH failed: {e}")));
            }
            conn.call(args)
        })();
        match result {
            Ok(Ok(s)) => Ok(s),
            Ok(Err(e)) if e.starts_with("AUTH failed") => panic!(
                "redis on port {}: {e} (user {:?})\nlog tail:\n{}",
                self.port,
                user.unwrap_or("default"),
                self.log_tail()
            ),
            Ok(Err(e)) => Err(e),
            Err(e) => panic!(
                "redis on port {}: {:?} failed: {e}\nlog tail:\n{}",
                self.port,
                args.first(),
                self.log_tail()
            ),
        }
    }

    /// The server's captured output (current run).
    pub fn log(&self) -> String {
        file_text(&self.log_path)
    }

    fn log_tail(&self) -> String {
        file_tail(&self.log_path, LOG_TAIL_LINES)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

fn ping_port(port: u16, user: Option<&str>, password: &str) -> bool {
    ping_port_timeout(port, user, password, Duration::from_secs(10))
}

fn ping_port_timeout(port: u16, user: Option<&str>, password: &str, timeout: Duration) -> bool {
    let attempt = || -> io::Result<bool> {
        let mut conn = Conn::open(port, timeout)?;
        if conn.auth(user, password)?.is_err() {
            return Ok(false);
        }
        Ok(conn.call(&["PING"])? == Ok("PONG".to_string()))
    };
    attempt().unwrap_or(false)
}

struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Conn {
    fn open(port: u16, timeout: Duration) -> io::Result<Conn> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let stream = TcpStream::connect_timeout(&addr, timeout.min(Duration::from_secs(2)))?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        Ok(Conn {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

    fn auth(&mut self, user: Option<&str>, password: &str) -> io::Result<Result<String, String>> {
        match user {
            Some(u) => self.call(&["AUTH", u, password]),
            None => self.call(&["AUTH", password]),
        }
    }

    /// Sends one command as a RESP array of bulk strings and reads the reply.
    fn call(&mut self, args: &[&str]) -> io::Result<Result<String, String>> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        self.writer.write_all(&out)?;
        self.read_reply()
    }

    fn read_line(&mut self) -> io::Result<String> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }

    fn read_reply(&mut self) -> io::Result<Result<String, String>> {
        let line = self.read_line()?;
        let (kind, rest) = line.split_at(line.len().min(1));
        let bad = || {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad RESP line {line:?}"),
            )
        };
        Ok(match kind {
            "+" | ":" => Ok(rest.to_string()),
            "-" => Err(rest.to_string()),
            "$" => {
                let n: i64 = rest.parse().map_err(|_| bad())?;
                if n < 0 {
                    Ok("(nil)".to_string())
                } else {
                    let mut buf = vec![0u8; n as usize + 2];
                    self.reader.read_exact(&mut buf)?;
                    buf.truncate(n as usize);
                    Ok(String::from_utf8_lossy(&buf).into_owned())
                }
            }
            "*" => {
                let n: i64 = rest.parse().map_err(|_| bad())?;
                if n < 0 {
                    Ok("(nil)".to_string())
                } else {
                    let mut items = Vec::new();
                    for _ in 0..n {
                        match self.read_reply()? {
                            Ok(s) => items.push(s),
                            Err(e) => items.push(format!("(error) {e}")),
                        }
                    }
                    Ok(items.join("\n"))
                }
            }
            _ => return Err(bad()),
        })
    }
}
