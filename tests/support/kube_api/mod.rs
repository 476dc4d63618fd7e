//! A stand-in Kubernetes API server for the integration tests.
//!
//! No real Kubernetes API server can run here, so this module serves the small
//! part of the API that `vault-converge` and OpenBao's kubernetes auth method
//! touch, over plain HTTP/1.1 on `127.0.0.1:<ephemeral port>`, from a
//! background thread inside the test process. It mimics the REAL request and
//! response shapes, so the real clients (kube-rs/hyper in `vault-converge`, Go's
//! net/http in OpenBao, curl) talk to it exactly as they would to a cluster.
//! Failures are `v1` `Status` objects (`kind`, `apiVersion`, `metadata`,
//! `status: Failure`, `message`, `reason`, `details`, `code`):
//!
//! * `GET /api/v1/namespaces/{ns}/secrets/{name}`: a full `v1` `Secret`
//!   (values base64 in `data`, `metadata.labels`/`annotations` when set), or
//!   a `Status` with reason `NotFound` (404), `Forbidden` (403, see
//!   [`KubeApi::forbid`]) or `Unauthorized` (401, no or unknown bearer
//!   token). Only [`KubeApi::reader_token`] may read or write secrets; other
//!   known identities get 403 like RBAC would answer.
//! * `GET /api/v1/namespaces/{ns}/secrets`: a `SecretList`.
//! * `POST /api/v1/namespaces/{ns}/secrets` (kube-rs `Api::create`): 201
//!   with the stored `Secret` (`data` plus base64-encoded `stringData`,
//!   `stringData` winning; labels and annotations kept), 409 `AlreadyExists`,
//!   403 (see [`KubeApi::forbid_writes`]), 422 without `metadata.name`.
//! * `PUT /api/v1/namespaces/{ns}/secrets/{name}` (kube-rs `Api::replace`):
//!   200 with the stored `Secret`; `data`/`stringData`, labels and
//!   annotations replace the old ones, uid and creationTimestamp stay, the
//!   resourceVersion is bumped (not for a no-op update, like the API
//!   server). A `metadata.resourceVersion` other than the stored one is a
//!   409 `Conflict` ("the object has been modified; ..."); without one the
//!   update is unconditional, as the API server allows for secrets. 404
//!   `NotFound` when the secret does not exist, 400 `BadRequest` when
//!   `metadata.name` (or `namespace`) differs from the URL, 403 as for POST.
//!   [`KubeApi::change_after_next_get`] plays a concurrent writer.
//! * any other method on a secret (PATCH, DELETE): 405 `MethodNotAllowed`.
//! * `POST /apis/authentication.k8s.io/v1/tokenreviews`: a `TokenReview`
//!   answered 201 with `status.authenticated` true for JWTs handed out by
//!   [`KubeApi::issue_service_account_jwt`] and not revoked since. The bearer
//!   must be [`KubeApi::reviewer_token`] (OpenBao's `token_reviewer_jwt`) or the
//!   reviewed JWT itself (what OpenBao sends when no reviewer JWT is set).
//! * `GET /apis/external-secrets.io/{v}/externalsecrets` and
//!   `.../namespaces/{ns}/externalsecrets`: an `ExternalSecretList` of what
//!   [`KubeApi::add_external_secret`] stored, paged by `limit`/`continue`;
//!   404 for a version not served (v1beta1 unless
//!   [`KubeApi::serve_external_secrets`] asks), 403 for all but the reader.
//! * `GET /version`: version info (no authentication, like the real one).
//! * anything else: a 404 `Status`.
//!
//! resourceVersions come from one counter for every write (like etcd's
//! revision), so they only grow.
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
//! Layout: `server` (accept loop, connections), `http` (parsing requests,
//! writing responses), `router` (authentication, dispatch), `secrets` (the
//! Secret endpoints), `external_secrets` (ExternalSecret lists),
//! `secret_object` (Secret JSON in and out), `jwt` (service account JWTs,
//! TokenReview), `status` (`Status` failures),
//! `state` (what the stand-in remembers), `clients` (kubeconfig, OpenBao
//! config), `encoding` (base64, uuid, timestamps).
//!
//! std plus `serde_json` only.
#![allow(dead_code)]

mod clients;
mod encoding;
mod external_secrets;
mod http;
mod jwt;
mod router;
mod secret_object;
mod secrets;
mod server;
mod state;
mod status;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::MutexGuard;

use serde_json::Value;

// Re-exported so they keep their `kube_api::` paths; not every test uses them.
pub use clients::CA_CERT_PEM;
#[allow(unused_imports)]
pub use encoding::{base64_decode, base64_encode, base64url_encode};
#[allow(unused_imports)]
pub use jwt::decode_jwt_claims;

