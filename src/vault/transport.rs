//! The HTTP client under `Vault`: one keep-alive pool (hyper), TLS from
//! [`super::tls`], connections through [`super::proxy`], a timeout over the
//! whole exchange, and a redirect policy that never hands the token to
//! another host unless asked (DESIGN.md "Retries and HA").
//!
//! hyper's own pooled client, not a higher-level one: the layers above it
//! (URL re-parsing per redirect check, middleware) cost a bare client 132–140
//! ms of CPU for 3,000 reads against 82–91 ms, and the tool's W(1000) rerun
//! about 15% of its CPU.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::pki_types::ServerName;
use url::Url;

use super::connection::Connection;
use super::error::VaultError;
use super::proxy::Connector;

/// Redirects followed for one request, at most.
const MAX_REDIRECTS: usize = 5;

/// The HTTP client, shared by every client of the run (cheap to clone).
#[derive(Clone)]
pub struct Http {
    client: Client<Connector, Full<Bytes>>,
    follow_other_hosts: bool,
    proxies: Arc<Matcher>,
}

/// An answer: its status, `Location` and whole body.
pub struct Reply {
    pub status: u16,
    pub location: Option<String>,
    pub body: Vec<u8>,
}

/// Why no answer came.
pub enum Failure {
    /// Nothing within the request's timeout.
    Timeout,
    /// The innermost error ("Connection refused (os error 111)").
    Failed(String),
}

/// The HTTP client and the base URL (`<addr>/v1/`) requests go to.
pub fn build(conn: &Connection) -> Result<(Http, Url), VaultError> {
    let base = parse_addr(&conn.addr)?;
    let https = base.scheme() == "https";
    let tls = super::tls::client_config(conn, https)?;
    let server_name = match (&conn.tls_server_name, https) {
        (Some(name), true) => Some(ServerName::try_from(name.clone()).map_err(|e| {
            VaultError::Client(format!(
                "VAULT_TLS_SERVER_NAME `{name}` is not a host name: {e}"
            ))
        })?),
        _ => None,
    };
    let mut tcp = HttpConnector::new();
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    tcp.set_connect_timeout(Some(conn.request_timeout.min(Duration::from_secs(10))));
    let proxies = Arc::new(Matcher::from_env());
    let connector = Connector::new(tcp, tls, server_name, proxies.clone());
    let client = Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .timer(TokioTimer::new())
        .build(connector);
    let base = base
        .join("v1/")
        .map_err(|e| VaultError::Client(format!("invalid VAULT_ADDR: {e}")))?;
    let http = Http {
        client,
        follow_other_hosts: conn.follow_redirects,
        proxies,
    };
    Ok((http, base))
}

impl Http {
    /// Sends a request and reads its whole answer within `timeout`,
    /// following the redirects the policy allows; a redirect it does not
    /// follow comes back as the answer.
    pub async fn send(
        &self,
        method: &Method,
        url: &str,
        headers: &HeaderMap,
        body: Option<Bytes>,
        timeout: Duration,
    ) -> Result<Reply, Failure> {
        let uri: Uri = url
            .parse()
            .map_err(|e: http::uri::InvalidUri| Failure::Failed(root_cause(&e)))?;
        tokio::time::timeout(timeout, self.follow(method, uri, headers, body))
            .await
            .unwrap_or(Err(Failure::Timeout))
    }

    async fn follow(
        &self,
        method: &Method,
        mut uri: Uri,
        headers: &HeaderMap,
        body: Option<Bytes>,
    ) -> Result<Reply, Failure> {
        let mut redirects = 0;
        loop {
            let reply = self.once(method, &uri, headers, body.clone()).await?;
            if redirects >= MAX_REDIRECTS || !matches!(reply.status, 307 | 308) {
                return Ok(reply);
            }
            // Only a redirect needs the URL parsed in full (to resolve Location).
            let from = Url::parse(&uri.to_string()).ok();
            let next = from.as_ref().and_then(|from| {
                let to = from.join(reply.location.as_deref()?).ok()?;
                self.may_follow(from, &to).then_some(to)
            });
            match next.and_then(|to| to.as_str().parse::<Uri>().ok()) {
                Some(next) => {
                    uri = next;
                    redirects += 1;
                }
                None => return Ok(reply),
            }
        }
    }

