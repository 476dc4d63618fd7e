//! Running the `vault-converge` binary under test with a clean environment.

use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The binary built by cargo for this test run.
pub const BIN: &str = env!("CARGO_BIN_EXE_vault-converge");

/// How long one CLI run may take before it is killed and the test fails.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(180);

/// What one run of the binary did.
#[derive(Debug, Clone)]
pub struct CliOutput {
    /// The exit code; `128 + signal` when killed by a signal.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl CliOutput {
    /// Panics (showing both streams) unless the exit code is `code`.
    pub fn assert_code(&self, code: i32) -> &Self {
        if self.code != code {
            panic!(
                "expected exit code {code}, got {}\n{}",
                self.code,
                self.describe()
            );
        }
        self
    }

    /// Panics (showing both streams) unless the run exited 0.
    pub fn assert_success(&self) -> &Self {
        self.assert_code(0)
    }

    /// Both streams, labelled, for assertion messages.
    pub fn describe(&self) -> String {
        format!(
            "--- exit code: {}\n--- stdout:\n{}\n--- stderr:\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs the binary with `args` and an environment holding only PATH, HOME
/// and `env` (so the developer's VAULT_* variables never leak in), no
/// stdin, in the current directory, with [`DEFAULT_TIMEOUT`].
pub fn run(args: &[&str], env: &[(&str, &str)]) -> CliOutput {
    run_full(args, env, None, None, DEFAULT_TIMEOUT)
}

/// Like [`run`] in the working directory `cwd`.
pub fn run_in(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> CliOutput {
    run_full(args, env, Some(cwd), None, DEFAULT_TIMEOUT)
}

/// Like [`run`] with `stdin` fed to the process.
pub fn run_with_stdin(args: &[&str], env: &[(&str, &str)], stdin: &str) -> CliOutput {
    run_full(args, env, None, Some(stdin), DEFAULT_TIMEOUT)
}

/// The general form: optional working directory, optional stdin, timeout.
pub fn run_full(
    args: &[&str],
    env: &[(&str, &str)],
    cwd: Option<&Path>,
    stdin: Option<&str>,
    timeout: Duration,
) -> CliOutput {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env_clear();
    for key in ["PATH", "HOME"] {
        if let Some(v) = std::env::var_os(key) {
            cmd.env(key, v);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {BIN} {args:?}: {e}"));

    let feeder = stdin.map(|input| {
        let mut pipe = child.stdin.take().expect("child stdin");
        let input = input.to_owned();
        std::thread::spawn(move || {
            // The binary may exit without reading everything; that's fine.
            let _ = pipe.write_all(input.as_bytes());
        })
    });
    let mut out_pipe = child.stdout.take().expect("child stdout");
    let mut err_pipe = child.stderr.take().expect("child stderr");
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out_pipe.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err_pipe.read_to_end(&mut buf);
        buf
    });

    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                let stdout =
                    String::from_utf8_lossy(&out_reader.join().unwrap_or_default()).into_owned();
                let stderr =
                    String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
                panic!(
                    "{BIN} {args:?} did not finish within {timeout:?}; killed.\n--- stdout:\n{}\n--- stderr:\n{}",
                    super::tail(&stdout, 40),
                    super::tail(&stderr, 40)
                );
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => panic!("waiting for {BIN} {args:?}: {e}"),
        }
    };
    if let Some(f) = feeder {
        let _ = f.join();
    }
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    CliOutput {
        code: status
            .code()
            .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// Panics when any of `secrets` appears in the run's stdout or stderr. The
/// message says which secret (by index and length), which stream, and where
/// (line and byte offset), and shows the output with every secret redacted;
/// it never prints a secret. Empty secrets are ignored.
pub fn assert_no_secrets(out: &CliOutput, secrets: &[&str]) {
    let mut found = Vec::new();
    for (i, secret) in secrets.iter().enumerate() {
        if secret.is_empty() {
            continue;
        }
        for (stream, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            let hits: Vec<usize> = text.match_indices(secret).map(|(pos, _)| pos).collect();
            if let Some(&first) = hits.first() {
                let line = text[..first].matches('\n').count() + 1;
                found.push(format!(
                    "secret #{i} (length {}) appears {} time(s) in {stream}, first at line {line} (byte {first})",
                    secret.len(),
                    hits.len()
                ));
            }
        }
    }
    if !found.is_empty() {
        panic!(
            "secret leaked in CLI output:\n  {}\n(exit code {})\n--- stdout (redacted):\n{}\n--- stderr (redacted):\n{}",
            found.join("\n  "),
            out.code,
            redact(&out.stdout, secrets),
            redact(&out.stderr, secrets)
        );
    }
}

/// `text` with every non-empty secret replaced by `<secret #i>` (longest
/// secrets first, so one that contains another is fully hidden).
pub fn redact(text: &str, secrets: &[&str]) -> String {
    let mut order: Vec<(usize, &str)> = secrets
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, s)| !s.is_empty())
        .collect();
    order.sort_by_key(|(_, s)| std::cmp::Reverse(s.len()));
    let mut text = text.to_string();
    for (i, s) in order {
        text = text.replace(s, &format!("<secret #{i}>"));
    }
    text
}

/// Writes `yaml` to `dir/name` (creating parent directories) and returns
/// the path.
pub fn write_plan(dir: &Path, name: &str, yaml: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .unwrap_or_else(|e| panic!("write_plan: create {}: {e}", parent.display()));
    }
    std::fs::write(&path, yaml)
        .unwrap_or_else(|e| panic!("write_plan: write {}: {e}", path.display()));
    path
}
