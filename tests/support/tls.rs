//! A private CA with a server certificate (for `vault.test` only, no IP) and
//! a client certificate, made with the `openssl` command, for TLS tests of
//! mTLS and `VAULT_TLS_SERVER_NAME`.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct TlsFiles {
    pub ca_cert: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

/// The only name the server certificate carries.
pub const SERVER_NAME: &str = "vault.test";

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl {args:?}: {e}"));
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A key and a certificate signed by the CA in `dir`, with `extensions`.
fn issue(dir: &Path, name: &str, subject: &str, extensions: &str) {
    let (key, csr, ext) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.ext"),
    );
    std::fs::write(dir.join(&ext), extensions).unwrap();
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &csr,
            "-subj",
            subject,
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            &format!("{name}.pem"),
            "-days",
            "2",
            "-extfile",
            &ext,
        ],
    );
}

impl TlsFiles {
    pub fn generate(dir: &Path) -> TlsFiles {
        openssl(
            dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=vault-converge test CA",
            ],
        );
        issue(
            dir,
            "server",
            &format!("/CN={SERVER_NAME}"),
            &format!("subjectAltName=DNS:{SERVER_NAME}\nextendedKeyUsage=serverAuth\n"),
        );
        issue(dir, "client", "/CN=job", "extendedKeyUsage=clientAuth\n");
        TlsFiles {
            ca_cert: dir.join("ca.pem"),
            server_cert: dir.join("server.pem"),
            server_key: dir.join("server.key"),
            client_cert: dir.join("client.pem"),
            client_key: dir.join("client.key"),
        }
    }

    /// A listener stanza on `port` that requires a client certificate.
    pub fn mtls_listener(&self, port: u16) -> String {
        format!(
            "listener \"tcp\" {{\n  address = \"127.0.0.1:{port}\"\n  tls_cert_file = \"{}\"\n  tls_key_file = \"{}\"\n  tls_client_ca_file = \"{}\"\n  tls_require_and_verify_client_cert = true\n}}\n",
            self.server_cert.display(),
            self.server_key.display(),
            self.ca_cert.display()
        )
    }
}

/// An https server (the `TlsFiles` server certificate) that answers every
/// request with a 307 to `location_base` + the request's path: the redirect
/// a client must never follow from https to http.
pub struct TlsRedirector {
    /// `https://127.0.0.1:PORT` (the certificate names `vault.test`).
    pub addr: String,
}

impl TlsRedirector {
    pub fn start(files: &TlsFiles, location_base: String) -> TlsRedirector {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        use std::io::{Read, Write};
        use std::sync::Arc;

        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.server_cert)
            .and_then(|certs| certs.collect())
            .expect("read the server certificate");
        let key = PrivateKeyDer::from_pem_file(&files.server_key).expect("read the server key");
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server certificate and key");
        let config = Arc::new(config);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind TLS redirector");
        let addr = format!("https://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for tcp in listener.incoming().flatten() {
                let Ok(conn) = rustls::ServerConnection::new(config.clone()) else {
                    continue;
                };
                let mut tls = rustls::StreamOwned::new(conn, tcp);
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&request);
                let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let _ = write!(
                    tls,
                    "HTTP/1.1 307 Temporary Redirect\r\nLocation: {location_base}{path}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = tls.flush();
                tls.conn.send_close_notify();
                let _ = tls.flush();
            }
        });
        TlsRedirector { addr }
    }
}

/// `bao server -dev -dev-tls` on loopback: a TLS listener whose CA the
/// server writes itself; stopped when dropped.
pub struct DevTls {
    child: std::process::Child,
    /// `https://127.0.0.1:PORT`.
    pub addr: String,
    /// The CA that signed the listener's certificate (for VAULT_CACERT).
    pub ca: PathBuf,
    pub root_token: &'static str,
    _dir: tempfile::TempDir,
}

impl DevTls {
    pub fn start() -> DevTls {
        let port = super::ports::free_port_pair();
        let dir = tempfile::tempdir().unwrap();
        let root_token = "tls-root";
        let child = Command::new("bao")
            .args([
                "server",
                "-dev",
                "-dev-tls",
                &format!("-dev-tls-cert-dir={}", dir.path().display()),
                &format!("-dev-root-token-id={root_token}"),
                &format!("-dev-listen-address=127.0.0.1:{port}"),
            ])
            .env("HOME", dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start bao -dev-tls");
        let ca = dir.path().join("vault-ca.pem");
        let tls = DevTls {
            child,
            addr: format!("https://127.0.0.1:{port}"),
            ca,
            root_token,
            _dir: dir,
        };
        let found = super::wait_for(
            std::time::Duration::from_secs(15),
            std::time::Duration::from_millis(100),
            || tls.ca.exists().then_some(()),
        );
        assert!(found.is_some(), "bao -dev-tls wrote no CA");
        tls
    }
}

impl DevTls {
    /// VAULT_ADDR, VAULT_TOKEN and VAULT_CACERT for this server.
    pub fn env(&self) -> Vec<(&str, &str)> {
        vec![
            ("VAULT_ADDR", self.addr.as_str()),
            ("VAULT_TOKEN", self.root_token),
            ("VAULT_CACERT", self.ca.to_str().unwrap_or_default()),
            ("VAULT_CONVERGE_TERMINATION_LOG", "/dev/null"),
        ]
    }
}

impl Drop for DevTls {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
