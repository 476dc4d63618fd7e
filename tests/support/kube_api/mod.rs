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

mod encoding;
mod http;
mod jwt;
mod router;
mod secrets;
mod server;
mod state;
mod status;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::MutexGuard;

use serde_json::{json, Value};

// Re-exported so they keep their `kube_api::` paths; not every test uses them.
#[allow(unused_imports)]
pub use encoding::{base64_decode, base64_encode, base64url_encode};
#[allow(unused_imports)]
pub use jwt::decode_jwt_claims;

use encoding::{now_secs, rfc3339, uuid_v4};
use jwt::issue_jwt;
use server::Server;
use state::{State, StoredSecret};

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
    server: Server,
}

impl KubeApi {
    /// Bind 127.0.0.1:0 and start serving in the background.
    pub fn start() -> KubeApi {
        let mut st = State::default();
        let (reader_token, reviewer_token) = {
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
        let server = Server::start(st);
        KubeApi {
            url: format!("http://{}", server.addr()),
            reader_token,
            reviewer_token,
            server,
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
        self.server.addr()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.server.state()
    }
}

impl Drop for KubeApi {
    /// Stops the accept loop and closes every open connection.
    fn drop(&mut self) {
        self.server.stop();
    }
}
