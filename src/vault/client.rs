//! The run's one Vault connection: one keep-alive pool for every request,
//! retries bounded by one run-wide outage budget, and request counters for
//! the report.

use std::sync::Arc;

use http::{HeaderMap, HeaderValue};
use serde_json::Value as Json;
use url::Url;

use super::connection::Connection;
use super::counts::{Counters, RequestCounts};
use super::endpoint::Method;
use super::error::VaultError;
use super::outage::Outage;
use super::transport;

mod send;
use crate::secret::Secret;

pub struct Vault {
    http: transport::Http,
    /// `<addr>/v1/`.
    base: Url,
    conn: Connection,
    /// What every request carries (token, namespace), built once; the
    /// error says which setting no header can carry.
    headers: Arc<Result<Headers, String>>,
    addr: String,
    /// Shared with the client of another namespace ([`Vault::in_namespace`]).
    counters: Arc<Counters>,
    /// Shared by every client of the run (before and after login).
    outage: Arc<Outage>,
}

/// The headers of a request without a body and of one with a JSON body.
struct Headers {
    bare: HeaderMap,
    json: HeaderMap,
}

impl Headers {
    fn new(conn: &Connection) -> Result<Headers, String> {
        let mut bare = HeaderMap::new();
        bare.insert("x-vault-request", HeaderValue::from_static("true"));
        if let Some(token) = &conn.token {
            let mut value = transport::header_value("the token", token.expose())?;
            value.set_sensitive(true);
            bare.insert("x-vault-token", value);
        }
        if let Some(namespace) = &conn.namespace {
            let value = transport::header_value(
                &format!("namespace `{}`", namespace.escape_debug()),
                namespace,
            )?;
            bare.insert("x-vault-namespace", value);
        }
        let mut json = bare.clone();
        json.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        Ok(Headers { bare, json })
    }
}

/// A successful answer: status 2xx and its JSON body (`Null` when empty).
pub struct Answer {
    pub body: Json,
}

impl Vault {
    pub fn connect(conn: &Connection) -> Result<Vault, VaultError> {
        let (http, base) = transport::build(conn)?;
        let headers = Headers::new(conn).map_err(VaultError::Client)?;
        Ok(Vault {
            http,
            base,
            headers: Arc::new(Ok(headers)),
            conn: conn.clone(),
            addr: conn.addr.clone(),
            counters: Arc::default(),
            outage: Arc::new(Outage::new(conn.retry.budget)),
        })
    }

    /// The same connection settings with another token (after a login).
    pub fn with_token(&self, token: Secret) -> Result<Vault, VaultError> {
        let mut vault = Vault::connect(&Connection {
            token: Some(token),
            ..self.conn.clone()
        })?;
        vault.outage = self.outage.clone();
        Ok(vault)
    }

    /// The same client in another namespace (`None`: the root namespace):
    /// one connection pool, one outage budget and one set of request counts.
    pub fn in_namespace(&self, namespace: Option<String>) -> Vault {
        let conn = Connection {
            namespace,
            ..self.conn.clone()
        };
        Vault {
            http: self.http.clone(),
            base: self.base.clone(),
            // A namespace no header can carry fails each request.
            headers: Arc::new(Headers::new(&conn)),
            conn,
            addr: self.addr.clone(),
            counters: self.counters.clone(),
            outage: self.outage.clone(),
        }
    }

    /// Whether requests carry `token`.
    pub fn uses_token(&self, token: &Secret) -> bool {
        self.conn.token.as_ref().map(Secret::expose) == Some(token.expose())
    }

    /// The namespace requests go to (`X-Vault-Namespace`).
    pub fn namespace(&self) -> Option<&str> {
        self.conn.namespace.as_deref()
    }

    /// The error every request answers with once the run's outage budget is
    /// spent: the run stops with this one message.
    pub fn gave_up(&self) -> Option<VaultError> {
        self.outage.gave_up(&self.addr)
    }

    pub fn addr(&self) -> &str {
        &self.addr
    }

    pub fn counts(&self) -> RequestCounts {
        self.counters.snapshot()
    }

    /// Reads `path`; `None` when Vault answers 404.
    pub async fn read(&self, path: &str) -> Result<Option<Json>, VaultError> {
        match self.read_raw(path).await? {
            Some(raw) => Ok(Some(send::parse_answer(Method::Get, path, &raw)?.body)),
            None => Ok(None),
        }
    }

    /// Reads `path` and parses only its answer's `data` (the default when the
    /// answer has none): the envelope around it (request id, lease, warnings)
    /// is skipped, not built. `None` when Vault answers 404, like [`Vault::read`].
    pub async fn read_data<T: serde::de::DeserializeOwned + Default>(
        &self,
        path: &str,
    ) -> Result<Option<T>, VaultError> {
        #[derive(serde::Deserialize)]
        struct Envelope<T> {
            data: Option<T>,
        }
        let Some(raw) = self.read_raw(path).await? else {
            return Ok(None);
        };
        if raw.is_empty() {
            return Ok(Some(T::default()));
        }
        let envelope: Envelope<T> = serde_json::from_slice(&raw)
            .map_err(|e| VaultError::unreadable(Method::Get, path, &e))?;
        Ok(Some(envelope.data.unwrap_or_default()))
    }

    /// Reads `path` and parses, of its answer's `data`, only the fields
    /// `wanted` names ([`super::answer::data_fields`]). `None` on 404.
    pub async fn read_data_fields(
        &self,
        path: &str,
        wanted: &(dyn Fn(&str) -> bool + Sync),
    ) -> Result<Option<Json>, VaultError> {
        let Some(raw) = self.read_raw(path).await? else {
            return Ok(None);
        };
        super::answer::data_fields(&raw, wanted)
            .map(Some)
            .map_err(|e| VaultError::unreadable(Method::Get, path, &e))
    }