    /// 301/302/303 are never followed (they turn a write into a GET
    /// elsewhere); 307/308 only within the same scheme, host and port, or to
    /// another host with `--follow-redirects` (a standby without request
    /// forwarding), never from https to http.
    fn may_follow(&self, from: &Url, to: &Url) -> bool {
        let same_origin = from.scheme() == to.scheme()
            && from.host_str() == to.host_str()
            && from.port_or_known_default() == to.port_or_known_default();
        let downgrade = from.scheme() == "https" && to.scheme() != "https";
        same_origin || (self.follow_other_hosts && !downgrade)
    }

    async fn once(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: Option<Bytes>,
    ) -> Result<Reply, Failure> {
        let failed = |e: &(dyn std::error::Error + 'static)| Failure::Failed(root_cause(e));
        let mut request = http::Request::new(Full::new(body.unwrap_or_default()));
        *request.method_mut() = method.clone();
        *request.headers_mut() = headers.clone();
        if uri.scheme_str() == Some("http") {
            // A proxy in front of an http Vault sees each request.
            if let Some(auth) = self
                .proxies
                .intercept(uri)
                .and_then(|p| p.basic_auth().cloned())
            {
                request
                    .headers_mut()
                    .insert(http::header::PROXY_AUTHORIZATION, auth);
            }
        }
        *request.uri_mut() = uri.clone();
        let response = self.client.request(request).await.map_err(|e| failed(&e))?;
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(http::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .map(str::to_owned);
        // Chunks into one buffer sized by Content-Length: collecting them
        // first would hold a large answer (a secret) twice.
        let capacity = response
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|l| l.to_str().ok()?.parse::<usize>().ok())
            .unwrap_or(0)
            .min(64 << 20);
        let mut body = Vec::with_capacity(capacity);
        let mut incoming = response.into_body();
        while let Some(frame) = incoming.frame().await {
            let frame = frame.map_err(|e| failed(&e))?;
            if let Some(chunk) = frame.data_ref() {
                body.extend_from_slice(chunk);
            }
        }
        Ok(Reply {
            status,
            location,
            body,
        })
    }
}

/// A header value from a setting (`what`: the token or the namespace).
pub fn header_value(what: &str, value: &str) -> Result<HeaderValue, String> {
    HeaderValue::from_str(value).map_err(|_| {
        format!(
            "{what} holds a character an HTTP header cannot carry (a newline or control character)"
        )
    })
}

/// `http(s)://host[:port][/prefix]`, with a trailing slash for `join`.
pub fn parse_addr(addr: &str) -> Result<Url, VaultError> {
    let invalid = |why: &str| {
        VaultError::Client(format!(
            "VAULT_ADDR `{addr}` {why}; set it to the server's URL, e.g. http://127.0.0.1:8200"
        ))
    };
    let mut url = Url::parse(addr.trim()).map_err(|_| invalid("is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("needs http:// or https:// and a host"));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// Certificate problems a retry cannot fix.
pub fn is_tls_error(reason: &str) -> bool {
    let reason = reason.to_ascii_lowercase();
    [
        "certificate",
        "unknownissuer",
        "notvalidforname",
        "invalid peer",
        "handshake",
    ]
    .iter()
    .any(|m| reason.contains(m))
}

/// The innermost error message ("Connection refused (os error 111)").
pub fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_need_a_scheme_and_a_host() {
        assert_eq!(
            parse_addr("http://127.0.0.1:8200").unwrap().as_str(),
            "http://127.0.0.1:8200/"
        );
        assert_eq!(
            parse_addr("https://vault.example/prefix").unwrap().as_str(),
            "https://vault.example/prefix/"
        );
        for bad in ["127.0.0.1:8200", "", "ftp://x", "http://", "not a url"] {
            assert!(parse_addr(bad).is_err(), "{bad}");
        }
    }
}
