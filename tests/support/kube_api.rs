//! A stand-in Kubernetes API server for the integration tests.
//!
//! No real Kubernetes API server can run here, so this module serves the small
//! part of the API that `vault-converge` and OpenBao's kubernetes auth method
//! touch, over plain HTTP/1.1 on `127.0.0.1:<ephemeral port>`, from a
//! background thread inside the test process. It mimics the REAL request and
//! response shapes, so the real clients (kube-rs/hyper in `vault-converge`, Go's
//! net/http in OpenBao, curl) talk to it exactly as they would to a cluster:
//!
//! * `GET /api/v1/namespaces/{ns}/secrets/{name}`: a full `v1` `Secret`
//!   (values base64 in `data`), or a `v1` `Status` with reason `NotFound`
//!   (404), `Forbidden` (403, see [`KubeApi::forbid`]) or `Unauthorized` (401,
//!   no or unknown bearer token). Only [`KubeApi::reader_token`] may read
//!   secrets; other known identities get 403 like RBAC would answer.
//! * `GET /api/v1/namespaces/{ns}/secrets`: a `SecretList`.
//! * `POST /apis/authentication.k8s.io/v1/tokenreviews`: a `TokenReview`
//!   answered 201 with `status.authenticated` true for JWTs handed out by
//!   [`KubeApi::issue_service_account_jwt`] and not revoked since. The bearer
//!   must be [`KubeApi::reviewer_token`] (OpenBao's `token_reviewer_jwt`) or the
//!   reviewed JWT itself (what OpenBao sends when no reviewer JWT is set).
//! * `GET /version`: version info (no authentication, like the real one).
//! * anything else: a 404 `Status`.
//!
//! The issued JWTs are syntactically valid JWS (`RS256`, random 256-byte
//! signature) carrying both the legacy (`kubernetes.io/serviceaccount/...`)
//! and the projected (`kubernetes.io: {namespace, serviceaccount}`) service
//! account claims, which is what OpenBao's kubernetes auth plugin parses
//! (without verifying the signature when no `pem_keys` are configured) before
//! it asks the tokenreviews endpoint. OpenBao is configured with
//! `kubernetes_host=<url>`, `token_reviewer_jwt=<reviewer_token>`,
//! `disable_local_ca_jwt=true` and `kubernetes_ca_cert=<CA_CERT_PEM>` (OpenBao
//! insists on a CA certificate even for an `http://` host); see
//! [`KubeApi::openbao_auth_config`].
//!
//! HTTP: a thread per connection, keep-alive (hyper pools connections),
//! `Content-Length` and `Transfer-Encoding: chunked` request bodies,
//! `Expect: 100-continue`, `Connection: close`. Dropping the [`KubeApi`]
//! stops the accept loop and closes every open connection.
//!
//! std plus `serde_json` only.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

/// Namespace of the kubeconfig context and of the reader's service account.
pub const KUBECONFIG_NAMESPACE: &str = "default";
/// Service account behind [`KubeApi::reader_token`].
pub const READER_SERVICE_ACCOUNT: &str = "vault-converge";
/// Namespace and service account behind [`KubeApi::reviewer_token`].
pub const REVIEWER_NAMESPACE: &str = "kube-system";
pub const REVIEWER_SERVICE_ACCOUNT: &str = "vault-token-reviewer";
/// Audience of issued JWTs when none is asked for, and what a TokenReview
/// without `spec.audiences` reports (the API server's default audience).
pub const DEFAULT_AUDIENCE: &str = "https://kubernetes.default.svc";
/// `iss` of issued JWTs: the legacy service account issuer, which is also
/// what OpenBao's kubernetes auth assumes when no `issuer` is configured.
pub const ISSUER: &str = "kubernetes/serviceaccount";
/// Lifetime of issued JWTs.
pub const JWT_LIFETIME_SECS: u64 = 3600;

