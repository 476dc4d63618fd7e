//! What clients of the stand-in are configured with: a kubeconfig for
//! `vault-converge`, and the `auth/<mount>/config` body for OpenBao's
//! kubernetes auth method with the CA certificate it insists on.

use serde_json::{json, Value};

use super::{KUBECONFIG_NAMESPACE, READER_SERVICE_ACCOUNT};

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

/// A kubeconfig whose only context talks to `url` with `token`.
pub(super) fn kubeconfig(url: &str, token: &str) -> String {
    format!(
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
        user = READER_SERVICE_ACCOUNT,
        ns = KUBECONFIG_NAMESPACE,
    )
}

/// OpenBao's kubernetes auth config reviewing tokens at `url`.
pub(super) fn openbao_auth_config(url: &str, reviewer_token: &str) -> Value {
    json!({
        "kubernetes_host": url,
        "kubernetes_ca_cert": CA_CERT_PEM,
        "token_reviewer_jwt": reviewer_token,
        "disable_local_ca_jwt": true,
    })
}
