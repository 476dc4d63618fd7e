//! The TLS settings of the Vault connection: the platform's trust store
//! plus `VAULT_CACERT`, an optional client certificate (mTLS), or no
//! verification at all when `VAULT_SKIP_VERIFY` asks for it.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

use super::connection::Connection;
use super::error::VaultError;

/// The client's TLS configuration. Plain HTTP gets one with no trust store:
/// it is never used, and loading the platform's store could fail.
pub fn client_config(conn: &Connection, https: bool) -> Result<ClientConfig, VaultError> {
    let provider = CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|e| VaultError::Client(format!("cannot set up TLS: {e}")))?;
    if !https {
        return Ok(builder
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth());
    }
    let builder = if conn.skip_verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
    } else {
        let extra_roots = match &conn.ca_cert {
            Some(path) => ca_bundle(path)?,
            None => Vec::new(),
        };
        let verifier =
            rustls_platform_verifier::Verifier::new_with_extra_roots(extra_roots, provider)
                .map_err(|e| VaultError::Client(format!("cannot load the trust store: {e}")))?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
    };
    // ALPN (http/1.1) is set by the connector.
    let config = match &conn.client_cert {
        Some((cert, key)) => {
            let (chain, key) = client_identity(cert, key)?;
            builder.with_client_auth_cert(chain, key).map_err(|e| {
                VaultError::Client(format!(
                    "VAULT_CLIENT_CERT/VAULT_CLIENT_KEY are not a usable certificate and key: {e}"
                ))
            })?
        }
        None => builder.with_no_client_auth(),
    };
    Ok(config)
}

/// The certificates of the PEM bundle `VAULT_CACERT` names.
fn ca_bundle(path: &str) -> Result<Vec<CertificateDer<'static>>, VaultError> {
    let pem = read_file("VAULT_CACERT", Path::new(path))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| VaultError::Client(format!("VAULT_CACERT {path} is not a PEM bundle: {e}")))?;
    if certs.is_empty() {
        return Err(VaultError::Client(format!(
            "VAULT_CACERT {path} holds no PEM certificate"
        )));
    }
    Ok(certs)
}

/// The file a setting (`name`) points at.
fn read_file(name: &str, path: &Path) -> Result<Vec<u8>, VaultError> {
    std::fs::read(path)
        .map_err(|e| VaultError::Client(format!("cannot read {name} {}: {e}", path.display())))
}

type Identity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

/// The chain of `VAULT_CLIENT_CERT` and the key of `VAULT_CLIENT_KEY`.
fn client_identity(cert: &Path, key: &Path) -> Result<Identity, VaultError> {
    let not_pem = |what: &str| {
        VaultError::Client(format!(
            "VAULT_CLIENT_CERT/VAULT_CLIENT_KEY are not a PEM certificate and key: {what}"
        ))
    };
    let chain = CertificateDer::pem_slice_iter(&read_file("VAULT_CLIENT_CERT", cert)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| not_pem(&e.to_string()))?;
    if chain.is_empty() {
        return Err(not_pem("no certificate in VAULT_CLIENT_CERT"));
    }
    let key = PrivateKeyDer::from_pem_slice(&read_file("VAULT_CLIENT_KEY", key)?)
        .map_err(|e| not_pem(&e.to_string()))?;
    Ok((chain, key))
}

/// `VAULT_SKIP_VERIFY`: any certificate is accepted (the run warns).
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