/// A real self-signed CA certificate (CN=kubernetes; its key was thrown away)
/// to pass as OpenBao's `kubernetes_ca_cert`. The stand-in speaks plain HTTP,
/// so it is never used to verify anything, but OpenBao 2.x refuses
/// `disable_local_ca_jwt=true` without a `kubernetes_ca_cert`, and without
/// `disable_local_ca_jwt` it reads the in-pod CA file, which does not exist
/// here. OpenBao only feeds it to `x509.CertPool.AppendCertsFromPEM`.
pub const CA_CERT_PEM: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBkDCCATegAwIBAgIUSM456e2CLcZS6r7QC89sqPnYbc8wCgYIKoZIzj0EAwIw\n\
FTETMBEGA1UEAwwKa3ViZXJuZXRlczAgFw0yNjExMjMxNTQxMDFaGA8yMTI2MTAz\n\
MDE1NDEwMVowFTETMBEGA1UEAwwKa3ViZXJuZXRlczBZMBMGByqGSM49AgEGCCqG\n\
SM49AwEHA0IABHVRltSnfG/yEWd1F9b/MxjfWy0gXaDMHFDqxFpZnkUWx6kcFqgY\n\
FhU2lW/WLh0Zxf4xgfvqhbl/2xl6WCWOpVCjYzBhMB0GA1UdDgQWBBQINFaCYDyS\n\
8MDbLx1RSZMdx1nFeTAfBgNVHSMEGDAWgBQINFaCYDyS8MDbLx1RSZMdx1nFeTAP\n\
BgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwICpDAKBggqhkjOPQQDAgNHADBE\n\
AiAUluJa3kNiZqsY/DgIyzVk+F4Ci3Q+cBosy1GIAXCUZwIgf3C2THGKhclZo7+S\n\
ZQAwwbAxE+sZteSVNylIVw6TsyU=\n\
-----END CERTIFICATE-----\n\
";

const MAX_HEADER_BYTES: usize = 64 * 1024;
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// An idle keep-alive connection is closed after this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// The running stand-in server. See the module documentation.
pub struct KubeApi {
    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub url: String,
    /// Bearer token that may read secrets (the kubeconfig's user token); a
    /// service account JWT for `default/vault-converge`.
    pub reader_token: String,
    /// Bearer token that may create tokenreviews (OpenBao's
    /// `token_reviewer_jwt`); a service account JWT for
    /// `kube-system/vault-token-reviewer`.
    pub reviewer_token: String,
    shared: Arc<Shared>,
    addr: SocketAddr,
    acceptor: Option<JoinHandle<()>>,
}

struct Shared {
    state: Mutex<State>,
    stop: AtomicBool,
    next_conn: AtomicU64,
    /// Open connections (a clone of each stream, to shut them down on Drop).
    conns: Mutex<HashMap<u64, TcpStream>>,
    handles: Mutex<Vec<JoinHandle<()>>>,
}

#[derive(Default)]
struct State {
    reader_token: String,
    reviewer_token: String,
    /// (namespace, name) -> secret
    secrets: BTreeMap<(String, String), StoredSecret>,
    /// (namespace, name) forbidden to the reader
    forbidden: HashSet<(String, String)>,
    /// (namespace, service account) -> uid, stable per service account
    sa_uids: HashMap<(String, String), String>,
    /// issued JWT -> what it authenticates as
    jwts: HashMap<String, IssuedJwt>,
    revoked: HashSet<String>,
    resource_version: u64,
    requests: Vec<String>,
}

struct StoredSecret {
    uid: String,
    resource_version: u64,
    creation_timestamp: String,
    data: BTreeMap<String, String>,
}

#[derive(Clone)]
struct IssuedJwt {
    namespace: String,
    service_account: String,
    uid: String,
    jti: String,
    audiences: Vec<String>,
    exp: u64,
}

impl IssuedJwt {
    fn username(&self) -> String {
        format!(
            "system:serviceaccount:{}:{}",
            self.namespace, self.service_account
        )
    }
}