    /// Reads `path` as the answer's raw body bytes, not parsed: the caller
    /// borrows from them instead of holding a large secret twice (the bytes
    /// and their `Json`). `None` when Vault answers 404, like [`Vault::read`].
    pub async fn read_raw(&self, path: &str) -> Result<Option<Vec<u8>>, VaultError> {
        self.counters.record(Method::Get);
        match self
            .send_raw_with_retry(Method::Get, path, None, None, Ok)
            .await
        {
            Ok(raw) => Ok(Some(raw)),
            Err(e) if e.code() == Some(404) || says_absent(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Reads `path?query` (a versioned plugin catalog entry); `None` on 404.
    pub async fn read_query(&self, path: &str, query: &str) -> Result<Option<Json>, VaultError> {
        self.counters.record(Method::Get);
        match self
            .send_with_retry(Method::Get, path, Some(query), None)
            .await
        {
            Ok(answer) => Ok(Some(answer.body)),
            Err(e) if e.code() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Lists the keys under `path`; empty when Vault answers 404 (nothing there).
    pub async fn list(&self, path: &str) -> Result<Vec<String>, VaultError> {
        match self.request(Method::List, path, None).await {
            Ok(answer) => Ok(answer
                .body
                .pointer("/data/keys")
                .and_then(Json::as_array)
                .map(|keys| {
                    keys.iter()
                        .filter_map(|k| k.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()),
            Err(e) if e.code() == Some(404) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// A POST that only reads (a token lookup): counted as a read.
    pub async fn post_read(&self, path: &str, body: &Json) -> Result<Json, VaultError> {
        self.counters.record(Method::Get);
        Ok(self
            .send_with_retry(Method::Post, path, None, Some(body))
            .await?
            .body)
    }

    pub async fn write(&self, path: &str, body: &Json) -> Result<Json, VaultError> {
        Ok(self.request(Method::Post, path, Some(body)).await?.body)
    }

    /// A retried request left out of the object counts (login, token revocation).
    pub async fn request_uncounted(
        &self,
        method: Method,
        path: &str,
        body: Option<&Json>,
    ) -> Result<Answer, VaultError> {
        self.send_with_retry(method, path, None, body).await
    }

    /// Like `request_uncounted`, for a GET-like request without a body whose
    /// answer's bytes `finish` reads (an unreadable answer is not retried).
    pub async fn request_raw_uncounted<T>(
        &self,
        method: Method,
        path: &str,
        query: Option<&str>,
        finish: impl Fn(Vec<u8>) -> Result<T, VaultError>,
    ) -> Result<T, VaultError> {
        self.send_raw_with_retry(method, path, query, None, finish)
            .await
    }

    /// Sends one request, retrying connection errors, 429, 412 and 5xx with
    /// jittered exponential backoff (standbys and failovers answer those briefly).
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&Json>,
    ) -> Result<Answer, VaultError> {
        self.counters.record(method);
        self.send_with_retry(method, path, None, body).await
    }

    /// Like `request`, with the body already serialized (the caller can
    /// drop its JSON before the request is sent).
    pub async fn request_bytes(
        &self,
        method: Method,
        path: &str,
        body: Option<bytes::Bytes>,
    ) -> Result<Answer, VaultError> {
        self.counters.record(method);
        self.send_bytes_with_retry(method, path, None, body).await
    }
}

/// Some plugins answer a read of an absent object with 400 and a message
/// saying so (`no such CRL x`, `Could not find header`) instead of 404.
fn says_absent(error: &VaultError) -> bool {
    match error {
        VaultError::Status {
            code: 400, message, ..
        } => {
            let message = message.to_lowercase();
            message.starts_with("no such ") || message.starts_with("could not find ")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, message: &str) -> VaultError {
        VaultError::Status {
            method: "GET",
            path: "p".into(),
            code,
            message: message.into(),
        }
    }

    fn connection(token: &str) -> Connection {
        Connection {
            addr: "http://127.0.0.1:1".into(),
            token: Some(Secret::new(token)),
            ca_cert: None,
            client_cert: None,
            tls_server_name: None,
            skip_verify: false,
            namespace: None,
            request_timeout: std::time::Duration::from_secs(1),
            retry: Default::default(),
            follow_redirects: false,
        }
    }

    /// A setting no header can carry is named (never its value) and said once.
    #[test]
    fn settings_no_header_can_carry_are_refused_by_name() {
        let Err(error) = Vault::connect(&connection("s.tok\nen-value")) else {
            panic!("a token with a newline was accepted");
        };
        let message = error.to_string();
        assert!(message.contains("the token holds a character"), "{message}");
        assert!(!message.contains("en-value"), "{message}");
        assert_eq!(message.matches("cannot set up").count(), 1, "{message}");

        let vault = Vault::connect(&connection("s.token")).unwrap();
        let inside = vault.in_namespace(Some("team\na".into()));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let Err(error) = runtime.block_on(inside.read("sys/mounts")) else {
            panic!("a namespace with a newline was sent");
        };
        let message = error.to_string();
        assert!(message.contains("namespace `team\\na`"), "{message}");
        assert_eq!(message.matches("cannot set up").count(), 1, "{message}");
    }

    #[test]
    fn plugin_answers_that_mean_absent_are_recognised_and_nothing_else() {
        // The real answers of cert's `crls/<n>` and the audit header endpoint.
        assert!(says_absent(&status(400, "no such CRL cluster")));
        assert!(says_absent(&status(400, "Could not find header in config")));
        assert!(!says_absent(&status(400, "missing client token")));
        assert!(!says_absent(&status(500, "no such file or directory")));
    }
}
