//! A real PostgreSQL server for integration tests (initdb into a temp dir,
//! password auth on 127.0.0.1 only), driven with the `psql` binary.
//!
//! Binaries come from `$PG_BIN_DIR` when set, else the newest
//! `/usr/lib/postgresql/*/bin` (Debian's `postgresql` package). PostgreSQL
//! refuses to run as root, so when the tests run as root everything that
//! touches the data dir runs as the OS user `postgres` via `runuser`.

use super::ports::free_port;
use super::{file_tail, file_text, random_hex, running_as_root};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const START_ATTEMPTS: u32 = 5;
const LOG_TAIL_LINES: usize = 30;
const OS_USER: &str = "postgres";

/// A running PostgreSQL server; stopped (immediate mode) and its directory
/// removed when dropped.
pub struct Postgres {
    pub port: u16,
    /// A superuser role (the bootstrap superuser) with password auth.
    pub superuser: String,
    pub password: String,
    /// A database created for the tests, owned by `superuser`.
    pub database: String,
    /// The temp dir (data dir, socket dir, log).
    pub dir: PathBuf,
    bin_dir: PathBuf,
    data_dir: PathBuf,
    log_path: PathBuf,
    running: bool,
    _tmp: tempfile::TempDir,
}

/// The directory holding initdb, pg_ctl and psql.
pub fn pg_bin_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("PG_BIN_DIR") {
        let dir = PathBuf::from(dir);
        if !dir.join("initdb").exists() {
            panic!("postgres: PG_BIN_DIR={} has no initdb", dir.display());
        }
        return dir;
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    match found.pop() {
        Some((_, bin)) => bin,
        None => panic!(
            "postgres: no /usr/lib/postgresql/*/bin/initdb found. Run scripts/test.sh or \
             `apt-get install postgresql`, or set PG_BIN_DIR."
        ),
    }
}