impl KubeApi {
    /// Bind 127.0.0.1:0 and start serving in the background.
    pub fn start() -> KubeApi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("kube_api: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("kube_api: local_addr");
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            stop: AtomicBool::new(false),
            next_conn: AtomicU64::new(0),
            conns: Mutex::new(HashMap::new()),
            handles: Mutex::new(Vec::new()),
        });
        let (reader_token, reviewer_token) = {
            let mut st = lock(&shared.state);
            let reader = issue_jwt(
                &mut st,
                KUBECONFIG_NAMESPACE,
                READER_SERVICE_ACCOUNT,
                &[DEFAULT_AUDIENCE],
            );
            let reviewer = issue_jwt(
                &mut st,
                REVIEWER_NAMESPACE,
                REVIEWER_SERVICE_ACCOUNT,
                &[DEFAULT_AUDIENCE],
            );
            st.reader_token = reader.clone();
            st.reviewer_token = reviewer.clone();
            (reader, reviewer)
        };
        let acceptor = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(format!("kube-api-accept-{}", addr.port()))
                .spawn(move || accept_loop(listener, shared))
                .expect("kube_api: spawn accept thread")
        };
        KubeApi {
            url: format!("http://{addr}"),
            reader_token,
            reviewer_token,
            shared,
            addr,
            acceptor: Some(acceptor),
        }
    }

    /// Create or replace `namespace/name` (type `Opaque`) with these
    /// key/value pairs; values are stored base64-encoded in `data`, as the
    /// API server does. Replacing keeps `uid` and bumps `resourceVersion`.
    pub fn set_secret(&self, namespace: &str, name: &str, data: &[(&str, &str)]) {
        let mut st = self.state();
        st.resource_version += 1;
        let rv = st.resource_version;
        let data: BTreeMap<String, String> = data
            .iter()
            .map(|(k, v)| (k.to_string(), base64_encode(v.as_bytes())))
            .collect();
        let key = (namespace.to_string(), name.to_string());
        match st.secrets.get_mut(&key) {
            Some(s) => {
                s.resource_version = rv;
                s.data = data;
            }
            None => {
                let secret = StoredSecret {
                    uid: uuid_v4(),
                    resource_version: rv,
                    creation_timestamp: rfc3339(now_secs()),
                    data,
                };
                st.secrets.insert(key, secret);
            }
        }
    }

    /// The decoded data of `namespace/name`, if it exists.
    pub fn secret_data(&self, namespace: &str, name: &str) -> Option<BTreeMap<String, String>> {
        let st = self.state();
        st.secrets
            .get(&(namespace.to_string(), name.to_string()))
            .map(|s| {
                s.data
                    .iter()
                    .map(|(k, v)| {
                        let bytes = base64_decode(v).expect("stored base64");
                        (k.clone(), String::from_utf8(bytes).expect("utf-8 secret"))
                    })
                    .collect()
            })
    }

    /// Delete `namespace/name`; GETs answer 404 afterwards.
    pub fn remove_secret(&self, namespace: &str, name: &str) {
        self.state()
            .secrets
            .remove(&(namespace.to_string(), name.to_string()));
    }

    /// GET of `namespace/name` answers 403 Forbidden for the reader token
    /// (whether or not the secret exists), like a missing RBAC grant.
    pub fn forbid(&self, namespace: &str, name: &str) {
        self.state()
            .forbidden
            .insert((namespace.to_string(), name.to_string()));
    }

    /// A service account JWT (audience `https://kubernetes.default.svc`)
    /// that the tokenreviews endpoint authenticates as
    /// `system:serviceaccount:NAMESPACE:SERVICE_ACCOUNT` until revoked.
    pub fn issue_service_account_jwt(&self, namespace: &str, service_account: &str) -> String {
        self.issue_service_account_jwt_with_audiences(
            namespace,
            service_account,
            &[DEFAULT_AUDIENCE],
        )
    }

    /// Like [`issue_service_account_jwt`](Self::issue_service_account_jwt)
    /// with these `aud` values (for roles that set `audience`).
    pub fn issue_service_account_jwt_with_audiences(
        &self,
        namespace: &str,
        service_account: &str,
        audiences: &[&str],
    ) -> String {
        issue_jwt(&mut self.state(), namespace, service_account, audiences)
    }

    /// The tokenreviews endpoint answers `authenticated: false` for `jwt`
    /// from now on (and `jwt` no longer works as a bearer token).
    pub fn revoke_jwt(&self, jwt: &str) {
        self.state().revoked.insert(jwt.to_string());
    }

    /// Write `DIR/kubeconfig`: one cluster (`server: <url>`), one user
    /// (`token: <reader_token>`), one context (namespace `default`) that is
    /// the `current-context`. Usable via `KUBECONFIG=<path>`.
    pub fn write_kubeconfig(&self, dir: &Path) -> PathBuf {
        let path = dir.join("kubeconfig");
        let text = format!(
            "apiVersion: v1\n\
             kind: Config\n\
             preferences: {{}}\n\
             clusters:\n\
             - name: stand-in\n\
             \x20 cluster:\n\
             \x20   server: {url}\n\
             users:\n\
             - name: {user}\n\
             \x20 user:\n\
             \x20   token: {token}\n\
             contexts:\n\
             - name: stand-in\n\
             \x20 context:\n\
             \x20   cluster: stand-in\n\
             \x20   user: {user}\n\
             \x20   namespace: {ns}\n\
             current-context: stand-in\n",
            url = self.url,
            user = READER_SERVICE_ACCOUNT,
            token = self.reader_token,
            ns = KUBECONFIG_NAMESPACE,
        );
        std::fs::write(&path, text)
            .unwrap_or_else(|e| panic!("kube_api: write {}: {e}", path.display()));
        path
    }

    /// The body to write to OpenBao's `auth/<mount>/config` so that its
    /// kubernetes auth method reviews tokens here:
    /// `{"kubernetes_host": url, "kubernetes_ca_cert": CA_CERT_PEM,
    /// "token_reviewer_jwt": reviewer_token, "disable_local_ca_jwt": true}`.
    pub fn openbao_auth_config(&self) -> Value {
        json!({
            "kubernetes_host": self.url,
            "kubernetes_ca_cert": CA_CERT_PEM,
            "token_reviewer_jwt": self.reviewer_token,
            "disable_local_ca_jwt": true,
        })
    }

    /// Every request served so far, in order, as `"METHOD /path"` (query
    /// string left off), e.g. `"GET /api/v1/namespaces/prod/secrets/db"`.
    pub fn requests(&self) -> Vec<String> {
        self.state().requests.clone()
    }

    /// How many times `GET /api/v1/namespaces/NS/secrets/NAME` was served.
    pub fn secret_gets(&self, namespace: &str, name: &str) -> usize {
        let want = format!("GET /api/v1/namespaces/{namespace}/secrets/{name}");
        self.state().requests.iter().filter(|r| **r == want).count()
    }

    /// `127.0.0.1:<port>`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.shared.state)
    }
}

