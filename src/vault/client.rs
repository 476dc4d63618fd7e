//! The run's one Vault connection: vaultrs' client (one keep-alive pool for
//! every request), bounded retries, and request counters for the report.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::Rng;
use rustify::errors::ClientError;
use rustify::Endpoint;
use serde_json::Value as Json;
use vaultrs::client::{Client, VaultClient, VaultClientSettingsBuilder};

use super::endpoint::{Method, RawEndpoint};
use super::error::VaultError;
use crate::secret::Secret;

/// How to reach Vault; built from Settings in main.
#[derive(Debug, Clone)]
pub struct Connection {
    pub addr: String,
    pub token: Option<Secret>,
    pub ca_cert: Option<String>,
    pub skip_verify: bool,
    pub namespace: Option<String>,
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
}

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 6,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(3),
        }
    }
}

#[derive(Debug, Default, Clone, Copy, serde::Serialize, PartialEq, Eq)]
pub struct RequestCounts {
    pub reads: u64,
    pub writes: u64,
    pub lists: u64,
}

impl RequestCounts {
    /// The requests made after `earlier` was taken.
    pub fn since(self, earlier: RequestCounts) -> RequestCounts {
        RequestCounts {
            reads: self.reads - earlier.reads,
            writes: self.writes - earlier.writes,
            lists: self.lists - earlier.lists,
        }
    }
}

#[derive(Default)]
struct Counters {
    reads: AtomicU64,
    writes: AtomicU64,
    lists: AtomicU64,
}

pub struct Vault {
    client: VaultClient,
    conn: Connection,
    addr: String,
    retry: RetryPolicy,
    counters: Counters,
}

/// A successful answer: status 2xx and its JSON body (`Null` when empty).
pub struct Answer {
    pub body: Json,
}

impl Vault {
    pub fn connect(conn: &Connection) -> Result<Vault, VaultError> {
        let mut builder = VaultClientSettingsBuilder::default();
        builder
            .address(conn.addr.as_str())
            .token(conn.token.as_ref().map(Secret::expose).unwrap_or(""))
            .verify(!conn.skip_verify)
            .timeout(Some(conn.request_timeout))
            .ca_certs(conn.ca_cert.iter().cloned().collect());
        if let Some(ns) = &conn.namespace {
            builder.namespace(Some(ns.clone()));
        }
        let settings = builder
            .build()
            .map_err(|e| VaultError::Client(e.to_string()))?;
        let client = VaultClient::new(settings).map_err(|e| VaultError::Client(e.to_string()))?;
        Ok(Vault {
            client,
            conn: conn.clone(),
            addr: conn.addr.clone(),
            retry: conn.retry,
            counters: Counters::default(),
        })
    }

    /// The same connection settings with another token (after a login).
    pub fn with_token(&self, token: Secret) -> Result<Vault, VaultError> {
        Vault::connect(&Connection {
            token: Some(token),
            ..self.conn.clone()
        })
    }

    pub fn addr(&self) -> &str {
        &self.addr
    }

    pub fn counts(&self) -> RequestCounts {
        RequestCounts {
            reads: self.counters.reads.load(Ordering::Relaxed),
            writes: self.counters.writes.load(Ordering::Relaxed),
            lists: self.counters.lists.load(Ordering::Relaxed),
        }
    }

    /// Reads `path`; `None` when Vault answers 404.
    pub async fn read(&self, path: &str) -> Result<Option<Json>, VaultError> {
        match self.request(Method::Get, path, None).await {
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
        let counter = match method {
            Method::Get => &self.counters.reads,
            Method::List => &self.counters.lists,
            Method::Post | Method::Delete => &self.counters.writes,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        self.send_with_retry(method, path, None, body).await
    }

    async fn send_with_retry(
        &self,
        method: Method,
        path: &str,
        query: Option<&str>,
        body: Option<&Json>,
    ) -> Result<Answer, VaultError> {
        let body_bytes = body.map(|b| serde_json::to_vec(b).expect("JSON values serialize"));
        let mut attempt = 0;
        loop {
            attempt += 1;
            let error = match self
                .send_once(method, path, query, body_bytes.clone())
                .await
            {
                Ok(answer) => return Ok(answer),
                Err(error) => error,
            };
            let retryable = match &error {
                VaultError::Transport { .. } => true,
                VaultError::Status { code, .. } => matches!(code, 412 | 429 | 500..=599),
                _ => false,
            };
            if !retryable || attempt >= self.retry.attempts {
                return Err(error);
            }
            let delay = self.backoff(attempt);
            tracing::debug!(%error, attempt, delay_ms = delay.as_millis() as u64, "retrying");
            tokio::time::sleep(delay).await;
        }
    }

    /// One attempt, not counted and not retried (readiness polling has its own loop).
    pub async fn send_once(
        &self,
        method: Method,
        path: &str,
        query: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Result<Answer, VaultError> {
        let path = path.trim_matches('/');
        let endpoint = RawEndpoint {
            method,
            path: path.to_owned(),
            query: query.map(str::to_owned),
            body,
        };
        let result = endpoint
            .with_middleware(self.client.middle())
            .exec(self.client.http())
            .await
            .map_err(|e| self.classify(method, path, e))?;
        let raw = result.raw();
        let body = if raw.is_empty() {
            Json::Null
        } else {
            serde_json::from_slice(&raw).map_err(|e| VaultError::Response {
                method: method.as_str(),
                path: path.to_owned(),
                reason: e.to_string(),
            })?
        };
        Ok(Answer { body })
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .retry
            .base_delay
            .saturating_mul(1 << attempt.min(16))
            .min(self.retry.max_delay);
        // Full jitter: concurrent retries after a failover must not stampede.
        let millis = exp.as_millis().max(1) as u64;
        Duration::from_millis(rand::rng().random_range(millis / 2..=millis))
    }

    fn classify(&self, method: Method, path: &str, err: ClientError) -> VaultError {
        match err {
            ClientError::ServerResponseError { code, content } => {
                let errors = content
                    .as_deref()
                    .and_then(|c| serde_json::from_str::<Json>(c).ok())
                    .and_then(|j| j.get("errors").cloned())
                    .and_then(|e| serde_json::from_value::<Vec<String>>(e).ok())
                    .unwrap_or_default();
                VaultError::status(method, path, code, &errors)
            }
            ClientError::RequestError { source, .. } => VaultError::Transport {
                method: method.as_str(),
                path: path.to_owned(),
                addr: self.addr.clone(),
                reason: crate::secret::scrub(&root_cause(source.as_ref())),
            },
            other => VaultError::Response {
                method: method.as_str(),
                path: path.to_owned(),
                reason: crate::secret::scrub(&other.to_string()),
            },
        }
    }
}

/// The innermost error message ("Connection refused (os error 111)").
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}