use jwt::{issue_jwt, issue_stand_in_tokens};
use server::Server;
use state::{secret_key, State, StoredSecret};

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
        let (reader_token, reviewer_token) = issue_stand_in_tokens(&mut st);
        st.external_secret_versions = vec!["v1".to_string()];
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
    /// API server does. Replacing keeps `uid`, labels and annotations and
    /// bumps `resourceVersion`.
    pub fn set_secret(&self, namespace: &str, name: &str, data: &[(&str, &str)]) {
        let values: Vec<(String, String)> = data
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.state()
            .write_values(&secret_key(namespace, name), &values, true);
    }

    /// The decoded data of `namespace/name`, if it exists.
    pub fn secret_data(&self, namespace: &str, name: &str) -> Option<BTreeMap<String, String>> {
        self.secret(namespace, name, StoredSecret::decoded_data)
    }

    /// `metadata.labels` of `namespace/name` (empty when it has none), if
    /// it exists.
    pub fn secret_labels(&self, namespace: &str, name: &str) -> Option<BTreeMap<String, String>> {
        self.secret(namespace, name, |s| s.labels.clone())
    }

    /// `metadata.annotations` of `namespace/name`, if it exists.
    pub fn secret_annotations(
        &self,
        namespace: &str,
        name: &str,
    ) -> Option<BTreeMap<String, String>> {
        self.secret(namespace, name, |s| s.annotations.clone())
    }

    /// `metadata.resourceVersion` of `namespace/name`, if it exists.
    pub fn secret_resource_version(&self, namespace: &str, name: &str) -> Option<String> {
        self.secret(namespace, name, |s| s.resource_version.to_string())
    }

    /// Delete `namespace/name`; GETs answer 404 afterwards.
    pub fn remove_secret(&self, namespace: &str, name: &str) {
        self.state().secrets.remove(&secret_key(namespace, name));
    }

    /// GET, POST and PUT of `namespace/name` answer 403 Forbidden for the
    /// reader token (whether or not the secret exists), like a missing RBAC
    /// grant.
    pub fn forbid(&self, namespace: &str, name: &str) {
        self.state().forbidden.insert(secret_key(namespace, name));
    }

    /// POST (verb `create`) and PUT (verb `update`) of `namespace/name`
    /// answer 403 Forbidden for the reader token; GET still works, like a
    /// role granting `get` only.
    pub fn forbid_writes(&self, namespace: &str, name: &str) {
        self.state()
            .write_forbidden
            .insert(secret_key(namespace, name));
    }

    /// Another writer: right after the stand-in answers the next GET of
    /// `namespace/name` with 200, it sets `key` to `value` (plain text,
    /// stored base64) and bumps the resourceVersion, so a PUT carrying the
    /// resourceVersion that GET returned gets 409 Conflict. Calls queued
    /// before that GET land together, as one write.
    pub fn change_after_next_get(&self, namespace: &str, name: &str, key: &str, value: &str) {
        self.state()
            .change_after_get
            .entry(secret_key(namespace, name))
            .or_default()
            .push((key.to_string(), value.to_string()));
    }

    /// How many POST (create) and PUT (replace) requests for
    /// `namespace/name` were answered 2xx.
    pub fn secret_writes(&self, namespace: &str, name: &str) -> usize {
        let key = secret_key(namespace, name);
        self.state().writes.get(&key).copied().unwrap_or(0)
    }

    /// Create or replace the ExternalSecret `namespace/name` with this
    /// `spec`; the list endpoints serve it (see `external_secrets`).
    pub fn add_external_secret(&self, namespace: &str, name: &str, spec: Value) {
        let mut st = self.state();
        let rv = st.next_resource_version();
        st.external_secrets.insert(
            secret_key(namespace, name),
            external_secrets::StoredExternalSecret::new(rv, spec),
        );
    }

    /// The external-secrets.io versions served from now on (`["v1"]` at
    /// the start; `["v1beta1"]` plays an operator older than 0.17).
    pub fn serve_external_secrets(&self, versions: &[&str]) {
        self.state().external_secret_versions = versions.iter().map(|v| v.to_string()).collect();
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
        let text = clients::kubeconfig(&self.url, &self.reader_token);
        std::fs::write(&path, text)
            .unwrap_or_else(|e| panic!("kube_api: write {}: {e}", path.display()));
        path
    }

    /// The body to write to OpenBao's `auth/<mount>/config` so that its
    /// kubernetes auth method reviews tokens here:
    /// `{"kubernetes_host": url, "kubernetes_ca_cert": CA_CERT_PEM,
    /// "token_reviewer_jwt": reviewer_token, "disable_local_ca_jwt": true}`.
    pub fn openbao_auth_config(&self) -> Value {
        clients::openbao_auth_config(&self.url, &self.reviewer_token)
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

    fn secret<T>(
        &self,
        namespace: &str,
        name: &str,
        f: impl FnOnce(&StoredSecret) -> T,
    ) -> Option<T> {
        self.state()
            .secrets
            .get(&secret_key(namespace, name))
            .map(f)
    }
}

impl Drop for KubeApi {
    /// Stops the accept loop and closes every open connection.
    fn drop(&mut self) {
        self.server.stop();
    }
}