impl Drop for KubeApi {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept() so it sees the stop flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(h) = self.acceptor.take() {
            let _ = h.join();
        }
        for (_, s) in lock(&self.shared.conns).drain() {
            let _ = s.shutdown(Shutdown::Both);
        }
        let handles: Vec<_> = lock(&self.shared.handles).drain(..).collect();
        for h in handles {
            let _ = h.join();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking test thread must not take the server down with it.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

// ---------------------------------------------------------------- JWTs

fn issue_jwt(st: &mut State, namespace: &str, service_account: &str, audiences: &[&str]) -> String {
    let uid = st
        .sa_uids
        .entry((namespace.to_string(), service_account.to_string()))
        .or_insert_with(uuid_v4)
        .clone();
    let now = now_secs();
    let jti = uuid_v4();
    let aud: Vec<String> = audiences.iter().map(|a| a.to_string()).collect();
    let header = json!({
        "alg": "RS256",
        "kid": base64url_encode(&random_bytes(32)),
        "typ": "JWT",
    });
    let claims = json!({
        "iss": ISSUER,
        "sub": format!("system:serviceaccount:{namespace}:{service_account}"),
        "aud": aud,
        "iat": now,
        "nbf": now,
        "exp": now + JWT_LIFETIME_SECS,
        "jti": jti,
        // legacy (secret-based) service account token claims
        "kubernetes.io/serviceaccount/namespace": namespace,
        "kubernetes.io/serviceaccount/service-account.name": service_account,
        "kubernetes.io/serviceaccount/service-account.uid": uid,
        // projected (bound) service account token claims
        "kubernetes.io": {
            "namespace": namespace,
            "serviceaccount": { "name": service_account, "uid": uid },
        },
    });
    let jwt = format!(
        "{}.{}.{}",
        base64url_encode(header.to_string().as_bytes()),
        base64url_encode(claims.to_string().as_bytes()),
        base64url_encode(&random_bytes(256)),
    );
    st.jwts.insert(
        jwt.clone(),
        IssuedJwt {
            namespace: namespace.to_string(),
            service_account: service_account.to_string(),
            uid,
            jti,
            audiences: aud,
            exp: now + JWT_LIFETIME_SECS,
        },
    );
    jwt
}

/// The claims of a JWT (its middle segment, base64url JSON), unverified.
pub fn decode_jwt_claims(jwt: &str) -> Option<Value> {
    let payload = jwt.split('.').nth(1)?;
    serde_json::from_slice(&base64_decode(payload)?).ok()
}

/// An issued, unrevoked, unexpired JWT.
fn valid_jwt<'a>(st: &'a State, token: &str) -> Result<&'a IssuedJwt, &'static str> {
    match st.jwts.get(token) {
        None => Err("invalid bearer token, square/go-jose: error in cryptographic primitive"),
        Some(_) if st.revoked.contains(token) => {
            Err("invalid bearer token, service account token has been invalidated")
        }
        Some(j) if now_secs() > j.exp => {
            Err("invalid bearer token, service account token has expired")
        }
        Some(j) => Ok(j),
    }
}

// ---------------------------------------------------------------- HTTP

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

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    keep_alive: bool,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn bearer(&self) -> Option<&str> {
        let v = self.header("authorization")?.trim();
        let (scheme, token) = v.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    }
}

