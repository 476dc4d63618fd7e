//! The run's one Vault connection: one keep-alive pool for every request,
//! retries bounded by one run-wide outage budget, and request counters for
//! the report.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::Url;
use serde_json::Value as Json;

use super::connection::Connection;
use super::counts::{Counters, RequestCounts};
use super::endpoint::Method;
use super::error::VaultError;
use super::outage::{Next, Outage};
use super::transport;
use crate::secret::Secret;

/// Attempts for a 5xx that is not an outage (one endpoint failing).
const ENDPOINT_ATTEMPTS: u32 = 3;

pub struct Vault {
    http: reqwest::Client,
    /// `<addr>/v1/`.
    base: Url,
    conn: Connection,
    addr: String,
    /// Shared with the client of another namespace ([`Vault::in_namespace`]).
    counters: Arc<Counters>,
    /// Shared by every client of the run (before and after login).
    outage: Arc<Outage>,
}

/// A successful answer: status 2xx and its JSON body (`Null` when empty).
pub struct Answer {
    pub body: Json,
}

/// How often (100 ms apart) a request to a KV mount that is still
/// upgrading is retried: 10 s, as long as an upgrade takes on a busy server.
const SETTLING_WAITS: u32 = 100;

impl Vault {
    pub fn connect(conn: &Connection) -> Result<Vault, VaultError> {
        let (http, base) = transport::build(conn)?;
        Ok(Vault {
            http,
            base,
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
        Vault {
            http: self.http.clone(),
            base: self.base.clone(),
            conn: Connection {
                namespace,
                ..self.conn.clone()
            },
            addr: self.addr.clone(),
            counters: self.counters.clone(),
            outage: self.outage.clone(),
        }
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
        match self.request(Method::Get, path, None).await {
            Ok(answer) => Ok(Some(answer.body)),
            Err(e) if e.code() == Some(404) || says_absent(&e) => Ok(None),
            Err(e) => Err(e),
        }
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

    async fn send_with_retry(
        &self,
        method: Method,
        path: &str,
        query: Option<&str>,
        body: Option<&Json>,
    ) -> Result<Answer, VaultError> {
        let body_bytes = body.map(super::body::json_bytes);
        self.send_bytes_with_retry(method, path, query, body_bytes)
            .await
    }

    async fn send_bytes_with_retry(
        &self,
        method: Method,
        path: &str,
        query: Option<&str>,
        body_bytes: Option<bytes::Bytes>,
    ) -> Result<Answer, VaultError> {
        self.send_raw_with_retry(method, path, query, body_bytes, |raw| {
            parse_answer(method, path, &raw)
        })
        .await
    }

    /// The retried request; `finish` turns the raw 2xx body into the answer
    /// (an unreadable body fails the attempt, not retried). The request body
    /// is shared, not copied, by every attempt: it may hold a large secret.
    async fn send_raw_with_retry<T>(
        &self,
        method: Method,
        path: &str,
        query: Option<&str>,
        body_bytes: Option<bytes::Bytes>,
        finish: impl Fn(Vec<u8>) -> Result<T, VaultError>,
    ) -> Result<T, VaultError> {
        let mut attempt = 0;
        let mut settling_waits = 0;
        loop {
            if let Some(error) = self.gave_up() {
                return Err(error);
            }
            attempt += 1;
            let started = Instant::now();
            let error = match self
                .send_raw(method, path, query, body_bytes.clone(), None)
                .await
                .and_then(&finish)
            {
                Ok(answer) => {
                    self.outage.recovered();
                    return Ok(answer);
                }
                Err(error) => error,
            };
            if error
                .settling_waits()
                .is_some_and(|budget| settling_waits < budget.min(SETTLING_WAITS))
            {
                settling_waits += 1;
                attempt -= 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            if !error.is_outage() {
                // An endpoint's own failure: a few attempts, no outage.
                if !error.is_retryable() || attempt >= ENDPOINT_ATTEMPTS {
                    return Err(error);
                }
                tokio::time::sleep(self.backoff(attempt)).await;
                continue;
            }
            let delay = self.backoff(attempt).min(self.outage.remaining());
            match self.outage.failed(&self.addr, started, &error, delay) {
                Next::GiveUp(error) => return Err(error),
                Next::Wait => {
                    tracing::debug!(%error, attempt, delay_ms = delay.as_millis() as u64, "retrying");
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    /// One attempt, not counted and not retried (readiness polling has its
    /// own loop); `timeout` overrides the request timeout.
    pub async fn send_once(
        &self,
        method: Method,
        path: &str,
        query: Option<&str>,
        body: Option<Vec<u8>>,
        timeout: Option<Duration>,
    ) -> Result<Answer, VaultError> {
        let raw = self
            .send_raw(method, path, query, body.map(bytes::Bytes::from), timeout)
            .await?;
        parse_answer(method, path, &raw)
    }

    /// One attempt: the raw body of a 2xx answer; a redirect or another
    /// status is an error.
    async fn send_raw(
        &self,
        method: Method,
        path: &str,
        query: Option<&str>,
        body: Option<bytes::Bytes>,
        timeout: Option<Duration>,
    ) -> Result<Vec<u8>, VaultError> {
        let path = path.trim_matches('/');
        let mut url = self
            .base
            .join(path)
            .map_err(|e| VaultError::Client(format!("invalid path {path}: {e}")))?;
        url.set_query(query);
        let mut request = self
            .http
            .request(method.http(), url)
            .header("X-Vault-Request", "true");
        if let Some(token) = &self.conn.token {
            request = request.header("X-Vault-Token", token.expose());
        }
        if let Some(namespace) = &self.conn.namespace {
            request = request.header("X-Vault-Namespace", namespace);
        }
        if let Some(body) = body {
            request = request
                .header("Content-Type", "application/json")
                .body(body);
        }
        if let Some(timeout) = timeout {
            request = request.timeout(timeout);
        }
        let response = request
            .send()
            .await
            .map_err(|e| self.transport_error(method, path, &e))?;
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .map(str::to_owned);
        // Chunks into one buffer sized by Content-Length: collecting them
        // first would hold a large answer (a secret) twice.
        let mut response = response;
        let capacity = response.content_length().unwrap_or(0).min(64 << 20) as usize;
        let mut raw = Vec::with_capacity(capacity);
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(method, path, &e))?
        {
            raw.extend_from_slice(&chunk);
        }
        if (300..400).contains(&status) {
            return Err(VaultError::Redirect {
                method: method.as_str(),
                path: path.to_owned(),
                code: status,
                location: location.unwrap_or_else(|| "(no Location)".into()),
            });
        }
        if !(200..300).contains(&status) {
            let errors = serde_json::from_slice::<Json>(&raw)
                .ok()
                .and_then(|j| j.get("errors").cloned())
                .and_then(|e| serde_json::from_value::<Vec<String>>(e).ok())
                .unwrap_or_default();
            return Err(VaultError::status(method, path, status, &errors));
        }
        Ok(raw)
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .conn
            .retry
            .base_delay
            .saturating_mul(1 << attempt.min(16))
            .min(self.conn.retry.max_delay);
        // Full jitter: concurrent retries after a failover must not stampede.
        let millis = exp.as_millis().max(1) as u64;
        Duration::from_millis(rand::rng().random_range(millis / 2..=millis))
    }

    fn transport_error(&self, method: Method, path: &str, error: &reqwest::Error) -> VaultError {
        let reason = crate::secret::scrub(&transport::root_cause(error));
        if transport::is_tls_error(&reason) {
            return VaultError::Tls {
                addr: self.addr.clone(),
                reason,
            };
        }
        let reason = if error.is_timeout() {
            format!("no answer within {}s", self.conn.request_timeout.as_secs())
        } else {
            reason
        };
        VaultError::Transport {
            method: method.as_str(),
            path: path.to_owned(),
            addr: self.addr.clone(),
            reason,
        }
    }
}

/// A 2xx body as JSON (`Null` when empty).
fn parse_answer(method: Method, path: &str, raw: &[u8]) -> Result<Answer, VaultError> {
    let body = if raw.is_empty() {
        Json::Null
    } else {
        serde_json::from_slice(raw).map_err(|e| VaultError::Response {
            method: method.as_str(),
            path: path.trim_matches('/').to_owned(),
            reason: e.to_string(),
        })?
    };
    Ok(Answer { body })
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

    #[test]
    fn plugin_answers_that_mean_absent_are_recognised_and_nothing_else() {
        // The real answers of cert's `crls/<n>` and the audit header endpoint.
        assert!(says_absent(&status(400, "no such CRL cluster")));
        assert!(says_absent(&status(400, "Could not find header in config")));
        assert!(!says_absent(&status(400, "missing client token")));
        assert!(!says_absent(&status(500, "no such file or directory")));
    }
}
