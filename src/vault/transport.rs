//! The HTTP client under `Vault`: rustls with the configured CA, client
//! certificate and server name, and a redirect policy that never hands the
//! token to another host unless asked (DESIGN.md "Retries and HA").

use std::net::ToSocketAddrs;
use std::time::Duration;

use reqwest::redirect::{Attempt, Policy};
use reqwest::Url;

use super::connection::Connection;
use super::error::VaultError;

/// The HTTP client and the base URL (`<addr>/v1/`) requests go to.
pub fn build(conn: &Connection) -> Result<(reqwest::Client, Url), VaultError> {
    let mut base = parse_addr(&conn.addr)?;
    let mut builder = reqwest::Client::builder()
        .tls_backend_rustls()
        .timeout(conn.request_timeout)
        .connect_timeout(conn.request_timeout.min(Duration::from_secs(10)))
        .redirect(redirect_policy(conn.follow_redirects))
        .tls_danger_accept_invalid_certs(conn.skip_verify);
    if base.scheme() == "https" {
        if let Some(path) = &conn.ca_cert {
            let pem = std::fs::read(path)
                .map_err(|e| VaultError::Client(format!("cannot read VAULT_CACERT {path}: {e}")))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                VaultError::Client(format!("VAULT_CACERT {path} holds no PEM certificate: {e}"))
            })?;
            builder = builder.tls_certs_merge(certs);
        }
        if let Some((cert, key)) = &conn.client_cert {
            let mut pem = std::fs::read(cert).map_err(|e| {
                VaultError::Client(format!(
                    "cannot read VAULT_CLIENT_CERT {}: {e}",
                    cert.display()
                ))
            })?;
            pem.extend(std::fs::read(key).map_err(|e| {
                VaultError::Client(format!(
                    "cannot read VAULT_CLIENT_KEY {}: {e}",
                    key.display()
                ))
            })?);
            let identity = reqwest::Identity::from_pem(&pem).map_err(|e| {
                VaultError::Client(format!(
                    "VAULT_CLIENT_CERT/VAULT_CLIENT_KEY are not a PEM certificate and key: {e}"
                ))
            })?;
            builder = builder.identity(identity);
        }
        if let Some(name) = &conn.tls_server_name {
            // Connect to the configured address, but check (and send SNI
            // for) the name the certificate carries.
            let host = base.host_str().unwrap_or_default().to_owned();
            let port = base.port_or_known_default().unwrap_or(443);
            let addr = (host.as_str(), port)
                .to_socket_addrs()
                .ok()
                .and_then(|mut a| a.next())
                .ok_or_else(|| {
                    VaultError::Client(format!("cannot resolve the host of VAULT_ADDR `{host}`"))
                })?;
            builder = builder.resolve(name, addr);
            base.set_host(Some(name)).map_err(|e| {
                VaultError::Client(format!(
                    "VAULT_TLS_SERVER_NAME `{name}` is not a host name: {e}"
                ))
            })?;
        }
    } else {
        // Plain HTTP needs no trust store (and must not fail to load one).
        builder = builder.tls_certs_only(Vec::new());
    }
    let client = builder
        .build()
        .map_err(|e| VaultError::Client(format!("cannot set up the HTTP client: {e}")))?;
    let base = base
        .join("v1/")
        .map_err(|e| VaultError::Client(format!("invalid VAULT_ADDR: {e}")))?;
    Ok((client, base))
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

/// 301/302/303 are never followed (they turn a write into a GET elsewhere);
/// 307/308 only within the same scheme, host and port, or to another host
/// with `--follow-redirects` (a standby without request forwarding), never
/// from https to http. What is not followed comes back as the 3xx answer.
fn redirect_policy(follow_other_hosts: bool) -> Policy {
    Policy::custom(move |attempt: Attempt| {
        if attempt.previous().len() >= 5 || !matches!(attempt.status().as_u16(), 307 | 308) {
            return attempt.stop();
        }
        let Some(from) = attempt.previous().last() else {
            return attempt.stop();
        };
        let to = attempt.url();
        let same_origin = from.scheme() == to.scheme()
            && from.host_str() == to.host_str()
            && from.port_or_known_default() == to.port_or_known_default();
        let downgrade = from.scheme() == "https" && to.scheme() != "https";
        if same_origin || (follow_other_hosts && !downgrade) {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
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