struct Response {
    code: u16,
    body: Value,
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
        let resp = handle(shared, &req);
        if write_response(&mut writer, &resp, req.keep_alive).is_err() || !req.keep_alive {
            let _ = writer.shutdown(Shutdown::Both);
            return;
        }
    }
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
fn read_request(
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
        _ => "Internal Server Error",
    }
}

fn write_response(w: &mut TcpStream, resp: &Response, keep_alive: bool) -> std::io::Result<()> {
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

// ---------------------------------------------------------------- routing

fn status_failure(code: u16, reason: &str, message: &str, details: Option<Value>) -> Value {
    let mut v = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    });
    if let Some(d) = details {
        v["details"] = d;
    }
    v
}

fn fail(code: u16, reason: &str, message: &str, details: Option<Value>) -> Response {
    Response {
        code,
        body: status_failure(code, reason, message, details),
    }
}

fn unauthorized() -> Response {
    fail(401, "Unauthorized", "Unauthorized", None)
}

fn not_found_path() -> Response {
    fail(
        404,
        "NotFound",
        "the server could not find the requested resource",
        Some(json!({})),
    )
}

fn handle(shared: &Shared, req: &Request) -> Response {
    let mut st = lock(&shared.state);
    st.requests.push(format!("{} {}", req.method, req.path));
    let segs: Vec<&str> = req.path.split('/').filter(|s| !s.is_empty()).collect();

    if segs == ["version"] {
        return if req.method == "GET" {
            Response {
                code: 200,
                body: version_info(),
            }
        } else {
            method_not_allowed()
        };
    }

    // Everything else needs an authenticated bearer token.
    let user = match req.bearer().map(|t| valid_jwt(&st, t)) {
        Some(Ok(j)) => j.clone(),
        _ => return unauthorized(),
    };
    let is_reader = req.bearer() == Some(st.reader_token.as_str());

    match segs.as_slice() {
        ["api", "v1", "namespaces", ns, "secrets", name] => {
            if req.method != "GET" {
                return method_not_allowed();
            }
            let (ns, name) = (ns.to_string(), name.to_string());
            if !is_reader || st.forbidden.contains(&(ns.clone(), name.clone())) {
                return fail(
                    403,
                    "Forbidden",
                    &format!(
                        "secrets \"{name}\" is forbidden: User \"{}\" cannot get resource \"secrets\" in API group \"\" in the namespace \"{ns}\"",
                        user.username()
                    ),
                    Some(json!({"name": name, "kind": "secrets"})),
                );
            }
            match st.secrets.get(&(ns.clone(), name.clone())) {
                Some(s) => {
                    let mut obj = secret_json(&ns, &name, s);
                    obj["apiVersion"] = json!("v1");
                    obj["kind"] = json!("Secret");
                    Response {
                        code: 200,
                        body: obj,
                    }
                }
                None => fail(
                    404,
                    "NotFound",
                    &format!("secrets \"{name}\" not found"),
                    Some(json!({"name": name, "kind": "secrets"})),
                ),
            }
        }
        ["api", "v1", "namespaces", ns, "secrets"] if req.method == "POST" => {
            create_secret(&mut st, ns, req, is_reader, &user)
        }
        ["api", "v1", "namespaces", ns, "secrets"] => {
            if req.method != "GET" {
                return method_not_allowed();
            }
            if !is_reader {
                return fail(
                    403,
                    "Forbidden",
                    &format!(
                        "secrets is forbidden: User \"{}\" cannot list resource \"secrets\" in API group \"\" in the namespace \"{ns}\"",
                        user.username()
                    ),
                    Some(json!({"kind": "secrets"})),
                );
            }
            let items: Vec<Value> = st
                .secrets
                .iter()
                .filter(|((n, _), _)| n == ns)
                .map(|((n, name), s)| secret_json(n, name, s))
                .collect();
            Response {
                code: 200,
                body: json!({
                    "kind": "SecretList",
                    "apiVersion": "v1",
                    "metadata": {"resourceVersion": st.resource_version.to_string()},
                    "items": items,
                }),
            }
        }
        ["apis", "authentication.k8s.io", "v1", "tokenreviews"] => {
            if req.method != "POST" {
                return method_not_allowed();
            }
            token_review(&st, req, &user)
        }
        _ => not_found_path(),
    }
}