impl Postgres {
    /// initdb into a fresh dir under /tmp, then start the server on a free
    /// port (retrying on a new port when it cannot bind), listening on
    /// 127.0.0.1 only with scram-sha-256 password auth, fsync off. Creates
    /// the database `self.database`.
    pub fn start() -> Postgres {
        let bin_dir = pg_bin_dir();
        let tmp = tempfile::Builder::new()
            .prefix("pg-")
            .tempdir_in("/tmp")
            .unwrap_or_else(|e| panic!("postgres: cannot create temp dir in /tmp: {e}"));
        let dir = tmp.path().to_path_buf();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
            .unwrap_or_else(|e| panic!("postgres: chmod {}: {e}", dir.display()));
        let superuser = format!("su_{}", random_hex(4));
        let password = random_hex(16);
        let data_dir = dir.join("data");
        let sock_dir = dir.join("sock");
        std::fs::create_dir(&sock_dir).expect("postgres: create socket dir");
        let pwfile = dir.join("pwfile");
        std::fs::write(&pwfile, format!("{password}\n")).expect("postgres: write pwfile");
        if running_as_root() {
            let out = Command::new("chown")
                .arg("-R")
                .arg(format!("{OS_USER}:{OS_USER}"))
                .arg(&dir)
                .output()
                .unwrap_or_else(|e| panic!("postgres: cannot run chown: {e}"));
            if !out.status.success() {
                panic!(
                    "postgres: chown -R {OS_USER} {} failed (does the OS user `{OS_USER}` exist?): {}",
                    dir.display(),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }

        let mut pg = Postgres {
            port: 0,
            superuser,
            password,
            database: "app".to_string(),
            dir: dir.clone(),
            bin_dir,
            data_dir,
            log_path: dir.join("postgres.log"),
            running: false,
            _tmp: tmp,
        };

        let mut initdb = pg.as_os_user("initdb");
        let out = run_output(
            initdb
                .arg("-D")
                .arg(&pg.data_dir)
                .arg("-U")
                .arg(&pg.superuser)
                .arg(format!("--pwfile={}", pwfile.display()))
                .args([
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "--no-locale",
                    "--encoding=UTF8",
                    "--no-sync",
                    "--no-instructions",
                ]),
            "initdb",
        );
        let _ = std::fs::remove_file(&pwfile);
        if !out.status.success() {
            panic!(
                "postgres: initdb into {} failed ({}):\n{}\n{}",
                pg.data_dir.display(),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }

        append(
            &pg.data_dir.join("postgresql.conf"),
            &format!(
                "\n# vault-converge tests\n\
                 listen_addresses = '127.0.0.1'\n\
                 unix_socket_directories = '{}'\n\
                 password_encryption = 'scram-sha-256'\n\
                 fsync = off\n\
                 synchronous_commit = off\n\
                 full_page_writes = off\n\
                 shared_buffers = '32MB'\n\
                 max_connections = 50\n",
                sock_dir.display()
            ),
        );
        // Exactly what we want, whatever initdb's defaults are.
        std::fs::write(
            pg.data_dir.join("pg_hba.conf"),
            "local all all trust\n\
             host  all all 127.0.0.1/32 scram-sha-256\n",
        )
        .expect("postgres: write pg_hba.conf");

        pg.launch();
        if let Err(err) = pg.psql_as(
            &pg.superuser,
            &pg.password,
            "postgres",
            &format!("CREATE DATABASE {}", pg.database),
        ) {
            panic!(
                "postgres on port {}: CREATE DATABASE {} as {} over TCP failed: {err}\nserver log tail:\n{}",
                pg.port,
                pg.database,
                pg.superuser,
                pg.log_tail()
            );
        }
        pg
    }

    /// `program` from the PostgreSQL bin dir, run as the `postgres` OS user
    /// when we are root.
    fn as_os_user(&self, program: &str) -> Command {
        let bin = self.bin_dir.join(program);
        let mut cmd = if running_as_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", OS_USER, "--"]).arg(bin);
            c
        } else {
            Command::new(bin)
        };
        clean_pg_env(&mut cmd);
        cmd.current_dir(&self.dir).stdin(Stdio::null());
        cmd
    }

    fn launch(&mut self) {
        let mut failures = Vec::new();
        for attempt in 1..=START_ATTEMPTS {
            let port = free_port();
            self.log_path = self.dir.join(format!("postgres-{attempt}.log"));
            let out = run_output(
                self.as_os_user("pg_ctl")
                    .arg("-D")
                    .arg(&self.data_dir)
                    .arg("-l")
                    .arg(&self.log_path)
                    .args(["-w", "-t", "60", "-o"])
                    .arg(format!("-p {port}"))
                    .arg("start"),
                "pg_ctl start",
            );
            if out.status.success() {
                self.port = port;
                self.running = true;
                return;
            }
            let log = file_tail(&self.log_path, LOG_TAIL_LINES);
            let report = format!(
                "--- port {port}: pg_ctl start failed ({}):\n{}{}\nserver log tail:\n{log}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            // Make sure nothing half-started is left behind.
            self.port = port;
            self.running = true;
            self.stop();
            if !(log.contains("could not bind") || log.contains("already in use")) {
                panic!("postgres: server did not start:\n{report}");
            }
            failures.push(report);
        }
        panic!(
            "postgres: could not bind a free port, {START_ATTEMPTS} times:\n{}",
            failures.join("\n")
        );
    }

    /// Stops the server (`pg_ctl stop -m immediate`), falling back to
    /// SIGKILL of the postmaster.
    pub fn stop(&mut self) {
        if !self.running {
            return;
        }
        self.running = false;
        let stopped = self
            .as_os_user("pg_ctl")
            .arg("-D")
            .arg(&self.data_dir)
            .args(["-m", "immediate", "-w", "-t", "20", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !stopped {
            if let Ok(pidfile) = std::fs::read_to_string(self.data_dir.join("postmaster.pid")) {
                if let Some(pid) = pidfile.lines().next().map(str::trim) {
                    let _ = Command::new("kill").args(["-KILL", pid]).status();
                }
            }
        }
    }

    fn psql_command(&self, user: &str, password: &str, database: &str) -> Command {
        let mut cmd = Command::new(self.bin_dir.join("psql"));
        clean_pg_env(&mut cmd);
        cmd.args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
        ])
        .arg("-p")
        .arg(self.port.to_string())
        .arg("-U")
        .arg(user)
        .arg("-d")
        .arg(database)
        .env("PGPASSWORD", password)
        .env("PGCONNECT_TIMEOUT", "10")
        .env("PGSSLMODE", "disable")
        .env("PGPASSFILE", "/dev/null")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        cmd
    }

    /// Runs `sql` (one or more statements, each run on its own, so
    /// `CREATE DATABASE` works) as `user`/`password` on `database` over TCP.
    /// Returns psql's unaligned, tuples-only output (trailing newline
    /// trimmed) or its error output.
    pub fn psql_as(
        &self,
        user: &str,
        password: &str,
        database: &str,
        sql: &str,
    ) -> Result<String, String> {
        use std::io::Write;
        let mut child = self
            .psql_command(user, password, database)
            .args(["-f", "-"])
            .spawn()
            .unwrap_or_else(|e| panic!("postgres on port {}: cannot run psql: {e}", self.port));
        {
            let mut stdin = child.stdin.take().expect("psql stdin");
            stdin
                .write_all(sql.as_bytes())
                .unwrap_or_else(|e| panic!("postgres on port {}: write to psql: {e}", self.port));
        }
        let out = child.wait_with_output().expect("wait for psql");
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout)
                .trim_end_matches('\n')
                .to_string())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// Runs `sql` as the superuser on `self.database`; panics with psql's
    /// error and the server log tail on failure.
    pub fn psql(&self, sql: &str) -> String {
        let db = self.database.as_str();
        self.psql_as(&self.superuser, &self.password, db, sql)
            .unwrap_or_else(|err| {
                panic!(
                    "postgres on port {}: psql as {} on {db} failed:\nSQL: {sql}\nerror: {err}\nserver log tail:\n{}",
                    self.port,
                    self.superuser,
                    self.log_tail()
                )
            })
    }

    /// True when `user`/`password` can log in over TCP (to the `postgres`
    /// database) and run `select 1`.
    pub fn can_login(&self, user: &str, password: &str) -> bool {
        self.can_login_db(user, password, "postgres")
    }

    /// Like [`Postgres::can_login`] for a given database.
    pub fn can_login_db(&self, user: &str, password: &str, database: &str) -> bool {
        matches!(self.psql_as(user, password, database, "select 1"), Ok(s) if s.trim() == "1")
    }

    /// A libpq URL for the superuser: `postgresql://USER:PASS@127.0.0.1:PORT/DB`.
    pub fn url(&self) -> String {
        format!(
            "postgresql://{}:{}@127.0.0.1:{}/{}",
            self.superuser, self.password, self.port, self.database
        )
    }

    /// The server log (current run).
    pub fn log(&self) -> String {
        file_text(&self.log_path)
    }

    fn log_tail(&self) -> String {
        file_tail(&self.log_path, LOG_TAIL_LINES)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}

fn clean_pg_env(cmd: &mut Command) {
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if k.starts_with("PG") {
            cmd.env_remove(&*k);
        }
    }
}

fn run_output(cmd: &mut Command, what: &str) -> Output {
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap_or_else(|e| panic!("postgres: cannot run {what} ({cmd:?}): {e}"))
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .unwrap_or_else(|e| panic!("postgres: append to {}: {e}", path.display()));
}