/// `POST /api/v1/namespaces/{ns}/secrets`: 201 with the stored object, 409
/// AlreadyExists, 403 for identities other than the reader, 400 for a bad body.
fn create_secret(
    st: &mut State,
    ns: &str,
    req: &Request,
    is_reader: bool,
    user: &IssuedJwt,
) -> Response {
    let body: Value = match serde_json::from_slice(&req.body) {
        Ok(v) => v,
        Err(e) => return fail(400, "BadRequest", &format!("invalid Secret: {e}"), None),
    };
    let Some(name) = body.pointer("/metadata/name").and_then(Value::as_str) else {
        return fail(
            422,
            "Invalid",
            "Secret \"\" is invalid: metadata.name: Required value",
            None,
        );
    };
    let key = (ns.to_string(), name.to_string());
    if !is_reader || st.forbidden.contains(&key) {
        return fail(
            403,
            "Forbidden",
            &format!(
                "secrets is forbidden: User \"{}\" cannot create resource \"secrets\" in API group \"\" in the namespace \"{ns}\"",
                user.username()
            ),
            Some(json!({"kind": "secrets"})),
        );
    }
    if st.secrets.contains_key(&key) {
        return fail(
            409,
            "AlreadyExists",
            &format!("secrets \"{name}\" already exists"),
            Some(json!({"name": name, "kind": "secrets"})),
        );
    }
    let mut data: BTreeMap<String, String> = body
        .get("data")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default();
    if let Some(plain) = body.get("stringData").and_then(Value::as_object) {
        for (k, v) in plain {
            if let Some(v) = v.as_str() {
                data.insert(k.clone(), base64_encode(v.as_bytes()));
            }
        }
    }
    st.resource_version += 1;
    let secret = StoredSecret {
        uid: uuid_v4(),
        resource_version: st.resource_version,
        creation_timestamp: rfc3339(now_secs()),
        data,
    };
    let mut obj = secret_json(ns, name, &secret);
    obj["apiVersion"] = json!("v1");
    obj["kind"] = json!("Secret");
    st.secrets.insert(key, secret);
    Response {
        code: 201,
        body: obj,
    }
}

fn method_not_allowed() -> Response {
    fail(
        405,
        "MethodNotAllowed",
        "the server does not allow this method on the requested resource",
        Some(json!({})),
    )
}

fn secret_json(ns: &str, name: &str, s: &StoredSecret) -> Value {
    let mut v = json!({
        "metadata": {
            "name": name,
            "namespace": ns,
            "uid": s.uid,
            "resourceVersion": s.resource_version.to_string(),
            "creationTimestamp": s.creation_timestamp,
        },
        "type": "Opaque",
    });
    // The API server leaves `data` out when it is empty.
    if !s.data.is_empty() {
        v["data"] = json!(s.data);
    }
    v
}

fn token_review(st: &State, req: &Request, caller: &IssuedJwt) -> Response {
    let mut review: Value = match serde_json::from_slice(&req.body) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            return fail(
                400,
                "BadRequest",
                "the object provided is unrecognized (must be of type TokenReview)",
                None,
            )
        }
    };
    if let Some(kind) = review.get("kind").and_then(Value::as_str) {
        if kind != "TokenReview" {
            return fail(
                400,
                "BadRequest",
                &format!(
                    "the object provided is unrecognized (must be of type TokenReview): {kind}"
                ),
                None,
            );
        }
    }
    let token = review["spec"]["token"].as_str().unwrap_or("").to_string();
    if token.is_empty() {
        return fail(
            400,
            "BadRequest",
            "token is required for TokenReview in authentication",
            None,
        );
    }
    // Who may create tokenreviews: the reviewer, or a token reviewing itself.
    let bearer = req.bearer().unwrap_or("");
    if bearer != st.reviewer_token && bearer != token {
        return fail(
            403,
            "Forbidden",
            &format!(
                "tokenreviews.authentication.k8s.io is forbidden: User \"{}\" cannot create resource \"tokenreviews\" in API group \"authentication.k8s.io\" at the cluster scope",
                caller.username()
            ),
            Some(json!({"group": "authentication.k8s.io", "kind": "tokenreviews"})),
        );
    }
    let wanted: Vec<String> = review["spec"]["audiences"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let status = match valid_jwt(st, &token) {
        Err(e) => json!({"user": {}, "authenticated": false, "error": e}),
        Ok(j) => {
            let audiences: Vec<String> = if wanted.is_empty() {
                vec![DEFAULT_AUDIENCE.to_string()]
            } else {
                wanted
                    .iter()
                    .filter(|a| j.audiences.contains(a))
                    .cloned()
                    .collect()
            };
            if !wanted.is_empty() && audiences.is_empty() {
                json!({
                    "user": {},
                    "authenticated": false,
                    "error": format!(
                        "[invalid bearer token, token audiences {:?} is invalid for the target audiences {:?}]",
                        j.audiences, wanted
                    ),
                })
            } else {
                json!({
                    "authenticated": true,
                    "user": {
                        "username": j.username(),
                        "uid": j.uid,
                        "groups": [
                            "system:serviceaccounts",
                            format!("system:serviceaccounts:{}", j.namespace),
                            "system:authenticated",
                        ],
                        "extra": {
                            "authentication.kubernetes.io/credential-id": [format!("JTI={}", j.jti)],
                        },
                    },
                    "audiences": audiences,
                })
            }
        }
    };
    review["kind"] = json!("TokenReview");
    review["apiVersion"] = json!("authentication.k8s.io/v1");
    review["metadata"] = json!({"creationTimestamp": null});
    review["status"] = status;
    Response {
        code: 201,
        body: review,
    }
}

fn version_info() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "emulationMajor": "1",
        "emulationMinor": "33",
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": "32",
        "gitVersion": "v1.33.1",
        "gitCommit": "8adc0f041b8e7ad1d30e29cc59c6ae7a15e19828",
        "gitTreeState": "clean",
        "buildDate": "2025-05-15T08:19:08Z",
        "goVersion": "go1.24.2",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

// ---------------------------------------------------------------- helpers

const B64_STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn b64_encode(bytes: &[u8], alphabet: &[u8; 64], pad: bool) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = match chunk.len() {
            3 => (chunk[0] as u32) << 16 | (chunk[1] as u32) << 8 | chunk[2] as u32,
            2 => (chunk[0] as u32) << 16 | (chunk[1] as u32) << 8,
            _ => (chunk[0] as u32) << 16,
        };
        let chars = chunk.len() + 1;
        for i in 0..4 {
            if i < chars {
                out.push(alphabet[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else if pad {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64 with padding (what Kubernetes puts in `Secret.data`).
pub fn base64_encode(bytes: &[u8]) -> String {
    b64_encode(bytes, B64_STD, true)
}

/// base64url without padding (JWT segments).
pub fn base64url_encode(bytes: &[u8]) -> String {
    b64_encode(bytes, B64_URL, false)
}

/// Decode standard or URL-safe base64, padded or not. None if malformed.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        } as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // 6 leftover bits can't come from whole bytes
    (bits < 6).then_some(out)
}

fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .expect("kube_api: read /dev/urandom");
    buf
}

fn uuid_v4() -> String {
    let mut b = random_bytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// (year, month, day, hour, minute, second, weekday 0=Sunday) in UTC.
fn civil(secs: u64) -> (i64, u32, u32, u32, u32, u32, u32) {
    let days = (secs / 86400) as i64;
    let rem = secs % 86400;
    // Howard Hinnant's days_from_civil inverse
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    let weekday = ((days + 4).rem_euclid(7)) as u32; // 1970-01-01 was a Thursday
    (
        y,
        m,
        d,
        (rem / 3600) as u32,
        (rem % 3600 / 60) as u32,
        (rem % 60) as u32,
        weekday,
    )
}

fn rfc3339(secs: u64) -> String {
    let (y, mo, d, h, mi, s, _) = civil(secs);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

fn http_date(secs: u64) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (y, mo, d, h, mi, s, wd) = civil(secs);
    format!(
        "{}, {d:02} {} {y:04} {h:02}:{mi:02}:{s:02} GMT",
        DAYS[wd as usize],
        MONTHS[(mo - 1) as usize]
    )
}
